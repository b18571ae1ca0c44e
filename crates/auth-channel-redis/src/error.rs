//! The errors of this crate, and how they map into the core's.

use auth_core::ChannelError;
use auth_redis::RedisSettingsError;

/// What went wrong in the Redis channel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisChannelError {
    /// The shared Redis settings were refused before connecting.
    #[error("invalid Redis settings for the channel")]
    Settings(#[from] RedisSettingsError),
    /// A setting of the channel's own was refused before connecting.
    #[error("invalid Redis channel configuration: {0}")]
    Config(&'static str),
    /// Connecting (or subscribing) at start-up failed.
    #[error("connecting to Redis failed")]
    Connect(#[source] fred::error::Error),
    /// Publishing failed: Redis is unreachable, or did not answer in time.
    #[error("publishing to Redis failed")]
    Publish(#[source] fred::error::Error),
    /// An event could not be encoded.
    #[error("encoding the event failed")]
    Encode(#[source] serde_json::Error),
}

impl From<RedisChannelError> for ChannelError {
    fn from(error: RedisChannelError) -> Self {
        match error {
            RedisChannelError::Encode(_) => ChannelError::Encoding(Box::new(error)),
            RedisChannelError::Config(_) | RedisChannelError::Settings(_) => {
                ChannelError::backend("configuring the Redis channel", error)
            }
            RedisChannelError::Connect(_) => ChannelError::backend("connecting to Redis", error),
            RedisChannelError::Publish(_) => ChannelError::backend("publishing to Redis", error),
        }
    }
}
