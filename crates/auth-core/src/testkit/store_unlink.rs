//! The [`AuthStore`] suite, continued: `unlink_provider` removes a pair
//! from its own user only, frees it for anyone, and refuses unknown users
//! and malformed input without writing.

use crate::principal::Claim;
use crate::store::AuthStore;
use crate::user::{MAX_USER_ID_LEN, NewUser, ProviderLink};

use super::Ids;
use super::store::{PROVIDER, check, is_conflict, is_invalid, is_not_found};

pub(crate) async fn unlink_frees_the_pair(store: &dyn AuthStore, ids: &Ids) {
    let c = check("unlink_provider removes the user's pair, which then links to another user");
    let (owner, next) = (ids.user("unlink-owner"), ids.user("unlink-next"));
    let (gone, kept) = (ids.subject("unlink-gone"), ids.subject("unlink-kept"));
    let new = NewUser::new(&owner)
        .with_link(PROVIDER, &gone)
        .with_link(PROVIDER, &kept);
    c.ok(store.create_user(new).await, "create_user");
    c.ok(store.create_user(NewUser::new(&next)).await, "create_user");

    // Near misses of a pair the user has remove nothing.
    let near_misses = [
        ("testkit-other", kept.as_str()),
        (PROVIDER, &kept.to_uppercase()),
        ("TESTKIT", kept.as_str()),
        (PROVIDER, &format!("{kept} ")),
        (PROVIDER, &ids.subject("unlink-never")),
    ];
    for (provider, subject) in near_misses {
        let removed = c.ok(
            store.unlink_provider(&owner, provider, subject).await,
            "unlink_provider",
        );
        c.equal(&removed, &false, "unlink_provider of a pair the user lacks");
    }

    let removed = c.ok(
        store.unlink_provider(&owner, PROVIDER, &gone).await,
        "unlink_provider",
    );
    c.equal(&removed, &true, "unlink_provider of the user's pair");
    let again = c.ok(
        store.unlink_provider(&owner, PROVIDER, &gone).await,
        "unlink_provider",
    );
    c.equal(&again, &false, "unlink_provider of the same pair again");
    let links = c.ok(store.links_of(&owner).await, "links_of");
    c.equal(
        &links,
        &vec![ProviderLink::new(PROVIDER, &kept, &owner)],
        "the user's links after the unlink (the other pair kept)",
    );
    let found = c.ok(
        store.find_by_provider(PROVIDER, &gone).await,
        "find_by_provider",
    );
    c.equal(&found, &None, "find_by_provider of the removed pair");
    let user = c.ok(store.get_user(&owner).await, "get_user");
    c.ensure(user.is_some(), "the user is gone after an unlink");

    let relinked =
        ProviderLink::new(PROVIDER, &gone, &next).with_claims(vec![Claim::new("v", "1")]);
    c.ok(
        store.link_provider(relinked.clone()).await,
        "link_provider of the freed pair to another user",
    );
    let found = c.ok(
        store.find_by_provider(PROVIDER, &gone).await,
        "find_by_provider",
    );
    c.equal(
        &found.map(|u| u.user_id),
        &Some(next.clone()),
        "the freed pair's new user",
    );
    let links = c.ok(store.links_of(&next).await, "links_of");
    c.equal(&links, &vec![relinked], "the new user's links");
}

pub(crate) async fn unlink_leaves_other_users_pairs(store: &dyn AuthStore, ids: &Ids) {
    let c = check("unlinking another user's pair is false and leaves it");
    let (owner, other) = (ids.user("unlink-holder"), ids.user("unlink-thief"));
    let subject = ids.subject("unlink-held");
    let holder = NewUser::new(&owner).with_link(PROVIDER, &subject);
    let holder = c.ok(store.create_user(holder).await, "create_user");
    c.ok(store.create_user(NewUser::new(&other)).await, "create_user");

    let removed = c.ok(
        store.unlink_provider(&other, PROVIDER, &subject).await,
        "unlink_provider",
    );
    c.equal(&removed, &false, "unlink_provider of another user's pair");
    let found = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(&found, &Some(holder), "the pair's user after the attempt");
    let links = c.ok(store.links_of(&owner).await, "links_of");
    c.equal(
        &links,
        &vec![ProviderLink::new(PROVIDER, &subject, &owner)],
        "the owner's links after the attempt",
    );
    let steal = ProviderLink::new(PROVIDER, &subject, &other);
    c.err(
        store.link_provider(steal).await,
        is_conflict,
        "Conflict",
        "link_provider of the pair to the other user afterwards",
    );
}

pub(crate) async fn unlink_unknown_user(store: &dyn AuthStore, ids: &Ids) {
    let c = check("unlink_provider for an unknown user is NotFound and writes nothing");
    let (owner, ghost) = (ids.user("unlink-present"), ids.user("unlink-ghost"));
    let subject = ids.subject("unlink-present");
    let holder = NewUser::new(&owner).with_link(PROVIDER, &subject);
    let holder = c.ok(store.create_user(holder).await, "create_user");
    c.err(
        store.unlink_provider(&ghost, PROVIDER, &subject).await,
        is_not_found,
        "NotFound",
        "unlink_provider for an unknown user of another user's pair",
    );
    let unlinked = ids.subject("unlink-nobody");
    c.err(
        store.unlink_provider(&ghost, PROVIDER, &unlinked).await,
        is_not_found,
        "NotFound",
        "unlink_provider for an unknown user of an unlinked pair",
    );
    let found = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(&found, &Some(holder), "the pair's user afterwards");
    let ghost_user = c.ok(store.get_user(&ghost).await, "get_user");
    c.equal(&ghost_user, &None, "the unknown user afterwards");

    // A deleted user is unknown too.
    c.ok(store.delete_user(&owner).await, "delete_user");
    c.err(
        store.unlink_provider(&owner, PROVIDER, &subject).await,
        is_not_found,
        "NotFound",
        "unlink_provider for a deleted user",
    );
}

pub(crate) async fn invalid_unlinks(store: &dyn AuthStore, ids: &Ids) {
    let c = check("malformed unlinks are Invalid and write nothing");
    let owner = ids.user("unlink-invalid");
    let subject = ids.subject("unlink-invalid");
    let holder = NewUser::new(&owner).with_link(PROVIDER, &subject);
    let holder = c.ok(store.create_user(holder).await, "create_user");
    let long_id = format!("{owner}{}", "x".repeat(MAX_USER_ID_LEN));
    let long_text = "s".repeat(256);
    let control_id = format!("{owner}\n");
    let refusals = [
        ("an empty user id", "", PROVIDER, subject.as_str()),
        ("an over-long user id", &long_id, PROVIDER, &subject),
        (
            "a control character in the user id",
            &control_id,
            PROVIDER,
            &subject,
        ),
        ("an empty provider", &owner, "", &subject),
        ("an empty subject", &owner, PROVIDER, ""),
        ("an over-long provider", &owner, &long_text, &subject),
        ("an over-long subject", &owner, PROVIDER, &long_text),
    ];
    for (what, user_id, provider, subject) in refusals {
        c.err(
            store.unlink_provider(user_id, provider, subject).await,
            is_invalid,
            "Invalid",
            &format!("unlink_provider with {what}"),
        );
    }
    let found = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(&found, &Some(holder), "the pair after the refused unlinks");
}
