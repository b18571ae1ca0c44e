//! The [`SessionBackend`] suite.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;

use crate::error::SessionError;
use crate::principal::{Claim, Principal};
use crate::second_factor::Factor;
use crate::session::{
    FactorProof, PendingSignIn, SessionBackend, SessionKey, SessionRecord, SessionToken,
};

use super::Check;

/// The TTL of sessions that must outlive the suite.
const LONG: Duration = Duration::from_secs(600);
/// The TTL of sessions that must expire during the suite.
const SHORT: Duration = Duration::from_secs(1);
/// How long the suite waits for [`SHORT`] sessions to expire: enough for a
/// backend that keeps expiry in whole seconds.
const EXPIRY_WAIT: Duration = Duration::from_millis(2_100);

fn check(name: &'static str) -> Check {
    Check {
        suite: "session",
        name,
    }
}

fn is_invalid(error: &SessionError) -> bool {
    matches!(error, SessionError::Invalid(_))
}

fn new_key() -> SessionKey {
    SessionToken::generate().key()
}

/// A signed-in record of `user_id` with distinctive fields.
fn record_of(user_id: &str) -> SessionRecord {
    let principal = Principal::authenticated(user_id, "Zoë 👩🏽‍💻", vec![Claim::new("role", "admin")])
        .with_raw(serde_json::json!({ "user_id": user_id, "extras": { "n": [1, 2.5, null] } }));
    let mut record = SessionRecord::new(principal, 7);
    record.created_at = 1_700_000_000;
    record.last_seen = 1_700_000_100;
    record
}

/// An anonymous record with fixed timestamps, so two calls compare equal
/// even across a second boundary.
fn anonymous_record() -> SessionRecord {
    let mut record = SessionRecord::new(Principal::anonymous(), 0);
    record.created_at = 1_700_000_000;
    record.last_seen = 1_700_000_000;
    record
}

/// The listed sessions, sorted by key.
fn by_key(mut sessions: Vec<(SessionKey, SessionRecord)>) -> Vec<(SessionKey, SessionRecord)> {
    sessions.sort_by(|a, b| a.0.cmp(&b.0));
    sessions
}

/// Runs every check of the [`SessionBackend`] contract against `backend`.
///
/// Covers: save and load round-trip the record; a missing key loads `None`;
/// TTL expiry, and saving or updating again extends the TTL; `update` writes
/// only a live session; `delete` answers `true` then `false`; the per-user
/// index (`sessions_of` lists exactly the user's live sessions, a session
/// saved under another principal moves, `delete_sessions_of` removes them
/// all, counts them and spares other users); anonymous sessions are not
/// indexed; change stamps (`0` when unknown, strictly increasing, 50
/// concurrent bumps give 50 distinct values); `Invalid` for a malformed user
/// id.
///
/// Takes a little over two seconds (it waits for one-second TTLs to
/// expire, in parallel with the other checks). Every run uses fresh random
/// user ids and session keys.
///
/// # Panics
///
/// When the backend breaks its contract; the message names the failed check
/// and, when a call failed, the backend's error chain.
pub async fn session_conformance(backend: &dyn SessionBackend) {
    // Concurrently: the expiry check waits two seconds, the others need not.
    crate::__testkit_checks!(session, __testkit_run_all(concurrently session_checks, backend));
}

pub(crate) async fn round_trip(backend: &dyn SessionBackend, user: &str) {
    let c = check("save then load round-trips the record");
    let key = new_key();
    let record = record_of(user);
    c.ok(backend.save(&key, &record, LONG).await, "save");
    c.equal(
        &c.ok(backend.load(&key).await, "load"),
        &Some(record.clone()),
        "the loaded record",
    );

    let mut replaced = record;
    replaced.principal = replaced
        .principal
        .with_claims(vec![Claim::new("tier", "gold")]);
    replaced.user_stamp = 8;
    replaced.last_seen += 60;
    c.ok(
        backend.save(&key, &replaced, LONG).await,
        "save over an existing session",
    );
    c.equal(
        &c.ok(backend.load(&key).await, "load"),
        &Some(replaced),
        "the record after saving again",
    );

    let anonymous = new_key();
    c.ok(
        backend.save(&anonymous, &anonymous_record(), LONG).await,
        "save of an anonymous session",
    );
    let loaded = c.ok(backend.load(&anonymous).await, "load");
    c.equal(&loaded, &Some(anonymous_record()), "the anonymous record");

    // A sign-in waiting for its second factor, and a session that verified
    // one: the backend keeps both marks.
    let waiting = new_key();
    let mut record = anonymous_record();
    record.pending = Some(PendingSignIn {
        user_id: user.to_owned(),
        since: record.created_at,
    });
    c.ok(
        backend.save(&waiting, &record, LONG).await,
        "save of a waiting sign-in",
    );
    let loaded = c.ok(backend.load(&waiting).await, "load");
    c.equal(&loaded, &Some(record), "the waiting sign-in");
    let verified = new_key();
    let mut record = record_of(user);
    record.second_factor = Some(FactorProof::now(Factor::Totp));
    c.ok(
        backend.save(&verified, &record, LONG).await,
        "save of a verified session",
    );
    let loaded = c.ok(backend.load(&verified).await, "load");
    c.equal(&loaded, &Some(record), "the session with its second factor");
}

pub(crate) async fn missing(backend: &dyn SessionBackend) {
    let c = check("a missing key loads None");
    let key = new_key();
    c.equal(
        &c.ok(backend.load(&key).await, "load"),
        &None,
        "load of a key never saved",
    );
    c.equal(
        &c.ok(backend.delete(&key).await, "delete"),
        &false,
        "delete of a key never saved",
    );
}

pub(crate) async fn expiry(backend: &dyn SessionBackend, user: &str) {
    let c = check("sessions expire after their TTL; saving or updating extends it");
    let (expires, saved_again, updated) = (new_key(), new_key(), new_key());
    let record = record_of(user);
    c.ok(
        backend.save(&expires, &record, SHORT).await,
        "save with a one-second TTL",
    );
    // Two seconds, so that a backend keeping expiry in whole seconds still
    // holds them while they are saved or updated again.
    for key in [&saved_again, &updated] {
        c.ok(
            backend.save(key, &record, SHORT * 2).await,
            "save with a two-second TTL",
        );
    }
    c.ok(
        backend.save(&saved_again, &record, LONG).await,
        "save again with a long TTL",
    );
    let written = c.ok(
        backend.update(&updated, &record, LONG).await,
        "update with a long TTL",
    );
    c.equal(
        &written,
        &true,
        "update of a two-second session right after saving it",
    );

    tokio::time::sleep(EXPIRY_WAIT).await;

    c.equal(
        &c.ok(backend.load(&expires).await, "load"),
        &None,
        "a session past its TTL",
    );
    let revived = c.ok(
        backend.update(&expires, &record, LONG).await,
        "update of an expired session",
    );
    c.equal(&revived, &false, "update of an expired session");
    c.equal(
        &c.ok(backend.load(&expires).await, "load"),
        &None,
        "an expired session after update",
    );
    for (key, what) in [
        (&saved_again, "a session saved again with a long TTL"),
        (&updated, "a session updated with a long TTL"),
    ] {
        c.equal(
            &c.ok(backend.load(key).await, "load"),
            &Some(record.clone()),
            what,
        );
    }
    let listed = c.ok(backend.sessions_of(user).await, "sessions_of");
    let mut expected = vec![(saved_again, record.clone()), (updated, record)];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    c.equal(
        &by_key(listed),
        &expected,
        "sessions_of after one session expired",
    );
}

pub(crate) async fn update_only_if_present(backend: &dyn SessionBackend, user: &str) {
    let c = check("update writes only a live session");
    let record = record_of(user);
    let never = new_key();
    let written = c.ok(backend.update(&never, &record, LONG).await, "update");
    c.equal(&written, &false, "update of a key never saved");
    c.equal(
        &c.ok(backend.load(&never).await, "load"),
        &None,
        "a key never saved, after update",
    );

    let deleted = new_key();
    c.ok(backend.save(&deleted, &record, LONG).await, "save");
    c.ok(backend.delete(&deleted).await, "delete");
    let written = c.ok(backend.update(&deleted, &record, LONG).await, "update");
    c.equal(&written, &false, "update of a deleted session");
    c.equal(
        &c.ok(backend.load(&deleted).await, "load"),
        &None,
        "a deleted session, after update",
    );
    let listed = c.ok(backend.sessions_of(user).await, "sessions_of");
    c.equal(
        &listed,
        &Vec::new(),
        "sessions_of after updates of absent sessions",
    );

    let live = new_key();
    c.ok(backend.save(&live, &record, LONG).await, "save");
    let mut changed = record;
    changed.user_stamp = 99;
    changed.principal = changed.principal.with_claims(Vec::new());
    let written = c.ok(backend.update(&live, &changed, LONG).await, "update");
    c.equal(&written, &true, "update of a live session");
    c.equal(
        &c.ok(backend.load(&live).await, "load"),
        &Some(changed),
        "a live session after update",
    );
}

pub(crate) async fn delete_twice(backend: &dyn SessionBackend, user: &str) {
    let c = check("delete answers true, then false");
    let key = new_key();
    c.ok(backend.save(&key, &record_of(user), LONG).await, "save");
    c.equal(
        &c.ok(backend.delete(&key).await, "delete"),
        &true,
        "the first delete",
    );
    c.equal(
        &c.ok(backend.delete(&key).await, "delete"),
        &false,
        "the second delete",
    );
    c.equal(
        &c.ok(backend.load(&key).await, "load"),
        &None,
        "a deleted session",
    );
    let listed = c.ok(backend.sessions_of(user).await, "sessions_of");
    c.equal(&listed, &Vec::new(), "sessions_of after the delete");
}

pub(crate) async fn user_index(backend: &dyn SessionBackend, first: &str, second: &str) {
    let c = check("the per-user index follows saves and deletes");
    let (a, b, c_key) = (new_key(), new_key(), new_key());
    let (first_record, second_record) = (record_of(first), record_of(second));
    c.ok(backend.save(&a, &first_record, LONG).await, "save");
    c.ok(backend.save(&b, &first_record, LONG).await, "save");
    c.ok(backend.save(&c_key, &second_record, LONG).await, "save");
    let expected = by_key(vec![
        (a.clone(), first_record.clone()),
        (b.clone(), first_record.clone()),
    ]);
    let listed = c.ok(backend.sessions_of(first).await, "sessions_of");
    c.equal(&by_key(listed), &expected, "sessions_of the first user");

    c.ok(
        backend.save(&b, &second_record, LONG).await,
        "save under another user",
    );
    let listed = c.ok(backend.sessions_of(first).await, "sessions_of");
    c.equal(
        &listed,
        &vec![(a.clone(), first_record.clone())],
        "the first user's sessions after one moved",
    );
    let expected = by_key(vec![
        (b.clone(), second_record.clone()),
        (c_key.clone(), second_record.clone()),
    ]);
    let listed = c.ok(backend.sessions_of(second).await, "sessions_of");
    c.equal(
        &by_key(listed),
        &expected,
        "the second user's sessions after one moved in",
    );

    let removed = c.ok(
        backend.delete_sessions_of(second).await,
        "delete_sessions_of",
    );
    c.equal(&removed, &2, "how many sessions delete_sessions_of removed");
    for key in [&b, &c_key] {
        c.equal(
            &c.ok(backend.load(key).await, "load"),
            &None,
            "a session of the signed-out user",
        );
    }
    let listed = c.ok(backend.sessions_of(second).await, "sessions_of");
    c.equal(&listed, &Vec::new(), "sessions_of the signed-out user");
    c.equal(
        &c.ok(backend.load(&a).await, "load"),
        &Some(first_record.clone()),
        "another user's session",
    );
    let listed = c.ok(backend.sessions_of(first).await, "sessions_of");
    c.equal(
        &listed,
        &vec![(a.clone(), first_record)],
        "another user's index",
    );
    let again = c.ok(
        backend.delete_sessions_of(second).await,
        "delete_sessions_of",
    );
    c.equal(&again, &0, "delete_sessions_of repeated");

    c.ok(backend.delete(&a).await, "delete");
    let listed = c.ok(backend.sessions_of(first).await, "sessions_of");
    c.equal(
        &listed,
        &Vec::new(),
        "the index after deleting the last session",
    );
    let unknown = format!("{first}-unknown");
    c.equal(
        &c.ok(backend.sessions_of(&unknown).await, "sessions_of"),
        &Vec::new(),
        "sessions_of an unknown user",
    );
    c.equal(
        &c.ok(
            backend.delete_sessions_of(&unknown).await,
            "delete_sessions_of",
        ),
        &0,
        "delete_sessions_of an unknown user",
    );
}

pub(crate) async fn anonymous_not_indexed(backend: &dyn SessionBackend, user: &str) {
    let c = check("anonymous sessions are not indexed");
    let (anonymous, signed_out) = (new_key(), new_key());
    c.ok(
        backend.save(&anonymous, &anonymous_record(), LONG).await,
        "save of an anonymous session",
    );
    c.ok(
        backend.save(&signed_out, &record_of(user), LONG).await,
        "save",
    );
    c.ok(
        backend.save(&signed_out, &anonymous_record(), LONG).await,
        "save as anonymous",
    );
    let listed = c.ok(backend.sessions_of(user).await, "sessions_of");
    c.equal(
        &listed,
        &Vec::new(),
        "the user's index after their session turned anonymous",
    );
    let removed = c.ok(backend.delete_sessions_of(user).await, "delete_sessions_of");
    c.equal(
        &removed,
        &0,
        "delete_sessions_of with only anonymous sessions left",
    );
    for key in [&anonymous, &signed_out] {
        let loaded = c.ok(backend.load(key).await, "load");
        c.equal(&loaded, &Some(anonymous_record()), "an anonymous session");
    }
}

pub(crate) async fn stamps(backend: &dyn SessionBackend, user: &str, other: &str) {
    let c = check("change stamps start at 0 and strictly increase");
    c.equal(
        &c.ok(backend.user_stamp(user).await, "user_stamp"),
        &0,
        "the stamp of a user never bumped",
    );
    let first = c.ok(backend.bump_user_stamp(user).await, "bump_user_stamp");
    let second = c.ok(backend.bump_user_stamp(user).await, "bump_user_stamp");
    c.ensure(
        first > 0,
        format_args!("the first bump returned {first}, not above 0"),
    );
    c.ensure(
        second > first,
        format_args!("bumps returned {first} then {second}"),
    );
    c.equal(
        &c.ok(backend.user_stamp(user).await, "user_stamp"),
        &second,
        "the stamp after two bumps",
    );
    c.equal(
        &c.ok(backend.user_stamp(other).await, "user_stamp"),
        &0,
        "another user's stamp",
    );

    let c = check("50 concurrent bumps give 50 distinct, increasing values");
    let bumps = join_all((0..50).map(|_| backend.bump_user_stamp(user))).await;
    let values: Vec<u64> = bumps
        .into_iter()
        .map(|r| c.ok(r, "a concurrent bump_user_stamp"))
        .collect();
    let distinct: HashSet<u64> = values.iter().copied().collect();
    c.equal(
        &distinct.len(),
        &50,
        "distinct values from 50 concurrent bumps",
    );
    let (low, high) = (values.iter().min().copied(), values.iter().max().copied());
    c.ensure(
        low > Some(second),
        format_args!("a concurrent bump returned {low:?}, not above the earlier {second}"),
    );
    c.equal(
        &Some(c.ok(backend.user_stamp(user).await, "user_stamp")),
        &high,
        "the stamp after the concurrent bumps",
    );
}

pub(crate) async fn malformed_user_ids(backend: &dyn SessionBackend) {
    let c = check("malformed user ids are Invalid");
    let long = "x".repeat(crate::user::MAX_USER_ID_LEN + 1);
    for bad in ["", "line\nbreak", "nul\u{0}byte", long.as_str()] {
        c.err(
            backend.sessions_of(bad).await,
            is_invalid,
            "Invalid",
            "sessions_of",
        );
        c.err(
            backend.delete_sessions_of(bad).await,
            is_invalid,
            "Invalid",
            "delete_sessions_of",
        );
        c.err(
            backend.user_stamp(bad).await,
            is_invalid,
            "Invalid",
            "user_stamp",
        );
        c.err(
            backend.bump_user_stamp(bad).await,
            is_invalid,
            "Invalid",
            "bump_user_stamp",
        );
    }
}
