//! Run with: `cargo run -p live-auth-demo-actix`, then open
//! <http://127.0.0.1:8000>.
//!
//! The same demo as `cargo run -p live-auth-demo`, served by actix-web, with the
//! same settings from the environment (a `.env` file is read first):
//! `BIND_ADDR` (default `127.0.0.1:8000`), `LOCAL_AUTH_DB` (default
//! `sqlite://./local-auth.db`), `LOCAL_IDP_SECRET` and `AUTH_SESSION_SECRET`
//! (each generated for the run when unset), `COOKIE_SECURE` (`true` behind
//! HTTPS), `REDIS_URL` and `REDIS_PREFIX` (several workers), `APP_BASE_URL`
//! (the links in account mail; default `http://` + `BIND_ADDR`), `SMTP_URL`
//! (e.g. `smtp://127.0.0.1:1025`; unset: account mail goes to the log) and
//! `SMTP_FROM`.

use std::process::ExitCode;

use actix_web::HttpServer;
use live_auth_demo_actix::{Settings, app, build, redact_url};
use tracing_subscriber::EnvFilter;

#[actix_web::main]
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
    let factory = move || app(&auth);
    let server = match HttpServer::new(factory).bind(settings.bind) {
        // Ctrl-C ends the process at once: open live sockets would otherwise
        // hold a graceful shutdown for its whole timeout.
        Ok(server) => server.shutdown_timeout(0).run(),
        Err(error) => {
            tracing::error!(%error, addr = %settings.bind, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        database = %redact_url(settings.stack.database_url()),
        "live-auth demo (actix-web) on http://{}  (open /live in two tabs)",
        settings.bind
    );
    if let Err(error) = server.await {
        tracing::error!(%error, "server failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
