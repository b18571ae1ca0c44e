//! The [`OneTimeTokenStore`] suite: single use, purpose, expiry, one token
//! per user and purpose, conflicts, bad input, concurrent use, and, for a
//! store that keeps the users too, unknown and deleted users.

use std::time::Duration;

use crate::error::StoreError;
use crate::one_time::{OneTimeToken, OneTimeTokenStore, TokenPurpose, TokenRecord};
use crate::store::AuthStore;
use crate::user::NewUser;

use super::{Check, Ids};

fn check(name: &'static str) -> Check {
    Check {
        suite: "one-time token",
        name,
    }
}

const HOUR: Duration = Duration::from_secs(3600);

/// A store of users and of their one-time tokens, as one value: what the
/// `one_time_token` suite with its user rules runs against
/// ([`one_time_token_conformance`], [`one_time_token_conformance_tests!`](crate::one_time_token_conformance_tests)).
/// Every type that is both an [`AuthStore`] and a [`OneTimeTokenStore`]
/// is one (the SQL store, [`MemoryStore`](crate::memory::MemoryStore)).
pub trait TokenStoreWithUsers: AuthStore + OneTimeTokenStore {}

impl<T: AuthStore + OneTimeTokenStore + ?Sized> TokenStoreWithUsers for T {}

/// The token store under test, and the user store its users live in when
/// it keeps them.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    tokens: &'a dyn OneTimeTokenStore,
    users: Option<&'a dyn AuthStore>,
}

impl<'a> Target<'a> {
    /// A store of users and tokens: every check first registers the users
    /// it saves tokens for.
    pub(crate) fn with_users(store: &'a dyn TokenStoreWithUsers) -> Self {
        Self {
            tokens: store,
            users: Some(store),
        }
    }

    /// A token store that keeps no users.
    fn standalone(tokens: &'a dyn OneTimeTokenStore) -> Self {
        Self {
            tokens,
            users: None,
        }
    }

    /// A fresh user id of this run, registered when the store keeps users.
    async fn user(self, c: Check, ids: &Ids, tag: &str) -> String {
        let id = ids.user(tag);
        if let Some(users) = self.users {
            c.ok(users.create_user(NewUser::new(&id)).await, "create_user");
        }
        id
    }
}

/// Runs every check of the [`OneTimeTokenStore`] contract against `store`,
/// a store of users and their tokens.
///
/// Covers: a saved token is taken once; a token of another purpose is not
/// taken and stays; an expired token is not taken; saving replaces the
/// user's other tokens of that purpose only; a stored hash is a conflict,
/// even for the same user and purpose; deleting a user's tokens by purpose
/// and altogether; invalid records are refused and store nothing; of 20
/// concurrent takes exactly one wins; of 20 concurrent saves for one user
/// and purpose one token is left; a token for an unknown user is
/// `NotFound` and stores nothing; deleting the user deletes its tokens.
/// Every run uses fresh user ids, so it is safe against a shared database.
///
/// A token store that keeps no users runs [`standalone_token_conformance`].
///
/// # Panics
///
/// When the store breaks its contract; the message names the check.
pub async fn one_time_token_conformance(store: &dyn TokenStoreWithUsers) {
    crate::__testkit_checks!(
        one_time_token,
        __testkit_run_all(one_time_token_checks, store)
    );
}

/// Runs the checks of [`one_time_token_conformance`] that need no users
/// against a token store that keeps none (such as
/// [`MemoryTokenStore`](crate::memory::MemoryTokenStore)): the users it
/// saves tokens for are never registered anywhere.
///
/// # Panics
///
/// When the store breaks its contract; the message names the check.
pub async fn standalone_token_conformance(tokens: &dyn OneTimeTokenStore) {
    let t = Target::standalone(tokens);
    let ids = &Ids::new();
    taken_once(t, ids).await;
    purpose_and_expiry(t, ids).await;
    newest_of_a_kind(t, ids).await;
    conflicts_deletes_and_bad_input(t, ids).await;
    concurrent_takes(t, ids).await;
    concurrent_saves(t, ids).await;
}

pub(crate) async fn taken_once(t: Target<'_>, ids: &Ids) {
    let c = check("a saved token is taken once");
    let user = t.user(c, ids, "once").await;
    let store = t.tokens;
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &user, "binding-1", HOUR)
        .with_data("new@example.com");
    c.ok(
        store.save_token(&issued.hash(), &record).await,
        "save_token",
    );
    let taken = c.ok(
        store
            .take_token(&issued.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(&taken, &Some(record), "the first take");
    let again = c.ok(
        store
            .take_token(&issued.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(&again, &None, "a second take");
    let unknown = c.ok(
        store
            .take_token(
                &OneTimeToken::generate().hash(),
                TokenPurpose::ResetPassword,
            )
            .await,
        "take_token",
    );
    c.equal(&unknown, &None, "a take of an unknown hash");
}

pub(crate) async fn purpose_and_expiry(t: Target<'_>, ids: &Ids) {
    let c = check("a token serves its purpose only, and only until it expires");
    let user = t.user(c, ids, "purpose").await;
    let store = t.tokens;
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::VerifyEmail, &user, "a@example.com", HOUR);
    c.ok(
        store.save_token(&issued.hash(), &record).await,
        "save_token",
    );
    for other in [TokenPurpose::ResetPassword, TokenPurpose::ChangeEmail] {
        let taken = c.ok(store.take_token(&issued.hash(), other).await, "take_token");
        c.equal(&taken, &None, "a take for another purpose");
    }
    let taken = c.ok(
        store
            .take_token(&issued.hash(), TokenPurpose::VerifyEmail)
            .await,
        "take_token",
    );
    c.equal(
        &taken,
        &Some(record),
        "the take for its purpose, after the others",
    );

    let expired = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ChangeEmail, &user, "b", Duration::ZERO);
    c.ok(
        store.save_token(&expired.hash(), &record).await,
        "save_token",
    );
    let taken = c.ok(
        store
            .take_token(&expired.hash(), TokenPurpose::ChangeEmail)
            .await,
        "take_token",
    );
    c.equal(&taken, &None, "a take of an expired token");
}

pub(crate) async fn newest_of_a_kind(t: Target<'_>, ids: &Ids) {
    let c = check("saving replaces the user's other tokens of that purpose only");
    let user = t.user(c, ids, "newest").await;
    let other_user = t.user(c, ids, "other").await;
    let store = t.tokens;
    let (old, verify, theirs, new) = (
        OneTimeToken::generate(),
        OneTimeToken::generate(),
        OneTimeToken::generate(),
        OneTimeToken::generate(),
    );
    let reset = |who: &str| TokenRecord::new(TokenPurpose::ResetPassword, who, "s", HOUR);
    c.ok(
        store.save_token(&old.hash(), &reset(&user)).await,
        "save_token",
    );
    let verify_record = TokenRecord::new(TokenPurpose::VerifyEmail, &user, "s", HOUR);
    c.ok(
        store.save_token(&verify.hash(), &verify_record).await,
        "save_token",
    );
    c.ok(
        store.save_token(&theirs.hash(), &reset(&other_user)).await,
        "save_token",
    );
    c.ok(
        store.save_token(&new.hash(), &reset(&user)).await,
        "save_token",
    );

    let taken = c.ok(
        store
            .take_token(&old.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(&taken, &None, "the older reset token after a newer one");
    for (issued, purpose, what) in [
        (&new, TokenPurpose::ResetPassword, "the newer reset token"),
        (
            &verify,
            TokenPurpose::VerifyEmail,
            "the user's token of another purpose",
        ),
        (
            &theirs,
            TokenPurpose::ResetPassword,
            "another user's reset token",
        ),
    ] {
        let taken = c.ok(
            store.take_token(&issued.hash(), purpose).await,
            "take_token",
        );
        c.ensure(taken.is_some(), format_args!("{what} was lost"));
    }
}

pub(crate) async fn conflicts_deletes_and_bad_input(t: Target<'_>, ids: &Ids) {
    let c = check("conflicts, deletes and bad input");
    let user = t.user(c, ids, "delete").await;
    let store = t.tokens;
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::VerifyEmail, &user, "s", HOUR);
    c.ok(
        store.save_token(&issued.hash(), &record).await,
        "save_token",
    );
    let clash = TokenRecord::new(TokenPurpose::ResetPassword, &user, "s", HOUR);
    c.err(
        store.save_token(&issued.hash(), &clash).await,
        |e| matches!(e, StoreError::Conflict { .. }),
        "Conflict",
        "save_token of a stored hash",
    );
    // The same user and purpose: replacing the user's tokens of a kind
    // must not turn a stored hash into a fresh save.
    let same_kind = TokenRecord::new(TokenPurpose::VerifyEmail, &user, "other", HOUR);
    c.err(
        store.save_token(&issued.hash(), &same_kind).await,
        |e| matches!(e, StoreError::Conflict { .. }),
        "Conflict",
        "save_token of a stored hash for the same user and purpose",
    );
    let reset = OneTimeToken::generate();
    c.ok(store.save_token(&reset.hash(), &clash).await, "save_token");
    let removed = c.ok(
        store
            .delete_tokens_of(&user, Some(TokenPurpose::VerifyEmail))
            .await,
        "delete_tokens_of",
    );
    c.equal(
        &removed,
        &1,
        "tokens removed for one purpose (the conflicts changed nothing)",
    );
    let removed = c.ok(
        store.delete_tokens_of(&user, None).await,
        "delete_tokens_of",
    );
    c.equal(&removed, &1, "tokens removed for every purpose");
    let taken = c.ok(
        store
            .take_token(&reset.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(&taken, &None, "a take after the user's tokens were deleted");
    let removed = c.ok(
        store.delete_tokens_of(&ids.user("never"), None).await,
        "delete_tokens_of",
    );
    c.equal(&removed, &0, "tokens removed for an unknown user");
    c.err(
        store.delete_tokens_of("", None).await,
        |e| matches!(e, StoreError::Invalid(_)),
        "Invalid",
        "delete_tokens_of an empty user id",
    );

    let bad = [
        TokenRecord::new(TokenPurpose::VerifyEmail, &user, "x".repeat(256), HOUR),
        TokenRecord::new(TokenPurpose::VerifyEmail, &user, "line\nbreak", HOUR),
        TokenRecord::new(TokenPurpose::VerifyEmail, &user, "nul\0", HOUR),
        TokenRecord::new(TokenPurpose::VerifyEmail, "", "s", HOUR),
        TokenRecord::new(TokenPurpose::VerifyEmail, &user, "s", HOUR).with_data("y".repeat(256)),
    ];
    for record in bad {
        let issued = OneTimeToken::generate();
        c.err(
            store.save_token(&issued.hash(), &record).await,
            |e| matches!(e, StoreError::Invalid(_)),
            "Invalid",
            "save_token of an invalid record",
        );
        let taken = c.ok(
            store
                .take_token(&issued.hash(), TokenPurpose::VerifyEmail)
                .await,
            "take_token",
        );
        c.equal(&taken, &None, "a take of a refused record");
    }
    // The longest values that are allowed round-trip whole.
    let issued = OneTimeToken::generate();
    let longest = TokenRecord::new(TokenPurpose::ChangeEmail, &user, "é".repeat(127), HOUR)
        .with_data("d".repeat(255));
    c.ok(
        store.save_token(&issued.hash(), &longest).await,
        "save_token of the longest record",
    );
    let taken = c.ok(
        store
            .take_token(&issued.hash(), TokenPurpose::ChangeEmail)
            .await,
        "take_token",
    );
    c.equal(&taken, &Some(longest), "the longest record taken back");
}

pub(crate) async fn concurrent_takes(t: Target<'_>, ids: &Ids) {
    let c = check("of 20 concurrent takes exactly one gets the token");
    let user = t.user(c, ids, "race").await;
    let store = t.tokens;
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &user, "s", HOUR);
    c.ok(
        store.save_token(&issued.hash(), &record).await,
        "save_token",
    );
    let hash = issued.hash();
    let takes = (0..20).map(|_| store.take_token(&hash, TokenPurpose::ResetPassword));
    let results = futures_util::future::join_all(takes).await;
    let mut won = 0;
    for result in results {
        if c.ok(result, "take_token").is_some() {
            won += 1;
        }
    }
    c.equal(&won, &1, "takes that got the token");
}

pub(crate) async fn concurrent_saves(t: Target<'_>, ids: &Ids) {
    let c = check("of 20 concurrent saves for one user and purpose one token is left");
    let user = t.user(c, ids, "flood").await;
    let store = t.tokens;
    let issued: Vec<OneTimeToken> = (0..20).map(|_| OneTimeToken::generate()).collect();
    let record = TokenRecord::new(TokenPurpose::VerifyEmail, &user, "s", HOUR);
    let hashes: Vec<_> = issued.iter().map(OneTimeToken::hash).collect();
    let saves = hashes.iter().map(|hash| store.save_token(hash, &record));
    for result in futures_util::future::join_all(saves).await {
        c.ok(result, "save_token");
    }
    let mut left = 0;
    for hash in &hashes {
        let taken = c.ok(
            store.take_token(hash, TokenPurpose::VerifyEmail).await,
            "take_token",
        );
        if taken.is_some() {
            left += 1;
        }
    }
    c.equal(&left, &1, "tokens left of the user and purpose");
}

pub(crate) async fn unknown_user(store: &dyn TokenStoreWithUsers, ids: &Ids) {
    let c = check("a token for an unknown user is NotFound and stores nothing");
    let ghost = ids.user("ghost");
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &ghost, "s", HOUR);
    c.err(
        store.save_token(&issued.hash(), &record).await,
        |e| matches!(e, StoreError::NotFound),
        "NotFound",
        "save_token for a user that does not exist",
    );
    let taken = c.ok(
        store
            .take_token(&issued.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(&taken, &None, "a take of the refused token");
    // Registered afterwards, the user gets the same hash: nothing of the
    // refused save is in the way.
    c.ok(store.create_user(NewUser::new(&ghost)).await, "create_user");
    c.ok(
        store.save_token(&issued.hash(), &record).await,
        "save_token once the user exists",
    );
    let taken = c.ok(
        store
            .take_token(&issued.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(
        &taken,
        &Some(record),
        "the token saved once the user exists",
    );
}

pub(crate) async fn deleted_user(store: &dyn TokenStoreWithUsers, ids: &Ids) {
    let c = check("deleting a user deletes its tokens and no one else's");
    let (leaving, staying) = (ids.user("leaving"), ids.user("staying"));
    for id in [&leaving, &staying] {
        c.ok(store.create_user(NewUser::new(id)).await, "create_user");
    }
    let (reset, verify, theirs) = (
        OneTimeToken::generate(),
        OneTimeToken::generate(),
        OneTimeToken::generate(),
    );
    let reset_record = TokenRecord::new(TokenPurpose::ResetPassword, &leaving, "s", HOUR);
    let verify_record = TokenRecord::new(TokenPurpose::VerifyEmail, &leaving, "s", HOUR);
    let their_record = TokenRecord::new(TokenPurpose::ResetPassword, &staying, "s", HOUR);
    for (issued, record) in [
        (&reset, &reset_record),
        (&verify, &verify_record),
        (&theirs, &their_record),
    ] {
        c.ok(store.save_token(&issued.hash(), record).await, "save_token");
    }
    c.ok(store.delete_user(&leaving).await, "delete_user");
    // The id registered again must not inherit the old tokens.
    c.ok(
        store.create_user(NewUser::new(&leaving)).await,
        "create_user of the deleted id",
    );
    for (issued, purpose) in [
        (&reset, TokenPurpose::ResetPassword),
        (&verify, TokenPurpose::VerifyEmail),
    ] {
        let taken = c.ok(
            store.take_token(&issued.hash(), purpose).await,
            "take_token",
        );
        c.equal(&taken, &None, "a take of a deleted user's token");
    }
    let removed = c.ok(
        store.delete_tokens_of(&leaving, None).await,
        "delete_tokens_of",
    );
    c.equal(&removed, &0, "tokens left of the deleted user");
    let taken = c.ok(
        store
            .take_token(&theirs.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(&taken, &Some(their_record), "another user's token");
}
