//! [`RedisSettings`]: where Redis is, the key prefix, and how connections
//! behave, checked before anything connects.

use std::fmt;
use std::time::Duration;

use crate::error::RedisSettingsError;

/// The key and channel prefix when none is set.
pub const DEFAULT_PREFIX: &str = "live-auth";

/// The longest prefix accepted, in bytes.
pub const MAX_PREFIX_LEN: usize = 100;

/// The most connections one pool may hold.
pub const MAX_POOL_SIZE: usize = 64;

/// The longest keepalive idle time or interval, in seconds (Linux's limit
/// for `TCP_KEEPIDLE` and `TCP_KEEPINTVL`).
pub(crate) const MAX_KEEPALIVE_SECS: u64 = 32_767;

/// How the stack's Redis crates connect: the server's URL, the prefix of
/// every key and channel name, timeouts, TCP keepalive, reconnect backoff
/// and the pool size. One value serves the channel
/// (`auth-channel-redis`), the sessions (`auth-session-redis`) and the
/// throttles (`auth-throttle-redis`), whose constructors all take
/// `&RedisSettings`; [`RedisSettings::connect_pool`] makes one pool they
/// can share.
///
/// | setting | default | |
/// |---|---|---|
/// | prefix | [`DEFAULT_PREFIX`] | the same for every worker of one app, its own for each app sharing a Redis |
/// | connect timeout | 2 s | per TCP connect (and handshake) |
/// | command timeout | 2 s | per command; a command that waits longer fails |
/// | TCP keepalive | probes after 30 s idle, every 10 s | finds connections that died without a FIN (a partition) |
/// | reconnect backoff | 100 ms doubling to 5 s, forever | after a lost connection |
/// | pool size | 1 | connections per pool; each multiplexes every caller's commands |
///
/// Nothing is checked until [`validate`](Self::validate) (which every
/// constructor taking the settings calls): a bad value is a
/// [`RedisSettingsError`], and neither it nor `Debug` ever shows the
/// URL's password.
///
/// ```
/// use std::time::Duration;
///
/// use auth_redis::{RedisSettings, RedisSettingsError};
///
/// let settings = RedisSettings::new("redis://app:hunter2@cache:6379/0")
///     .with_prefix("shop-prod")
///     .with_command_timeout(Duration::from_millis(500))
///     .with_pool_size(4);
/// settings.validate()?;
/// assert_eq!(settings.redacted_url(), "redis://app:***@cache:6379/0");
/// assert!(!format!("{settings:?}").contains("hunter2"));
///
/// let spaced = settings.clone().with_prefix("has space");
/// assert!(matches!(spaced.validate(), Err(RedisSettingsError::Prefix)));
/// let tls = RedisSettings::new("rediss://app:hunter2@cache:6379");
/// let error = tls.validate().unwrap_err();
/// assert!(matches!(error, RedisSettingsError::Tls { .. }));
/// assert!(!error.to_string().contains("hunter2"));
/// # Ok::<(), RedisSettingsError>(())
/// ```
#[derive(Clone)]
pub struct RedisSettings {
    url: String,
    prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    keepalive: Option<(Duration, Duration)>,
    reconnect: (Duration, Duration),
    pool_size: usize,
}

impl RedisSettings {
    /// Settings for the Redis server at `url`
    /// (`redis://[user[:password]@]host[:port][/db]`), with every default
    /// of the table above.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(2),
            keepalive: Some((Duration::from_secs(30), Duration::from_secs(10))),
            reconnect: (Duration::from_millis(100), Duration::from_secs(5)),
            pool_size: 1,
        }
    }

    /// The prefix of every key and channel name (default
    /// [`DEFAULT_PREFIX`]): sessions live under `<prefix>:session:…`,
    /// throttle counters under `<prefix>:throttle:…`, events go to
    /// `<prefix>:user:…`. Processes that should share state use the same
    /// prefix; apps (or test runs) sharing one Redis use different ones.
    /// 1 to [`MAX_PREFIX_LEN`] bytes of printable ASCII without spaces.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long one TCP connect (with the `AUTH` and `SELECT` after it) may
    /// take before it fails (default 2 s).
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a command waits for Redis before it fails (default 2 s).
    /// While Redis is unreachable, every call takes this long and then
    /// returns an error: sessions answer 503, throttles refuse the login,
    /// the channel delivers locally and reports the failed publish.
    #[must_use]
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// TCP keepalive on every connection: the first probe after `idle`
    /// without traffic, then one every `interval`, as many as the OS allows
    /// (9 on Linux) before the connection counts as dead and is replaced.
    /// Whole seconds, each 1 to 32,767 (default 30 s and 10 s).
    #[must_use]
    pub fn with_tcp_keepalive(mut self, idle: Duration, interval: Duration) -> Self {
        self.keepalive = Some((idle, interval));
        self
    }

    /// No TCP keepalive. This weakens outage handling: a connection that
    /// dies without a FIN or RST (a network partition) is only noticed when
    /// a command on it times out, and the channel's quiet subscriber
    /// connection may never notice, so its tabs miss events until a restart.
    #[must_use]
    pub fn without_tcp_keepalive(mut self) -> Self {
        self.keepalive = None;
        self
    }

    /// The reconnect backoff after a lost connection: the first retry after
    /// `min`, doubling up to `max` (defaults 100 ms and 5 s), forever.
    #[must_use]
    pub fn with_reconnect_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.reconnect = (min, max);
        self
    }

    /// How many connections a pool built from these settings holds, 1 to
    /// [`MAX_POOL_SIZE`] (default 1). Each connection pipelines every
    /// caller's commands, so one serves a worker well; more help only when
    /// large replies (long session lists) would queue small ones.
    #[must_use]
    pub fn with_pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections;
        self
    }

    /// The same settings for the server at `url`: a tuned value kept for
    /// several deployments, or a builder that takes its URL elsewhere.
    #[must_use]
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// The URL with its password replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }

    /// The key and channel prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The command timeout.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// The TCP keepalive idle time and interval; `None` when off.
    pub fn tcp_keepalive(&self) -> Option<(Duration, Duration)> {
        self.keepalive
    }

    /// The reconnect backoff, `(min, max)`.
    pub fn reconnect_backoff(&self) -> (Duration, Duration) {
        self.reconnect
    }

    /// The pool size.
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    /// Checks every setting without connecting.
    pub fn validate(&self) -> Result<(), RedisSettingsError> {
        self.parsed_url().map(|_| ())
    }

    /// [`validate`](Self::validate), answering the client's parsed URL.
    pub(crate) fn parsed_url(&self) -> Result<fred::types::config::Config, RedisSettingsError> {
        let config = parse_url(&self.url)?;
        let prefix_ok = !self.prefix.is_empty()
            && self.prefix.len() <= MAX_PREFIX_LEN
            && self.prefix.bytes().all(|b| b.is_ascii_graphic());
        if !prefix_ok {
            return Err(RedisSettingsError::Prefix);
        }
        if self.connect_timeout.is_zero() {
            return Err(RedisSettingsError::ZeroTimeout("connect timeout"));
        }
        if self.command_timeout.is_zero() {
            return Err(RedisSettingsError::ZeroTimeout("command timeout"));
        }
        if let Some((idle, interval)) = self.keepalive {
            let in_range = |d: Duration| (1..=MAX_KEEPALIVE_SECS).contains(&d.as_secs());
            if !in_range(idle) || !in_range(interval) {
                return Err(RedisSettingsError::Keepalive);
            }
        }
        let (min, max) = self.reconnect;
        if min.is_zero() || min > max {
            return Err(RedisSettingsError::Backoff);
        }
        if self.pool_size == 0 || self.pool_size > MAX_POOL_SIZE {
            return Err(RedisSettingsError::PoolSize(self.pool_size));
        }
        Ok(config)
    }
}

/// `url` parsed by the client, once its scheme says one plain-TCP server.
fn parse_url(url: &str) -> Result<fred::types::config::Config, RedisSettingsError> {
    let scheme = url
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("redis" | "valkey") => {}
        Some("rediss" | "valkeys") => {
            return Err(RedisSettingsError::Tls {
                url: redact_url(url),
            });
        }
        _ => {
            return Err(RedisSettingsError::Scheme {
                url: redact_url(url),
            });
        }
    }
    fred::types::config::Config::from_url_centralized(url).map_err(|source| {
        RedisSettingsError::Url {
            url: redact_url(url),
            source,
        }
    })
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.redacted_url())
            .field("prefix", &self.prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("tcp_keepalive", &self.keepalive)
            .field("reconnect_backoff", &self.reconnect)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// `url` with everything between the scheme and the last `@` but the user
/// name replaced by `***`. A URL without a scheme is redacted the same way,
/// so a mistyped `user:password@host` shows no password either.
pub(crate) fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(end) => url.split_at(end + 3),
        None => ("", url),
    };
    match rest.rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}{user}:***{}", &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_with_or_without_a_scheme() {
        let cases = [
            (
                "redis://app:hunter2@cache:6379/0",
                "redis://app:***@cache:6379/0",
            ),
            ("redis://:hunter2@cache", "redis://:***@cache"),
            ("redis://app:hun@ter2@cache", "redis://app:***@cache"),
            ("app:hunter2@cache:6379", "app:***@cache:6379"),
            ("redis://cache:6379", "redis://cache:6379"),
        ];
        for (url, redacted) in cases {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
    }

    #[test]
    fn the_defaults_are_valid() {
        let settings = RedisSettings::new("redis://127.0.0.1:6379");
        assert!(settings.validate().is_ok());
        assert_eq!(settings.prefix(), DEFAULT_PREFIX);
        assert_eq!(settings.pool_size(), 1);
        assert_eq!(
            settings.tcp_keepalive(),
            Some((Duration::from_secs(30), Duration::from_secs(10)))
        );
    }
}
