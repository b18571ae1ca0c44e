//! The builder of a [`RedisAuthChannel`](crate::RedisAuthChannel): the
//! shared Redis settings, plus what only the channel has (its publish
//! timeout, its message buffer, and whose pool it publishes through).

use std::fmt;
use std::time::Duration;

use auth_redis::RedisSettings;
use fred::clients::Pool;

use crate::channel::RedisAuthChannel;
use crate::error::RedisChannelError;

/// The default number of received messages that may wait for the local
/// fan-out.
pub const DEFAULT_MESSAGE_BUFFER: usize = 4096;

/// Configures and connects a [`RedisAuthChannel`], for the settings that
/// only the channel has. [`RedisAuthChannel::connect`] and
/// [`RedisAuthChannel::from_pool`] are this builder with its defaults.
///
/// ```no_run
/// # async fn run() -> Result<(), auth_channel_redis::RedisChannelError> {
/// use std::time::Duration;
/// use auth_channel_redis::{RedisAuthChannel, RedisSettings};
///
/// let settings = RedisSettings::new("redis://127.0.0.1:6379").with_prefix("shop-prod");
/// let channel = RedisAuthChannel::builder(&settings)
///     .with_publish_timeout(Duration::from_secs(1))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisChannelBuilder {
    pub(crate) settings: RedisSettings,
    pub(crate) publisher: Option<Pool>,
    pub(crate) publish_timeout: Option<Duration>,
    pub(crate) buffer: usize,
}

impl RedisChannelBuilder {
    /// A builder over `settings`: the URL, the prefix (events of user `u`
    /// go to the Redis channel `<prefix>:user:<u>`, so processes that
    /// should hear each other use the same one), the timeouts, keepalive,
    /// reconnect backoff and the publisher pool's size.
    pub fn new(settings: &RedisSettings) -> Self {
        Self {
            settings: settings.clone(),
            publisher: None,
            publish_timeout: None,
            buffer: DEFAULT_MESSAGE_BUFFER,
        }
    }

    /// Publishes through `pool`, one the app already connected (usually
    /// with [`RedisSettings::connect_pool`], shared with the sessions and
    /// throttles), instead of a pool of the channel's own. The channel
    /// leaves that pool's connections unnamed and open when it is dropped.
    /// The subscriber connection is the channel's own either way.
    pub fn with_publisher_pool(mut self, pool: Pool) -> Self {
        self.publisher = Some(pool);
        self
    }

    /// How long a publish waits for Redis before it fails (default: the
    /// settings' command timeout, 2 s unless set). While Redis is
    /// unreachable every publish takes this long, then returns an error.
    pub fn with_publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = Some(timeout);
        self
    }

    /// How many received messages may wait for the local fan-out (default
    /// [`DEFAULT_MESSAGE_BUFFER`]). When the fan-out falls further behind,
    /// the overflow is dropped and every local subscriber gets a resync
    /// instead.
    pub fn with_message_buffer(mut self, messages: usize) -> Self {
        self.buffer = messages;
        self
    }

    /// Checks the settings, connects the subscriber connection (and the
    /// publisher pool, unless one was given) and subscribes to the prefix's
    /// pattern. Fails when Redis is unreachable now; later outages are
    /// retried in the background.
    pub async fn connect(self) -> Result<RedisAuthChannel, RedisChannelError> {
        self.validate()?;
        RedisAuthChannel::start(self).await
    }

    pub(crate) fn validate(&self) -> Result<(), RedisChannelError> {
        self.settings.validate()?;
        if self
            .publish_timeout
            .is_some_and(|timeout| timeout.is_zero())
        {
            return Err(RedisChannelError::Config(
                "the publish timeout must be above zero",
            ));
        }
        if self.buffer == 0 {
            return Err(RedisChannelError::Config(
                "the message buffer must hold at least one message",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for RedisChannelBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisChannelBuilder")
            .field("settings", &self.settings)
            .field("shared_publisher", &self.publisher.is_some())
            .field("publish_timeout", &self.publish_timeout)
            .field("buffer", &self.buffer)
            .finish()
    }
}

/// The Redis names derived from a prefix.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    /// `<prefix>:user:`, followed by the user id.
    pub(crate) channel_prefix: String,
    /// The pattern matching every user's channel, glob characters of the
    /// prefix escaped.
    pub(crate) pattern: String,
    /// The `CLIENT SETNAME` of the subscriber connection.
    pub(crate) subscriber_name: String,
    /// The `CLIENT SETNAME` of the publisher connection.
    pub(crate) publisher_name: String,
}

impl Names {
    pub(crate) fn new(prefix: &str) -> Self {
        let mut pattern = String::with_capacity(prefix.len() + 8);
        for c in prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str(":user:*");
        Self {
            channel_prefix: format!("{prefix}:user:"),
            pattern,
            subscriber_name: format!("{prefix}:subscriber"),
            publisher_name: format!("{prefix}:publisher"),
        }
    }

    /// The channel of `user_id`.
    pub(crate) fn channel(&self, user_id: &str) -> String {
        format!("{}{user_id}", self.channel_prefix)
    }

    /// The user id of a channel, when it is one of ours.
    pub(crate) fn user_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(&self.channel_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_escape_glob_characters() {
        let names = Names::new("a*b?[c]\\d");
        assert_eq!(names.pattern, "a\\*b\\?\\[c\\]\\\\d:user:*");
        assert_eq!(names.channel("local:1"), "a*b?[c]\\d:user:local:1");
        assert_eq!(names.user_of("a*b?[c]\\d:user:local:1"), Some("local:1"));
        assert_eq!(names.user_of("other:user:local:1"), None);
    }

    #[test]
    fn bad_settings_are_refused() {
        let settings = RedisSettings::new("redis://h");
        for prefix in ["", "has space", "tab\t", "é", &"x".repeat(101)] {
            let builder = RedisChannelBuilder::new(&settings.clone().with_prefix(prefix));
            assert!(
                matches!(builder.validate(), Err(RedisChannelError::Settings(_))),
                "{prefix:?}"
            );
        }
        let zero = RedisChannelBuilder::new(&settings).with_publish_timeout(Duration::ZERO);
        assert!(matches!(zero.validate(), Err(RedisChannelError::Config(_))));
        let backwards = settings
            .clone()
            .with_reconnect_backoff(Duration::from_secs(2), Duration::from_secs(1));
        assert!(matches!(
            RedisChannelBuilder::new(&backwards).validate(),
            Err(RedisChannelError::Settings(_))
        ));
        assert!(
            RedisChannelBuilder::new(&settings)
                .with_message_buffer(0)
                .validate()
                .is_err()
        );
        assert!(RedisChannelBuilder::new(&settings).validate().is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let settings = RedisSettings::new("redis://app:hunter2@cache:6379/0");
        let builder = RedisChannelBuilder::new(&settings);
        let debug = format!("{builder:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redis://app:***@cache:6379/0"), "{debug}");
    }
}
