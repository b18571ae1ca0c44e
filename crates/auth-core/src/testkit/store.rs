//! The [`AuthStore`] suite: records, links, conflicts, partial updates and
//! claim changes. Hostile input and concurrency are in `store_input`.

use crate::error::StoreError;
use crate::principal::Claim;
use crate::store::AuthStore;
use crate::user::{ClaimChange, Extras, NewUser, PasswordHash, ProviderLink, UserUpdate};

use super::{Check, Ids};

/// The provider name every link of the suite uses.
pub(super) const PROVIDER: &str = "testkit";

pub(super) fn check(name: &'static str) -> Check {
    Check {
        suite: "store",
        name,
    }
}

pub(super) fn hash(tag: &str) -> PasswordHash {
    PasswordHash::new(format!("$argon2id$v=19$m=19456,t=2,p=1$dGVzdGtpdA${tag}"))
}

pub(super) fn is_conflict(error: &StoreError) -> bool {
    matches!(error, StoreError::Conflict { .. })
}

pub(super) fn is_not_found(error: &StoreError) -> bool {
    matches!(error, StoreError::NotFound)
}

pub(super) fn is_invalid(error: &StoreError) -> bool {
    matches!(error, StoreError::Invalid(_))
}

/// Runs every check of the [`AuthStore`] contract against `store`.
///
/// Covers: create and get; find by provider; links of a user; a create that
/// conflicts on the user id or on a (provider, subject) writes nothing (no
/// orphan user, credentials or links); partial user updates; claim changes
/// (`Replace`, `Set`, `Remove`); `NotFound` for unknown users; password
/// hashes; deleting a user with its credentials and links; idempotent links
/// and link conflicts; unlinking a user's own pair only (another user's pair
/// is `false` and stays, a removed pair links to anyone, an unknown user is
/// `NotFound`); `Invalid` for malformed input, with nothing written; exact comparison of ids and subjects; unicode
/// and longest-valid values; extras JSON; 50 concurrent claim changes of
/// different types to one user; 20 concurrent creates with one link.
///
/// Every run writes users under fresh `testkit:<uuid>:...` ids, so it is safe
/// to run repeatedly and in parallel against one shared database.
///
/// # Panics
///
/// When the store breaks its contract; the message names the failed check
/// and, when a call failed, the store's error chain.
pub async fn store_conformance(store: &dyn AuthStore) {
    crate::__testkit_checks!(store, __testkit_run_all(store_checks, store));
}

pub(crate) async fn create_and_get(store: &dyn AuthStore, ids: &Ids) {
    let c = check("create then get round-trips the record");
    let id = ids.user("create");
    let subject = ids.subject("create");
    let mut extras = Extras::new();
    extras.insert("plan".to_owned(), serde_json::json!("pro"));
    let new = NewUser::new(&id)
        .with_email(&subject)
        .with_name("Ada Lovelace")
        .with_claims(vec![
            Claim::new("role", "admin"),
            Claim::new("tier", "beta"),
        ])
        .with_extras(extras)
        .with_password_hash(hash("create"))
        .with_link(PROVIDER, &subject);
    let created = c.ok(store.create_user(new.clone()).await, "create_user");
    c.equal(&created, &new.record, "the record create_user returns");
    let got = c.ok(store.get_user(&id).await, "get_user");
    c.equal(&got, &Some(new.record.clone()), "get_user of the new user");
    let hash_got = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(
        &hash_got,
        &Some(hash("create")),
        "the password hash written by create_user",
    );
    let unknown = c.ok(store.get_user(&ids.user("never-created")).await, "get_user");
    c.equal(&unknown, &None, "get_user of an unknown id");
}

pub(crate) async fn find_by_provider(store: &dyn AuthStore, ids: &Ids) {
    let c = check("find_by_provider finds linked users only");
    let id = ids.user("find");
    let subject = ids.subject("find");
    let new = NewUser::new(&id)
        .with_name("Finder")
        .with_link(PROVIDER, &subject);
    c.ok(store.create_user(new.clone()).await, "create_user");
    let found = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(&found, &Some(new.record), "find_by_provider of the link");
    let other_subject = ids.subject("find-unlinked");
    let none = c.ok(
        store.find_by_provider(PROVIDER, &other_subject).await,
        "find_by_provider",
    );
    c.equal(&none, &None, "find_by_provider of an unlinked subject");
    let other_provider = c.ok(
        store.find_by_provider("testkit-other", &subject).await,
        "find_by_provider",
    );
    c.equal(
        &other_provider,
        &None,
        "the same subject under another provider",
    );
}

pub(crate) async fn links_of(store: &dyn AuthStore, ids: &Ids) {
    let c = check("links_of lists every link of the user");
    let id = ids.user("links");
    let (first, second) = (ids.subject("links-1"), ids.subject("links-2"));
    let new = NewUser::new(&id)
        .with_link(PROVIDER, &first)
        .with_link("testkit-other", &second);
    c.ok(store.create_user(new).await, "create_user");
    let third = ids.subject("links-3");
    let linked =
        ProviderLink::new(PROVIDER, &third, &id).with_claims(vec![Claim::new("org", "acme")]);
    c.ok(store.link_provider(linked.clone()).await, "link_provider");
    let mut expected = vec![
        ProviderLink::new(PROVIDER, &first, &id),
        ProviderLink::new("testkit-other", &second, &id),
        linked,
    ];
    expected.sort_by(|a, b| (&a.provider, &a.subject).cmp(&(&b.provider, &b.subject)));
    let mut links = c.ok(store.links_of(&id).await, "links_of");
    links.sort_by(|a, b| (&a.provider, &a.subject).cmp(&(&b.provider, &b.subject)));
    c.equal(&links, &expected, "links_of the user (in any order)");
    let none = c.ok(store.links_of(&ids.user("links-unknown")).await, "links_of");
    c.equal(&none, &Vec::new(), "links_of an unknown user");
}

pub(crate) async fn update_user_partial(store: &dyn AuthStore, ids: &Ids) {
    let c = check("update_user changes only the fields it sets");
    let id = ids.user("update");
    let mut extras = Extras::new();
    extras.insert("theme".to_owned(), serde_json::json!("dark"));
    let new = NewUser::new(&id)
        .with_email("old@example.com")
        .with_name("Old Name")
        .with_claims(vec![Claim::new("role", "user")])
        .with_extras(extras);
    let mut expected = c.ok(store.create_user(new).await, "create_user");

    let updated = c.ok(
        store
            .update_user(&id, UserUpdate::new().name(Some("New Name".to_owned())))
            .await,
        "update_user(name)",
    );
    expected.name = Some("New Name".to_owned());
    c.equal(&updated, &expected, "the record after setting the name");

    let updated = c.ok(
        store.update_user(&id, UserUpdate::new().email(None)).await,
        "update_user(email)",
    );
    expected.email = None;
    c.equal(&updated, &expected, "the record after clearing the email");

    let mut new_extras = Extras::new();
    new_extras.insert("lang".to_owned(), serde_json::json!("fr"));
    let updated = c.ok(
        store
            .update_user(&id, UserUpdate::new().extras(new_extras.clone()))
            .await,
        "update_user(extras)",
    );
    expected.extras = new_extras;
    c.equal(&updated, &expected, "the record after replacing the extras");

    let updated = c.ok(
        store.update_user(&id, UserUpdate::new()).await,
        "update_user(nothing)",
    );
    c.equal(&updated, &expected, "the record after an empty update");
    let got = c.ok(store.get_user(&id).await, "get_user");
    c.equal(&got, &Some(expected), "get_user after the updates");
}

pub(crate) async fn update_claims_semantics(store: &dyn AuthStore, ids: &Ids) {
    let c = check("update_claims applies Replace, Set and Remove");
    let id = ids.user("claims");
    let new = NewUser::new(&id)
        .with_name("Claimant")
        .with_claims(vec![Claim::new("old", "1")]);
    c.ok(store.create_user(new).await, "create_user");

    let replaced = vec![
        Claim::new("a", "1"),
        Claim::new("b", "2"),
        Claim::new("a", "3"),
    ];
    let user = c.ok(
        store
            .update_claims(&id, ClaimChange::Replace(replaced.clone()))
            .await,
        "update_claims(Replace)",
    );
    c.equal(&user.claims, &replaced, "claims after Replace (in order)");
    c.equal(
        &user.name.as_deref(),
        &Some("Claimant"),
        "the name after a claim change",
    );

    let user = c.ok(
        store
            .update_claims(&id, ClaimChange::Remove("a".to_owned()))
            .await,
        "update_claims(Remove)",
    );
    c.equal(
        &user.claims,
        &vec![Claim::new("b", "2")],
        "claims after removing every `a`",
    );

    let user = c.ok(
        store
            .update_claims(&id, ClaimChange::Set(Claim::new("c", "4")))
            .await,
        "update_claims(Set)",
    );
    c.equal(
        &sorted(user.claims),
        &vec![Claim::new("b", "2"), Claim::new("c", "4")],
        "claims after setting a new type",
    );

    let user = c.ok(
        store
            .update_claims(&id, ClaimChange::Set(Claim::new("b", "5")))
            .await,
        "update_claims(Set)",
    );
    c.equal(
        &sorted(user.claims),
        &vec![Claim::new("b", "5"), Claim::new("c", "4")],
        "claims after setting an existing type",
    );

    let user = c.ok(
        store
            .update_claims(&id, ClaimChange::Remove("absent".to_owned()))
            .await,
        "update_claims(Remove)",
    );
    c.equal(
        &sorted(user.claims.clone()),
        &vec![Claim::new("b", "5"), Claim::new("c", "4")],
        "claims after removing an absent type",
    );
    let got = c.ok(store.get_user(&id).await, "get_user");
    c.equal(&got, &Some(user), "get_user after the claim changes");

    let user = c.ok(
        store
            .update_claims(&id, ClaimChange::Replace(Vec::new()))
            .await,
        "update_claims(Replace)",
    );
    c.equal(
        &user.claims,
        &Vec::new(),
        "claims after replacing with none",
    );
}

pub(super) fn sorted(mut claims: Vec<Claim>) -> Vec<Claim> {
    claims.sort_by(|a, b| (&a.kind, &a.value).cmp(&(&b.kind, &b.value)));
    claims
}

pub(crate) async fn not_found_for_unknown_user(store: &dyn AuthStore, ids: &Ids) {
    let c = check("unknown users are NotFound and nothing is written");
    let id = ids.user("unknown");
    let update = UserUpdate::new().name(Some("Ghost".to_owned()));
    c.err(
        store.update_user(&id, update).await,
        is_not_found,
        "NotFound",
        "update_user",
    );
    let change = ClaimChange::Set(Claim::new("role", "admin"));
    c.err(
        store.update_claims(&id, change).await,
        is_not_found,
        "NotFound",
        "update_claims",
    );
    let subject = ids.subject("unknown");
    let link = ProviderLink::new(PROVIDER, &subject, &id);
    c.err(
        store.link_provider(link).await,
        is_not_found,
        "NotFound",
        "link_provider",
    );
    c.err(
        store.set_password_hash(&id, hash("unknown")).await,
        is_not_found,
        "NotFound",
        "set_password_hash",
    );
    c.equal(
        &c.ok(store.get_user(&id).await, "get_user"),
        &None,
        "the unknown user afterwards",
    );
    let orphan = c.ok(
        store.find_by_provider(PROVIDER, &subject).await,
        "find_by_provider",
    );
    c.equal(&orphan, &None, "the link to the unknown user");
    let hash_got = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(&hash_got, &None, "the unknown user's credentials");
}

pub(crate) async fn password_hashes(store: &dyn AuthStore, ids: &Ids) {
    let c = check("password hashes are absent, set and replaced");
    let id = ids.user("password");
    c.ok(store.create_user(NewUser::new(&id)).await, "create_user");
    let none = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(&none, &None, "the hash of a user without a password");
    c.ok(
        store.set_password_hash(&id, hash("first")).await,
        "set_password_hash",
    );
    let first = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(&first, &Some(hash("first")), "the hash after setting it");
    c.ok(
        store.set_password_hash(&id, hash("second")).await,
        "set_password_hash",
    );
    let second = c.ok(store.password_hash(&id).await, "password_hash");
    c.equal(
        &second,
        &Some(hash("second")),
        "the hash after replacing it",
    );
}
