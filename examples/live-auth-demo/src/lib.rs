//! The live-auth demo on axum, as a library, so its tests build the same
//! app `main` serves. The settings, wiring, pages and actions are shared
//! with the actix-web demo (`live-auth-demo-shared`); this file is only
//! axum's routing.

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::{get, post};
use live_auth::axum::{
    Auth, CurrentUser, LiveAuth, LiveAuthExt, RequireUser, SameOrigin, SecureHeadersLayer,
};
use live_auth_demo_shared::account_pages::{self, PageQuery};
use live_auth_demo_shared::{actions, pages};
use serde::Deserialize;

pub use live_auth_demo_shared::{Settings, SettingsError, StartError, build, redact_url, settings};

use live_auth::axum::axum;

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
    next: Option<String>,
    done: Option<String>,
}

fn axum_response(response: live_auth::axum::auth_http::Response) -> Response {
    response.map(Body::from)
}

/// A `GET` route for one of the account pages anyone may open.
fn account_page(
    page: fn(&live_auth::auth_core::Principal, &PageQuery) -> String,
) -> axum::routing::MethodRouter {
    get(
        move |CurrentUser(user): CurrentUser, Query(q): Query<PageQuery>| async move {
            axum_response(actions::html(page(&user, &q)))
        },
    )
}

/// The demo's routes around the adapter's, behind the auth layer (which
/// marks every page that read the session `no-store`) and the secure
/// browser headers (a strict CSP: no inline script anywhere).
pub fn router(auth: &LiveAuth) -> Router {
    Router::new()
        .route(
            "/",
            get(|CurrentUser(user): CurrentUser| async move {
                axum_response(actions::html(pages::home(&user)))
            }),
        )
        .route(
            "/register",
            get(
                |CurrentUser(user): CurrentUser, Query(q): Query<ErrorQuery>| async move {
                    axum_response(actions::html(pages::register(&user, q.error.as_deref())))
                },
            ),
        )
        .route(
            "/login_local",
            get(|auth: Auth, Query(q): Query<ErrorQuery>| async move {
                axum_response(actions::html(pages::login(
                    auth.principal(),
                    &auth.live_auth().oidc_providers(),
                    q.error.as_deref(),
                    q.next.as_deref(),
                    q.done.as_deref(),
                )))
            }),
        )
        .route(
            "/forgot-password",
            account_page(account_pages::forgot_password),
        )
        .route(
            "/reset-password",
            account_page(account_pages::reset_password),
        )
        .route("/verify-email", account_page(account_pages::verify_email))
        .route("/confirm-email", account_page(account_pages::confirm_email))
        .route(
            "/account",
            get(
                |RequireUser(user): RequireUser, Query(q): Query<PageQuery>| async move {
                    axum_response(actions::html(account_pages::account(&user, &q)))
                },
            ),
        )
        .route(
            "/live",
            get(|RequireUser(user): RequireUser, auth: Auth| async move {
                axum_response(actions::live(&auth, &user))
            }),
        )
        .route(
            "/profile",
            get(
                |_: RequireUser, auth: Auth, Query(q): Query<ErrorQuery>| async move {
                    axum_response(actions::profile(&auth, q.error.as_deref()).await)
                },
            ),
        )
        .route(
            "/live/grant-admin",
            post(|_: SameOrigin, _: RequireUser, auth: Auth| async move {
                axum_response(actions::grant_admin(&auth).await)
            }),
        )
        .route(
            "/live/revoke-admin",
            post(|_: SameOrigin, _: RequireUser, auth: Auth| async move {
                axum_response(actions::revoke_admin(&auth).await)
            }),
        )
        .route(
            "/live/sign-out",
            post(|_: SameOrigin, auth: Auth| async move {
                axum_response(actions::sign_out(&auth).await)
            }),
        )
        .route(
            "/live/sign-out-everywhere",
            post(|_: SameOrigin, _: RequireUser, auth: Auth| async move {
                axum_response(actions::sign_out_everywhere(&auth).await)
            }),
        )
        .route(
            "/style.css",
            get(|| async { axum_response(actions::style()) }),
        )
        .merge(auth.router())
        .layer(auth.layer())
        .layer(SecureHeadersLayer::new(
            live_auth_demo_shared::secure_headers(auth),
        ))
}
