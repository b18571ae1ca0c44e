//! The errors of this crate, and how they map into the throttle's.

use auth_core::throttle::ThrottleError;
use auth_redis::RedisSettingsError;

/// What went wrong in the Redis throttle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisThrottleError {
    /// The settings were refused before connecting.
    #[error("invalid Redis settings for the throttle")]
    Settings(#[from] RedisSettingsError),
    /// Connecting at start-up failed.
    #[error("connecting to Redis failed")]
    Connect(#[source] fred::error::Error),
    /// A command failed: Redis is unreachable, did not answer in time, or
    /// refused it.
    #[error("Redis failed while {0}")]
    Command(&'static str, #[source] fred::error::Error),
    /// Redis answered something the script never returns.
    #[error("Redis answered an unexpected reply while {0}")]
    Reply(&'static str),
}

impl From<RedisThrottleError> for ThrottleError {
    fn from(error: RedisThrottleError) -> Self {
        let context = match &error {
            RedisThrottleError::Settings(_) => "configuring the Redis throttle",
            RedisThrottleError::Connect(_) => "connecting to Redis",
            RedisThrottleError::Command(context, _) | RedisThrottleError::Reply(context) => context,
        };
        ThrottleError::new(context, error)
    }
}
