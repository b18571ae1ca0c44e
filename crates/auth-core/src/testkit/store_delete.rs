//! The [`AuthStore`] suite, continued: deleting a user removes every row of
//! it at once, frees its links, and touches no other user.

use crate::principal::Claim;
use crate::store::AuthStore;
use crate::user::{NewUser, ProviderLink};

use super::Ids;
use super::store::{PROVIDER, check, hash, is_invalid, is_not_found};

pub(crate) async fn delete_user(store: &dyn AuthStore, ids: &Ids) {
    let c = check("delete_user removes the user, credentials and links, and nothing else");
    let id = ids.user("delete");
    let other = ids.user("delete-bystander");
    let (first, second) = (ids.subject("delete-1"), ids.subject("delete-2"));
    let bystander_subject = ids.subject("delete-bystander");
    let user = NewUser::new(&id)
        .with_name("Leaving")
        .with_claims(vec![Claim::new("role", "admin")])
        .with_password_hash(hash("delete"))
        .with_link(PROVIDER, &first);
    c.ok(store.create_user(user).await, "create_user");
    c.ok(
        store
            .link_provider(ProviderLink::new(PROVIDER, &second, &id))
            .await,
        "link_provider",
    );
    let bystander = NewUser::new(&other)
        .with_password_hash(hash("bystander"))
        .with_link(PROVIDER, &bystander_subject);
    let bystander = c.ok(store.create_user(bystander).await, "create_user");

    c.ok(store.delete_user(&id).await, "delete_user");
    let got = c.ok(store.get_user(&id).await, "get_user");
    c.equal(&got, &None, "get_user after delete_user");
    let hash_got = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(&hash_got, &None, "password_hash after delete_user");
    let links = c.ok(store.links_of(&id).await, "links_of");
    c.equal(&links, &Vec::new(), "links_of after delete_user");
    for subject in [&first, &second] {
        let found = c.ok(
            store.find_by_provider(PROVIDER, subject).await,
            "find_by_provider",
        );
        c.equal(&found, &None, "find_by_provider of a deleted user's link");
    }

    c.err(
        store.delete_user(&id).await,
        is_not_found,
        "NotFound",
        "delete_user again",
    );
    c.err(
        store.delete_user(&ids.user("never-created")).await,
        is_not_found,
        "NotFound",
        "delete_user of an unknown id",
    );
    c.err(
        store.delete_user("").await,
        is_invalid,
        "Invalid",
        "delete_user of an empty id",
    );

    let kept = c.ok(store.get_user(&other).await, "get_user");
    c.equal(&kept, &Some(bystander), "another user after delete_user");
    let kept_hash = c.ok(store.password_hash(&other).await, "password_hash");
    c.equal(
        &kept_hash,
        &Some(hash("bystander")),
        "another user's password hash after delete_user",
    );

    // The freed pair links again, and the id can be registered anew.
    let again = NewUser::new(&id).with_link(PROVIDER, &first);
    c.ok(
        store.create_user(again).await,
        "create_user of a deleted id",
    );
    let found = c.ok(
        store.find_by_provider(PROVIDER, &first).await,
        "find_by_provider",
    );
    c.equal(
        &found.map(|user| user.claims),
        &Some(Vec::new()),
        "the re-created user starts without the deleted user's claims",
    );
}
