//! Run with: `cargo run` (axum + SQLite), then open
//! <http://127.0.0.1:8000>. `cargo run --no-default-features --features
//! actix-sqlite` serves the same app on actix-web; `--features
//! axum-postgres-redis` on PostgreSQL and Redis (set `LOCAL_AUTH_DB` and
//! `REDIS_URL`).
//!
//! The stack reads `LOCAL_AUTH_DB` (default `sqlite://./local-auth.db`),
//! `REDIS_URL`, `REDIS_PREFIX`, `LOCAL_IDP_SECRET` and `AUTH_SESSION_SECRET`
//! (32+ bytes each: `openssl rand -hex 32`); this app reads `BIND_ADDR`
//! (default `127.0.0.1:8000`).

#[cfg(feature = "actix")]
mod actix_app;
#[cfg(feature = "axum")]
mod axum_app;

use std::process::ExitCode;

/// The sign-in page guards send visitors to (`/login_local`).
const LOGIN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Register</h1>
<form method="post" action="/auth/local/register">
  <input type="hidden" name="next" value="/">
  <label>Email <input name="email" type="email" required></label>
  <label>Password <input name="password" type="password" minlength="8" required></label>
  <button>Register</button>
</form>
<h1>Sign in</h1>
<form method="post" action="/auth/local/login">
  <input type="hidden" name="next" value="/">
  <label>Email <input name="email" type="email" required></label>
  <label>Password <input name="password" type="password" required></label>
  <button>Sign in</button>
</form>
</body></html>
"#;

/// `BIND_ADDR`, default `127.0.0.1:8000`.
fn bind_addr() -> String {
    std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned())
}

fn main() -> ExitCode {
    #[cfg(feature = "axum")]
    let served = axum_app::main();
    #[cfg(all(feature = "actix", not(feature = "axum")))]
    let served = actix_app::main();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The stack's errors name the variable at fault, never a secret.
            eprintln!("first-app: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  because: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}
