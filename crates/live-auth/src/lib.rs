//! Authentication for axum and actix-web apps with **live updates**: grant
//! a role or end a session and every open tab of the user follows at once.
//! This crate is the whole stack behind one dependency: pick a framework
//! and a database with cargo features, and `Stack` wires the store,
//! sessions, live channel, identity provider and login throttles from a
//! database URL, an optional Redis URL and two secrets.
//!
//! ```toml
//! [dependencies]
//! live-auth = { version = "0.1", features = ["postgres", "redis"] }
//! ```
//!
//! | feature | what it adds |
//! |---|---|
//! | `axum` (default) | the axum adapter, `live_auth::axum` |
//! | `actix` | the actix-web adapter, `live_auth::actix` |
//! | `sqlite` (default) | users and sessions in SQLite (`sqlite://` URLs) |
//! | `postgres` | ... in PostgreSQL (`postgres://`) |
//! | `mysql` | ... in MySQL or MariaDB (`mysql://`) |
//! | `redis` | events, sessions and throttles in Redis when a Redis URL is set |
//! | `local-idp` (default) | email and password accounts, JWTs, login throttles |
//! | `memory` | in-memory users and sessions (`memory:`), for tests |
//! | `http` | the framework-neutral web layer and `Stack` (on with either framework) |
//!
//! With no feature at all, the crate is [`auth_core`] and its [`prelude`]
//! types. Each backend crate is re-exported under its own name
//! (`live_auth::auth_store_seaorm`, `live_auth::auth_channel_redis`, ...), with
//! its driver (`sea_orm`, `fred`), so an app uses the matching versions.
//!
//! # From the environment
//!
//! `Stack::from_env` reads `LOCAL_AUTH_DB` (default
//! `sqlite://./local-auth.db`), `REDIS_URL` and `REDIS_PREFIX` (Redis when
//! set), `LOCAL_IDP_SECRET` and `AUTH_SESSION_SECRET` (each at least 32
//! bytes; unset, a key for this run only, with a warning). It refuses a
//! short secret, a URL it cannot read or a database whose feature is off,
//! with a message naming the variable and never the secret or a password:
//!
//! ```
//! # #[cfg(feature = "http")] {
//! use live_auth::{ConfigError, StackBuilder};
//!
//! let error = StackBuilder::from_lookup(|name| {
//!     (name == "LOCAL_IDP_SECRET").then(|| "short".to_owned())
//! })
//! .unwrap_err();
//! assert!(matches!(error, ConfigError::ShortSecret("LOCAL_IDP_SECRET")));
//! assert_eq!(
//!     error.to_string(),
//!     "LOCAL_IDP_SECRET must be at least 32 bytes (e.g. `openssl rand -hex 32`)"
//! );
//! # }
//! ```
//!
//! # An axum app
//!
//! ```no_run
//! # #[cfg(all(feature = "axum", feature = "local-idp"))] mod app {
//! use live_auth::axum::{axum, prelude::*};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let auth = Stack::from_env().await?.live_auth().with_secure_cookie(false).build()?;
//!     let app = axum::Router::new()
//!         .route("/", axum::routing::get(|RequireUser(user): RequireUser| async move {
//!             format!("Hello, {}", user.display_name().unwrap_or("you"))
//!         }))
//!         .merge(auth.router())
//!         .layer(auth.layer());
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//!     axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
//!         .await?;
//!     Ok(())
//! }
//! # }
//! # fn main() {}
//! ```
//!
//! The guide `docs/first-app.md` grows this into an app with a register
//! form, for axum and for actix-web.

#[cfg(feature = "http")]
mod config;
#[cfg(feature = "http")]
mod stack;

#[cfg(feature = "actix")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "http")]
mod mail;
#[cfg(feature = "oidc")]
mod oidc;
pub mod prelude;

#[cfg(feature = "http")]
pub use config::{
    ConfigError, DATABASE_VAR, DEFAULT_DATABASE_URL, DEFAULT_REDIS_PREFIX, DEFAULT_SMTP_FROM,
    IDP_SECRET_VAR, MIN_SECRET_LEN, PUBLIC_URL_VAR, REDIS_PREFIX_VAR, REDIS_URL_VAR,
    SESSION_SECRET_VAR, SMTP_FROM_VAR, SMTP_URL_VAR, StackBuilder, redact_url,
};
#[cfg(feature = "http")]
pub use stack::{Stack, StackError};

#[cfg(feature = "memory")]
pub use auth_channel_memory;
#[cfg(feature = "redis")]
pub use auth_channel_redis;
pub use auth_core;
#[cfg(feature = "http")]
pub use auth_http;
#[cfg(feature = "local-idp")]
pub use auth_local_idp;
#[cfg(feature = "smtp")]
pub use auth_mail_smtp;
#[cfg(feature = "oidc")]
pub use auth_oidc;
#[cfg(feature = "redis")]
pub use auth_redis;
#[cfg(feature = "redis")]
pub use auth_session_redis;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use auth_store_seaorm;
#[cfg(feature = "redis")]
pub use auth_throttle_redis;

/// The workspace README's example, compiled as a doctest so the README
/// never drifts from the API.
#[cfg(all(doctest, feature = "axum", feature = "sqlite", feature = "local-idp"))]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
