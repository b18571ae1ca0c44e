//! Session logic over any backend: sign-in with a fresh id, timeouts, and
//! refreshing a session whose user changed elsewhere.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{InvalidInput, SessionError};
use crate::principal::Principal;
use crate::second_factor::Factor;
use crate::session::backend::{
    FactorProof, PendingSignIn, SessionBackend, SessionKey, SessionRecord, SessionToken, unix_now,
};
use crate::store::AuthStore;
use crate::user::Secret;

/// Timeouts of [`Sessions`].
///
/// ```
/// use std::time::Duration;
/// use auth_core::SessionConfig;
///
/// let config = SessionConfig::new()
///     .with_idle_timeout(Duration::from_secs(15 * 60))
///     .with_absolute_lifetime(Duration::from_secs(8 * 3600));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionConfig {
    /// A session unused this long ends (default 30 minutes).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not (default 12 hours).
    pub absolute_lifetime: Duration,
    /// `last_seen` is written back at most this often, so a busy session does
    /// not write on every request (default 60 seconds).
    pub touch_interval: Duration,
    /// How long a sign-in waits for its second factor once the password
    /// passed (default 5 minutes); then the session ends.
    pub second_factor_timeout: Duration,
    /// Keys sessions by HMAC-SHA256(secret, token) instead of SHA-256(token)
    /// (see [`SessionToken::keyed`]). At least 32 bytes. Changing it signs
    /// everyone out.
    pub secret: Option<Secret>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_lifetime: Duration::from_secs(12 * 3600),
            touch_interval: Duration::from_secs(60),
            second_factor_timeout: Duration::from_secs(5 * 60),
            secret: None,
        }
    }
}

impl SessionConfig {
    /// The defaults: 30 minutes idle, 12 hours absolute.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the idle timeout. Longer timeouts weaken security.
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets the absolute lifetime. Longer lifetimes weaken security.
    #[must_use]
    pub fn with_absolute_lifetime(mut self, lifetime: Duration) -> Self {
        self.absolute_lifetime = lifetime;
        self
    }

    /// Sets how often `last_seen` is written back.
    #[must_use]
    pub fn with_touch_interval(mut self, interval: Duration) -> Self {
        self.touch_interval = interval;
        self
    }

    /// Sets how long a sign-in waits for its second factor.
    #[must_use]
    pub fn with_second_factor_timeout(mut self, timeout: Duration) -> Self {
        self.second_factor_timeout = timeout;
        self
    }

    /// Keys sessions with a secret of at least 32 bytes (see
    /// [`SessionConfig::secret`]).
    #[must_use]
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Checks the timeouts: each at least one second, the touch interval
    /// shorter than the idle timeout, a second-factor timeout of at least a
    /// second; and a secret, when set, of at least 32
    /// bytes.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if self
            .secret
            .as_ref()
            .is_some_and(|secret| secret.expose().len() < 32)
        {
            return Err(InvalidInput::new(
                "the session secret must be at least 32 bytes",
            ));
        }
        if self.idle_timeout < Duration::from_secs(1)
            || self.absolute_lifetime < Duration::from_secs(1)
            || self.second_factor_timeout < Duration::from_secs(1)
        {
            return Err(InvalidInput::new(
                "session timeouts must be at least one second",
            ));
        }
        if self.touch_interval >= self.idle_timeout {
            return Err(InvalidInput::new(
                "the touch interval must be shorter than the idle timeout",
            ));
        }
        Ok(())
    }
}

/// A session that loaded and is still valid.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    /// The key it is stored under.
    pub key: SessionKey,
    /// What it holds, refreshed from the store if the user changed.
    pub record: SessionRecord,
}

impl ActiveSession {
    /// The session's principal.
    pub fn principal(&self) -> &Principal {
        &self.record.principal
    }
}

/// Sessions over any [`SessionBackend`], with the store to refresh from.
///
/// A load costs at most two backend reads (the session and, for a signed-in
/// one, the user's change stamp) plus a store read only when the user
/// changed since the snapshot was taken.
#[derive(Clone)]
pub struct Sessions {
    backend: Arc<dyn SessionBackend>,
    store: Arc<dyn AuthStore>,
    config: SessionConfig,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions in `backend`, refreshed from `store`.
    pub fn new(
        backend: Arc<dyn SessionBackend>,
        store: Arc<dyn AuthStore>,
        config: SessionConfig,
    ) -> Result<Self, InvalidInput> {
        config.validate()?;
        Ok(Self {
            backend,
            store,
            config,
        })
    }

    /// The key a token's session is stored under: keyed with the secret
    /// when one is configured.
    pub fn key_of(&self, token: &SessionToken) -> SessionKey {
        match &self.config.secret {
            Some(secret) => token.keyed(secret.expose().as_bytes()),
            None => token.key(),
        }
    }

    /// The backend sessions live in.
    pub fn backend(&self) -> &Arc<dyn SessionBackend> {
        &self.backend
    }

    /// The timeouts in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Signs `principal` in under a NEW token, deleting the `previous`
    /// session if there was one (so a planted id is never promoted: session
    /// fixation). Returns the token for the cookie.
    /// [`SessionError::AccountDisabled`] when the user's account is
    /// disabled (nothing is saved then).
    ///
    /// A signed-in principal takes its claims fresh from the store (one
    /// read): `principal` was read before this call, and a claim change made
    /// in between (while the password was being verified) must not be lost
    /// in the new session.
    pub async fn sign_in(
        &self,
        previous: Option<&SessionKey>,
        principal: Principal,
    ) -> Result<(SessionToken, ActiveSession), SessionError> {
        self.sign_in_inner(previous, principal, None).await
    }

    /// [`Sessions::sign_in`] once a second factor completed it: the new
    /// session records `factor` as verified now (see
    /// [`SessionRecord::second_factor`]).
    pub async fn sign_in_with_factor(
        &self,
        previous: Option<&SessionKey>,
        principal: Principal,
        factor: Factor,
    ) -> Result<(SessionToken, ActiveSession), SessionError> {
        let proof = FactorProof::now(factor);
        self.sign_in_inner(previous, principal, Some(proof)).await
    }

    /// Starts a sign-in that waits for a second factor: the `previous`
    /// session is deleted and a NEW one is saved, whose principal is
    /// anonymous and whose [`SessionRecord::pending`] names `user_id`. It
    /// ends after [`SessionConfig::second_factor_timeout`]; completing it
    /// ([`Sessions::sign_in_with_factor`]) replaces it under another token.
    pub async fn begin_second_factor(
        &self,
        previous: Option<&SessionKey>,
        user_id: &str,
    ) -> Result<(SessionToken, ActiveSession), SessionError> {
        crate::validate_user_id(user_id)?;
        if let Some(old) = previous {
            self.backend.delete(old).await?;
        }
        let token = SessionToken::generate();
        let key = self.key_of(&token);
        let mut record = SessionRecord::new(Principal::anonymous(), 0);
        record.pending = Some(PendingSignIn {
            user_id: user_id.to_owned(),
            since: record.created_at,
        });
        let ttl = self.ttl(&record, unix_now());
        self.backend.save(&key, &record, ttl).await?;
        Ok((token, ActiveSession { key, record }))
    }

    /// Records that the signed-in session `key` verified `factor` now (a
    /// step-up). `Ok(false)` when the session is gone or not signed in.
    pub async fn record_second_factor(
        &self,
        key: &SessionKey,
        factor: Factor,
    ) -> Result<bool, SessionError> {
        let Some(active) = self.peek(key).await? else {
            return Ok(false);
        };
        let mut record = active.record;
        if record.user_id().is_none() {
            return Ok(false);
        }
        record.second_factor = Some(FactorProof::now(factor));
        let now = unix_now();
        let ttl = self.ttl(&record, now);
        self.backend.update(key, &record, ttl).await
    }

    async fn sign_in_inner(
        &self,
        previous: Option<&SessionKey>,
        principal: Principal,
        proof: Option<FactorProof>,
    ) -> Result<(SessionToken, ActiveSession), SessionError> {
        if let Some(old) = previous {
            self.backend.delete(old).await?;
        }
        let (principal, stamp) = match principal.user_id().map(str::to_owned) {
            Some(user_id) => {
                // The stamp first: a change after this read bumps past it.
                let stamp = self.backend.user_stamp(&user_id).await?;
                let principal = match self.store.get_user(&user_id).await? {
                    Some(user) if user.is_disabled() => return Err(SessionError::AccountDisabled),
                    Some(user) => principal.with_claims(user.claims),
                    None => principal,
                };
                (principal, stamp)
            }
            None => (principal, 0),
        };
        let token = SessionToken::generate();
        let key = self.key_of(&token);
        let mut record = SessionRecord::new(principal, stamp);
        record.second_factor = proof;
        self.backend
            .save(&key, &record, self.ttl(&record, unix_now()))
            .await?;
        Ok((token, ActiveSession { key, record }))
    }

    /// Loads a session by its key.
    ///
    /// `Ok(None)` when it does not exist, has passed its idle or absolute
    /// timeout (it is then deleted), or belongs to a user who no longer
    /// exists or whose account is disabled (it is deleted too). A session whose user changed since its snapshot (a claim
    /// change made from another session) is refreshed from the store and
    /// saved back.
    pub async fn load(&self, key: &SessionKey) -> Result<Option<ActiveSession>, SessionError> {
        self.load_inner(key, true).await
    }

    /// [`Sessions::load`] that does not count as activity: `last_seen` does
    /// not move, so the idle timeout keeps running. For background checks,
    /// such as a live socket re-checking its session: an open tab alone
    /// must not keep a session alive.
    pub async fn peek(&self, key: &SessionKey) -> Result<Option<ActiveSession>, SessionError> {
        self.load_inner(key, false).await
    }

    async fn load_inner(
        &self,
        key: &SessionKey,
        touch: bool,
    ) -> Result<Option<ActiveSession>, SessionError> {
        let Some(mut record) = self.backend.load(key).await? else {
            return Ok(None);
        };
        let now = unix_now();
        if self.expired(&record, now) {
            self.backend.delete(key).await?;
            return Ok(None);
        }
        let mut dirty =
            touch && now.saturating_sub(record.last_seen) >= self.config.touch_interval.as_secs();
        if let Some(user_id) = record.user_id().map(str::to_owned) {
            let stamp = self.backend.user_stamp(&user_id).await?;
            if stamp != record.user_stamp {
                let user = self.store.get_user(&user_id).await?;
                let Some(user) = user.filter(|user| !user.is_disabled()) else {
                    self.backend.delete(key).await?;
                    return Ok(None);
                };
                record.principal = Principal::for_user(&user);
                record.user_stamp = stamp;
                dirty = true;
            }
        }
        if dirty {
            if touch {
                record.last_seen = now;
            }
            let ttl = self.ttl(&record, now);
            if !self.backend.update(key, &record, ttl).await? {
                return Ok(None);
            }
        }
        Ok(Some(ActiveSession {
            key: key.clone(),
            record,
        }))
    }

    /// Loads the session a cookie token names (see [`Sessions::load`]).
    pub async fn load_token(
        &self,
        token: &SessionToken,
    ) -> Result<Option<ActiveSession>, SessionError> {
        self.load(&self.key_of(token)).await
    }

    /// Replaces the principal of a live session, stamping it with `stamp`.
    /// `Ok(false)` when the session is gone, or belongs to another user than
    /// `principal` (nothing is written then: a session never changes hands
    /// this way; signing in does that, under a new token).
    pub async fn replace_principal(
        &self,
        key: &SessionKey,
        principal: Principal,
        stamp: u64,
    ) -> Result<bool, SessionError> {
        let Some(mut record) = self.backend.load(key).await? else {
            return Ok(false);
        };
        let now = unix_now();
        if self.expired(&record, now) {
            self.backend.delete(key).await?;
            return Ok(false);
        }
        if record.user_id() != principal.user_id() {
            return Ok(false);
        }
        record.principal = principal;
        record.user_stamp = stamp;
        record.last_seen = now;
        let ttl = self.ttl(&record, now);
        self.backend.update(key, &record, ttl).await
    }

    /// Signs this session out: it is deleted, and its token is worthless
    /// from now on. `Ok(false)` when it was already gone.
    pub async fn sign_out(&self, key: &SessionKey) -> Result<bool, SessionError> {
        self.backend.delete(key).await
    }

    /// The user's live sessions, oldest first.
    pub async fn sessions_of(&self, user_id: &str) -> Result<Vec<ActiveSession>, SessionError> {
        let now = unix_now();
        let mut sessions: Vec<ActiveSession> = self
            .backend
            .sessions_of(user_id)
            .await?
            .into_iter()
            .filter(|(_, record)| !self.expired(record, now))
            .map(|(key, record)| ActiveSession { key, record })
            .collect();
        sessions.sort_by_key(|s| (s.record.created_at, s.key.clone()));
        Ok(sessions)
    }

    fn expired(&self, record: &SessionRecord, now: u64) -> bool {
        let idle = now.saturating_sub(record.last_seen) >= self.config.idle_timeout.as_secs();
        let age = now.saturating_sub(record.created_at) >= self.config.absolute_lifetime.as_secs();
        let waited = record.pending.as_ref().is_some_and(|pending| {
            now.saturating_sub(pending.since) >= self.config.second_factor_timeout.as_secs()
        });
        idle || age || waited
    }

    fn ttl(&self, record: &SessionRecord, now: u64) -> Duration {
        let age = Duration::from_secs(now.saturating_sub(record.created_at));
        let idle = Duration::from_secs(now.saturating_sub(record.last_seen));
        let mut left = self.config.absolute_lifetime.saturating_sub(age);
        if let Some(pending) = &record.pending {
            let waited = Duration::from_secs(now.saturating_sub(pending.since));
            left = left.min(self.config.second_factor_timeout.saturating_sub(waited));
        }
        left.min(self.config.idle_timeout.saturating_sub(idle))
            .max(Duration::from_secs(1))
    }
}
