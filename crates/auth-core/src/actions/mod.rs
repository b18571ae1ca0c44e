//! The three-layer writer: store row, then session snapshot, then channel.
//!
//! This file holds the type, the shared layer paths and the self-service
//! methods (a principal changing itself); `target` the methods that act on
//! any user for an [`Actor`](crate::Actor), with their audit entries.

mod target;

use std::sync::Arc;

use tracing::warn;

use crate::audit::AuditLog;
use crate::channel::{AuthChannel, AuthEvent};
use crate::error::{AuthError, InvalidInput};
use crate::principal::{Claim, Principal};
use crate::session::{SessionKey, Sessions};
use crate::store::AuthStore;
use crate::user::{ClaimChange, UserRecord, validate_user_id};

/// Changes a user's claims and sessions in all three layers, in order.
///
/// | layer | lifetime | why it must be written |
/// |---|---|---|
/// | store row | permanent | otherwise the change is lost on the next sign-in |
/// | session snapshot (and the user's change stamp) | per login | otherwise the next request of any of the user's sessions reads a stale principal |
/// | channel event | per connection | otherwise open tabs only see it on reload |
///
/// Each method writes the store first (an error there writes nothing), then
/// the session layer, then publishes. The channel is best-effort: a publish
/// failure is logged and the call still succeeds, because the store and the
/// sessions already hold the change.
///
/// ```
/// # use std::sync::Arc;
/// # use auth_core::{AuthActions, AuthStore, NewUser, Principal, SessionConfig, Sessions};
/// # use auth_core::memory::{MemoryStore, MemorySessionBackend};
/// # use auth_channel_memory::MemoryChannel;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(MemoryStore::new());
/// let sessions = Sessions::new(Arc::new(MemorySessionBackend::new()), store.clone(), SessionConfig::new())?;
/// let actions = AuthActions::new(store.clone(), sessions.clone(), Arc::new(MemoryChannel::new()));
///
/// let user = store.create_user(NewUser::new("local:1").with_name("Ada")).await?;
/// let (_token, session) = sessions.sign_in(None, Principal::for_user(&user)).await?;
///
/// let admin = actions.grant(session.principal(), Some(&session.key), "role", "admin").await?;
/// assert!(admin.has_claim("role", Some("admin")));
/// let reloaded = sessions.load(&session.key).await?.expect("still signed in");
/// assert!(reloaded.principal().has_claim("role", Some("admin")));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuthActions {
    store: Arc<dyn AuthStore>,
    sessions: Sessions,
    channel: Arc<dyn AuthChannel>,
    audit: Option<Arc<dyn AuditLog>>,
}

impl std::fmt::Debug for AuthActions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthActions")
            .field("audit", &self.audit.is_some())
            .finish_non_exhaustive()
    }
}

impl AuthActions {
    /// A writer over the three layers.
    pub fn new(
        store: Arc<dyn AuthStore>,
        sessions: Sessions,
        channel: Arc<dyn AuthChannel>,
    ) -> Self {
        Self {
            store,
            sessions,
            channel,
            audit: None,
        }
    }

    /// Records every change made for an [`Actor`](crate::Actor) (the
    /// target-user methods) in `log`, besides the `tracing` event each
    /// emits. Without it they are only logged through `tracing`.
    #[must_use]
    pub fn with_audit(mut self, log: Arc<dyn AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// The audit log, when one is set ([`AuthActions::with_audit`]).
    pub fn audit_log(&self) -> Option<&Arc<dyn AuditLog>> {
        self.audit.as_ref()
    }

    /// The store layer.
    pub fn store(&self) -> &Arc<dyn AuthStore> {
        &self.store
    }

    /// The session layer.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The channel layer.
    pub fn channel(&self) -> &Arc<dyn AuthChannel> {
        &self.channel
    }

    /// Replaces the user's claims. `session` is the session of the request,
    /// whose snapshot is rewritten at once; the user's other sessions pick
    /// the change up on their next load. Returns the new principal.
    pub async fn update_claims(
        &self,
        principal: &Principal,
        session: Option<&SessionKey>,
        claims: Vec<Claim>,
    ) -> Result<Principal, AuthError> {
        self.change_claims(principal, session, ClaimChange::Replace(claims))
            .await
    }

    /// Adds one claim, replacing any claim of the same type.
    pub async fn grant(
        &self,
        principal: &Principal,
        session: Option<&SessionKey>,
        kind: &str,
        value: &str,
    ) -> Result<Principal, AuthError> {
        self.change_claims(
            principal,
            session,
            ClaimChange::Set(Claim::new(kind, value)),
        )
        .await
    }

    /// Drops every claim of type `kind`.
    pub async fn revoke_claim(
        &self,
        principal: &Principal,
        session: Option<&SessionKey>,
        kind: &str,
    ) -> Result<Principal, AuthError> {
        self.change_claims(principal, session, ClaimChange::Remove(kind.to_owned()))
            .await
    }

    /// Applies any [`ClaimChange`] through the three layers.
    ///
    /// [`AuthError::Invalid`] for a change of a reserved claim type
    /// ([`DISABLED_CLAIM`](crate::DISABLED_CLAIM)): only
    /// [`AuthActions::disable`] and [`AuthActions::enable`] write it.
    #[tracing::instrument(skip_all)]
    pub async fn change_claims(
        &self,
        principal: &Principal,
        session: Option<&SessionKey>,
        change: ClaimChange,
    ) -> Result<Principal, AuthError> {
        let user_id = user_id_of(principal)?;
        let user = self
            .write_claims(user_id, Some(principal), session, change)
            .await?;
        Ok(principal.clone().with_claims(user.claims))
    }

    /// The claim path every claim method shares: the store row, then the
    /// user's change stamp (and `session`'s snapshot of `principal`, when
    /// given), then the channel. With a principal, its tabs get it whole
    /// with the new claims; without one (a change made for an actor), the
    /// user's tabs overlay the new claims on what they hold.
    async fn write_claims(
        &self,
        user_id: &str,
        principal: Option<&Principal>,
        session: Option<&SessionKey>,
        change: ClaimChange,
    ) -> Result<UserRecord, AuthError> {
        change.validate()?;
        if change.touches_reserved() {
            return Err(InvalidInput::new("the claim type is reserved").into());
        }
        let backend = self.sessions.backend();

        // Read before the store write, so that a snapshot stamped with it is
        // refreshed on its next load if any change raced this one.
        let before = backend.user_stamp(user_id).await?;
        let user = self.store.update_claims(user_id, change).await?;

        let bumped = backend.bump_user_stamp(user_id).await?;
        // Stamps strictly increase, so `before + 1` means no other change
        // bumped in between: one that wrote the store after us bumps later
        // and makes this snapshot stale. Otherwise a racing change may have
        // written the store after us and bumped first; our snapshot may miss
        // it, so it keeps the older stamp and is refreshed on its next load.
        let stamp = if bumped == before.saturating_add(1) {
            bumped
        } else {
            before
        };
        let event = match principal {
            Some(principal) => {
                let updated = principal.clone().with_claims(user.claims.clone());
                if let Some(key) = session {
                    self.sessions
                        .replace_principal(key, updated.clone(), stamp)
                        .await?;
                }
                AuthEvent::update(updated)
            }
            None => AuthEvent::update_claims(user.claims.clone()),
        };
        self.publish(user_id, event).await;
        Ok(user)
    }

    /// Ends every session of the user and tells its live tabs to leave;
    /// with `bump`, the change stamp moves first, so a session signed in
    /// while this runs re-reads the user on its next load. How many ended.
    async fn end_sessions(&self, user_id: &str, bump: bool) -> Result<usize, AuthError> {
        let backend = self.sessions.backend();
        if bump {
            backend.bump_user_stamp(user_id).await?;
        }
        let removed = backend.delete_sessions_of(user_id).await?;
        self.publish(user_id, AuthEvent::revoke(None)).await;
        Ok(removed)
    }

    /// Signs out one session (the one of the request) and its live tabs.
    /// The user's other sessions stay signed in. Repeat calls are harmless.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_session(
        &self,
        principal: &Principal,
        session: &SessionKey,
    ) -> Result<(), AuthError> {
        let user_id = user_id_of(principal)?;
        self.end_session(user_id, session).await?;
        Ok(())
    }

    /// Signs the user out everywhere: every session and every live tab.
    /// Returns how many sessions there were.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_all_sessions(&self, principal: &Principal) -> Result<usize, AuthError> {
        let user_id = user_id_of(principal)?;
        self.end_sessions(user_id, false).await
    }

    /// Signs the user out of every session but `keep` (the request's own,
    /// after a password change): each is deleted and its live tabs are
    /// told to leave. Returns how many ended. A session signed in while
    /// this runs may escape it; a password change makes that sign-in need
    /// the new password anyway.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_other_sessions(
        &self,
        principal: &Principal,
        keep: &SessionKey,
    ) -> Result<usize, AuthError> {
        let user_id = user_id_of(principal)?;
        let backend = self.sessions.backend();
        let mut ended = 0;
        for (key, _) in backend.sessions_of(user_id).await? {
            if key == *keep {
                continue;
            }
            if backend.delete(&key).await? {
                ended += 1;
            }
            self.publish(user_id, AuthEvent::revoke(Some(key))).await;
        }
        Ok(ended)
    }

    /// Deletes the user for good, through the three layers: the store
    /// first (user, claims, credentials and links in one step), then the
    /// user's change stamp moves and every session is deleted, then every
    /// live tab is told to leave. A session that escaped the deletion (a
    /// sign-in racing this call) still ends on its next load: the moved
    /// stamp makes it re-read a user that is gone.
    ///
    /// [`AuthError::Store`] with [`StoreError::NotFound`](crate::StoreError::NotFound)
    /// when the user does not exist (nothing else is touched then).
    #[tracing::instrument(skip_all)]
    pub async fn delete_user(&self, principal: &Principal) -> Result<usize, AuthError> {
        let user_id = user_id_of(principal)?;
        self.store.delete_user(user_id).await?;
        let removed = self.end_sessions(user_id, true).await?;
        tracing::info!(%user_id, sessions = removed, "user deleted");
        Ok(removed)
    }

    /// Signs one session out and tells its live tabs; whether it was there.
    async fn end_session(&self, user_id: &str, key: &SessionKey) -> Result<bool, AuthError> {
        let ended = self.sessions.sign_out(key).await?;
        self.publish(user_id, AuthEvent::revoke(Some(key.clone())))
            .await;
        Ok(ended)
    }

    async fn publish(&self, user_id: &str, event: AuthEvent) {
        if let Err(error) = self.channel.publish(user_id, event).await {
            warn!(%error, "live auth event not delivered; sessions and store hold the change");
        }
    }
}

/// The principal's user id: [`AuthError::Anonymous`] without one,
/// [`AuthError::Invalid`] when it is malformed (so no layer sees it).
fn user_id_of(principal: &Principal) -> Result<&str, AuthError> {
    let user_id = principal.user_id().ok_or(AuthError::Anonymous)?;
    validate_user_id(user_id)?;
    Ok(user_id)
}
