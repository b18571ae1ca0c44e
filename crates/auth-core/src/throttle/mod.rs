//! Login throttling: at most N attempts per key per window.
//!
//! | piece | what it is |
//! |---|---|
//! | [`Throttle`] | the trait: record an attempt, forget a key, take one attempt back |
//! | [`ThrottleDecision`] | allowed (with the attempts left) or refused (with the time left) |
//! | [`ThrottleError`] | a throttle backend failed; callers refuse the attempt |
//! | `MemoryThrottle` | (feature `memory`) an in-process throttle in bounded memory |
//!
//! The local identity provider (`auth-local-idp`) throttles logins,
//! registrations and password changes through this trait, and the web layer
//! its `verify-token` route; `auth-throttle-redis` implements it in Redis
//! so every worker shares one count. The trait lives here, in the core, so
//! a throttle backend depends on nothing but `auth-core`.

use std::time::Duration;

use async_trait::async_trait;

use crate::BoxError;

#[cfg(feature = "memory")]
mod memory;

#[cfg(feature = "memory")]
pub use memory::MemoryThrottle;

/// What a throttle says about one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleDecision {
    /// Go ahead; `remaining` more attempts fit in this window.
    Allowed {
        /// Attempts left in the window after this one.
        remaining: u32,
    },
    /// Refused until the window ends.
    Refused {
        /// Time until the window ends.
        retry_after: Duration,
    },
}

/// A throttle backend failed (e.g. Redis is unreachable).
#[derive(Debug, thiserror::Error)]
#[error("throttle backend failed: {context}")]
pub struct ThrottleError {
    context: &'static str,
    #[source]
    source: BoxError,
}

impl ThrottleError {
    /// A failure while doing `context`.
    pub fn new(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self {
            context,
            source: source.into(),
        }
    }

    /// What the throttle was doing when it failed.
    pub fn context(&self) -> &'static str {
        self.context
    }
}

/// Counts attempts per key (a client address, a normalised email) in fixed
/// windows: the first attempt opens a window of the configured length, the
/// first N attempts in it are allowed, the rest refused until it ends.
///
/// The contract for implementations (an in-memory one ships here under the
/// `memory` feature; the `auth-throttle-redis` crate has a Redis one,
/// shared by every worker):
///
/// - `attempt` records one attempt and answers for it; keys are opaque
///   strings the caller builds (`email:...`, `addr:...`).
/// - `reset` forgets a key, so its next attempt opens a fresh window;
///   resetting an unknown key is a no-op.
/// - `forgive` takes back one recorded attempt of a key whose window is
///   still open (the count never goes below zero, the window keeps its
///   end); forgiving an unknown key is a no-op. The local identity provider
///   records an attempt before checking the password and forgives it when
///   the password was right, so the address throttle counts failures only
///   while concurrent attempts still count against the limit.
/// - A backend failure is a [`ThrottleError`]; the local identity provider
///   then refuses the attempt (fails closed).
#[async_trait]
pub trait Throttle: Send + Sync + 'static {
    /// Records one attempt for `key`.
    async fn attempt(&self, key: &str) -> Result<ThrottleDecision, ThrottleError>;

    /// Forgets `key` (after a successful login).
    async fn reset(&self, key: &str) -> Result<(), ThrottleError>;

    /// Takes back one attempt recorded for `key` (an attempt that turned
    /// out to succeed).
    async fn forgive(&self, key: &str) -> Result<(), ThrottleError>;
}
