//! Run with: `cargo run -p live-auth-demo`, then open <http://127.0.0.1:8000>.
//!
//! Settings come from the environment (a `.env` file is read first):
//! `BIND_ADDR` (default `127.0.0.1:8000`), `LOCAL_AUTH_DB` (default
//! `sqlite://./local-auth.db`), `LOCAL_IDP_SECRET` and `AUTH_SESSION_SECRET`
//! (each generated for the run when unset), `COOKIE_SECURE` (`true` behind
//! HTTPS), `REDIS_URL` and `REDIS_PREFIX` (several workers), `APP_BASE_URL`
//! (the links in account mail; default `http://` + `BIND_ADDR`), `SMTP_URL`
//! (e.g. `smtp://127.0.0.1:1025`; unset: account mail goes to the log) and
//! `SMTP_FROM`.

use std::process::ExitCode;

use live_auth_demo::{Settings, build, redact_url, router};
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
    settings.warn_dev_mode();
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
        database = %redact_url(settings.stack.database_url()),
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

use live_auth::axum::axum;
