//! The [`SecondFactorStore`] suite: TOTP enrolment and confirmation, one
//! use per time step (concurrent uses included), single-use recovery
//! codes, bad input, and factors belonging to users (unknown and deleted
//! users, other users left alone).

use crate::error::StoreError;
use crate::second_factor::{MAX_RECOVERY_CODES, RecoveryCodeHash, SealedSecret, SecondFactorStore};
use crate::store::AuthStore;
use crate::user::NewUser;

use super::{Check, Ids};

fn check(name: &'static str) -> Check {
    Check {
        suite: "second factor",
        name,
    }
}

/// A store of users and of their second factors, as one value: what the
/// `second_factor` suite runs against ([`second_factor_conformance`],
/// [`second_factor_conformance_tests!`](crate::second_factor_conformance_tests)).
/// Every type that is both an [`AuthStore`] and a [`SecondFactorStore`] is
/// one (the SQL store, [`MemoryStore`](crate::memory::MemoryStore)).
pub trait FactorStoreWithUsers: AuthStore + SecondFactorStore {}

impl<T: AuthStore + SecondFactorStore + ?Sized> FactorStoreWithUsers for T {}

/// Runs every check of the [`SecondFactorStore`] contract against `store`.
///
/// Covers: a pending secret guards nothing until confirmed, is replaced
/// by a new one, and an active one is a conflict; a step is used once and
/// never an earlier one; of 20 concurrent uses of one step, or of one
/// recovery code, exactly one wins; recovery codes are single use and
/// replaced as a set; malformed input is refused and stores nothing;
/// unknown users are `NotFound`; deleting a user deletes its factors and
/// no one else's. Every run uses fresh user ids.
///
/// # Panics
///
/// When the store breaks its contract; the message names the check.
pub async fn second_factor_conformance(store: &dyn FactorStoreWithUsers) {
    crate::__testkit_checks!(
        second_factor,
        __testkit_run_all(second_factor_checks, store)
    );
}

async fn user(store: &dyn FactorStoreWithUsers, c: Check, ids: &Ids, tag: &str) -> String {
    let id = ids.user(tag);
    c.ok(store.create_user(NewUser::new(&id)).await, "create_user");
    id
}

fn sealed(text: &str) -> SealedSecret {
    SealedSecret::new(text).unwrap_or_else(|e| panic!("test secret: {e}"))
}

/// A code hash of this run, distinct per `n`.
fn code(ids: &Ids, n: usize) -> RecoveryCodeHash {
    let text = format!("{}{n:032x}", ids.run());
    RecoveryCodeHash::parse(&text[text.len() - 64..]).unwrap_or_else(|| panic!("hash {text}"))
}

fn codes(ids: &Ids, from: usize, count: usize) -> Vec<RecoveryCodeHash> {
    (from..from + count).map(|n| code(ids, n)).collect()
}

pub(crate) async fn totp_enrolment(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("a TOTP secret is pending until confirmed, then active");
    let user = user(store, c, ids, "enrol").await;
    c.equal(
        &c.ok(store.totp(&user).await, "totp"),
        &None,
        "no secret yet",
    );
    c.equal(
        &c.ok(store.confirm_totp(&user, 10).await, "confirm_totp"),
        &false,
        "confirming with nothing pending",
    );
    c.ok(
        store.begin_totp(&user, &sealed("first")).await,
        "begin_totp",
    );
    c.ok(
        store.begin_totp(&user, &sealed("second")).await,
        "begin_totp again",
    );
    let pending = c.ok(store.totp(&user).await, "totp");
    let pending = pending.unwrap_or_else(|| c.fail("the pending secret is gone"));
    c.equal(
        &pending.secret.as_str(),
        &"second",
        "the newer pending secret",
    );
    c.ensure(!pending.is_active(), "a pending secret is not active");
    c.equal(
        &c.ok(store.use_totp_step(&user, 10).await, "use_totp_step"),
        &false,
        "a step of a pending secret",
    );
    c.equal(
        &c.ok(store.confirm_totp(&user, 10).await, "confirm_totp"),
        &true,
        "confirming the pending secret",
    );
    let active = c.ok(store.totp(&user).await, "totp");
    let active = active.unwrap_or_else(|| c.fail("the active secret is gone"));
    c.ensure(active.is_active(), "the secret is active");
    c.equal(&active.last_step, &Some(10), "the confirming step is used");
    c.equal(
        &c.ok(store.confirm_totp(&user, 11).await, "confirm_totp"),
        &false,
        "confirming an active secret",
    );
    c.err(
        store.begin_totp(&user, &sealed("third")).await,
        |e| matches!(e, StoreError::Conflict { .. }),
        "Conflict",
        "begin_totp over an active secret",
    );
    let kept = c.ok(store.totp(&user).await, "totp").map(|r| r.secret);
    c.equal(
        &kept,
        &Some(sealed("second")),
        "the active secret after a conflict",
    );
    c.equal(
        &c.ok(store.delete_totp(&user).await, "delete_totp"),
        &true,
        "delete",
    );
    c.equal(
        &c.ok(store.delete_totp(&user).await, "delete_totp"),
        &false,
        "delete again",
    );
    c.equal(
        &c.ok(store.totp(&user).await, "totp"),
        &None,
        "the deleted secret",
    );
}

pub(crate) async fn steps_used_once(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("a time step is used once, and never an earlier one");
    let user = user(store, c, ids, "steps").await;
    c.ok(store.begin_totp(&user, &sealed("s")).await, "begin_totp");
    c.ok(store.confirm_totp(&user, 100).await, "confirm_totp");
    for (step, expected, what) in [
        (100, false, "the confirming step again"),
        (99, false, "an earlier step"),
        (101, true, "the next step"),
        (101, false, "the same step again"),
        (100, false, "a step before the last"),
        (105, true, "a later step"),
    ] {
        let accepted = c.ok(store.use_totp_step(&user, step).await, "use_totp_step");
        c.equal(&accepted, &expected, what);
    }
    let last = c
        .ok(store.totp(&user).await, "totp")
        .and_then(|r| r.last_step);
    c.equal(&last, &Some(105), "the last step");
}

pub(crate) async fn concurrent_steps(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("of 20 concurrent uses of one step exactly one wins");
    let user = user(store, c, ids, "race").await;
    c.ok(store.begin_totp(&user, &sealed("s")).await, "begin_totp");
    c.ok(store.confirm_totp(&user, 1).await, "confirm_totp");
    let attempts = (0..20).map(|_| store.use_totp_step(&user, 2));
    let results = futures_util::future::join_all(attempts).await;
    let won = results
        .into_iter()
        .map(|r| c.ok(r, "use_totp_step"))
        .filter(|won| *won)
        .count();
    c.equal(&won, &1, "winning uses");
}

pub(crate) async fn recovery_codes(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("recovery codes are single use and replaced as a set");
    let user = user(store, c, ids, "codes").await;
    c.equal(
        &c.ok(store.recovery_codes_left(&user).await, "left"),
        &0,
        "none yet",
    );
    let first = codes(ids, 0, 10);
    c.ok(store.replace_recovery_codes(&user, &first).await, "replace");
    c.equal(
        &c.ok(store.recovery_codes_left(&user).await, "left"),
        &10,
        "ten",
    );
    c.equal(
        &c.ok(store.use_recovery_code(&user, &first[3]).await, "use"),
        &true,
        "a code",
    );
    c.equal(
        &c.ok(store.use_recovery_code(&user, &first[3]).await, "use"),
        &false,
        "reused",
    );
    c.equal(
        &c.ok(store.recovery_codes_left(&user).await, "left"),
        &9,
        "nine left",
    );
    let unknown = code(ids, 99);
    c.equal(
        &c.ok(store.use_recovery_code(&user, &unknown).await, "use"),
        &false,
        "unknown",
    );
    let second = codes(ids, 10, 10);
    c.ok(
        store.replace_recovery_codes(&user, &second).await,
        "replace",
    );
    c.equal(
        &c.ok(store.use_recovery_code(&user, &first[0]).await, "use"),
        &false,
        "an old code",
    );
    c.equal(
        &c.ok(store.recovery_codes_left(&user).await, "left"),
        &10,
        "a new set",
    );
    c.equal(
        &c.ok(store.delete_recovery_codes(&user).await, "delete"),
        &10,
        "deleted",
    );
    c.equal(
        &c.ok(store.use_recovery_code(&user, &second[0]).await, "use"),
        &false,
        "gone",
    );
}

pub(crate) async fn concurrent_codes(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("of 20 concurrent uses of one recovery code exactly one wins");
    let user = user(store, c, ids, "code-race").await;
    let set = codes(ids, 0, 10);
    c.ok(store.replace_recovery_codes(&user, &set).await, "replace");
    let attempts = (0..20).map(|_| store.use_recovery_code(&user, &set[0]));
    let won = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| c.ok(r, "use_recovery_code"))
        .filter(|won| *won)
        .count();
    c.equal(&won, &1, "winning uses");
    c.equal(
        &c.ok(store.recovery_codes_left(&user).await, "left"),
        &9,
        "nine left",
    );
}

pub(crate) async fn bad_input(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("malformed input is refused and stores nothing");
    let user = user(store, c, ids, "bad").await;
    let invalid = |e: &StoreError| matches!(e, StoreError::Invalid(_));
    c.err(
        store.totp("").await,
        invalid,
        "Invalid",
        "totp of an empty id",
    );
    c.err(
        store.begin_totp("", &sealed("s")).await,
        invalid,
        "Invalid",
        "begin_totp for an empty id",
    );
    c.ok(store.begin_totp(&user, &sealed("s")).await, "begin_totp");
    c.err(
        store.confirm_totp(&user, u64::MAX).await,
        invalid,
        "Invalid",
        "confirm_totp with a step past 63 bits",
    );
    let one = codes(ids, 0, 1);
    c.err(
        store
            .replace_recovery_codes(&user, &[one[0].clone(), one[0].clone()])
            .await,
        invalid,
        "Invalid",
        "replace with a code twice",
    );
    c.err(
        store
            .replace_recovery_codes(&user, &codes(ids, 0, MAX_RECOVERY_CODES + 1))
            .await,
        invalid,
        "Invalid",
        "replace with too many codes",
    );
    c.equal(
        &c.ok(store.recovery_codes_left(&user).await, "left"),
        &0,
        "nothing stored",
    );
    c.ok(
        store
            .replace_recovery_codes(&user, &codes(ids, 0, MAX_RECOVERY_CODES))
            .await,
        "replace with the most codes",
    );
    c.equal(
        &c.ok(store.recovery_codes_left(&user).await, "left"),
        &MAX_RECOVERY_CODES,
        "the most codes",
    );
}

pub(crate) async fn unknown_user(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("factors for an unknown user are NotFound and store nothing");
    let ghost = ids.user("ghost");
    let not_found = |e: &StoreError| matches!(e, StoreError::NotFound);
    c.err(
        store.begin_totp(&ghost, &sealed("s")).await,
        not_found,
        "NotFound",
        "begin_totp for an unknown user",
    );
    c.err(
        store
            .replace_recovery_codes(&ghost, &codes(ids, 0, 2))
            .await,
        not_found,
        "NotFound",
        "replace_recovery_codes for an unknown user",
    );
    c.equal(&c.ok(store.totp(&ghost).await, "totp"), &None, "no secret");
    c.equal(
        &c.ok(store.recovery_codes_left(&ghost).await, "left"),
        &0,
        "no codes",
    );
    c.equal(
        &c.ok(store.use_totp_step(&ghost, 5).await, "use"),
        &false,
        "no step",
    );
    c.equal(
        &c.ok(store.delete_totp(&ghost).await, "delete"),
        &false,
        "nothing to delete",
    );
}

pub(crate) async fn deleted_user(store: &dyn FactorStoreWithUsers, ids: &Ids) {
    let c = check("deleting a user deletes its factors and no one else's");
    let leaving = user(store, c, ids, "leaving").await;
    let staying = user(store, c, ids, "staying").await;
    for (id, n) in [(&leaving, 0), (&staying, 20)] {
        c.ok(store.begin_totp(id, &sealed("s")).await, "begin_totp");
        c.ok(store.confirm_totp(id, 7).await, "confirm_totp");
        c.ok(
            store.replace_recovery_codes(id, &codes(ids, n, 10)).await,
            "replace",
        );
    }
    c.ok(store.delete_user(&leaving).await, "delete_user");
    c.ok(
        store.create_user(NewUser::new(&leaving)).await,
        "create_user again",
    );
    c.equal(
        &c.ok(store.totp(&leaving).await, "totp"),
        &None,
        "the deleted user's secret",
    );
    c.equal(
        &c.ok(store.recovery_codes_left(&leaving).await, "left"),
        &0,
        "their codes",
    );
    c.ensure(
        c.ok(store.totp(&staying).await, "totp")
            .is_some_and(|r| r.is_active()),
        "the other user's secret stays",
    );
    c.equal(
        &c.ok(store.recovery_codes_left(&staying).await, "left"),
        &10,
        "their codes stay",
    );
    c.equal(
        &c.ok(
            store.use_recovery_code(&staying, &code(ids, 0)).await,
            "use",
        ),
        &false,
        "a code of another user",
    );
}
