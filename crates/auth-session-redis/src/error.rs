//! The errors of this crate, and how they map into the core's.

use auth_core::SessionError;
use auth_redis::RedisSettingsError;

/// What went wrong in the Redis session backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisSessionError {
    /// The settings were refused before connecting.
    #[error("invalid Redis settings for the session backend")]
    Settings(#[from] RedisSettingsError),
    /// Connecting at start-up failed.
    #[error("connecting to Redis failed")]
    Connect(#[source] fred::error::Error),
    /// A command failed: Redis is unreachable, did not answer in time, or
    /// refused it.
    #[error("Redis failed while {0}")]
    Command(&'static str, #[source] fred::error::Error),
    /// A record could not be encoded.
    #[error("encoding a session failed")]
    Encode(#[source] serde_json::Error),
}

impl From<RedisSessionError> for SessionError {
    fn from(error: RedisSessionError) -> Self {
        let context = match &error {
            RedisSessionError::Settings(_) => "configuring the Redis session backend",
            RedisSessionError::Connect(_) => "connecting to Redis",
            RedisSessionError::Command(context, _) => context,
            RedisSessionError::Encode(_) => "encoding a session",
        };
        SessionError::backend(context, error)
    }
}
