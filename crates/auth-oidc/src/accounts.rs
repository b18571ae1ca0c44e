//! The account rules: who a provider identity signs in as, how links are
//! added and removed. A link never moves from one user to another, an
//! existing account is joined by email only when the provider vouches for
//! the address and the app trusts it to, and the last way to sign in is
//! never removed.

use std::sync::LazyLock;

use auth_core::{AuthStore, NewUser, ProviderLink, StoreError, UserRecord};
use tokio::sync::Mutex;

use crate::claims::Identity;
use crate::error::AccountError;

/// The local provider's name: its links are (`local`, email).
const LOCAL: &str = "local";

/// Unlinks of one user run one at a time (users hash onto these), so two
/// concurrent unlinks cannot both see "another way is left".
static UNLINK_LOCKS: LazyLock<Vec<Mutex<()>>> =
    LazyLock::new(|| (0..64).map(|_| Mutex::new(())).collect());

fn unlink_lock(user_id: &str) -> &'static Mutex<()> {
    let hash = user_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let index = usize::try_from(hash % 64).unwrap_or(0);
    &UNLINK_LOCKS[index]
}

fn link_of(identity: &Identity, user_id: &str) -> ProviderLink {
    ProviderLink::new(&identity.provider, &identity.subject, user_id)
        .with_claims(identity.claims.clone())
}

/// The user `identity` signs in as, and its link.
pub(crate) async fn sign_in(
    store: &dyn AuthStore,
    identity: &Identity,
    link_verified_email: bool,
) -> Result<(UserRecord, ProviderLink), AccountError> {
    // A racing first sign-in of the same identity loses the create and
    // finds the winner's link on the second pass.
    for _ in 0..2 {
        if let Some(user) = store
            .find_by_provider(&identity.provider, &identity.subject)
            .await?
        {
            if user.is_disabled() {
                return Err(AccountError::Disabled);
            }
            let link = link_of(identity, &user.user_id);
            store.link_provider(link.clone()).await?;
            return Ok((user, link));
        }
        if let Some(email) = &identity.email
            && let Some(existing) = store.find_by_provider(LOCAL, email).await?
        {
            if !(link_verified_email && identity.email_verified) {
                return Err(AccountError::EmailInUse);
            }
            if existing.is_disabled() {
                return Err(AccountError::Disabled);
            }
            let link = link_of(identity, &existing.user_id);
            return match store.link_provider(link.clone()).await {
                Ok(()) => Ok((existing, link)),
                Err(StoreError::Conflict { .. }) => continue,
                Err(other) => Err(other.into()),
            };
        }
        let user_id = format!("{}:{}", identity.provider, uuid::Uuid::new_v4());
        let mut user = NewUser::new(&user_id).with_claims(identity.claims.clone());
        if identity.email_verified
            && let Some(email) = &identity.email
        {
            user = user.with_email(email);
        }
        if let Some(name) = &identity.name {
            user = user.with_name(name);
        }
        let link = link_of(identity, &user_id);
        user.links.push(link.clone());
        match store.create_user(user).await {
            Ok(created) => {
                tracing::info!(provider = %identity.provider, user_id = %created.user_id, "user created by a provider sign-in");
                return Ok((created, link));
            }
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Err(AccountError::LinkedElsewhere)
}

/// Links `identity` to `user_id`; linking it again refreshes its claims.
pub(crate) async fn link(
    store: &dyn AuthStore,
    user_id: &str,
    identity: &Identity,
) -> Result<ProviderLink, AccountError> {
    if let Some(owner) = store
        .find_by_provider(&identity.provider, &identity.subject)
        .await?
        && owner.user_id != user_id
    {
        return Err(AccountError::LinkedElsewhere);
    }
    let link = link_of(identity, user_id);
    match store.link_provider(link.clone()).await {
        Ok(()) => Ok(link),
        Err(StoreError::Conflict { .. }) => Err(AccountError::LinkedElsewhere),
        Err(other) => Err(other.into()),
    }
}

/// Removes `user_id`'s link(s) with `provider` when another way to sign in
/// remains: another provider link, or a local link with a password.
pub(crate) async fn unlink(
    store: &dyn AuthStore,
    user_id: &str,
    provider: &str,
) -> Result<(), AccountError> {
    let _one_at_a_time = unlink_lock(user_id).lock().await;
    let links = store.links_of(user_id).await?;
    let (removed, kept): (Vec<_>, Vec<_>) = links
        .into_iter()
        .partition(|link| link.provider == provider);
    if removed.is_empty() {
        return Err(AccountError::NotLinked);
    }
    let has_password = store.password_hash(user_id).await?.is_some();
    let ways_left = kept
        .iter()
        .filter(|link| link.provider != LOCAL || has_password)
        .count();
    if ways_left == 0 {
        return Err(AccountError::LastSignIn);
    }
    for link in removed {
        store
            .unlink_provider(user_id, &link.provider, &link.subject)
            .await?;
    }
    Ok(())
}
