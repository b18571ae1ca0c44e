//! The [`AuthStore`] suite, continued: malformed input is refused with
//! [`StoreError::Invalid`] and writes nothing.

use std::fmt::Debug;

use crate::error::StoreError;
use crate::principal::{Claim, MAX_CLAIM_TYPE_LEN, MAX_CLAIM_VALUE_LEN};
use crate::store::AuthStore;
use crate::user::{ClaimChange, MAX_USER_ID_LEN, NewUser, ProviderLink, UserUpdate};

use super::Check;
use super::Ids;
use super::store::{PROVIDER, check, hash, is_invalid};

/// Fails unless `result` is [`StoreError::Invalid`].
#[track_caller]
fn refused<T: Debug>(c: Check, result: Result<T, StoreError>, call: &str) {
    c.err(result, is_invalid, "Invalid", call);
}

pub(crate) async fn invalid_creates(store: &dyn AuthStore, ids: &Ids) {
    let c = check("malformed creates are Invalid and write nothing");
    refused(
        c,
        store.create_user(NewUser::new("")).await,
        "create_user with an empty id",
    );
    let long_id = format!("{}{}", ids.user("long"), "x".repeat(MAX_USER_ID_LEN));
    let result = store.create_user(NewUser::new(&long_id)).await;
    refused(c, result, "create_user with an over-long id");
    let control_id = ids.user("control\n");
    let result = store.create_user(NewUser::new(&control_id)).await;
    refused(c, result, "create_user with a control character in the id");
    let result = store.get_user(&control_id).await;
    refused(c, result, "get_user with a control character in the id");

    let id = ids.user("invalid-create");
    let subject = ids.subject("invalid-create");
    let claims = |claims: Vec<Claim>| NewUser::new(&id).with_claims(claims);
    let refusals = [
        (
            "create_user with an empty claim type",
            claims(vec![Claim::new("ok", "1"), Claim::new("", "x")])
                .with_password_hash(hash("invalid"))
                .with_link(PROVIDER, &subject),
        ),
        (
            "create_user with an over-long claim value",
            claims(vec![Claim::new("big", "v".repeat(MAX_CLAIM_VALUE_LEN + 1))]),
        ),
        (
            "create_user with an over-long claim type",
            claims(vec![Claim::new("t".repeat(MAX_CLAIM_TYPE_LEN + 1), "v")]),
        ),
        (
            "create_user with an empty provider",
            NewUser::new(&id)
                .with_password_hash(hash("invalid"))
                .with_link("", &subject),
        ),
        (
            "create_user with an empty subject",
            NewUser::new(&id).with_link(PROVIDER, ""),
        ),
    ];
    for (call, new) in refusals {
        refused(c, store.create_user(new).await, call);
    }
    let user = c.ok(store.get_user(&id).await, "get_user");
    c.equal(&user, &None, "the user of the refused creates");
    let hash_got = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(&hash_got, &None, "the credentials of the refused creates");
    let link = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(&link, &None, "the link of the refused creates");
}

pub(crate) async fn invalid_changes(store: &dyn AuthStore, ids: &Ids) {
    let c = check("malformed changes are Invalid and write nothing");
    let id = ids.user("invalid-change");
    let new = NewUser::new(&id).with_claims(vec![Claim::new("role", "user")]);
    let before = c.ok(store.create_user(new).await, "create_user");
    let changes = [
        (
            "update_claims(Set) with an empty type",
            ClaimChange::Set(Claim::new("", "x")),
        ),
        (
            "update_claims(Remove) with an empty type",
            ClaimChange::Remove(String::new()),
        ),
        (
            "update_claims(Replace) with one empty type",
            ClaimChange::Replace(vec![Claim::new("ok", "1"), Claim::new("", "2")]),
        ),
        (
            "update_claims(Set) with an over-long value",
            ClaimChange::Set(Claim::new("big", "v".repeat(MAX_CLAIM_VALUE_LEN + 1))),
        ),
        (
            "update_claims(Set) with a control character in the type",
            ClaimChange::Set(Claim::new("ro\u{0}le", "x")),
        ),
    ];
    for (call, change) in changes {
        refused(c, store.update_claims(&id, change).await, call);
    }
    let link = |subject: &str, user: &str| ProviderLink::new(PROVIDER, subject, user);
    let fresh = ids.subject("invalid-change");
    let links = [
        (
            "link_provider with an empty provider",
            ProviderLink::new("", &fresh, &id),
        ),
        ("link_provider with an empty subject", link("", &id)),
        ("link_provider with an empty user id", link(&fresh, "")),
        (
            "link_provider with an empty claim type",
            link(&fresh, &id).with_claims(vec![Claim::new("", "x")]),
        ),
    ];
    for (call, link) in links {
        refused(c, store.link_provider(link).await, call);
    }
    let user = c.ok(store.get_user(&id).await, "get_user");
    c.equal(&user, &Some(before), "the user after refused changes");
    let links = c.ok(store.links_of(&id).await, "links_of");
    c.equal(&links, &Vec::new(), "the user's links after refused links");
}

pub(crate) async fn invalid_lookups(store: &dyn AuthStore) {
    let c = check("malformed ids are Invalid on every method");
    refused(c, store.get_user("").await, "get_user(\"\")");
    let result = store.find_by_provider("", "x").await;
    refused(c, result, "find_by_provider with an empty provider");
    let result = store.find_by_provider(PROVIDER, "").await;
    refused(c, result, "find_by_provider with an empty subject");
    refused(c, store.links_of("").await, "links_of(\"\")");
    let result = store.update_user("", UserUpdate::new()).await;
    refused(c, result, "update_user(\"\")");
    let result = store
        .update_claims("", ClaimChange::Remove("x".to_owned()))
        .await;
    refused(c, result, "update_claims(\"\")");
    refused(c, store.password_hash("").await, "password_hash(\"\")");
    let result = store.set_password_hash("", hash("x")).await;
    refused(c, result, "set_password_hash(\"\")");
}
