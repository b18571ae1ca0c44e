//! The crate's errors, and how they map into auth-core's.

use std::time::Duration;

use auth_core::{BoxError, IdpError, InvalidInput, StoreError};

use crate::token::TokenError;
use auth_core::throttle::ThrottleError;

/// What went wrong in a [`LocalIdP`](crate::LocalIdP) call.
///
/// The HTTP layer (`auth_http::ErrorCode`) turns these into the
/// `?error=<code>` of the form routes, or a 503 for [`LocalIdpError::Busy`];
/// the details stay in the logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalIdpError {
    /// Unknown email, wrong password, or no password set. One variant for
    /// all of them, so a caller cannot tell which.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many attempts for this email or client address.
    #[error("too many attempts")]
    Throttled {
        /// How long until the window that refused the attempt ends.
        retry_after: Duration,
    },
    /// Registration: an account with this email exists already.
    #[error("an account with this email exists")]
    EmailTaken,
    /// The user id names no user.
    #[error("unknown user")]
    UnknownUser,
    /// The input was refused (a malformed email, a password that breaks the
    /// rules, a bad claim). The message names the rule, never the input.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Issuing a token failed, or a token did not verify.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The throttle's backend failed; the attempt is refused (fail closed).
    #[error(transparent)]
    Throttle(#[from] ThrottleError),
    /// The hashing queue has no free place for this call (see
    /// [`Argon2Hasher`](crate::Argon2Hasher)); nothing was hashed or
    /// written. The HTTP layer answers 503 with `Retry-After`.
    #[error("the password hashing queue is full")]
    Busy {
        /// About when the queue will have room again (at least a second).
        retry_after: Duration,
    },
    /// Hashing or verifying a password failed (not a mismatch: the hashing
    /// threads are gone, or a stored hash is unusable).
    #[error("password hashing failed: {context}")]
    Hashing {
        /// What the hasher was doing.
        context: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl LocalIdpError {
    pub(crate) fn hashing(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Hashing {
            context,
            source: source.into(),
        }
    }
}

impl From<LocalIdpError> for IdpError {
    fn from(error: LocalIdpError) -> Self {
        match error {
            LocalIdpError::InvalidCredentials | LocalIdpError::UnknownUser => {
                IdpError::InvalidCredentials
            }
            // Both mean "not now, try later"; auth-core has one kind for it.
            LocalIdpError::Throttled { .. } | LocalIdpError::Busy { .. } => IdpError::Throttled,
            LocalIdpError::EmailTaken => IdpError::Store(StoreError::Conflict { what: "email" }),
            LocalIdpError::Invalid(invalid) => IdpError::Invalid(invalid),
            LocalIdpError::Store(store) => IdpError::Store(store),
            other @ (LocalIdpError::Token(_)
            | LocalIdpError::Throttle(_)
            | LocalIdpError::Hashing { .. }) => IdpError::Internal {
                context: "local identity provider",
                source: Box::new(other),
            },
        }
    }
}

/// A configuration the crate refuses: a short secret, an unreadable key,
/// Argon2 parameters out of range.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An HMAC secret shorter than [`MIN_SECRET_LEN`](crate::MIN_SECRET_LEN)
    /// bytes. Generate one with `openssl rand -hex 32`.
    #[error(
        "the JWT secret is {len} bytes; at least {min} are required (generate one with `openssl rand -hex 32`)"
    )]
    SecretTooShort {
        /// The length given.
        len: usize,
        /// The least accepted.
        min: usize,
    },
    /// A required environment variable is not set (or not UTF-8).
    #[error("environment variable {0} is not set")]
    MissingVar(&'static str),
    /// An environment variable holds a value that cannot be used.
    #[error("environment variable {name} is invalid: {reason}")]
    InvalidVar {
        /// The variable.
        name: &'static str,
        /// Why it was refused (never the value).
        reason: &'static str,
    },
    /// A key (PEM) could not be read.
    #[error("the signing key is unusable")]
    Key(#[source] BoxError),
    /// Argon2 parameters out of range.
    #[error("invalid Argon2 parameters")]
    Argon2(#[source] BoxError),
    /// A setting out of range (a zero ttl, a zero concurrency bound).
    #[error("invalid setting: {0}")]
    Invalid(&'static str),
    /// The operating system refused to start the hashing threads.
    #[error("the hashing threads could not be started")]
    Threads(#[source] std::io::Error),
}
