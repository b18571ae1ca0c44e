//! The [`OneTimeTokenStore`] suite: single use, purpose, expiry, one token
//! per user and purpose, conflicts, bad input, concurrent use.

use std::time::Duration;

use crate::error::StoreError;
use crate::one_time::{OneTimeToken, OneTimeTokenStore, TokenPurpose, TokenRecord};

use super::{Check, Ids};

fn check(name: &'static str) -> Check {
    Check {
        suite: "one-time token",
        name,
    }
}

const HOUR: Duration = Duration::from_secs(3600);

/// Runs every check of the [`OneTimeTokenStore`] contract against `store`.
///
/// Covers: a saved token is taken once; a token of another purpose is not
/// taken and stays; an expired token is not taken; saving replaces the
/// user's other tokens of that purpose only; a stored hash is a conflict;
/// deleting a user's tokens by purpose and altogether; invalid records are
/// refused and store nothing; of 20 concurrent takes exactly one wins.
/// Every run uses fresh user ids, so it is safe against a shared database.
///
/// # Panics
///
/// When the store breaks its contract; the message names the check.
pub async fn one_time_token_conformance(store: &dyn OneTimeTokenStore) {
    let ids = Ids::new();
    let user = |tag: &str| ids.user(tag);
    taken_once(store, &user("once")).await;
    purpose_and_expiry(store, &user("purpose")).await;
    newest_of_a_kind(store, &user("newest"), &user("other")).await;
    conflicts_deletes_and_bad_input(store, &user("delete")).await;
    concurrent_takes(store, &user("race")).await;
}

async fn taken_once(store: &dyn OneTimeTokenStore, user: &str) {
    let c = check("a saved token is taken once");
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, user, "binding-1", HOUR)
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

async fn purpose_and_expiry(store: &dyn OneTimeTokenStore, user: &str) {
    let c = check("a token serves its purpose only, and only until it expires");
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::VerifyEmail, user, "a@example.com", HOUR);
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
    let record = TokenRecord::new(TokenPurpose::ChangeEmail, user, "b", Duration::ZERO);
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

async fn newest_of_a_kind(store: &dyn OneTimeTokenStore, user: &str, other_user: &str) {
    let c = check("saving replaces the user's other tokens of that purpose only");
    let (old, verify, theirs, new) = (
        OneTimeToken::generate(),
        OneTimeToken::generate(),
        OneTimeToken::generate(),
        OneTimeToken::generate(),
    );
    let reset = |who: &str| TokenRecord::new(TokenPurpose::ResetPassword, who, "s", HOUR);
    c.ok(
        store.save_token(&old.hash(), &reset(user)).await,
        "save_token",
    );
    let verify_record = TokenRecord::new(TokenPurpose::VerifyEmail, user, "s", HOUR);
    c.ok(
        store.save_token(&verify.hash(), &verify_record).await,
        "save_token",
    );
    c.ok(
        store.save_token(&theirs.hash(), &reset(other_user)).await,
        "save_token",
    );
    c.ok(
        store.save_token(&new.hash(), &reset(user)).await,
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

async fn conflicts_deletes_and_bad_input(store: &dyn OneTimeTokenStore, user: &str) {
    let c = check("conflicts, deletes and bad input");
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::VerifyEmail, user, "s", HOUR);
    c.ok(
        store.save_token(&issued.hash(), &record).await,
        "save_token",
    );
    let clash = TokenRecord::new(TokenPurpose::ResetPassword, user, "s", HOUR);
    c.err(
        store.save_token(&issued.hash(), &clash).await,
        |e| matches!(e, StoreError::Conflict { .. }),
        "Conflict",
        "save_token of a stored hash",
    );
    let reset = OneTimeToken::generate();
    c.ok(store.save_token(&reset.hash(), &clash).await, "save_token");
    let removed = c.ok(
        store
            .delete_tokens_of(user, Some(TokenPurpose::VerifyEmail))
            .await,
        "delete_tokens_of",
    );
    c.equal(&removed, &1, "tokens removed for one purpose");
    let removed = c.ok(store.delete_tokens_of(user, None).await, "delete_tokens_of");
    c.equal(&removed, &1, "tokens removed for every purpose");
    let taken = c.ok(
        store
            .take_token(&reset.hash(), TokenPurpose::ResetPassword)
            .await,
        "take_token",
    );
    c.equal(&taken, &None, "a take after the user's tokens were deleted");

    let bad = [
        TokenRecord::new(TokenPurpose::VerifyEmail, user, "x".repeat(256), HOUR),
        TokenRecord::new(TokenPurpose::VerifyEmail, user, "line\nbreak", HOUR),
        TokenRecord::new(TokenPurpose::VerifyEmail, "", "s", HOUR),
        TokenRecord::new(TokenPurpose::VerifyEmail, user, "s", HOUR).with_data("y".repeat(256)),
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
}

async fn concurrent_takes(store: &dyn OneTimeTokenStore, user: &str) {
    let c = check("of 20 concurrent takes exactly one gets the token");
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, user, "s", HOUR);
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
