//! The live-auth demo as a library, so its tests build the same app `main`
//! serves.

pub mod pages;
pub mod settings;

use std::sync::Arc;

use auth_axum::{Auth, CurrentUser, Guard, LiveAuth, LivePage, Region, RequireUser, SameOrigin};
use auth_channel_memory::MemoryChannel;
use auth_channel_redis::RedisAuthChannel;
use auth_core::{AuthChannel, Policies, Policy, SessionBackend, SessionConfig};
use auth_local_idp::{LocalIdP, TokenIssuer};
use auth_session_redis::RedisSessionBackend;
use auth_store_seaorm::SeaOrmAuthStore;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub use settings::{Settings, SettingsError};

use auth_axum::axum;

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error("opening the database failed")]
    Database(#[source] auth_store_seaorm::Error),
    /// The identity provider refused its settings.
    #[error("the identity provider refused its settings")]
    Idp(#[from] auth_local_idp::ConfigError),
    /// The adapter refused its settings.
    #[error("the auth adapter refused its settings")]
    Auth(#[from] auth_axum::ConfigError),
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

/// Opens the database and builds the adapter.
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

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
}

/// The demo's routes around the adapter's.
pub fn router(auth: &LiveAuth) -> Router {
    let live = auth.clone();
    Router::new()
        .route("/", get(|CurrentUser(user): CurrentUser| async move { Html(pages::home(&user)) }))
        .route(
            "/register",
            get(|CurrentUser(user): CurrentUser, Query(q): Query<ErrorQuery>| async move {
                Html(pages::register(&user, q.error.as_deref()))
            }),
        )
        .route(
            "/login_local",
            get(|CurrentUser(user): CurrentUser, Query(q): Query<ErrorQuery>| async move {
                Html(pages::login(&user, q.error.as_deref()))
            }),
        )
        .route(
            "/live",
            get(move |RequireUser(user): RequireUser| async move {
                Html(pages::live(&live, &user))
            }),
        )
        .route("/profile", get(profile))
        .route("/live/grant-admin", post(grant_admin))
        .route("/live/revoke-admin", post(revoke_admin))
        .route("/live/sign-out", post(sign_out))
        .route("/live/sign-out-everywhere", post(sign_out_everywhere))
        .route("/style.css", get(style))
        .merge(auth.router())
        .layer(auth.layer())
}

async fn profile(_: RequireUser, auth: Auth) -> Response {
    match auth.sessions().await {
        Ok(sessions) => {
            Html(pages::profile(auth.principal(), &sessions, auth.session())).into_response()
        }
        Err(error) => failed(&error),
    }
}

async fn grant_admin(_: SameOrigin, _: RequireUser, auth: Auth) -> Response {
    match auth.grant("role", "admin").await {
        Ok(_) => Redirect::to("/live").into_response(),
        Err(error) => failed(&error),
    }
}

async fn revoke_admin(_: SameOrigin, _: RequireUser, auth: Auth) -> Response {
    match auth.revoke_claim("role").await {
        Ok(_) => Redirect::to("/live").into_response(),
        Err(error) => failed(&error),
    }
}

async fn sign_out(_: SameOrigin, auth: Auth) -> Response {
    match auth.revoke_session().await {
        Ok(()) => signed_out(&auth),
        Err(error) => failed(&error),
    }
}

async fn sign_out_everywhere(_: SameOrigin, _: RequireUser, auth: Auth) -> Response {
    match auth.revoke_all_sessions().await {
        Ok(_) => signed_out(&auth),
        Err(error) => failed(&error),
    }
}

fn signed_out(auth: &Auth) -> Response {
    let mut response = Redirect::to("/login_local").into_response();
    auth.live_auth().mark_signed_out(&mut response);
    response
}

fn failed(error: &auth_core::AuthError) -> Response {
    tracing::error!(%error, "demo action failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong. Please try again.",
    )
        .into_response()
}

async fn style() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], pages::STYLE)
}
