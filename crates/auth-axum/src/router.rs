//! The routes the adapter serves under its prefix.

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};

use crate::config::LiveAuth;
use crate::live::{CLIENT_JS, live_socket};

impl LiveAuth {
    /// The adapter's routes, under the prefix: `GET {prefix}/live` (the
    /// WebSocket), `GET {prefix}/live.js` (its client) and, with the
    /// `local-idp` feature and a provider configured, the five
    /// `POST {prefix}/local/*` routes. Merge it into the
    /// app: `app.merge(auth.router())`. The routes load the session
    /// themselves, so they work with or without [`LiveAuth::layer`].
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let prefix = self.prefix();
        let router = Router::new()
            .route(&format!("{prefix}/live"), get(live_socket))
            .route(&format!("{prefix}/live.js"), get(client_js));
        #[cfg(feature = "local-idp")]
        let router = router.merge(local_routes(prefix));
        router.with_state(self.clone())
    }
}

/// The local identity provider's routes; they answer 404 when no provider
/// is configured.
#[cfg(feature = "local-idp")]
fn local_routes(prefix: &str) -> Router<LiveAuth> {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;

    use crate::local::{MAX_FORM_BYTES, login, register, revoke, token, verify_token};

    Router::new()
        .route(&format!("{prefix}/local/register"), post(register))
        .route(&format!("{prefix}/local/login"), post(login))
        .route(&format!("{prefix}/local/token"), post(token))
        .route(&format!("{prefix}/local/verify-token"), post(verify_token))
        .route(&format!("{prefix}/local/revoke"), post(revoke))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

async fn client_js() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        CLIENT_JS,
    )
}
