//! The [`AuthStore`] suite, continued: unique keys. A create or link that
//! conflicts writes nothing; linking again to the same user is idempotent.

use crate::principal::Claim;
use crate::store::AuthStore;
use crate::user::{NewUser, ProviderLink};

use super::Ids;
use super::store::{PROVIDER, check, hash, is_conflict, is_invalid};

pub(crate) async fn conflict_on_user_id(store: &dyn AuthStore, ids: &Ids) {
    let c = check("create conflict on a taken user id writes nothing");
    let id = ids.user("dup-id");
    let first_subject = ids.subject("dup-id-1");
    let first = NewUser::new(&id)
        .with_name("First")
        .with_link(PROVIDER, &first_subject);
    c.ok(store.create_user(first.clone()).await, "create_user");

    let second_subject = ids.subject("dup-id-2");
    let clash = NewUser::new(&id)
        .with_name("Second")
        .with_password_hash(hash("dup-id"))
        .with_link(PROVIDER, &second_subject);
    c.err(
        store.create_user(clash).await,
        is_conflict,
        "Conflict",
        "create_user of a taken id",
    );

    let user = c.ok(store.get_user(&id).await, "get_user");
    c.equal(
        &user,
        &Some(first.record),
        "the first user after the conflict",
    );
    let hash_got = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(
        &hash_got,
        &None,
        "credentials after the conflict (the first user had none)",
    );
    let orphan = c.ok(
        store.find_by_provider(PROVIDER, &second_subject).await,
        "find_by_provider",
    );
    c.equal(&orphan, &None, "the conflicting create's link");
    let links = c.ok(store.links_of(&id).await, "links_of");
    c.equal(
        &links,
        &vec![ProviderLink::new(PROVIDER, &first_subject, &id)],
        "links after the conflict",
    );
}

pub(crate) async fn conflict_on_link(store: &dyn AuthStore, ids: &Ids) {
    let c = check("create conflict on a taken link writes nothing");
    let owner = ids.user("dup-link-owner");
    let taken = ids.subject("dup-link");
    let owner_new = NewUser::new(&owner).with_link(PROVIDER, &taken);
    c.ok(store.create_user(owner_new.clone()).await, "create_user");

    let loser = ids.user("dup-link-loser");
    let fresh = ids.subject("dup-link-fresh");
    let clash = NewUser::new(&loser)
        .with_password_hash(hash("dup-link"))
        .with_link(PROVIDER, &fresh)
        .with_link(PROVIDER, &taken);
    c.err(
        store.create_user(clash).await,
        is_conflict,
        "Conflict",
        "create_user with a taken link",
    );

    c.equal(
        &c.ok(store.get_user(&loser).await, "get_user"),
        &None,
        "the conflicting user",
    );
    let hash_got = c.ok(store.password_hash(&loser).await, "password_hash");
    c.equal(&hash_got, &None, "the conflicting user's credentials");
    let orphan = c.ok(
        store.find_by_provider(PROVIDER, &fresh).await,
        "find_by_provider",
    );
    c.equal(&orphan, &None, "the conflicting create's untaken link");
    let links = c.ok(store.links_of(&loser).await, "links_of");
    c.equal(&links, &Vec::new(), "links of the conflicting user");
    let holder = c.ok(
        store.find_by_provider(PROVIDER, &taken).await,
        "find_by_provider",
    );
    c.equal(&holder, &Some(owner_new.record), "the taken link's owner");

    let c = check("create with one link twice is refused and writes nothing");
    let twice = ids.user("dup-link-twice");
    let repeated = ids.subject("dup-link-twice");
    let new = NewUser::new(&twice)
        .with_link(PROVIDER, &repeated)
        .with_link(PROVIDER, &repeated);
    c.err(
        store.create_user(new).await,
        |e| is_conflict(e) || is_invalid(e),
        "Conflict or Invalid",
        "create_user with the same link twice",
    );
    c.equal(
        &c.ok(store.get_user(&twice).await, "get_user"),
        &None,
        "the refused user",
    );
    let orphan = c.ok(
        store.find_by_provider(PROVIDER, &repeated).await,
        "find_by_provider",
    );
    c.equal(&orphan, &None, "the refused user's link");
}

pub(crate) async fn link_provider_rules(store: &dyn AuthStore, ids: &Ids) {
    let c = check("link_provider is idempotent for one user and conflicts across users");
    let (owner, other) = (ids.user("link-owner"), ids.user("link-other"));
    c.ok(store.create_user(NewUser::new(&owner)).await, "create_user");
    c.ok(store.create_user(NewUser::new(&other)).await, "create_user");
    let subject = ids.subject("link");
    let first =
        ProviderLink::new(PROVIDER, &subject, &owner).with_claims(vec![Claim::new("v", "1")]);
    c.ok(store.link_provider(first).await, "link_provider");
    let again =
        ProviderLink::new(PROVIDER, &subject, &owner).with_claims(vec![Claim::new("v", "2")]);
    c.ok(
        store.link_provider(again.clone()).await,
        "link_provider of the same pair to the same user",
    );
    let links = c.ok(store.links_of(&owner).await, "links_of");
    c.equal(
        &links,
        &vec![again],
        "the owner's links after linking twice (claims replaced)",
    );

    let steal = ProviderLink::new(PROVIDER, &subject, &other);
    c.err(
        store.link_provider(steal).await,
        is_conflict,
        "Conflict",
        "link_provider to another user",
    );
    let holder = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(
        &holder.map(|u| u.user_id),
        &Some(owner),
        "the link's user after the conflict",
    );
    let links = c.ok(store.links_of(&other).await, "links_of");
    c.equal(
        &links,
        &Vec::new(),
        "the other user's links after the conflict",
    );
}
