//! From checked settings to the wired stack: the store, the session
//! backend, the channel, the identity provider and its throttles.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use auth_core::{
    AuditLog, AuthActions, AuthChannel, AuthStore, OneTimeTokenStore, Secret, SessionBackend,
    SessionConfig, Sessions, UserDirectory,
};
use auth_http::LiveAuthBuilder;

#[cfg(feature = "local-idp")]
use crate::config::IDP_SECRET_VAR;
use crate::config::{
    ConfigError, Database, SESSION_SECRET_VAR, StackBuilder, database_kind, redact_url,
};

/// The default of the `verify-token` route's throttle: calls per client
/// address per minute (the web layer's own default).
#[cfg(all(feature = "redis", feature = "local-idp"))]
const VERIFY_TOKEN_LIMIT: u32 = 60;

/// Why the stack could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StackError {
    /// A setting was refused before connecting.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No randomness to generate a missing secret with.
    #[error("{0} is not set and no random key could be generated for it")]
    NoRandomness(&'static str),
    /// The database could not be opened or its tables created.
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    #[error("opening the database at {url} failed")]
    Database {
        /// The URL, without its password.
        url: String,
        /// What the driver said.
        #[source]
        source: auth_store_seaorm::Error,
    },
    /// The identity provider refused its settings.
    #[cfg(feature = "local-idp")]
    #[error("the local identity provider refused its settings")]
    Idp(#[from] auth_local_idp::ConfigError),
    /// The Redis pool shared by the sessions, the throttles and the
    /// channel's publisher could not connect.
    #[cfg(feature = "redis")]
    #[error("connecting to Redis failed")]
    Redis(#[from] auth_redis::RedisConnectError),
    /// The Redis channel could not connect.
    #[cfg(feature = "redis")]
    #[error("connecting the Redis channel failed")]
    RedisChannel(#[from] auth_channel_redis::RedisChannelError),
    /// The Redis session backend refused its settings.
    #[cfg(feature = "redis")]
    #[error("setting up the Redis session backend failed")]
    RedisSessions(#[from] auth_session_redis::RedisSessionError),
    /// A Redis throttle refused its settings.
    #[cfg(feature = "redis")]
    #[error("setting up the Redis login throttles failed")]
    RedisThrottle(#[from] auth_throttle_redis::RedisThrottleError),
}

/// The wired stack: a store, a session backend, a channel and (feature
/// `local-idp`) the local identity provider with its throttles, ready for
/// [`Stack::live_auth`].
///
/// Build it with [`Stack::builder`] or [`Stack::from_env`].
///
/// ```
/// # #[cfg(feature = "memory")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use live_auth::Stack;
///
/// let stack = Stack::builder("memory:")
///     .with_session_secret("a session key of at least 32 bytes")
///     .build()
///     .await?;
/// let auth = stack.live_auth().build()?;
/// assert_eq!(auth.prefix(), "/auth");
/// # Ok(()) }
/// # #[cfg(not(feature = "memory"))] fn main() {}
/// ```
#[derive(Clone)]
pub struct Stack {
    store: Arc<dyn AuthStore>,
    sessions: Arc<dyn SessionBackend>,
    channel: Arc<dyn AuthChannel>,
    tokens: Arc<dyn OneTimeTokenStore>,
    audit: Arc<dyn AuditLog>,
    users: Arc<dyn UserDirectory>,
    factors: Arc<dyn auth_core::SecondFactorStore>,
    session_config: SessionConfig,
    redis: bool,
    #[cfg(feature = "local-idp")]
    account: Option<auth_http::AccountFlows>,
    #[cfg(feature = "local-idp")]
    local_idp: Arc<auth_local_idp::LocalIdP>,
    #[cfg(feature = "local-idp")]
    verify_token_throttle: Option<Arc<dyn auth_core::throttle::Throttle>>,
}

impl fmt::Debug for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field("redis", &self.redis)
            .finish_non_exhaustive()
    }
}

impl Stack {
    /// Settings over the database at `database_url`; see [`StackBuilder`].
    pub fn builder(database_url: impl Into<String>) -> StackBuilder {
        StackBuilder::new(database_url)
    }

    /// [`StackBuilder::from_env`], then [`StackBuilder::build`].
    pub async fn from_env() -> Result<Self, StackError> {
        StackBuilder::from_env()?.build().await
    }

    /// The user store.
    pub fn store(&self) -> &Arc<dyn AuthStore> {
        &self.store
    }

    /// Where sessions live: Redis with a Redis URL, else the database.
    pub fn session_backend(&self) -> &Arc<dyn SessionBackend> {
        &self.sessions
    }

    /// The live channel: Redis pub/sub with a Redis URL, else in-process.
    pub fn channel(&self) -> &Arc<dyn AuthChannel> {
        &self.channel
    }

    /// Where one-time tokens (the account flows' links) live: the
    /// database's token table, or memory with `memory:`.
    pub fn one_time_tokens(&self) -> &Arc<dyn OneTimeTokenStore> {
        &self.tokens
    }

    /// The audit log: the database's audit table, or memory with `memory:`.
    pub fn audit_log(&self) -> &Arc<dyn AuditLog> {
        &self.audit
    }

    /// Every user, page by page, for administrators.
    pub fn user_directory(&self) -> &Arc<dyn UserDirectory> {
        &self.users
    }

    /// Where second factors (TOTP secrets, recovery codes) live: the
    /// database's tables, or memory with `memory:`. Hand it to
    /// `auth_http::SecondFactors::new`.
    pub fn second_factor_store(&self) -> &Arc<dyn auth_core::SecondFactorStore> {
        &self.factors
    }

    /// The three-layer writer over this stack's store, sessions and
    /// channel, recording what it does for an actor in the stack's audit
    /// log: how an administrator (or the `live-auth-admin` tool) acts on
    /// any user.
    pub fn actions(&self) -> Result<AuthActions, auth_core::InvalidInput> {
        let sessions = Sessions::new(
            self.sessions.clone(),
            self.store.clone(),
            self.session_config.clone(),
        )?;
        Ok(
            AuthActions::new(self.store.clone(), sessions, self.channel.clone())
                .with_audit(self.audit.clone()),
        )
    }

    /// The account lifecycle's settings, when a public base URL was given
    /// ([`StackBuilder::with_public_url`]); [`Stack::live_auth`] serves
    /// them. Change them (app name, registration mode, pages) and pass them
    /// to the builder again with `with_account_flows`.
    #[cfg(feature = "local-idp")]
    pub fn account_flows(&self) -> Option<&auth_http::AccountFlows> {
        self.account.as_ref()
    }

    /// The session settings, with the session secret.
    pub fn session_config(&self) -> &SessionConfig {
        &self.session_config
    }

    /// Whether events, sessions and throttles go through Redis.
    pub fn uses_redis(&self) -> bool {
        self.redis
    }

    /// The local identity provider.
    #[cfg(feature = "local-idp")]
    pub fn local_idp(&self) -> &Arc<auth_local_idp::LocalIdP> {
        &self.local_idp
    }

    /// The web layer's builder over this stack: its store, sessions,
    /// channel, session secret, audit log (what the web layer's writer does
    /// for an actor is recorded there, as the tool's changes are) and
    /// (feature `local-idp`) identity provider, `verify-token` throttle and
    /// account flows are set; add pages, policies, cookie settings and the
    /// admin console (`with_admin(policy, stack.user_directory().clone())`),
    /// then `build()`.
    pub fn live_auth(&self) -> LiveAuthBuilder {
        let builder = auth_http::LiveAuth::builder(
            self.store.clone(),
            self.sessions.clone(),
            self.channel.clone(),
        )
        .with_session_config(self.session_config.clone())
        .with_audit(self.audit.clone());
        #[cfg(feature = "local-idp")]
        let builder = {
            let builder = builder.with_local_idp(self.local_idp.clone());
            let builder = match &self.verify_token_throttle {
                Some(throttle) => builder.with_verify_token_throttle(throttle.clone()),
                None => builder,
            };
            match &self.account {
                Some(flows) => builder.with_account_flows(flows.clone()),
                None => builder,
            }
        };
        builder
    }
}

impl StackBuilder {
    /// Checks the settings ([`StackBuilder::validate`]), opens the database
    /// (creating its tables), connects to Redis when a URL is set, and
    /// wires the stack. Fails without retrying when a service is
    /// unreachable now.
    pub async fn build(self) -> Result<Stack, StackError> {
        // Boxed: the drivers' connect futures nest deep enough to pass the
        // default recursion limit when an app's `main` awaits them inline.
        Box::pin(self.wire()).await
    }

    async fn wire(self) -> Result<Stack, StackError> {
        self.validate()?;
        let session_secret = secret_or_generated(self.session_secret.clone(), SESSION_SECRET_VAR)?;
        let opened = open_database(&self.database_url).await?;
        let (store, sql_sessions, tokens) = (opened.store, opened.sessions, opened.tokens);
        let wired = match &self.redis_url {
            None => Wired {
                sessions: sql_sessions,
                channel: Arc::new(auth_channel_memory::MemoryChannel::new()),
                #[cfg(feature = "local-idp")]
                throttles: None,
                #[cfg(feature = "local-idp")]
                mail_throttles: None,
            },
            #[cfg(feature = "redis")]
            Some(url) => connect_redis(self.redis_settings_for(url)).await?,
            // `validate` refuses a Redis URL in this build.
            #[cfg(not(feature = "redis"))]
            Some(url) => return Err(ConfigError::RedisUrl(redact_url(url)).into()),
        };
        #[cfg(feature = "local-idp")]
        let (local_idp, verify_token_throttle) = {
            let secret = secret_or_generated(self.idp_secret.clone(), IDP_SECRET_VAR)?;
            let (idp, verify) = local_idp(store.clone(), &secret, wired.throttles).await?;
            (Arc::new(idp), verify)
        };
        #[cfg(feature = "local-idp")]
        let account = crate::mail::account_flows(&self, tokens.clone(), wired.mail_throttles)?;
        tracing::info!(
            database = %redact_url(&self.database_url),
            redis = ?self.redis_url.as_deref().map(redact_url),
            "live-auth stack ready"
        );
        Ok(Stack {
            store,
            sessions: wired.sessions,
            channel: wired.channel,
            tokens,
            audit: opened.audit,
            users: opened.users,
            factors: opened.factors,
            session_config: SessionConfig::new().with_secret(session_secret),
            redis: self.redis_url.is_some(),
            #[cfg(feature = "local-idp")]
            account,
            #[cfg(feature = "local-idp")]
            local_idp,
            #[cfg(feature = "local-idp")]
            verify_token_throttle,
        })
    }
}

/// The email, address and `verify-token` throttles.
#[cfg(feature = "local-idp")]
type Throttles = [Arc<dyn auth_core::throttle::Throttle>; 3];

/// The account mail throttles: per account, per client address.
#[cfg(feature = "local-idp")]
pub(crate) type MailThrottles = [Arc<dyn auth_core::throttle::Throttle>; 2];

/// What depends on whether there is a Redis.
struct Wired {
    sessions: Arc<dyn SessionBackend>,
    channel: Arc<dyn AuthChannel>,
    /// `None`: the memory defaults of the provider and the web layer.
    #[cfg(feature = "local-idp")]
    throttles: Option<Throttles>,
    /// `None`: the account flows' memory defaults.
    #[cfg(feature = "local-idp")]
    mail_throttles: Option<MailThrottles>,
}

/// Sessions, channel and throttles through the Redis of `settings`, over one
/// pool: the sessions, the three throttles and the channel's publisher
/// share its connection; the channel adds its subscriber connection.
#[cfg(feature = "redis")]
async fn connect_redis(settings: auth_redis::RedisSettings) -> Result<Wired, StackError> {
    let pool = settings.connect_pool().await?;
    let sessions = auth_session_redis::RedisSessionBackend::from_pool(pool.clone(), &settings)?;
    #[cfg(feature = "local-idp")]
    let (throttles, mail_throttles) = {
        use auth_core::throttle::Throttle;
        use auth_http::{DEFAULT_MAIL_ADDRESS_LIMIT, DEFAULT_MAIL_LIMIT, DEFAULT_MAIL_WINDOW};
        use auth_local_idp::DEFAULT_THROTTLE_WINDOW as WINDOW;
        use auth_local_idp::{DEFAULT_ADDRESS_LIMIT, DEFAULT_EMAIL_LIMIT};
        use auth_throttle_redis::RedisThrottle;
        // Their keys (`email:`, `addr:`, `verify:`, `mail-…:`) never collide.
        let throttle = |limit, window| -> Result<Arc<dyn Throttle>, StackError> {
            let throttle = RedisThrottle::from_pool(pool.clone(), &settings, limit, window)?;
            Ok(Arc::new(throttle))
        };
        (
            [
                throttle(DEFAULT_EMAIL_LIMIT, WINDOW)?,
                throttle(DEFAULT_ADDRESS_LIMIT, WINDOW)?,
                throttle(VERIFY_TOKEN_LIMIT, std::time::Duration::from_secs(60))?,
            ],
            [
                throttle(DEFAULT_MAIL_LIMIT, DEFAULT_MAIL_WINDOW)?,
                throttle(DEFAULT_MAIL_ADDRESS_LIMIT, DEFAULT_MAIL_WINDOW)?,
            ],
        )
    };
    let channel =
        match auth_channel_redis::RedisAuthChannel::from_pool(pool.clone(), &settings).await {
            Ok(channel) => channel,
            Err(error) => {
                // The pool would otherwise keep its connection (and reconnect)
                // after a failed start.
                use auth_redis::fred::interfaces::ClientLike;
                let _ = pool.quit().await;
                return Err(error.into());
            }
        };
    Ok(Wired {
        sessions: Arc::new(sessions),
        channel: Arc::new(channel),
        #[cfg(feature = "local-idp")]
        throttles: Some(throttles),
        #[cfg(feature = "local-idp")]
        mail_throttles: Some(mail_throttles),
    })
}

/// The provider over `store`, with the Redis throttles when given, and
/// the `verify-token` throttle to hand to the web layer.
#[cfg(feature = "local-idp")]
async fn local_idp(
    store: Arc<dyn AuthStore>,
    secret: &Secret,
    throttles: Option<Throttles>,
) -> Result<
    (
        auth_local_idp::LocalIdP,
        Option<Arc<dyn auth_core::throttle::Throttle>>,
    ),
    StackError,
> {
    use auth_local_idp::{LocalIdP, TokenIssuer};
    let tokens = TokenIssuer::hs256(secret.expose().as_bytes()).build()?;
    let mut idp = LocalIdP::builder(store, tokens);
    let mut verify = None;
    if let Some([email, address, verify_token]) = throttles {
        idp = idp
            .with_email_throttle(email)
            .with_address_throttle(address);
        verify = Some(verify_token);
    }
    let idp = idp.build()?;
    // The dummy hash now, so the first failed login costs what every later
    // one does.
    if let Err(error) = idp.hasher().warm_up().await {
        tracing::warn!(%error, "could not prepare the dummy password hash");
    }
    Ok((idp, verify))
}

/// `secret`, or a random one for this run with a warning.
fn secret_or_generated(secret: Option<Secret>, var: &'static str) -> Result<Secret, StackError> {
    if let Some(secret) = secret {
        return Ok(secret);
    }
    let generated = random_hex().ok_or(StackError::NoRandomness(var))?;
    tracing::warn!(
        "{var} is not set: using a random key for this run only (DEV MODE); what it protects \
         ends with the process. Set it to 32+ random bytes (`openssl rand -hex 32`) for real use."
    );
    Ok(Secret::new(generated))
}

/// 32 random bytes as hex, or `None` without randomness (never a guessable
/// key).
fn random_hex() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    let mut hex = String::with_capacity(64);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    Some(hex)
}

/// What a database gives the stack.
struct Opened {
    store: Arc<dyn AuthStore>,
    sessions: Arc<dyn SessionBackend>,
    tokens: Arc<dyn OneTimeTokenStore>,
    audit: Arc<dyn AuditLog>,
    users: Arc<dyn UserDirectory>,
    factors: Arc<dyn auth_core::SecondFactorStore>,
}

/// The store, its own session backend, token store, audit log and
/// directory for `url`.
async fn open_database(url: &str) -> Result<Opened, StackError> {
    match database_kind(url)? {
        Database::Sql => open_sql(url).await,
        Database::Memory => open_memory(),
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
async fn open_sql(url: &str) -> Result<Opened, StackError> {
    let store = auth_store_seaorm::SeaOrmAuthStore::connect(url)
        .await
        .map_err(|source| StackError::Database {
            url: redact_url(url),
            source,
        })?;
    let sessions = Arc::new(store.session_backend());
    let store = Arc::new(store);
    Ok(Opened {
        store: store.clone(),
        sessions,
        tokens: store.clone(),
        audit: store.clone(),
        factors: store.clone(),
        users: store,
    })
}

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
#[allow(clippy::unused_async)]
async fn open_sql(url: &str) -> Result<Opened, StackError> {
    // `database_kind` refuses SQL URLs in this build.
    Err(ConfigError::DatabaseUrl(redact_url(url)).into())
}

#[cfg(feature = "memory")]
#[allow(clippy::unnecessary_wraps)]
fn open_memory() -> Result<Opened, StackError> {
    use auth_core::memory::{MemorySessionBackend, MemoryStore};
    let store = Arc::new(MemoryStore::new());
    Ok(Opened {
        store: store.clone(),
        sessions: Arc::new(MemorySessionBackend::new()),
        tokens: store.clone(),
        audit: store.clone(),
        factors: store.clone(),
        users: store,
    })
}

#[cfg(not(feature = "memory"))]
fn open_memory() -> Result<Opened, StackError> {
    // `database_kind` refuses `memory:` in this build.
    Err(ConfigError::DatabaseUrl("memory:".to_owned()).into())
}
