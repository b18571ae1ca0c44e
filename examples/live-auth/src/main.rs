//! Run with: `cargo run -p live-auth`, then open <http://127.0.0.1:8000>.
//!
//! Settings come from the environment (a `.env` file is read first):
//! `BIND_ADDR` (default `127.0.0.1:8000`), `LOCAL_AUTH_DB` (default
//! `sqlite://./local-auth.db`), `LOCAL_IDP_SECRET` and `AUTH_SESSION_SECRET`
//! (each generated for the run when unset), `COOKIE_SECURE` (`true` behind
//! HTTPS), `REDIS_URL` and `REDIS_PREFIX` (several workers).

use std::process::ExitCode;

use live_auth::{Settings, build, router, settings::redact_url};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let settings = match Settings::from_lookup(|name| std::env::var(name).ok()) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, "refusing to start");
            return ExitCode::FAILURE;
        }
    };
    if settings.generated_secret {
        tracing::warn!(
            "LOCAL_IDP_SECRET is not set: using a random secret for this run only (DEV MODE). \
             Tokens will not survive a restart. Set it with `openssl rand -hex 32` for real use."
        );
    }
    if settings.generated_session_secret {
        tracing::warn!(
            "AUTH_SESSION_SECRET is not set: using a random secret for this run only (DEV MODE). \
             Sessions will not survive a restart. Set it with `openssl rand -hex 32` for real use."
        );
    }
    if !settings.secure_cookies {
        tracing::warn!(
            "the session cookie is not `Secure` (plain HTTP demo); set COOKIE_SECURE=true behind HTTPS"
        );
    }
    let auth = match build(&settings).await {
        Ok(auth) => auth,
        Err(error) => {
            tracing::error!(error = %error, source = ?std::error::Error::source(&error), "refusing to start");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(settings.bind).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %settings.bind, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let app = router(&auth).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tracing::info!(
        database = %redact_url(&settings.database_url),
        "live-auth demo on http://{}  (open /live in two tabs)",
        settings.bind
    );
    // Ctrl-C ends the process at once: open live sockets would otherwise
    // hold a graceful shutdown forever, and the tabs reconnect anyway.
    tokio::select! {
        served = axum::serve(listener, app) => {
            if let Err(error) = served {
                tracing::error!(%error, "server failed");
                return ExitCode::FAILURE;
            }
        }
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
    }
    ExitCode::SUCCESS
}

use auth_axum::axum;
