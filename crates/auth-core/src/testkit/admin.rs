//! The administration suite: the [`AuditLog`] (append, newest first,
//! filters, pages, bad input, entries outliving their user) and the
//! [`UserDirectory`] (pages in byte order of the ids).

use crate::audit::{Actor, AuditAction, AuditEntry, AuditLog, MAX_AUDIT_DETAIL_LEN, Page};
use crate::error::StoreError;
use crate::principal::Claim;
use crate::store::{AuthStore, UserDirectory};
use crate::user::NewUser;

use super::{Check, Ids};

fn check(name: &'static str) -> Check {
    Check {
        suite: "admin",
        name,
    }
}

fn is_invalid(error: &StoreError) -> bool {
    matches!(error, StoreError::Invalid(_))
}

/// A store of users with their audit log and directory, as one value:
/// what the `admin` suite runs against ([`admin_conformance`],
/// [`admin_conformance_tests!`](crate::admin_conformance_tests)). Every
/// type that is an [`AuthStore`], an [`AuditLog`] and a [`UserDirectory`]
/// is one (the SQL store, [`MemoryStore`](crate::memory::MemoryStore)).
pub trait AdminStore: AuthStore + AuditLog + UserDirectory {}

impl<T: AuthStore + AuditLog + UserDirectory + ?Sized> AdminStore for T {}

/// Runs every check of the [`AuditLog`] and [`UserDirectory`] contracts
/// against `store`.
///
/// Covers: recorded entries read back whole, newest first, filtered by
/// target user, in pages (a page past the end is empty); entries of all
/// users newest first; invalid entries refused with nothing written;
/// entries outliving their user; users listed after an id in byte order
/// (upper case before lower case, whatever the collation), in pages,
/// whole; `Invalid` for a malformed `after`. Every run uses fresh ids, so
/// it is safe against a shared database.
///
/// # Panics
///
/// When the store breaks its contract; the message names the check.
pub async fn admin_conformance(store: &dyn AdminStore) {
    crate::__testkit_checks!(admin, __testkit_run_all(admin_checks, store));
}

fn entry(ids: &Ids, target: &str, action: AuditAction, detail: &str) -> AuditEntry {
    let actor = Actor::new(ids.user("admin"), "203.0.113.9");
    AuditEntry::new(&actor, action, target, detail)
}

pub(crate) async fn audit_round_trip(store: &dyn AdminStore, ids: &Ids) {
    let c = check("audit entries read back whole, newest first, per user, in pages");
    let target = ids.user("audited");
    let other = ids.user("audited-other");
    let recorded = [
        entry(ids, &target, AuditAction::Grant, "role=admin"),
        entry(ids, &other, AuditAction::Disable, "0 sessions ended"),
        entry(ids, &target, AuditAction::Revoke, "role"),
        entry(
            ids,
            &target,
            AuditAction::SignOutEverywhere,
            "ünïcode ✓ 2 sessions",
        ),
    ];
    for e in &recorded {
        c.ok(store.record(e).await, "record");
    }
    let mine = c.ok(
        store.entries(Some(&target), Page::first(10)).await,
        "entries",
    );
    let expected = vec![
        recorded[3].clone(),
        recorded[2].clone(),
        recorded[0].clone(),
    ];
    c.equal(&mine, &expected, "the target's entries, newest first");
    let first = c.ok(
        store.entries(Some(&target), Page::first(2)).await,
        "entries",
    );
    c.equal(&first, &expected[..2].to_vec(), "the first page of two");
    let second = c.ok(
        store.entries(Some(&target), Page::first(2).next()).await,
        "entries",
    );
    c.equal(&second, &expected[2..].to_vec(), "the second page of two");
    let past = c.ok(
        store.entries(Some(&target), Page::new(3, 10)).await,
        "entries",
    );
    c.equal(&past, &Vec::new(), "a page past the end");
    let none = c.ok(
        store.entries(Some(&target), Page::first(0)).await,
        "entries",
    );
    c.equal(&none, &Vec::new(), "a page of zero entries");
    let others = c.ok(
        store.entries(Some(&other), Page::first(10)).await,
        "entries",
    );
    c.equal(
        &others,
        &vec![recorded[1].clone()],
        "another user's entries",
    );
    let unknown = c.ok(
        store
            .entries(Some(&ids.user("never-audited")), Page::first(10))
            .await,
        "entries",
    );
    c.equal(&unknown, &Vec::new(), "entries of a user never audited");
    c.err(
        store.entries(Some(""), Page::first(10)).await,
        is_invalid,
        "Invalid",
        "entries of an empty user id",
    );
}

pub(crate) async fn audit_all_users_newest_first(store: &dyn AdminStore, ids: &Ids) {
    let c = check("audit entries of all users come newest first");
    let older = entry(ids, &ids.user("all-1"), AuditAction::Enable, "");
    let newer = entry(ids, &ids.user("all-2"), AuditAction::Grant, "plan=pro");
    c.ok(store.record(&older).await, "record");
    c.ok(store.record(&newer).await, "record");
    let all = c.ok(store.entries(None, Page::first(500)).await, "entries");
    let position = |e: &AuditEntry| all.iter().position(|x| x == e);
    let (Some(newer_at), Some(older_at)) = (position(&newer), position(&older)) else {
        c.fail("an entry just recorded is missing from the entries of all users");
    };
    c.ensure(
        newer_at < older_at,
        "the newer entry comes after the older one",
    );
}

pub(crate) async fn audit_invalid_entries(store: &dyn AdminStore, ids: &Ids) {
    let c = check("invalid audit entries are refused and write nothing");
    let target = ids.user("invalid-audit");
    let good = entry(ids, &target, AuditAction::Grant, "x=y");
    let mut cases = Vec::new();
    for (actor, source) in [("", "cli"), ("cli:x", ""), ("cli:\nx", "cli")] {
        let mut e = good.clone();
        actor.clone_into(&mut e.actor);
        source.clone_into(&mut e.source);
        cases.push((e, "a malformed actor"));
    }
    let mut long = good.clone();
    long.actor = "a".repeat(256);
    cases.push((long, "an over-long actor"));
    let mut detail = good.clone();
    detail.detail = "d".repeat(MAX_AUDIT_DETAIL_LEN + 1);
    cases.push((detail, "an over-long detail"));
    let mut nul = good.clone();
    "a\0b".clone_into(&mut nul.detail);
    cases.push((nul, "a NUL in the detail"));
    for (e, what) in &cases {
        c.err(store.record(e).await, is_invalid, "Invalid", what);
    }
    let mut bad_target = good.clone();
    bad_target.target_user_id = String::new();
    c.err(
        store.record(&bad_target).await,
        is_invalid,
        "Invalid",
        "an empty target",
    );
    let written = c.ok(
        store.entries(Some(&target), Page::first(10)).await,
        "entries",
    );
    c.equal(&written, &Vec::new(), "entries after refused records");
    let mut longest = good.clone();
    longest.detail = "é".repeat(MAX_AUDIT_DETAIL_LEN / 2);
    c.ok(store.record(&longest).await, "record of the longest detail");
    let written = c.ok(
        store.entries(Some(&target), Page::first(10)).await,
        "entries",
    );
    c.equal(&written, &vec![longest], "the longest detail");
}

pub(crate) async fn audit_outlives_user(store: &dyn AdminStore, ids: &Ids) {
    let c = check("audit entries outlive their user");
    let id = ids.user("audited-then-deleted");
    c.ok(store.create_user(NewUser::new(&id)).await, "create_user");
    let e = entry(ids, &id, AuditAction::Disable, "1 sessions ended");
    c.ok(store.record(&e).await, "record");
    c.ok(store.delete_user(&id).await, "delete_user");
    let kept = c.ok(store.entries(Some(&id), Page::first(10)).await, "entries");
    c.equal(&kept, &vec![e], "entries after delete_user");
}

pub(crate) async fn users_in_pages(store: &dyn AdminStore, ids: &Ids) {
    let c = check("users are listed after an id, in byte order, in pages");
    // `B` (0x42) sorts before `a` (0x61) in byte order; a linguistic
    // collation would put `a` first.
    let names = ["B", "a", "b", "c"];
    let mut created = Vec::new();
    for name in names {
        let id = ids.user(&format!("list-{name}"));
        let user = NewUser::new(&id)
            .with_name(format!("User {name}"))
            .with_claims(vec![Claim::new("role", name)]);
        created.push(c.ok(store.create_user(user).await, "create_user"));
    }
    created.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    let start = format!("testkit:{}:", ids.run());
    let first = c.ok(store.list_users(Some(&start), 3).await, "list_users");
    c.equal(
        &first,
        &created[..3].to_vec(),
        "the first page, in byte order",
    );
    let last_id = first.last().map(|u| u.user_id.clone()).unwrap_or_default();
    // One user: past this run's users, a shared database may hold anything.
    let second = c.ok(store.list_users(Some(&last_id), 1).await, "list_users");
    c.equal(
        &second,
        &created[3..].to_vec(),
        "the next page starts after the last id",
    );
    let empty = c.ok(store.list_users(Some(&start), 0).await, "list_users");
    c.equal(&empty, &Vec::new(), "a page of zero users");
    c.err(
        store.list_users(Some(""), 3).await,
        is_invalid,
        "Invalid",
        "list_users after an empty id",
    );
    c.err(
        store.list_users(Some("a\u{7}b"), 3).await,
        is_invalid,
        "Invalid",
        "list_users after an id with control characters",
    );
}
