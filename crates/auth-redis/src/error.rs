//! The errors of this crate. None of them carries a URL's password: URLs
//! are kept with the password replaced by `***`.

/// Settings refused before anything connects.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisSettingsError {
    /// The URL's scheme is not `redis://` (or `valkey://`): no scheme, or a
    /// cluster, sentinel or socket URL, which these crates do not serve.
    #[error(
        "the Redis URL must be redis://[user[:password]@]host[:port][/db], one server (not a \
         cluster or sentinel): {url}"
    )]
    Scheme {
        /// The URL, without its password.
        url: String,
    },
    /// The URL asks for TLS (`rediss://`), which no crate of the stack
    /// enables; connecting anyway would send the password in the clear.
    #[error(
        "the Redis URL asks for TLS, which this build does not support; use redis:// on \
         loopback or a private network: {url}"
    )]
    Tls {
        /// The URL, without its password.
        url: String,
    },
    /// The URL does not parse (host, port, database or credentials).
    #[error("the Redis URL does not parse: {url}")]
    Url {
        /// The URL, without its password.
        url: String,
        /// What the client said.
        #[source]
        source: fred::error::Error,
    },
    /// The key prefix is empty, too long, or not printable ASCII without
    /// spaces.
    #[error(
        "the Redis key prefix must be 1 to {max} printable ASCII characters without spaces",
        max = crate::MAX_PREFIX_LEN
    )]
    Prefix,
    /// A timeout is zero (which the client would read as "wait forever").
    #[error("the Redis {0} must be above zero")]
    ZeroTimeout(&'static str),
    /// A TCP keepalive time is out of the range the OS accepts.
    #[error(
        "the TCP keepalive idle time and interval must each be 1 to {max} seconds",
        max = crate::settings::MAX_KEEPALIVE_SECS
    )]
    Keepalive,
    /// The pool size is zero or above [`MAX_POOL_SIZE`](crate::MAX_POOL_SIZE).
    #[error("the Redis pool size must be 1 to {max}, not {0}", max = crate::MAX_POOL_SIZE)]
    PoolSize(usize),
    /// The reconnect backoff is zero or runs backwards.
    #[error("the Redis reconnect backoff needs 0 < min <= max")]
    Backoff,
    /// The client refused the settings while building its connections.
    #[error("the Redis client refused the settings")]
    Client(#[source] fred::error::Error),
}

/// A pool could not be connected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisConnectError {
    /// The settings were refused before connecting.
    #[error(transparent)]
    Settings(#[from] RedisSettingsError),
    /// Redis is unreachable, refused the credentials or the database, or
    /// did not answer within the connect timeout.
    #[error("connecting to Redis at {url} failed")]
    Connect {
        /// The URL, without its password.
        url: String,
        /// What the client said.
        #[source]
        source: fred::error::Error,
    },
}
