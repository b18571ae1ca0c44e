//! The stack's settings: a database URL, an optional Redis URL and prefix,
//! and the two secrets, from code or from the environment, checked before
//! anything connects.

use std::fmt;

use auth_core::Secret;

/// The variable naming the database (`sqlite://./app.db`,
/// `postgres://user:pw@host/db`, `mysql://...`, `memory:`).
pub const DATABASE_VAR: &str = "LOCAL_AUTH_DB";
/// The variable naming the Redis server; unset or empty: no Redis.
pub const REDIS_URL_VAR: &str = "REDIS_URL";
/// The variable naming the Redis key and channel prefix.
pub const REDIS_PREFIX_VAR: &str = "REDIS_PREFIX";
/// The variable holding the local identity provider's JWT signing key.
pub const IDP_SECRET_VAR: &str = "LOCAL_IDP_SECRET";
/// The variable holding the key stored sessions are looked up by.
pub const SESSION_SECRET_VAR: &str = "AUTH_SESSION_SECRET";

/// The variable naming the SMTP server account mail goes through (feature
/// `smtp`); unset: mail goes to the log.
pub const SMTP_URL_VAR: &str = "SMTP_URL";
/// The variable naming the sender of account mail.
pub const SMTP_FROM_VAR: &str = "SMTP_FROM";
/// The variable naming the public base URL of the links in account mail;
/// unset: no account flows (the demos default it to their address).
pub const PUBLIC_URL_VAR: &str = "APP_BASE_URL";

/// The sender of account mail when [`SMTP_FROM_VAR`] is unset.
pub const DEFAULT_SMTP_FROM: &str = "live-auth <no-reply@localhost>";

/// The database used when [`DATABASE_VAR`] is unset (feature `sqlite`).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./local-auth.db";
/// The default Redis prefix: workers of one app share it, apps sharing a
/// Redis each need their own.
pub const DEFAULT_REDIS_PREFIX: &str = "live-auth";
/// The shortest secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// A setting the stack refuses, before connecting to anything.
///
/// Messages name the variable and never carry a secret or a URL's
/// password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is unset.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A secret is shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("{0} must be at least 32 bytes (e.g. `openssl rand -hex 32`)")]
    ShortSecret(&'static str),
    /// The database URL has a scheme no backend handles.
    #[error(
        "LOCAL_AUTH_DB is not a database URL (sqlite://, postgres://, mysql:// or memory:): {0}"
    )]
    DatabaseUrl(String),
    /// The URL needs a backend this build of `live-auth` leaves out.
    #[error("{var} is a {scheme} URL, but live-auth was built without its `{feature}` feature")]
    FeatureOff {
        /// The variable the URL is read from.
        var: &'static str,
        /// The URL's scheme.
        scheme: String,
        /// The cargo feature to turn on.
        feature: &'static str,
    },
    /// The Redis URL does not parse.
    #[error("REDIS_URL is not a redis:// URL: {0}")]
    RedisUrl(String),
    /// The Redis URL asks for TLS (`rediss://`), which the stack's Redis
    /// crates do not enable; it is refused rather than sent in the clear.
    #[error(
        "REDIS_URL asks for TLS, which live-auth does not support; use redis:// on loopback \
         or a private network: {0}"
    )]
    RedisTls(String),
    /// The Redis prefix is empty, too long or has spaces.
    #[error("REDIS_PREFIX must be 1 to 100 printable ASCII characters without spaces")]
    RedisPrefix,
    /// The Redis connection settings given to
    /// [`StackBuilder::with_redis_settings`] are refused (a zero timeout, a
    /// pool size out of range, …).
    #[cfg(feature = "redis")]
    #[error("the Redis connection settings are refused")]
    RedisSettings(#[source] auth_redis::RedisSettingsError),
    /// The SMTP URL or the sender is refused.
    #[error(
        "SMTP_URL must be smtp://, smtps:// or smtp+plain:// (this machine only) and SMTP_FROM one mailbox: {0}"
    )]
    Smtp(String),
    /// The public base URL is not `http(s)://host[/path]`.
    #[error("APP_BASE_URL must be http(s)://host[/path], without query or credentials: {0}")]
    PublicUrl(String),
}

/// The backend a database URL picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Database {
    /// SQLite, PostgreSQL or MySQL through `auth-store-seaorm`.
    Sql,
    /// `auth-core`'s memory store and sessions.
    Memory,
}

/// Which backend `url` needs, refusing schemes no enabled feature serves.
pub(crate) fn database_kind(url: &str) -> Result<Database, ConfigError> {
    let scheme = url
        .split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase())
        .ok_or_else(|| ConfigError::DatabaseUrl(redact_url(url)))?;
    let (feature, enabled, kind) = match scheme.as_str() {
        "sqlite" => ("sqlite", cfg!(feature = "sqlite"), Database::Sql),
        "postgres" | "postgresql" => ("postgres", cfg!(feature = "postgres"), Database::Sql),
        "mysql" => ("mysql", cfg!(feature = "mysql"), Database::Sql),
        "memory" => ("memory", cfg!(feature = "memory"), Database::Memory),
        _ => return Err(ConfigError::DatabaseUrl(redact_url(url))),
    };
    if enabled {
        Ok(kind)
    } else {
        Err(ConfigError::FeatureOff {
            var: DATABASE_VAR,
            scheme,
            feature,
        })
    }
}

fn check_redis_url(url: &str) -> Result<(), ConfigError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("redis" | "rediss")) {
        return Err(ConfigError::RedisUrl(redact_url(url)));
    }
    #[cfg(feature = "redis")]
    {
        use auth_redis::{RedisSettings, RedisSettingsError};
        match RedisSettings::new(url).validate() {
            Ok(()) => Ok(()),
            Err(RedisSettingsError::Tls { url }) => Err(ConfigError::RedisTls(url)),
            Err(_) => Err(ConfigError::RedisUrl(redact_url(url))),
        }
    }
    #[cfg(not(feature = "redis"))]
    Err(ConfigError::FeatureOff {
        var: REDIS_URL_VAR,
        scheme: "redis".to_owned(),
        feature: "redis",
    })
}

fn check_secret(var: &'static str, secret: Option<&Secret>) -> Result<(), ConfigError> {
    match secret {
        Some(secret) if secret.expose().len() < MIN_SECRET_LEN => {
            Err(ConfigError::ShortSecret(var))
        }
        _ => Ok(()),
    }
}

/// Settings of a [`Stack`](crate::Stack); see [`Stack::builder`](crate::Stack::builder).
///
/// Without Redis, live events go through the in-process channel, sessions
/// live in the database and login throttles in memory: one process. With a
/// Redis URL (feature `redis`), events, sessions and throttles go through
/// Redis, so several workers serve one app.
///
/// A secret left unset is generated for this run, with a warning when the
/// stack is built: tokens and sessions then end with the process.
#[derive(Clone)]
#[must_use]
pub struct StackBuilder {
    pub(crate) database_url: String,
    pub(crate) redis_url: Option<String>,
    pub(crate) redis_prefix: String,
    /// Timeouts, keepalive, backoff and pool size; `None`: the defaults.
    #[cfg(feature = "redis")]
    pub(crate) redis_settings: Option<auth_redis::RedisSettings>,
    pub(crate) idp_secret: Option<Secret>,
    pub(crate) session_secret: Option<Secret>,
    pub(crate) smtp_url: Option<String>,
    pub(crate) smtp_from: String,
    pub(crate) public_url: Option<String>,
}

impl fmt::Debug for StackBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("StackBuilder");
        // Its `Debug` shows the tuning, never the URL's password.
        #[cfg(feature = "redis")]
        debug.field("redis_settings", &self.redis_settings);
        debug
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_prefix", &self.redis_prefix)
            .field("idp_secret", &self.idp_secret.as_ref().map(|_| "***"))
            .field(
                "session_secret",
                &self.session_secret.as_ref().map(|_| "***"),
            )
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("smtp_from", &self.smtp_from)
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl StackBuilder {
    /// Settings over the database at `database_url`, no Redis, both secrets
    /// generated for the run.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            redis_url: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            #[cfg(feature = "redis")]
            redis_settings: None,
            idp_secret: None,
            session_secret: None,
            smtp_url: None,
            smtp_from: DEFAULT_SMTP_FROM.to_owned(),
            public_url: None,
        }
    }

    /// Reads the settings from the environment: [`DATABASE_VAR`]
    /// (`LOCAL_AUTH_DB`, default [`DEFAULT_DATABASE_URL`] when the `sqlite`
    /// feature is on, required otherwise), [`REDIS_URL_VAR`],
    /// [`REDIS_PREFIX_VAR`], [`IDP_SECRET_VAR`], [`SESSION_SECRET_VAR`],
    /// [`PUBLIC_URL_VAR`], [`SMTP_URL_VAR`] and [`SMTP_FROM_VAR`]; then
    /// checks them like [`StackBuilder::validate`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`StackBuilder::from_env`] with the variables read through `lookup`
    /// (a `.env` parser, a config map, a test). Empty values count as unset.
    ///
    /// ```
    /// use live_auth::{ConfigError, StackBuilder};
    ///
    /// let short = StackBuilder::from_lookup(|name| {
    ///     (name == "AUTH_SESSION_SECRET").then(|| "too short".to_owned())
    /// });
    /// assert!(matches!(short, Err(ConfigError::ShortSecret("AUTH_SESSION_SECRET"))));
    ///
    /// let redis = StackBuilder::from_lookup(|name| {
    ///     (name == "REDIS_URL").then(|| "http://app:hunter2@cache".to_owned())
    /// });
    /// let message = redis.unwrap_err().to_string();
    /// assert!(message.starts_with("REDIS_URL is not a redis:// URL"), "{message}");
    /// assert!(!message.contains("hunter2"), "{message}");
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let database_url = match get(DATABASE_VAR) {
            Some(url) => url,
            None if cfg!(feature = "sqlite") => DEFAULT_DATABASE_URL.to_owned(),
            None => return Err(ConfigError::Missing(DATABASE_VAR)),
        };
        let mut builder = Self::new(database_url);
        builder.redis_url = get(REDIS_URL_VAR);
        if let Some(prefix) = get(REDIS_PREFIX_VAR) {
            builder.redis_prefix = prefix;
        }
        builder.idp_secret = get(IDP_SECRET_VAR).map(Secret::new);
        builder.session_secret = get(SESSION_SECRET_VAR).map(Secret::new);
        builder.smtp_url = get(SMTP_URL_VAR);
        if let Some(from) = get(SMTP_FROM_VAR) {
            builder.smtp_from = from;
        }
        builder.public_url = get(PUBLIC_URL_VAR);
        builder.validate()?;
        Ok(builder)
    }

    /// Sends live events, sessions and login throttles through the Redis
    /// server at `url` (`redis://[user:password@]host:port[/db]`), so
    /// several workers serve one app. Needs the `redis` feature.
    pub fn with_redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    /// The Redis key and channel prefix (default
    /// [`DEFAULT_REDIS_PREFIX`]): the same for every worker of one app, a
    /// different one for each app sharing a Redis.
    pub fn with_redis_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.redis_prefix = prefix.into();
        self
    }

    /// How the stack connects to Redis: timeouts, TCP keepalive, reconnect
    /// backoff and pool size (see [`auth_redis::RedisSettings`] for the
    /// defaults). The URL and the prefix still come from
    /// [`with_redis_url`](Self::with_redis_url) and
    /// [`with_redis_prefix`](Self::with_redis_prefix) (or `REDIS_URL` and
    /// `REDIS_PREFIX`); the ones in `settings` are not used. Needs the
    /// `redis` feature.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use live_auth::StackBuilder;
    /// use live_auth::auth_redis::RedisSettings;
    ///
    /// let tuned = RedisSettings::new("redis://ignored")
    ///     .with_command_timeout(Duration::from_millis(500))
    ///     .with_pool_size(4);
    /// let builder = StackBuilder::new("sqlite::memory:")
    ///     .with_redis_url("redis://127.0.0.1:6379")
    ///     .with_redis_settings(tuned.clone());
    /// assert!(builder.validate().is_ok());
    ///
    /// let refused = builder.with_redis_settings(tuned.with_pool_size(0));
    /// assert!(refused.validate().is_err());
    /// ```
    #[cfg(feature = "redis")]
    pub fn with_redis_settings(mut self, settings: auth_redis::RedisSettings) -> Self {
        self.redis_settings = Some(settings);
        self
    }

    /// The Redis settings the stack connects with: the tuning of
    /// [`with_redis_settings`](Self::with_redis_settings) (or the
    /// defaults) for this builder's URL and prefix.
    #[cfg(feature = "redis")]
    pub(crate) fn redis_settings_for(&self, url: &str) -> auth_redis::RedisSettings {
        self.redis_settings
            .clone()
            .unwrap_or_else(|| auth_redis::RedisSettings::new(url))
            .with_url(url)
            .with_prefix(&self.redis_prefix)
    }

    /// The local identity provider's HS256 key, at least 32 bytes. Unset:
    /// a key for this run only, so tokens die with the process.
    pub fn with_idp_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.idp_secret = Some(secret.into());
        self
    }

    /// The key sessions are stored under (HMAC of the cookie token), at
    /// least 32 bytes, so write access to the session table cannot plant a
    /// session. Unset: a key for this run only, so sessions end with the
    /// process.
    pub fn with_session_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.session_secret = Some(secret.into());
        self
    }

    /// Turns the account lifecycle on (feature `local-idp`: email
    /// verification, forgotten and changed passwords, changed emails, see
    /// `docs/account.md`), with links under `url`, the app's public base
    /// URL (`https://app.example`). Links never follow a request's `Host`.
    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// Sends account mail through the SMTP server at `url` (feature
    /// `smtp`): `smtp://user:pass@host:587` (STARTTLS), `smtps://…:465`
    /// (TLS), `smtp://127.0.0.1:1025` (a local catcher: plain). Unset: mail
    /// goes to the log, links included (development only).
    pub fn with_smtp_url(mut self, url: impl Into<String>) -> Self {
        self.smtp_url = Some(url.into());
        self
    }

    /// The sender of account mail (default [`DEFAULT_SMTP_FROM`]).
    pub fn with_smtp_from(mut self, from: impl Into<String>) -> Self {
        self.smtp_from = from.into();
        self
    }

    /// The public base URL, if set.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// The SMTP URL, if set.
    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url.as_deref()
    }

    /// The database URL.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The Redis URL, if any.
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_deref()
    }

    /// The Redis prefix.
    pub fn redis_prefix(&self) -> &str {
        &self.redis_prefix
    }

    /// Checks the settings without connecting: both secrets (when set) at
    /// least 32 bytes, a database URL whose backend is compiled in, a
    /// `redis://` URL only with the `redis` feature, a usable prefix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_secret(IDP_SECRET_VAR, self.idp_secret.as_ref())?;
        check_secret(SESSION_SECRET_VAR, self.session_secret.as_ref())?;
        database_kind(&self.database_url)?;
        if let Some(url) = &self.redis_url {
            check_redis_url(url)?;
        }
        let prefix = &self.redis_prefix;
        if prefix.is_empty() || prefix.len() > 100 || !prefix.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ConfigError::RedisPrefix);
        }
        #[cfg(feature = "redis")]
        if let Some(url) = &self.redis_url {
            self.redis_settings_for(url)
                .validate()
                .map_err(ConfigError::RedisSettings)?;
        }
        if let Some(url) = &self.public_url {
            crate::mail::check_public_url(url)?;
        }
        if let Some(url) = &self.smtp_url {
            crate::mail::check_smtp(url, &self.smtp_from)?;
        }
        Ok(())
    }
}

/// `url` with its password replaced by `***`, for logs and errors:
/// everything between the scheme and the last `@` but the user name. A URL
/// missing its scheme is redacted the same way, so a mistyped
/// `user:password@host` shows no password either.
///
/// ```
/// assert_eq!(
///     live_auth::redact_url("postgres://app:hunter2@db:5432/auth"),
///     "postgres://app:***@db:5432/auth"
/// );
/// assert_eq!(live_auth::redact_url("app:hunter2@cache:6379"), "app:***@cache:6379");
/// assert_eq!(live_auth::redact_url("sqlite://./app.db"), "sqlite://./app.db");
/// ```
pub fn redact_url(url: &str) -> String {
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

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn each_secret_is_checked_by_name() {
        for var in [IDP_SECRET_VAR, SESSION_SECRET_VAR] {
            let short = "x".repeat(MIN_SECRET_LEN - 1);
            let error = StackBuilder::from_lookup(lookup(&[(var, short.as_str())])).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("{var} must be at least 32 bytes (e.g. `openssl rand -hex 32`)")
            );
            let long = "x".repeat(MIN_SECRET_LEN);
            let builder = StackBuilder::from_lookup(lookup(&[
                (var, long.as_str()),
                (DATABASE_VAR, "sqlite::memory:"),
            ]));
            assert!(builder.is_ok() || !cfg!(feature = "sqlite"), "{builder:?}");
        }
    }

    #[test]
    fn database_schemes_need_their_feature() {
        let cases = [
            ("sqlite://./a.db", "sqlite", cfg!(feature = "sqlite")),
            (
                "postgres://u:p@h/db",
                "postgres",
                cfg!(feature = "postgres"),
            ),
            ("postgresql://h/db", "postgres", cfg!(feature = "postgres")),
            ("mysql://u:p@h/db", "mysql", cfg!(feature = "mysql")),
            ("memory:", "memory", cfg!(feature = "memory")),
        ];
        for (url, feature, enabled) in cases {
            match database_kind(url) {
                Ok(_) => assert!(enabled, "{url}"),
                Err(ConfigError::FeatureOff { feature: off, .. }) => {
                    assert!(!enabled, "{url}");
                    assert_eq!(off, feature);
                }
                Err(other) => panic!("{url}: {other}"),
            }
        }
        let unknown = database_kind("oracle://scott:tiger@db/x").unwrap_err();
        let message = unknown.to_string();
        assert!(
            message.starts_with("LOCAL_AUTH_DB is not a database URL"),
            "{message}"
        );
        assert!(!message.contains("tiger"), "{message}");
        assert!(matches!(
            database_kind("no scheme"),
            Err(ConfigError::DatabaseUrl(_))
        ));
    }

    #[test]
    fn redis_urls_are_checked() {
        assert!(matches!(
            check_redis_url("localhost:6379"),
            Err(ConfigError::RedisUrl(_))
        ));
        for url in [
            "http://u:hunter2@h:6379",
            "u:hunter2@h:6379",
            "redis-cluster://u:hunter2@h:6379",
        ] {
            let error = check_redis_url(url).unwrap_err();
            let message = error.to_string();
            assert!(
                matches!(error, ConfigError::RedisUrl(_)),
                "{url}: {message}"
            );
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_tls_redis_url_is_refused_not_sent_in_the_clear() {
        let error = check_redis_url("rediss://u:hunter2@cache:6380").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, ConfigError::RedisTls(_)), "{message}");
        assert!(message.contains("u:***@cache:6380"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[cfg(all(feature = "sqlite", feature = "redis"))]
    #[test]
    fn a_redis_url_and_prefix_pass_or_fail_by_their_shape() {
        let good = StackBuilder::new("sqlite::memory:").with_redis_url("redis://u:pw@h:6379/2");
        assert!(good.validate().is_ok());
        let bad = StackBuilder::new("sqlite::memory:").with_redis_url("redis://h:notaport");
        assert!(matches!(bad.validate(), Err(ConfigError::RedisUrl(_))));
        for prefix in ["", "has space", &"p".repeat(101)] {
            let builder = StackBuilder::new("sqlite::memory:").with_redis_prefix(prefix);
            let result = builder.validate();
            assert!(
                matches!(result, Err(ConfigError::RedisPrefix)),
                "{prefix:?}"
            );
        }
    }

    #[cfg(all(feature = "sqlite", not(feature = "redis")))]
    #[test]
    fn a_redis_url_needs_the_redis_feature() {
        let redis = StackBuilder::new("sqlite::memory:").with_redis_url("redis://h:6379");
        let message = redis.validate().unwrap_err().to_string();
        assert_eq!(
            message,
            "REDIS_URL is a redis URL, but live-auth was built without its `redis` feature"
        );
    }

    #[cfg(feature = "memory")]
    #[test]
    fn from_lookup_reads_every_variable_and_debug_hides_secrets() {
        let builder = StackBuilder::from_lookup(lookup(&[
            (DATABASE_VAR, "memory:"),
            (REDIS_PREFIX_VAR, "shop"),
            (IDP_SECRET_VAR, "an idp secret of thirty-two bytes!"),
            (SESSION_SECRET_VAR, "a session secret of 32 bytes or more"),
            (REDIS_URL_VAR, "  "),
        ]))
        .unwrap();
        assert_eq!(builder.database_url(), "memory:");
        assert_eq!(builder.redis_prefix(), "shop");
        assert_eq!(builder.redis_url(), None, "a blank REDIS_URL is no Redis");
        let debug = format!("{builder:?}");
        assert!(!debug.contains("thirty-two"), "{debug}");
        assert!(!debug.contains("32 bytes or more"), "{debug}");
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn the_default_database_is_a_sqlite_file() {
        let builder = StackBuilder::from_lookup(|_| None).unwrap();
        assert_eq!(builder.database_url(), DEFAULT_DATABASE_URL);
    }

    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn without_sqlite_the_database_is_required() {
        let error = StackBuilder::from_lookup(|_| None).unwrap_err();
        assert_eq!(error.to_string(), "LOCAL_AUTH_DB is not set");
    }

    #[test]
    fn passwords_stay_out_of_debug() {
        let builder = StackBuilder::new("mysql://root:hunter2@h/db")
            .with_redis_url("redis://app:hunter3@cache:6379")
            .with_idp_secret("0123456789abcdef0123456789abcdef");
        let debug = format!("{builder:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("hunter3"), "{debug}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        assert!(debug.contains("redis://app:***@cache:6379"), "{debug}");
    }
}
