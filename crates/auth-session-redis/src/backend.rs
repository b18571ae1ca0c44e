//! The backend.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{SessionBackend, SessionError, SessionKey, SessionRecord, validate_user_id};
use auth_redis::RedisSettings;
use fred::clients::Pool;
use fred::interfaces::{ClientLike, KeysInterface};

use crate::error::RedisSessionError;
use crate::scripts::Scripts;

/// The longest TTL written (about 100 years); longer ones are clamped.
const MAX_TTL_MS: u128 = 100 * 365 * 24 * 3600 * 1000;

/// A [`SessionBackend`] in Redis. See the [crate docs](crate) for the keys.
///
/// Cloning shares the pool.
#[derive(Clone)]
pub struct RedisSessionBackend {
    pool: Pool,
    prefix: String,
    scripts: std::sync::Arc<Scripts>,
}

impl fmt::Debug for RedisSessionBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionBackend")
            .field("prefix", &self.prefix)
            .field("connected", &self.pool.is_connected())
            .finish_non_exhaustive()
    }
}

impl RedisSessionBackend {
    /// Connects a pool of its own with `settings` (see
    /// [`RedisSettings`] for the timeouts, keepalive, reconnect backoff and
    /// pool size) and stores under their prefix. Fails on bad settings, or
    /// when Redis is unreachable now; later outages are retried in the
    /// background.
    pub async fn connect(settings: &RedisSettings) -> Result<Self, RedisSessionError> {
        let pool = settings.build_pool()?;
        pool.init().await.map_err(RedisSessionError::Connect)?;
        Self::from_pool(pool, settings)
    }

    /// A backend over a pool the app already connected (usually
    /// [`RedisSettings::connect_pool`], shared with the throttles and the
    /// channel), storing under the prefix of `settings`. The pool keeps its
    /// own timeouts and reconnect policy. Checks `settings`; touches no
    /// Redis.
    pub fn from_pool(pool: Pool, settings: &RedisSettings) -> Result<Self, RedisSessionError> {
        settings.validate()?;
        Ok(Self {
            pool,
            prefix: settings.prefix().to_owned(),
            scripts: std::sync::Arc::new(Scripts::new()),
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

    fn session_prefix(&self) -> String {
        format!("{}:session:", self.prefix)
    }

    fn session_key(&self, key: &SessionKey) -> String {
        format!("{}:session:{}", self.prefix, key.as_str())
    }

    fn index_prefix(&self) -> String {
        format!("{}:user-sessions:", self.prefix)
    }

    fn index_key(&self, user_id: &str) -> String {
        format!("{}:user-sessions:{user_id}", self.prefix)
    }

    fn stamp_key(&self, user_id: &str) -> String {
        format!("{}:user-stamp:{user_id}", self.prefix)
    }

    async fn write(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
        mode: &'static str,
    ) -> Result<bool, SessionError> {
        let user = record.user_id().unwrap_or_default();
        if !user.is_empty() {
            validate_user_id(user)?;
        }
        let json = serde_json::to_string(record).map_err(RedisSessionError::Encode)?;
        let ttl_ms = ttl.as_millis().clamp(1, MAX_TTL_MS).to_string();
        let written: i64 = self
            .scripts
            .save
            .evalsha_with_reload(
                self.pool.next_connected(),
                vec![self.session_key(key)],
                vec![
                    json,
                    ttl_ms,
                    user.to_owned(),
                    self.index_prefix(),
                    key.as_str().to_owned(),
                    mode.to_owned(),
                ],
            )
            .await
            .map_err(|e| RedisSessionError::Command("saving a session", e))?;
        Ok(written == 1)
    }
}

fn decode(json: &str) -> Result<SessionRecord, SessionError> {
    serde_json::from_str(json).map_err(|e| SessionError::Corrupt(Box::new(e)))
}

#[async_trait]
impl SessionBackend for RedisSessionBackend {
    #[tracing::instrument(skip_all)]
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, SessionError> {
        let json: Option<String> =
            fred::interfaces::HashesInterface::hget(&self.pool, self.session_key(key), "record")
                .await
                .map_err(|e| RedisSessionError::Command("loading a session", e))?;
        json.as_deref().map(decode).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn save(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        self.write(key, record, ttl, "save").await.map(|_| ())
    }

    #[tracing::instrument(skip_all)]
    async fn update(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, SessionError> {
        self.write(key, record, ttl, "update").await
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, key: &SessionKey) -> Result<bool, SessionError> {
        let removed: i64 = self
            .scripts
            .delete
            .evalsha_with_reload(
                self.pool.next_connected(),
                vec![self.session_key(key)],
                vec![self.index_prefix(), key.as_str().to_owned()],
            )
            .await
            .map_err(|e| RedisSessionError::Command("deleting a session", e))?;
        Ok(removed > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn sessions_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, SessionError> {
        validate_user_id(user_id)?;
        let flat: Vec<String> = self
            .scripts
            .sessions_of
            .evalsha_with_reload(
                self.pool.next_connected(),
                vec![self.index_key(user_id)],
                vec![self.session_prefix(), user_id.to_owned()],
            )
            .await
            .map_err(|e| RedisSessionError::Command("listing a user's sessions", e))?;
        flat.chunks_exact(2)
            .map(|pair| {
                let key =
                    SessionKey::parse(&pair[0]).map_err(|e| SessionError::Corrupt(Box::new(e)))?;
                Ok((key, decode(&pair[1])?))
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn delete_sessions_of(&self, user_id: &str) -> Result<usize, SessionError> {
        validate_user_id(user_id)?;
        let removed: u64 = self
            .scripts
            .delete_sessions_of
            .evalsha_with_reload(
                self.pool.next_connected(),
                vec![self.index_key(user_id)],
                vec![self.session_prefix(), user_id.to_owned()],
            )
            .await
            .map_err(|e| RedisSessionError::Command("deleting a user's sessions", e))?;
        Ok(usize::try_from(removed).unwrap_or(usize::MAX))
    }

    #[tracing::instrument(skip_all)]
    async fn user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        validate_user_id(user_id)?;
        let stamp: Option<String> = self
            .pool
            .get(self.stamp_key(user_id))
            .await
            .map_err(|e| RedisSessionError::Command("reading a change stamp", e))?;
        match stamp {
            None => Ok(0),
            Some(text) => text
                .parse::<u64>()
                .map_err(|e| SessionError::Corrupt(Box::new(e))),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn bump_user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        validate_user_id(user_id)?;
        let stamp: i64 = self
            .pool
            .incr(self.stamp_key(user_id))
            .await
            .map_err(|e| RedisSessionError::Command("bumping a change stamp", e))?;
        u64::try_from(stamp).map_err(|e| SessionError::Corrupt(Box::new(e)))
    }
}
