//! Live events: what changed for a user, fanned out to their open tabs.

use std::pin::Pin;

use async_trait::async_trait;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use crate::error::ChannelError;
use crate::principal::{Claim, Principal};
use crate::session::SessionKey;

/// An event for every live connection of one user.
///
/// The seeds' channel semantics:
///
/// | event | a live connection should |
/// |---|---|
/// | [`AuthEvent::Update`] | replace its principal |
/// | [`AuthEvent::UpdateClaims`] | keep its principal, replace the claims |
/// | [`AuthEvent::Revoke`] | drop to anonymous and navigate (only the named session's connections, or all when `None`) |
/// | [`AuthEvent::Resync`] | refetch its state from the store; events may have been lost |
///
/// ```
/// use auth_core::{AuthEvent, Claim, Principal};
///
/// let current = Principal::authenticated("local:1", "Ada", vec![]);
/// let event = AuthEvent::update_claims(vec![Claim::new("role", "admin")]);
/// let next = event.apply(&current, None).expect("not a revoke");
/// assert!(next.has_claim("role", Some("admin")));
/// assert_eq!(next.display_name(), Some("Ada"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthEvent {
    /// Replace the principal.
    Update {
        /// The new principal.
        principal: Principal,
    },
    /// Overlay these claims on the current principal (they replace its
    /// claims; the rest of the principal stays).
    UpdateClaims {
        /// The new claims.
        claims: Vec<Claim>,
    },
    /// Drop to anonymous and navigate away.
    Revoke {
        /// The one session revoked; `None` revokes every session of the
        /// user.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<SessionKey>,
    },
    /// Events may have been lost (a transport reconnected, or a slow
    /// subscriber's queue was coalesced): refetch the state.
    Resync,
}

impl AuthEvent {
    /// An [`AuthEvent::Update`].
    pub fn update(principal: Principal) -> Self {
        Self::Update { principal }
    }

    /// An [`AuthEvent::UpdateClaims`].
    pub fn update_claims(claims: Vec<Claim>) -> Self {
        Self::UpdateClaims { claims }
    }

    /// An [`AuthEvent::Revoke`] of one session, or of all with `None`.
    pub fn revoke(session: Option<SessionKey>) -> Self {
        Self::Revoke { session }
    }

    /// Whether this event revokes the session `key` (a revoke of all
    /// sessions revokes every key).
    pub fn revokes(&self, key: Option<&SessionKey>) -> bool {
        match self {
            Self::Revoke { session: None } => true,
            Self::Revoke {
                session: Some(revoked),
            } => key == Some(revoked),
            _ => false,
        }
    }

    /// What a connection of session `key` holding `current` should hold
    /// after this event: `Some(new principal)`, or `None` when it is revoked
    /// (drop to anonymous and navigate). A revoke of another session and a
    /// resync leave `current` as it is.
    pub fn apply(&self, current: &Principal, key: Option<&SessionKey>) -> Option<Principal> {
        match self {
            Self::Update { principal } => Some(principal.clone()),
            Self::UpdateClaims { claims } => Some(current.clone().with_claims(claims.clone())),
            Self::Revoke { .. } if self.revokes(key) => None,
            Self::Revoke { .. } | Self::Resync => Some(current.clone()),
        }
    }
}

/// The events of one user, as a stream. Dropping it unsubscribes.
pub type EventStream = Pin<Box<dyn Stream<Item = AuthEvent> + Send + 'static>>;

/// Fans events out to every live connection of a user.
///
/// Best-effort by design: an event may be lost (a connection drops, a
/// transport restarts), so use it as a "refresh now" trigger; the store is
/// the authority. A slow subscriber may receive a coalesced event (the
/// latest state, or [`AuthEvent::Resync`]) instead of every event, so memory
/// per subscriber stays bounded.
#[async_trait]
pub trait AuthChannel: Send + Sync + 'static {
    /// Sends `event` to every current subscriber of `user_id`. Succeeds with
    /// no subscribers. A transport failure is [`ChannelError::Backend`].
    async fn publish(&self, user_id: &str, event: AuthEvent) -> Result<(), ChannelError>;

    /// Subscribes to `user_id`'s events from now on. The stream ends when
    /// the channel shuts down; dropping it unsubscribes.
    async fn subscribe(&self, user_id: &str) -> Result<EventStream, ChannelError>;

    /// Publishes [`AuthEvent::Update`].
    async fn update_principal(
        &self,
        user_id: &str,
        principal: Principal,
    ) -> Result<(), ChannelError> {
        self.publish(user_id, AuthEvent::update(principal)).await
    }

    /// Publishes [`AuthEvent::UpdateClaims`].
    async fn update_claims(&self, user_id: &str, claims: Vec<Claim>) -> Result<(), ChannelError> {
        self.publish(user_id, AuthEvent::update_claims(claims))
            .await
    }

    /// Publishes a revoke of every session of `user_id`.
    async fn revoke(&self, user_id: &str) -> Result<(), ChannelError> {
        self.publish(user_id, AuthEvent::revoke(None)).await
    }
}
