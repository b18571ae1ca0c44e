//! The live-auth demo on axum, as a library, so its tests build the same
//! app `main` serves. The settings, wiring, pages and actions are shared
//! with the actix-web demo (`live-auth-demo-shared`); this file is only
//! axum's routing.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{get, post};
use live_auth::axum::{
    Auth, CurrentUser, Guard, LiveAuth, LiveAuthExt, RequireUser, SameOrigin, SecureHeadersLayer,
};
use live_auth_demo_shared::account_pages::{self, PageQuery};
use live_auth_demo_shared::admin_pages::AdminQuery;
use live_auth_demo_shared::{actions, pages, security_pages};
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

/// `/admin` and `/admin/users/{id}`, behind the `AdminOnly` guard
/// (anonymous: the login page; signed in without admin: 403).
fn admin_console(auth: &LiveAuth) -> Router {
    Router::new()
        .route(
            "/admin",
            get(|auth: Auth, Query(q): Query<AdminQuery>| async move {
                axum_response(actions::admin_users(&auth, &q).await)
            }),
        )
        .route(
            "/admin/users/{id}",
            get(
                |auth: Auth, Path(id): Path<String>, Query(q): Query<AdminQuery>| async move {
                    axum_response(actions::admin_user(&auth, &id, &q).await)
                },
            ),
        )
        .layer(auth.guard(Guard::policy("AdminOnly")))
}

/// The second factors' pages: the security page, the second step of
/// logging in and the step-up page.
fn security_routes() -> Router {
    Router::new()
        .route(
            "/profile/security",
            get(
                |_: RequireUser, auth: Auth, Query(q): Query<PageQuery>| async move {
                    axum_response(actions::security(&auth, &q).await)
                },
            ),
        )
        .route(
            "/login/second-factor",
            get(
                |CurrentUser(user): CurrentUser, Query(q): Query<ErrorQuery>| async move {
                    axum_response(actions::html(security_pages::second_factor(
                        &user,
                        q.next.as_deref(),
                        q.error.as_deref(),
                    )))
                },
            ),
        )
        .route(
            "/step-up",
            get(
                |RequireUser(user): RequireUser, Query(q): Query<ErrorQuery>| async move {
                    axum_response(actions::html(security_pages::step_up(
                        &user,
                        q.next.as_deref(),
                        q.error.as_deref(),
                    )))
                },
            ),
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
        .merge(admin_console(auth))
        .merge(security_routes())
        .merge(auth.router())
        .layer(auth.layer())
        .layer(SecureHeadersLayer::new(
            live_auth_demo_shared::secure_headers(auth),
        ))
}
