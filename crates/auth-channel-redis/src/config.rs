//! The builder of a [`RedisAuthChannel`](crate::RedisAuthChannel).

use std::fmt;
use std::time::Duration;

use crate::channel::RedisAuthChannel;
use crate::error::RedisChannelError;

/// The channel-name prefix when none is set.
pub const DEFAULT_PREFIX: &str = "live-auth";

/// The longest prefix accepted, in bytes.
pub const MAX_PREFIX_LEN: usize = 100;

/// Configures and connects a [`RedisAuthChannel`].
///
/// ```no_run
/// # async fn run() -> Result<(), auth_channel_redis::RedisChannelError> {
/// use std::time::Duration;
/// use auth_channel_redis::RedisAuthChannel;
///
/// let channel = RedisAuthChannel::builder("redis://127.0.0.1:6379")
///     .with_prefix("shop-prod")
///     .with_publish_timeout(Duration::from_secs(1))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisChannelBuilder {
    pub(crate) url: String,
    pub(crate) prefix: String,
    pub(crate) publish_timeout: Duration,
    pub(crate) reconnect_min: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) buffer: usize,
}

impl RedisChannelBuilder {
    /// A builder for the Redis server at `url` (`redis://host:port/db`, with
    /// an optional `user:password@`).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            publish_timeout: Duration::from_secs(2),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            buffer: 4096,
        }
    }

    /// The channel-name prefix (default [`DEFAULT_PREFIX`]): events of user
    /// `u` go to the Redis channel `<prefix>:user:<u>`. Processes that
    /// should hear each other use the same prefix; apps (or test runs)
    /// sharing one Redis use different ones. At most [`MAX_PREFIX_LEN`]
    /// bytes of printable ASCII without spaces.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a publish waits for Redis before it fails (default 2 s).
    /// While Redis is unreachable every publish takes this long, then
    /// returns an error.
    pub fn with_publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// The reconnect backoff after a lost connection: the first retry after
    /// `min`, doubling up to `max` (defaults 100 ms and 5 s), forever.
    pub fn with_reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect_min = min;
        self.reconnect_max = max;
        self
    }

    /// How many received messages may wait for the local fan-out (default
    /// 4,096). When the fan-out falls further behind, the overflow is
    /// dropped and every local subscriber gets a resync instead.
    pub fn with_message_buffer(mut self, messages: usize) -> Self {
        self.buffer = messages;
        self
    }

    /// Checks the settings, connects both connections (publisher and
    /// subscriber) and subscribes to the prefix's pattern. Fails when Redis
    /// is unreachable now; later outages are retried in the background.
    pub async fn connect(self) -> Result<RedisAuthChannel, RedisChannelError> {
        self.validate()?;
        RedisAuthChannel::connect(self).await
    }

    fn validate(&self) -> Result<(), RedisChannelError> {
        let prefix_ok = !self.prefix.is_empty()
            && self.prefix.len() <= MAX_PREFIX_LEN
            && self.prefix.bytes().all(|b| b.is_ascii_graphic());
        if !prefix_ok {
            return Err(RedisChannelError::Config(
                "the prefix must be 1 to 100 printable ASCII characters without spaces",
            ));
        }
        if self.publish_timeout.is_zero() {
            return Err(RedisChannelError::Config(
                "the publish timeout must be above zero",
            ));
        }
        if self.reconnect_min.is_zero() || self.reconnect_min > self.reconnect_max {
            return Err(RedisChannelError::Config(
                "the reconnect backoff needs 0 < min <= max",
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
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("publish_timeout", &self.publish_timeout)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("buffer", &self.buffer)
            .finish()
    }
}

/// `url` without its password, for `Debug` and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = url[scheme + 3..at].split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
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
        for prefix in ["", "has space", "tab\t", "é", &"x".repeat(101)] {
            let builder = RedisChannelBuilder::new("redis://h").with_prefix(prefix);
            assert!(
                matches!(builder.validate(), Err(RedisChannelError::Config(_))),
                "{prefix:?}"
            );
        }
        let zero = RedisChannelBuilder::new("redis://h").with_publish_timeout(Duration::ZERO);
        assert!(zero.validate().is_err());
        let backwards = RedisChannelBuilder::new("redis://h")
            .with_reconnect_backoff(Duration::from_secs(2), Duration::from_secs(1));
        assert!(backwards.validate().is_err());
        assert!(
            RedisChannelBuilder::new("redis://h")
                .with_message_buffer(0)
                .validate()
                .is_err()
        );
        assert!(RedisChannelBuilder::new("redis://h").validate().is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let builder = RedisChannelBuilder::new("redis://app:hunter2@cache:6379/0");
        let debug = format!("{builder:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redis://app:***@cache:6379/0"), "{debug}");
    }
}
