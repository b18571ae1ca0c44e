//! The throttle.

use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::throttle::{Throttle, ThrottleDecision, ThrottleError};
use fred::clients::Client;
use fred::interfaces::{ClientLike, KeysInterface};
use fred::types::Builder;
use fred::types::config::{Config, ReconnectPolicy};
use fred::types::scripts::Script;
use sha2::{Digest, Sha256};

use crate::error::RedisThrottleError;

/// The key prefix when none is set.
pub const DEFAULT_PREFIX: &str = "live-auth";

/// The longest window written (about 100 years); longer ones are clamped.
const MAX_WINDOW_MS: u128 = 100 * 365 * 24 * 3600 * 1000;

/// One attempt, atomically: count it, open the window on the first, and
/// answer the count and the time left in the window.
///
/// KEYS: the counter. ARGV: the window in ms. Returns `{count, ms left}`.
/// A counter found without an expiry (written by hand, or a crash between
/// two commands of an older version) gets the window again, so no key can
/// lock a client out for ever.
const ATTEMPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
";

/// Takes one attempt back, never below zero; the key keeps its expiry.
const FORGIVE: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then return redis.call('DECR', KEYS[1]) end
return 0
";

/// A [`Throttle`] in Redis: at most `limit` attempts per key per `window`,
/// counted once for every worker that shares the Redis server.
///
/// Each key is one counter, `<prefix>:throttle:<SHA-256 of the key, hex>`
/// (hashed so keys stay short and the keyspace does not list the emails
/// being tried), changed by one Lua script: `INCR`, `PEXPIRE` on the
/// first attempt of a window, `PTTL` for the answer. The window is fixed:
/// it opens with the first attempt and ends `window` later, whatever
/// happens in between; attempts past the limit are refused with the time
/// left. `reset` deletes the counter.
///
/// When Redis fails, `attempt` is a [`ThrottleError`] and the local IdP
/// refuses the login (fails closed).
///
/// ```no_run
/// use std::time::Duration;
///
/// use auth_throttle_redis::RedisThrottle;
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let window = Duration::from_secs(15 * 60);
/// let emails = RedisThrottle::connect("redis://127.0.0.1:6379", "my-app", 10, window).await?;
/// // A second throttle on the same connection, with its own limit.
/// let addresses = RedisThrottle::new(emails.client().clone(), "my-app", 50, window)?;
/// # drop(addresses); Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisThrottle {
    client: Client,
    prefix: String,
    limit: u32,
    window: Duration,
    script: std::sync::Arc<Script>,
    forgive: std::sync::Arc<Script>,
}

impl fmt::Debug for RedisThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottle")
            .field("prefix", &self.prefix)
            .field("limit", &self.limit)
            .field("window", &self.window)
            .field("connected", &self.client.is_connected())
            .finish_non_exhaustive()
    }
}

impl RedisThrottle {
    /// Connects to the Redis server at `url` with one connection that
    /// reconnects with backoff (100 ms doubling to 5 s, forever) and a 2 s
    /// command timeout; see [`RedisThrottle::new`] for the rest. Fails
    /// when Redis is unreachable now.
    pub async fn connect(
        url: &str,
        prefix: &str,
        limit: u32,
        window: Duration,
    ) -> Result<Self, RedisThrottleError> {
        let config = Config::from_url(url).map_err(RedisThrottleError::Url)?;
        let timeout = Duration::from_secs(2);
        let client = Builder::from_config(config)
            .with_connection_config(|connection| {
                connection.connection_timeout = timeout;
                connection.internal_command_timeout = timeout;
                connection.tcp.nodelay = Some(true);
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = timeout;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
            .build()
            .map_err(RedisThrottleError::Connect)?;
        client.init().await.map_err(RedisThrottleError::Connect)?;
        Self::new(client, prefix, limit, window)
    }

    /// A throttle over a client the app already has (connected or not),
    /// counting under the key prefix `prefix` (1 to 100 printable ASCII
    /// characters without spaces). A zero `limit` refuses everything; a
    /// zero `window` throttles nothing. Neither touches Redis.
    pub fn new(
        client: Client,
        prefix: &str,
        limit: u32,
        window: Duration,
    ) -> Result<Self, RedisThrottleError> {
        let prefix_ok = !prefix.is_empty()
            && prefix.len() <= 100
            && prefix.bytes().all(|b| b.is_ascii_graphic());
        if !prefix_ok {
            return Err(RedisThrottleError::Config(
                "the prefix must be 1 to 100 printable ASCII characters without spaces",
            ));
        }
        Ok(Self {
            client,
            prefix: prefix.to_owned(),
            limit,
            window,
            script: std::sync::Arc::new(Script::from_lua(ATTEMPT)),
            forgive: std::sync::Arc::new(Script::from_lua(FORGIVE)),
        })
    }

    /// The client, e.g. to share its connection with another throttle.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Attempts allowed per key per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The Redis key counting `key`.
    pub fn redis_key(&self, key: &str) -> String {
        let digest = Sha256::digest(key.as_bytes());
        let mut out = format!("{}:throttle:", self.prefix);
        for byte in digest {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    async fn record(&self, key: &str) -> Result<ThrottleDecision, RedisThrottleError> {
        const CONTEXT: &str = "counting a throttled attempt";
        let window_ms = self.window.as_millis().clamp(1, MAX_WINDOW_MS);
        let reply: Vec<i64> = self
            .script
            .evalsha_with_reload(
                &self.client,
                vec![self.redis_key(key)],
                vec![window_ms.to_string()],
            )
            .await
            .map_err(|e| RedisThrottleError::Command(CONTEXT, e))?;
        let [count, left] = reply[..] else {
            return Err(RedisThrottleError::Reply(CONTEXT));
        };
        let count = u64::try_from(count).map_err(|_| RedisThrottleError::Reply(CONTEXT))?;
        if count <= u64::from(self.limit) {
            let remaining = u64::from(self.limit) - count;
            return Ok(ThrottleDecision::Allowed {
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            });
        }
        let left = u64::try_from(left).unwrap_or(0);
        Ok(ThrottleDecision::Refused {
            retry_after: Duration::from_millis(left),
        })
    }
}

#[async_trait]
impl Throttle for RedisThrottle {
    async fn attempt(&self, key: &str) -> Result<ThrottleDecision, ThrottleError> {
        if self.window.is_zero() {
            return Ok(ThrottleDecision::Allowed {
                remaining: self.limit,
            });
        }
        if self.limit == 0 {
            return Ok(ThrottleDecision::Refused {
                retry_after: self.window,
            });
        }
        Ok(self.record(key).await?)
    }

    async fn reset(&self, key: &str) -> Result<(), ThrottleError> {
        let _: i64 = self
            .client
            .del(self.redis_key(key))
            .await
            .map_err(|e| RedisThrottleError::Command("resetting a throttled key", e))?;
        Ok(())
    }

    async fn forgive(&self, key: &str) -> Result<(), ThrottleError> {
        if self.window.is_zero() || self.limit == 0 {
            return Ok(());
        }
        let _: i64 = self
            .forgive
            .evalsha_with_reload(
                &self.client,
                vec![self.redis_key(key)],
                Vec::<String>::new(),
            )
            .await
            .map_err(|e| RedisThrottleError::Command("forgiving a throttled attempt", e))?;
        Ok(())
    }
}
