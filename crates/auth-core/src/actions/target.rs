//! Acting on any user for an [`Actor`]: claims, sessions, disabling and
//! enabling the account, each recorded in the audit log.

use crate::audit::{Actor, AuditAction, AuditEntry, MAX_AUDIT_DETAIL_LEN};
use crate::error::{AuthError, StoreError};
use crate::principal::Claim;
use crate::session::SessionKey;
use crate::user::{ClaimChange, DISABLED_CLAIM, UserRecord, validate_user_id};

use super::AuthActions;

impl AuthActions {
    /// Grants `user_id` the claim `kind=value` (replacing any claim of that
    /// type) for `actor`, through the three layers: the store row, the
    /// user's change stamp (every session of the user re-reads the user on
    /// its next request), then the user's live tabs at once. Returns the
    /// new record.
    ///
    /// [`AuthError::Store`] with [`StoreError::NotFound`] when the user
    /// does not exist; [`AuthError::Invalid`] for a malformed actor, user
    /// id or claim, or the reserved [`DISABLED_CLAIM`] (nothing is written
    /// then); [`AuthError::Audit`] when the change was made but its audit
    /// entry could not be recorded. Granting the same claim again writes it
    /// again, with another audit entry.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use auth_core::{Actor, AuditLog, AuthActions, AuthStore, NewUser, Page, SessionConfig, Sessions};
    /// # use auth_core::memory::{MemoryStore, MemorySessionBackend};
    /// # use auth_channel_memory::MemoryChannel;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Arc::new(MemoryStore::new());
    /// let sessions = Sessions::new(Arc::new(MemorySessionBackend::new()), store.clone(), SessionConfig::new())?;
    /// let actions = AuthActions::new(store.clone(), sessions, Arc::new(MemoryChannel::new()))
    ///     .with_audit(store.clone());
    /// store.create_user(NewUser::new("local:ada")).await?;
    ///
    /// let ada = actions.grant_to(&Actor::cli("ops"), "local:ada", "role", "admin").await?;
    /// assert_eq!(ada.claims[0].value, "admin");
    /// let log = store.entries(Some("local:ada"), Page::first(10)).await?;
    /// assert_eq!((log[0].actor.as_str(), log[0].detail.as_str()), ("cli:ops", "role=admin"));
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all)]
    pub async fn grant_to(
        &self,
        actor: &Actor,
        user_id: &str,
        kind: &str,
        value: &str,
    ) -> Result<UserRecord, AuthError> {
        let change = ClaimChange::Set(Claim::new(kind, value));
        self.claims_of(actor, user_id, change, AuditAction::Grant, || {
            format!("{kind}={value}")
        })
        .await
    }

    /// Drops every claim of type `kind` from `user_id` for `actor`; as
    /// [`AuthActions::grant_to`]. Revoking a claim the user lacks succeeds
    /// (and is recorded).
    #[tracing::instrument(skip_all)]
    pub async fn revoke_from(
        &self,
        actor: &Actor,
        user_id: &str,
        kind: &str,
    ) -> Result<UserRecord, AuthError> {
        let change = ClaimChange::Remove(kind.to_owned());
        self.claims_of(actor, user_id, change, AuditAction::Revoke, || {
            kind.to_owned()
        })
        .await
    }

    /// Replaces every claim of `user_id` for `actor`; as
    /// [`AuthActions::grant_to`]. Whether the account is disabled does not
    /// change ([`ClaimChange::Replace`] keeps the reserved claim).
    #[tracing::instrument(skip_all)]
    pub async fn replace_claims_of(
        &self,
        actor: &Actor,
        user_id: &str,
        claims: Vec<Claim>,
    ) -> Result<UserRecord, AuthError> {
        let detail = claims
            .iter()
            .map(|c| format!("{}={}", c.kind, c.value))
            .collect::<Vec<_>>()
            .join(", ");
        let change = ClaimChange::Replace(claims);
        self.claims_of(actor, user_id, change, AuditAction::ReplaceClaims, || {
            detail
        })
        .await
    }

    /// Signs the session `key` of `user_id` out for `actor`, with its live
    /// tabs; the user's other sessions stay. `Ok(false)` (recorded too) when
    /// there is no such session of that user: a key of another user's
    /// session is left alone.
    ///
    /// [`StoreError::NotFound`] when the user does not exist;
    /// [`AuthError::Invalid`] for a malformed actor or user id. The audit
    /// entry never holds the key.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out_session_of(
        &self,
        actor: &Actor,
        user_id: &str,
        key: &SessionKey,
    ) -> Result<bool, AuthError> {
        self.existing_target(actor, user_id).await?;
        let record = self.sessions.backend().load(key).await?;
        let ended = match record {
            Some(record) if record.user_id() == Some(user_id) => {
                self.end_session(user_id, key).await?
            }
            _ => false,
        };
        let detail = if ended {
            "one session"
        } else {
            "no such session"
        };
        self.audit(
            actor,
            AuditAction::SignOutSession,
            user_id,
            detail.to_owned(),
        )
        .await?;
        Ok(ended)
    }

    /// Signs `user_id` out everywhere for `actor`: every session, every
    /// live tab. How many sessions ended.
    ///
    /// [`StoreError::NotFound`] when the user does not exist;
    /// [`AuthError::Invalid`] for a malformed actor or user id.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out_everywhere_of(
        &self,
        actor: &Actor,
        user_id: &str,
    ) -> Result<usize, AuthError> {
        self.existing_target(actor, user_id).await?;
        let ended = self.end_sessions(user_id, false).await?;
        let detail = format!("{ended} sessions");
        self.audit(actor, AuditAction::SignOutEverywhere, user_id, detail)
            .await?;
        Ok(ended)
    }

    /// Disables `user_id`'s account for `actor`: the store marks it
    /// ([`DISABLED_CLAIM`]), the change stamp moves and every session is
    /// deleted, then every live tab is told to leave. A disabled account
    /// cannot sign in (the local identity provider answers as for a wrong
    /// password; [`Sessions::sign_in`](crate::Sessions::sign_in) refuses
    /// it), and a session that escaped the deletion ends on its next load.
    /// How many sessions ended. Disabling a disabled account again ends
    /// any session left and is recorded again.
    ///
    /// [`StoreError::NotFound`] when the user does not exist.
    #[tracing::instrument(skip_all)]
    pub async fn disable(&self, actor: &Actor, user_id: &str) -> Result<usize, AuthError> {
        target(actor, user_id)?;
        let mark = ClaimChange::Set(Claim::new(DISABLED_CLAIM, "true"));
        self.store.update_claims(user_id, mark).await?;
        let ended = self.end_sessions(user_id, true).await?;
        let detail = format!("{ended} sessions ended");
        self.audit(actor, AuditAction::Disable, user_id, detail)
            .await?;
        Ok(ended)
    }

    /// Enables `user_id`'s account again for `actor`: it can sign in from
    /// now on. Enabling an enabled account changes nothing but is recorded.
    /// Returns the record.
    ///
    /// [`StoreError::NotFound`] when the user does not exist.
    #[tracing::instrument(skip_all)]
    pub async fn enable(&self, actor: &Actor, user_id: &str) -> Result<UserRecord, AuthError> {
        target(actor, user_id)?;
        let unmark = ClaimChange::Remove(DISABLED_CLAIM.to_owned());
        let user = self.store.update_claims(user_id, unmark).await?;
        self.sessions.backend().bump_user_stamp(user_id).await?;
        self.audit(actor, AuditAction::Enable, user_id, String::new())
            .await?;
        Ok(user)
    }

    /// A claim change of a target user through the shared path, then its
    /// audit entry.
    async fn claims_of(
        &self,
        actor: &Actor,
        user_id: &str,
        change: ClaimChange,
        action: AuditAction,
        detail: impl FnOnce() -> String,
    ) -> Result<UserRecord, AuthError> {
        target(actor, user_id)?;
        let user = self.write_claims(user_id, None, None, change).await?;
        self.audit(actor, action, user_id, detail()).await?;
        Ok(user)
    }

    /// Checks the actor and the user id, and that the user exists.
    async fn existing_target(&self, actor: &Actor, user_id: &str) -> Result<(), AuthError> {
        target(actor, user_id)?;
        if self.store.get_user(user_id).await?.is_none() {
            return Err(StoreError::NotFound.into());
        }
        Ok(())
    }

    /// Logs the change through `tracing` and records it in the audit log.
    async fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        user_id: &str,
        detail: String,
    ) -> Result<(), AuthError> {
        let entry = AuditEntry::new(actor, action, user_id, bounded(detail));
        tracing::info!(
            actor = %entry.actor,
            source = %entry.source,
            action = %entry.action,
            target = %entry.target_user_id,
            detail = %entry.detail,
            "account changed"
        );
        let Some(log) = &self.audit else {
            return Ok(());
        };
        log.record(&entry).await.map_err(|error| {
            tracing::error!(%error, "the audit entry of a change was not recorded");
            AuthError::Audit(error)
        })
    }
}

/// Checks an actor and a target user id before any layer sees them.
fn target(actor: &Actor, user_id: &str) -> Result<(), AuthError> {
    actor.validate()?;
    validate_user_id(user_id)?;
    Ok(())
}

/// `detail` cut to [`MAX_AUDIT_DETAIL_LEN`] bytes on a character boundary,
/// with NUL characters replaced.
fn bounded(detail: String) -> String {
    let mut detail = if detail.contains('\0') {
        detail.replace('\0', "\u{fffd}")
    } else {
        detail
    };
    if detail.len() > MAX_AUDIT_DETAIL_LEN {
        let mut end = MAX_AUDIT_DETAIL_LEN - 3;
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        detail.truncate(end);
        detail.push_str("...");
    }
    detail
}
