//! Typed errors of the core traits and the writer.
//!
//! Each backend keeps its own error enum and maps it into these, keeping the
//! original as the `source`, so a log shows the whole chain.

use std::borrow::Cow;
use std::error::Error as StdError;

/// A boxed error from a backend, kept as the `source` of a core error.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Input that a store, backend or the writer refuses: an empty claim type, an
/// over-long value, a malformed id. The message names the rule, never the
/// input (it may be hostile or secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {reason}")]
pub struct InvalidInput {
    reason: Cow<'static, str>,
}

impl InvalidInput {
    /// An error saying which rule the input broke.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The rule the input broke.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// What went wrong in an [`AuthStore`](crate::AuthStore).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The user (or its credentials) does not exist.
    #[error("user not found")]
    NotFound,
    /// A unique key is taken: the user id, or the (provider, subject) link.
    #[error("conflict: {what} already exists")]
    Conflict {
        /// Which key was taken, e.g. `provider link`.
        what: &'static str,
    },
    /// The input was refused before reaching the backend.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// Stored data could not be read back (e.g. a malformed JSON column).
    #[error("stored data is corrupt: {context}")]
    Corrupt {
        /// What was being read.
        context: &'static str,
        /// The decoding error.
        #[source]
        source: BoxError,
    },
    /// The backend failed (connection lost, timeout, driver error).
    #[error("store backend failed: {context}")]
    Backend {
        /// What the store was doing.
        context: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// A backend failure while doing `context`.
    pub fn backend(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            context,
            source: source.into(),
        }
    }

    /// Corrupt stored data met while reading `context`.
    pub fn corrupt(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Corrupt {
            context,
            source: source.into(),
        }
    }
}

/// What went wrong in a [`SessionBackend`](crate::SessionBackend).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The input was refused before reaching the backend.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// A stored session could not be decoded.
    #[error("stored session is corrupt")]
    Corrupt(#[source] BoxError),
    /// The backend failed.
    #[error("session backend failed: {context}")]
    Backend {
        /// What the backend was doing.
        context: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// Refreshing a stale session from the store failed.
    #[error("refreshing the session from the store failed")]
    Store(#[from] StoreError),
    /// The account is disabled, so it cannot sign in.
    #[error("the account is disabled")]
    AccountDisabled,
}

impl SessionError {
    /// A backend failure while doing `context`.
    pub fn backend(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            context,
            source: source.into(),
        }
    }
}

/// What went wrong in an [`AuthChannel`](crate::AuthChannel).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The channel was shut down.
    #[error("channel is closed")]
    Closed,
    /// An event could not be encoded or decoded.
    #[error("event encoding failed")]
    Encoding(#[source] BoxError),
    /// The transport failed (e.g. Redis is unreachable).
    #[error("channel backend failed: {context}")]
    Backend {
        /// What the channel was doing.
        context: &'static str,
        /// The transport's error.
        #[source]
        source: BoxError,
    },
}

impl ChannelError {
    /// A transport failure while doing `context`.
    pub fn backend(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            context,
            source: source.into(),
        }
    }
}

/// What went wrong in an [`IdentityProvider`](crate::IdentityProvider).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdpError {
    /// Wrong password, unknown account, or a proof that does not verify. One
    /// variant for all of them, so callers cannot leak which.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts; try again later.
    #[error("too many attempts")]
    Throttled,
    /// The proof kind is not one this provider accepts.
    #[error("unsupported proof")]
    UnsupportedProof,
    /// The input was refused (e.g. a password that breaks the rules).
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The store failed (or, on registration, the account exists).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else in the provider failed (hashing pool, key material).
    #[error("identity provider failed: {context}")]
    Internal {
        /// What the provider was doing.
        context: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

/// A policy name defined twice ([`Policies::try_with`](crate::Policies::try_with)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the policy `{name}` is defined twice")]
pub struct DuplicatePolicy {
    /// The name defined twice.
    pub name: String,
}

/// An unknown policy name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown policy `{name}`")]
pub struct PolicyError {
    /// The name that was asked for.
    pub name: String,
}

/// What went wrong in the three-layer writer ([`AuthActions`](crate::AuthActions)).
///
/// A channel failure is not an error of the writer: the channel is
/// best-effort, so it is logged and the call succeeds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The principal is anonymous, so there is no user to change.
    #[error("the principal is anonymous")]
    Anonymous,
    /// The input was refused; nothing was written.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The store failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session layer failed. When it failed after the store was
    /// written, the store row stands and the user's sessions pick it up once
    /// the backend is back.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The change was made in every layer, but its audit entry could not
    /// be written (the change is logged through `tracing` all the same).
    #[error("the change was made but its audit entry was not recorded")]
    Audit(#[source] StoreError),
}
