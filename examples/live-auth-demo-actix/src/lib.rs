//! The live-auth demo on actix-web, as a library, so its tests build the
//! same app `main` serves. The settings, wiring, pages and actions are
//! shared with the axum demo (`live-auth-demo-shared`); this file is only
//! actix-web's routing.

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use live_auth::actix::{
    Auth, CurrentUser, Guard, LiveAuth, LiveAuthExt, RequireUser, SameOrigin, into_actix,
    secure_headers,
};
use live_auth_demo_shared::account_pages::{self, PageQuery};
use live_auth_demo_shared::admin_pages::AdminQuery;
use live_auth_demo_shared::{actions, pages, security_pages};
use serde::Deserialize;

pub use live_auth_demo_shared::{Settings, SettingsError, StartError, build, redact_url, settings};

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
    next: Option<String>,
    done: Option<String>,
}

/// A `GET` route for one of the account pages anyone may open.
fn account_page(
    page: fn(&live_auth::auth_core::Principal, &PageQuery) -> String,
) -> actix_web::Route {
    web::get().to(
        move |CurrentUser(user): CurrentUser, q: web::Query<PageQuery>| async move {
            into_actix(actions::html(page(&user, &q)))
        },
    )
}

/// `/admin` and `/admin/users/{id}`, behind the `AdminOnly` guard
/// (anonymous: the login page; signed in without admin: 403).
fn admin_console(auth: &LiveAuth) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let guard = move || auth.guard(Guard::policy("AdminOnly"));
    let (list_guard, user_guard) = (guard(), guard());
    move |config| {
        config
            .service(
                web::resource("/admin")
                    .wrap(list_guard)
                    .route(
                        web::get().to(|auth: Auth, q: web::Query<AdminQuery>| async move {
                            into_actix(actions::admin_users(&auth, &q).await)
                        }),
                    ),
            )
            .service(
                web::resource("/admin/users/{id}")
                    .wrap(user_guard)
                    .route(web::get().to(
                        |auth: Auth, id: web::Path<String>, q: web::Query<AdminQuery>| async move {
                            into_actix(actions::admin_user(&auth, &id, &q).await)
                        },
                    )),
            );
    }
}

/// The second factors' pages: the security page, the second step of
/// logging in and the step-up page.
fn security_routes(config: &mut web::ServiceConfig) {
    config
        .route(
            "/profile/security",
            web::get().to(
                |_: RequireUser, auth: Auth, q: web::Query<PageQuery>| async move {
                    into_actix(actions::security(&auth, &q).await)
                },
            ),
        )
        .route(
            "/login/second-factor",
            web::get().to(
                |CurrentUser(user): CurrentUser, q: web::Query<ErrorQuery>| async move {
                    into_actix(actions::html(security_pages::second_factor(
                        &user,
                        q.next.as_deref(),
                        q.error.as_deref(),
                    )))
                },
            ),
        )
        .route(
            "/step-up",
            web::get().to(
                |RequireUser(user): RequireUser, q: web::Query<ErrorQuery>| async move {
                    into_actix(actions::html(security_pages::step_up(
                        &user,
                        q.next.as_deref(),
                        q.error.as_deref(),
                    )))
                },
            ),
        );
}

/// The demo's app: its pages and buttons around the adapter's routes,
/// behind the auth middleware (which marks every page that read the
/// session `no-store`) and the secure browser headers (a strict CSP).
pub fn app(
    auth: &LiveAuth,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody + use<>>,
        Error = actix_web::Error,
        InitError = (),
    > + use<>,
> {
    App::new()
        .route(
            "/",
            web::get().to(|CurrentUser(user): CurrentUser| async move {
                into_actix(actions::html(pages::home(&user)))
            }),
        )
        .route(
            "/register",
            web::get().to(
                |CurrentUser(user): CurrentUser, q: web::Query<ErrorQuery>| async move {
                    into_actix(actions::html(pages::register(&user, q.error.as_deref())))
                },
            ),
        )
        .route(
            "/login_local",
            web::get().to(|auth: Auth, q: web::Query<ErrorQuery>| async move {
                into_actix(actions::html(pages::login(
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
            web::get().to(
                |RequireUser(user): RequireUser, q: web::Query<PageQuery>| async move {
                    into_actix(actions::html(account_pages::account(&user, &q)))
                },
            ),
        )
        .route(
            "/live",
            web::get().to(|RequireUser(user): RequireUser, auth: Auth| async move {
                into_actix(actions::live(&auth, &user))
            }),
        )
        .route(
            "/profile",
            web::get().to(
                |_: RequireUser, auth: Auth, q: web::Query<ErrorQuery>| async move {
                    into_actix(actions::profile(&auth, q.error.as_deref()).await)
                },
            ),
        )
        .route(
            "/live/grant-admin",
            web::post().to(|_: SameOrigin, _: RequireUser, auth: Auth| async move {
                into_actix(actions::grant_admin(&auth).await)
            }),
        )
        .route(
            "/live/revoke-admin",
            web::post().to(|_: SameOrigin, _: RequireUser, auth: Auth| async move {
                into_actix(actions::revoke_admin(&auth).await)
            }),
        )
        .route(
            "/live/sign-out",
            web::post().to(|_: SameOrigin, auth: Auth| async move {
                into_actix(actions::sign_out(&auth).await)
            }),
        )
        .route(
            "/live/sign-out-everywhere",
            web::post().to(|_: SameOrigin, _: RequireUser, auth: Auth| async move {
                into_actix(actions::sign_out_everywhere(&auth).await)
            }),
        )
        .route(
            "/style.css",
            web::get().to(|| async { into_actix(actions::style()) }),
        )
        .configure(admin_console(auth))
        .configure(security_routes)
        .configure(auth.routes_config())
        .wrap(auth.middleware())
        .wrap(secure_headers(&live_auth_demo_shared::secure_headers(auth)))
}
