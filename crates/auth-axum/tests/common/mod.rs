//! A test app over the memory backends, served on a loopback port.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_axum::auth_local_idp::{Argon2Hasher, LocalIdP, MemoryThrottle, TokenIssuer};
use auth_axum::{
    Auth, CurrentUser, Guard, LiveAuth, LiveAuthExt, LivePage, Region, RequireUser, escape_html,
};
use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{NewUser, Policies, Policy, Principal, SessionKey};
use axum::Router;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};

pub struct TestApp {
    pub auth: LiveAuth,
    pub router: Router,
}

pub fn app() -> TestApp {
    app_with(|builder| builder)
}

pub fn app_with(
    configure: impl FnOnce(auth_axum::LiveAuthBuilder) -> auth_axum::LiveAuthBuilder,
) -> TestApp {
    let auth = app_with_result(configure).expect("valid test settings");
    router_for(auth)
}

pub fn app_with_result(
    configure: impl FnOnce(auth_axum::LiveAuthBuilder) -> auth_axum::LiveAuthBuilder,
) -> Result<LiveAuth, auth_axum::ConfigError> {
    let page = LivePage::new("live")
        .with_guard(Guard::login_required())
        .with_region(Region::new("claims", |p: &Principal| {
            let claims: Vec<String> = p
                .claims()
                .iter()
                .map(|c| format!("{}={}", escape_html(&c.kind), escape_html(&c.value)))
                .collect();
            claims.join(",")
        }))
        .with_region(
            Region::new("admin", |_| "SECRET admin content".to_owned())
                .with_policy("AdminOnly")
                .otherwise(|_| "admin content hidden".to_owned()),
        );
    let admin_page = LivePage::new("admin").with_guard(Guard::policy("AdminOnly"));
    let store = Arc::new(MemoryStore::new());
    let builder = LiveAuth::builder(
        store.clone(),
        Arc::new(MemorySessionBackend::new()),
        Arc::new(MemoryChannel::new()),
    )
    .with_local_idp(Arc::new(local_idp(store)))
    .with_secure_cookie(false)
    .with_policies(Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin"))))
    .with_page(page)
    .with_page(admin_page)
    .with_session_check_interval(Duration::from_millis(200));
    configure(builder).build()
}

fn router_for(auth: LiveAuth) -> TestApp {
    let show = auth.clone();
    let admin_only = Router::new()
        .route("/admin", get(|| async { "admin page" }))
        .layer(auth.guard(Guard::policy("AdminOnly")));
    let router = Router::new()
        .route(
            "/live",
            get(move |RequireUser(user): RequireUser| async move {
                let page = show.page("live").expect("registered");
                let admin = page
                    .render_region(&show, "admin", &user)
                    .unwrap_or_default();
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
            post(|auth: Auth| async move {
                match auth.grant("role", "admin").await {
                    Ok(_) => Redirect::to("/live"),
                    Err(_) => Redirect::to("/live?error=unknown"),
                }
            }),
        )
        .merge(admin_only)
        .merge(auth.router())
        .layer(auth.layer());
    TestApp { auth, router }
}

/// Tiny Argon2 parameters (tests only) and a throttle of 5 attempts a
/// minute per email.
pub fn local_idp(store: Arc<MemoryStore>) -> LocalIdP {
    let tokens = TokenIssuer::hs256(SECRET).build().expect("32-byte secret");
    let hasher = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .build()
        .expect("valid parameters");
    LocalIdP::builder(store, tokens)
        .with_hasher(hasher)
        .with_email_throttle(Arc::new(MemoryThrottle::new(5, Duration::from_secs(60))))
        .build()
        .expect("valid provider")
}

pub const SECRET: &[u8] = b"a test secret that is long enough, 32+ bytes";

/// A signed-in user; returns the `Cookie` header value and the session key.
pub async fn sign_in(app: &TestApp, user_id: &str) -> (String, SessionKey) {
    let store = app.auth.actions().store();
    let user = match store.get_user(user_id).await.expect("store works") {
        Some(user) => user,
        None => store
            .create_user(NewUser::new(user_id).with_name(format!("name of {user_id}")))
            .await
            .expect("user created"),
    };
    let (token, session) = app
        .auth
        .sessions()
        .sign_in(None, Principal::for_user(&user))
        .await
        .expect("signed in");
    (
        format!("{}={}", app.auth.cookie_name(), token.as_str()),
        session.key,
    )
}

/// Serves the app on a loopback port.
pub async fn serve(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let addr = listener.local_addr().expect("bound");
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server runs");
    });
    addr
}
