//! The adapter behaviour suite (`auth-adapter-suite`) against axum, over
//! real TCP.

use std::net::SocketAddr;

use auth_adapter_suite::{Adapter, adapter_suite};
use auth_axum::{
    Auth, CurrentUser, Guard, LiveAuth, LiveAuthExt, RequireUser, SameOrigin, SecureHeaders,
    SecureHeadersLayer,
};
use axum::Router;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};

struct Axum;

impl Adapter for Axum {
    fn serve_on(auth: LiveAuth, listener: std::net::TcpListener) -> SocketAddr {
        let show = auth.clone();
        let admin_only = Router::new()
            .route("/admin", get(|| async { "admin page" }))
            .layer(auth.guard(Guard::policy("AdminOnly")));
        let router = Router::new()
            .route(
                "/live",
                get(move |RequireUser(user): RequireUser| async move {
                    let page = show.page("live").expect("registered");
                    let admin = page.render_region(&show, "admin", &user);
                    Html(format!("{admin}{}", page.script_tag(&show)))
                }),
            )
            .route(
                "/whoami",
                get(|CurrentUser(user): CurrentUser| async move {
                    user.display_name().unwrap_or("anonymous").to_owned()
                }),
            )
            .route(
                "/grant",
                post(|_: SameOrigin, auth: Auth| async move {
                    match auth.grant("role", "admin").await {
                        Ok(_) => Redirect::to("/live"),
                        Err(_) => Redirect::to("/live?error=unknown"),
                    }
                }),
            )
            .merge(admin_only)
            .merge(auth.router())
            .layer(auth.layer())
            .layer(SecureHeadersLayer::new(SecureHeaders::new()));
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("bound");
        let listener = tokio::net::TcpListener::from_std(listener).expect("in the runtime");
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("server runs");
        });
        addr
    }
}

adapter_suite!(Axum);
