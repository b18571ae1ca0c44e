//! The throttle.

use std::fmt;
use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::throttle::{Throttle, ThrottleDecision, ThrottleError};
use auth_redis::RedisSettings;
use fred::clients::Pool;
use fred::interfaces::{ClientLike, KeysInterface};
use fred::types::scripts::Script;
use sha2::{Digest, Sha256};

use crate::error::RedisThrottleError;

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
/// use auth_throttle_redis::{RedisSettings, RedisThrottle};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let window = Duration::from_secs(15 * 60);
/// let settings = RedisSettings::new("redis://127.0.0.1:6379").with_prefix("my-app");
/// let pool = settings.connect_pool().await?;
/// // Two throttles on one pool, each with its own limit; the session
/// // backend and the channel's publisher may share it too.
/// let emails = RedisThrottle::from_pool(pool.clone(), &settings, 10, window)?;
/// let addresses = RedisThrottle::from_pool(pool, &settings, 50, window)?;
/// # drop((emails, addresses)); Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisThrottle {
    pool: Pool,
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
            .field("connected", &self.pool.is_connected())
            .finish_non_exhaustive()
    }
}

impl RedisThrottle {
    /// Connects a pool of its own with `settings` (see [`RedisSettings`]
    /// for the timeouts, keepalive, reconnect backoff and pool size); see
    /// [`RedisThrottle::from_pool`] for the rest. Fails on bad settings, or
    /// when Redis is unreachable now.
    pub async fn connect(
        settings: &RedisSettings,
        limit: u32,
        window: Duration,
    ) -> Result<Self, RedisThrottleError> {
        let pool = settings.build_pool()?;
        pool.init().await.map_err(RedisThrottleError::Connect)?;
        Self::from_pool(pool, settings, limit, window)
    }

    /// A throttle over a pool the app already connected (usually
    /// [`RedisSettings::connect_pool`], shared with the sessions, the
    /// channel and other throttles), counting under the prefix of
    /// `settings`. A zero `limit` refuses everything; a zero `window`
    /// throttles nothing; neither then touches Redis. Checks `settings`;
    /// touches no Redis.
    pub fn from_pool(
        pool: Pool,
        settings: &RedisSettings,
        limit: u32,
        window: Duration,
    ) -> Result<Self, RedisThrottleError> {
        settings.validate()?;
        Ok(Self {
            pool,
            prefix: settings.prefix().to_owned(),
            limit,
            window,
            script: std::sync::Arc::new(Script::from_lua(ATTEMPT)),
            forgive: std::sync::Arc::new(Script::from_lua(FORGIVE)),
        })
    }

    /// The pool, e.g. to share its connections.
    pub fn pool(&self) -> &Pool {
        &self.pool
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
                self.pool.next_connected(),
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
            .pool
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
                self.pool.next_connected(),
                vec![self.redis_key(key)],
                Vec::<String>::new(),
            )
            .await
            .map_err(|e| RedisThrottleError::Command("forgiving a throttled attempt", e))?;
        Ok(())
    }
}
