//! The demo's settings, from the environment (a `.env` file is read first).

use std::net::SocketAddr;

use live_auth::StackBuilder;

/// The settings the demo refuses.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `BIND_ADDR` is not `host:port`.
    #[error("BIND_ADDR must be an address like 127.0.0.1:8000")]
    Bind,
    /// The stack refused its settings (a short secret, a bad URL).
    #[error(transparent)]
    Stack(#[from] live_auth::ConfigError),
    /// Only some of `OIDC_ISSUER`, `OIDC_CLIENT_ID` and
    /// `OIDC_CLIENT_SECRET` are set.
    #[error("set all of OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET, or none")]
    Oidc,
}

/// The OpenID Connect provider the demo offers as `oidc`, when set.
#[derive(Clone)]
pub struct OidcSettings {
    /// `OIDC_ISSUER`.
    pub issuer: String,
    /// `OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `OIDC_CLIENT_SECRET` (redacted in `Debug`).
    pub client_secret: String,
    /// `OIDC_NAME`, the button's name (default `OpenID Connect`).
    pub name: String,
    /// `{APP_BASE_URL}/auth/oidc/callback`.
    pub redirect_uri: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Everything the demo reads from the environment.
#[derive(Debug)]
pub struct Settings {
    /// `BIND_ADDR`, default `127.0.0.1:8000`.
    pub bind: SocketAddr,
    /// The stack's variables, read by [`StackBuilder::from_lookup`]:
    /// `LOCAL_AUTH_DB` (default `sqlite://./local-auth.db`),
    /// `LOCAL_IDP_SECRET` and `AUTH_SESSION_SECRET` (each generated for the
    /// run when unset), `REDIS_URL` (several worker processes serve one app
    /// through it; unset: the in-process channel and SQL sessions) and
    /// `REDIS_PREFIX` (default `live-auth`), and for account mail
    /// `APP_BASE_URL` (default `http://` + `BIND_ADDR`), `SMTP_URL` (unset:
    /// messages and their links go to the log) and `SMTP_FROM`.
    pub stack: StackBuilder,
    /// `COOKIE_SECURE=true` sets `Secure` and the `__Host-` prefix; off by
    /// default because the demo serves plain HTTP on loopback.
    pub secure_cookies: bool,
    /// `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` and
    /// `OIDC_NAME`: "Sign in with …" through that provider.
    pub oidc: Option<OidcSettings>,
}

impl Settings {
    /// Reads the settings through `lookup` (the environment in `main`, a
    /// map in tests). A missing secret is generated for this run (its
    /// tokens or sessions then die with the process); a short one is
    /// refused.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let bind = lookup("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8000".to_owned())
            .parse()
            .map_err(|_| SettingsError::Bind)?;
        let secure_cookies = lookup("COOKIE_SECURE").is_some_and(|v| v == "true" || v == "1");
        let mut stack = StackBuilder::from_lookup(&lookup)?;
        if stack.public_url().is_none() {
            // Links in account mail point back at this demo.
            stack = stack.with_public_url(format!("http://{bind}"));
        }
        let oidc = match (
            lookup("OIDC_ISSUER"),
            lookup("OIDC_CLIENT_ID"),
            lookup("OIDC_CLIENT_SECRET"),
        ) {
            (None, None, None) => None,
            (Some(issuer), Some(client_id), Some(client_secret)) => {
                let base = stack.public_url().unwrap_or_default().trim_end_matches('/');
                Some(OidcSettings {
                    issuer,
                    client_id,
                    client_secret,
                    name: lookup("OIDC_NAME").unwrap_or_else(|| "OpenID Connect".to_owned()),
                    redirect_uri: format!("{base}/auth/oidc/callback"),
                })
            }
            _ => return Err(SettingsError::Oidc),
        };
        Ok(Self {
            bind,
            stack,
            secure_cookies,
            oidc,
        })
    }

    /// Logs, once at start, a session cookie without `Secure` (the stack
    /// warns about generated secrets itself when it is built).
    pub fn warn_dev_mode(&self) {
        if !self.secure_cookies {
            tracing::warn!(
                "the session cookie is not `Secure` (plain HTTP demo); set COOKIE_SECURE=true behind HTTPS"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let settings = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(settings.stack.database_url(), "sqlite://./local-auth.db");
        assert!(!settings.secure_cookies);
        assert_eq!(settings.stack.redis_url(), None);
        assert_eq!(settings.stack.redis_prefix(), "live-auth");
        assert_eq!(settings.stack.public_url(), Some("http://127.0.0.1:8000"));
        assert_eq!(settings.stack.smtp_url(), None);

        for var in ["LOCAL_IDP_SECRET", "AUTH_SESSION_SECRET"] {
            let short = Settings::from_lookup(|k| (k == var).then(|| "short".to_owned()));
            assert!(
                matches!(short, Err(SettingsError::Stack(live_auth::ConfigError::ShortSecret(v))) if v == var)
            );
        }
        let bind = Settings::from_lookup(|k| (k == "BIND_ADDR").then(|| "nowhere".to_owned()));
        assert!(matches!(bind, Err(SettingsError::Bind)));
        let secure = Settings::from_lookup(|k| (k == "COOKIE_SECURE").then(|| "true".to_owned()));
        assert!(secure.unwrap().secure_cookies);
    }

    #[test]
    fn a_provider_needs_all_three_variables_and_hides_its_secret() {
        assert!(Settings::from_lookup(|_| None).unwrap().oidc.is_none());
        let partial =
            Settings::from_lookup(|k| (k == "OIDC_ISSUER").then(|| "https://id.example".into()));
        assert!(matches!(partial, Err(SettingsError::Oidc)));
        let full = Settings::from_lookup(|k| match k {
            "OIDC_ISSUER" => Some("https://id.example".into()),
            "OIDC_CLIENT_ID" => Some("demo".into()),
            "OIDC_CLIENT_SECRET" => Some("hunter4".into()),
            "APP_BASE_URL" => Some("https://app.example".into()),
            _ => None,
        })
        .unwrap();
        let oidc = full.oidc.clone().unwrap();
        assert_eq!(oidc.redirect_uri, "https://app.example/auth/oidc/callback");
        assert_eq!(oidc.name, "OpenID Connect");
        assert!(!format!("{full:?}").contains("hunter4"));
    }

    #[test]
    fn passwords_stay_out_of_logs() {
        let redis = Settings::from_lookup(|k| match k {
            "LOCAL_AUTH_DB" => Some("mysql://root:hunter2@h/db".to_owned()),
            "REDIS_URL" => Some("redis://app:hunter3@cache:6379".to_owned()),
            "REDIS_PREFIX" => Some("shop".to_owned()),
            "LOCAL_IDP_SECRET" => Some("an identity provider key of 32+ bytes".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(redis.stack.redis_prefix(), "shop");
        let debug = format!("{redis:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("hunter3"), "{debug}");
        assert!(!debug.contains("identity provider key"), "{debug}");
        assert!(debug.contains("redis://app:***@cache:6379"), "{debug}");
    }
}
