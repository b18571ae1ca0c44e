//! What both demos share, on `auth-http` alone: the settings, the wiring of
//! store, sessions, channel and identity provider, the pages, and what the
//! buttons do. Each demo (`live-auth` on axum, `live-auth-demo-actix` on
//! actix-web) only routes its framework's requests to these.

pub mod actions;
pub mod pages;
pub mod settings;

use std::sync::Arc;

use auth_channel_memory::MemoryChannel;
use auth_channel_redis::RedisAuthChannel;
use auth_core::{AuthChannel, Policies, Policy, SessionBackend, SessionConfig};
use auth_http::{Guard, LiveAuth, LivePage, Region};
use auth_local_idp::{LocalIdP, TokenIssuer};
use auth_session_redis::RedisSessionBackend;
use auth_store_seaorm::SeaOrmAuthStore;

pub use settings::{Settings, SettingsError, redact_url};

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error("opening the database failed")]
    Database(#[source] auth_store_seaorm::Error),
    /// The identity provider refused its settings.
    #[error("the identity provider refused its settings")]
    Idp(#[from] auth_local_idp::ConfigError),
    /// The web layer refused its settings.
    #[error("the auth web layer refused its settings")]
    Auth(#[from] auth_http::ConfigError),
    /// `REDIS_URL` is set and the Redis channel could not start.
    #[error("connecting the Redis channel failed")]
    RedisChannel(#[from] auth_channel_redis::RedisChannelError),
    /// `REDIS_URL` is set and the Redis session backend could not start.
    #[error("connecting the Redis session backend failed")]
    RedisSessions(#[from] auth_session_redis::RedisSessionError),
}

/// The demo's one live page: the claims, and the `AdminOnly` region.
fn live_page() -> LivePage {
    LivePage::new("live")
        .with_guard(Guard::login_required())
        .with_region(Region::new("claims", pages::claims))
        .with_region(
            Region::new("admin", pages::admin_visible)
                .with_policy("AdminOnly")
                .otherwise(pages::admin_hidden),
        )
}

/// Opens the database and builds the web layer.
pub async fn build(settings: &Settings) -> Result<LiveAuth, StartError> {
    let store = SeaOrmAuthStore::connect(&settings.database_url)
        .await
        .map_err(StartError::Database)?;
    // One process: SQL sessions and the in-process channel. Several worker
    // processes (REDIS_URL set): sessions and live events through Redis.
    let (sessions, channel): (Arc<dyn SessionBackend>, Arc<dyn AuthChannel>) =
        match &settings.redis_url {
            None => (
                Arc::new(store.session_backend()),
                Arc::new(MemoryChannel::new()),
            ),
            Some(url) => (
                Arc::new(RedisSessionBackend::connect(url, &settings.redis_prefix).await?),
                Arc::new(
                    RedisAuthChannel::builder(url.as_str())
                        .with_prefix(settings.redis_prefix.as_str())
                        .connect()
                        .await?,
                ),
            ),
        };
    let store = Arc::new(store);
    let tokens = TokenIssuer::hs256(settings.idp_secret.expose().as_bytes()).build()?;
    let idp = LocalIdP::builder(store.clone(), tokens).build()?;
    // Make the dummy hash now, so even the first failed login costs what
    // every later one does.
    if let Err(error) = idp.hasher().warm_up().await {
        tracing::warn!(%error, "could not prepare the dummy password hash");
    }
    let auth = LiveAuth::builder(store, sessions, channel)
        .with_local_idp(Arc::new(idp))
        // The demo lets the register form set these two claims, so that a
        // visitor can try claims at once. Apps allow none by default: a form
        // that assigns claims is a privilege escalation waiting to happen.
        .with_registration_claims(["role", "email_verified"])
        .with_policies(
            Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin"))),
        )
        .with_page(live_page())
        .with_secure_cookie(settings.secure_cookies)
        .with_session_config(SessionConfig::new().with_secret(settings.session_secret.clone()))
        .build()?;
    Ok(auth)
}
