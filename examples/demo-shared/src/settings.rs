//! The demo's settings, from the environment (a `.env` file is read first).

use std::fmt::Write as _;
use std::net::SocketAddr;

use auth_core::Secret;

/// The settings the demo refuses.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `BIND_ADDR` is not `host:port`.
    #[error("BIND_ADDR must be an address like 127.0.0.1:8000")]
    Bind,
    /// A secret is shorter than 32 bytes.
    #[error("{0} must be at least 32 bytes (e.g. `openssl rand -hex 32`)")]
    ShortSecret(&'static str),
}

/// Everything the demo reads from the environment.
pub struct Settings {
    /// `BIND_ADDR`, default `127.0.0.1:8000`.
    pub bind: SocketAddr,
    /// `LOCAL_AUTH_DB`, default `sqlite://./local-auth.db`.
    pub database_url: String,
    /// `LOCAL_IDP_SECRET`: the JWT signing key.
    pub idp_secret: Secret,
    /// Whether the secret was generated for this run (dev mode).
    pub generated_secret: bool,
    /// `AUTH_SESSION_SECRET`: keys the stored sessions (HMAC of the cookie
    /// token), so write access to the session table cannot plant one.
    pub session_secret: Secret,
    /// Whether the session secret was generated for this run (dev mode:
    /// sessions then end with the process).
    pub generated_session_secret: bool,
    /// `COOKIE_SECURE=true` sets `Secure` and the `__Host-` prefix; off by
    /// default because the demo serves plain HTTP on loopback.
    pub secure_cookies: bool,
    /// `REDIS_URL`: when set, live events go through Redis pub/sub and
    /// sessions live in Redis, so several worker processes serve one app.
    /// Unset (the default): the in-process channel and SQL sessions.
    pub redis_url: Option<String>,
    /// `REDIS_PREFIX`, default `live-auth`: the Redis channel-name and key
    /// prefix. Workers of one app share it; apps sharing a Redis do not.
    pub redis_prefix: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("generated_secret", &self.generated_secret)
            .field("generated_session_secret", &self.generated_session_secret)
            .field("secure_cookies", &self.secure_cookies)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_prefix", &self.redis_prefix)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Reads the settings through `lookup` (the environment in `main`, a
    /// map in tests). A missing `LOCAL_IDP_SECRET` is generated for this run
    /// (tokens then die with the process); a short one is refused.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let bind = lookup("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8000".to_owned())
            .parse()
            .map_err(|_| SettingsError::Bind)?;
        let database_url =
            lookup("LOCAL_AUTH_DB").unwrap_or_else(|| "sqlite://./local-auth.db".to_owned());
        let (idp_secret, generated_secret) = match lookup("LOCAL_IDP_SECRET") {
            Some(secret) if secret.len() >= 32 => (Secret::new(secret), false),
            Some(_) => return Err(SettingsError::ShortSecret("LOCAL_IDP_SECRET")),
            None => (Secret::new(random_hex()), true),
        };
        let (session_secret, generated_session_secret) = match lookup("AUTH_SESSION_SECRET") {
            Some(secret) if secret.len() >= 32 => (Secret::new(secret), false),
            Some(_) => return Err(SettingsError::ShortSecret("AUTH_SESSION_SECRET")),
            None => (Secret::new(random_hex()), true),
        };
        let secure_cookies = lookup("COOKIE_SECURE").is_some_and(|v| v == "true" || v == "1");
        let redis_url = lookup("REDIS_URL").filter(|url| !url.trim().is_empty());
        let redis_prefix = lookup("REDIS_PREFIX")
            .filter(|prefix| !prefix.is_empty())
            .unwrap_or_else(|| "live-auth".to_owned());
        Ok(Self {
            bind,
            database_url,
            idp_secret,
            generated_secret,
            session_secret,
            generated_session_secret,
            secure_cookies,
            redis_url,
            redis_prefix,
        })
    }
}

impl Settings {
    /// Logs, once at start, each setting that is only fit for development:
    /// a secret generated for this run, a session cookie without `Secure`.
    pub fn warn_dev_mode(&self) {
        if self.generated_secret {
            tracing::warn!(
                "LOCAL_IDP_SECRET is not set: using a random secret for this run only (DEV MODE). \
                 Tokens will not survive a restart. Set it with `openssl rand -hex 32` for real use."
            );
        }
        if self.generated_session_secret {
            tracing::warn!(
                "AUTH_SESSION_SECRET is not set: using a random secret for this run only (DEV MODE). \
                 Sessions will not survive a restart. Set it with `openssl rand -hex 32` for real use."
            );
        }
        if !self.secure_cookies {
            tracing::warn!(
                "the session cookie is not `Secure` (plain HTTP demo); set COOKIE_SECURE=true behind HTTPS"
            );
        }
    }
}

/// 32 random bytes as hex.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: refuse to invent a guessable key.
        return String::new();
    }
    let mut hex = String::with_capacity(64);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// A database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let settings = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(settings.database_url, "sqlite://./local-auth.db");
        assert!(settings.generated_secret);
        assert_eq!(settings.idp_secret.expose().len(), 64);
        assert!(!settings.secure_cookies);
        assert_eq!(settings.redis_url, None);
        assert_eq!(settings.redis_prefix, "live-auth");

        let short =
            Settings::from_lookup(|k| (k == "LOCAL_IDP_SECRET").then(|| "short".to_owned()));
        assert!(matches!(short, Err(SettingsError::ShortSecret(_))));
        assert!(settings.generated_session_secret);
        assert_ne!(
            settings.session_secret.expose(),
            settings.idp_secret.expose()
        );
        let short =
            Settings::from_lookup(|k| (k == "AUTH_SESSION_SECRET").then(|| "short".to_owned()));
        assert!(matches!(
            short,
            Err(SettingsError::ShortSecret("AUTH_SESSION_SECRET"))
        ));
        let bind = Settings::from_lookup(|k| (k == "BIND_ADDR").then(|| "nowhere".to_owned()));
        assert!(matches!(bind, Err(SettingsError::Bind)));
    }

    #[test]
    fn passwords_stay_out_of_logs() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db:5432/auth"),
            "postgres://app:***@db:5432/auth"
        );
        assert_eq!(
            redact_url("sqlite://./local-auth.db"),
            "sqlite://./local-auth.db"
        );
        let settings = Settings::from_lookup(|k| {
            (k == "LOCAL_AUTH_DB").then(|| "mysql://root:hunter2@h/db".to_owned())
        })
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let redis = Settings::from_lookup(|k| match k {
            "REDIS_URL" => Some("redis://app:hunter2@cache:6379".to_owned()),
            "REDIS_PREFIX" => Some("shop".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(redis.redis_prefix, "shop");
        let debug = format!("{redis:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redis://app:***@cache:6379"), "{debug}");
        assert!(!debug.contains(settings.idp_secret.expose()), "{debug}");
    }
}
