//! The behaviour every framework adapter must show, written once.
//!
//! An adapter's test file implements [`Adapter`] (serve a [`LiveAuth`] with
//! the [app contract](Adapter) on a loopback port) and invokes
//! [`adapter_suite!`], which expands to one `#[tokio::test]` per case in
//! [`cases`]. Every case talks to the server over real TCP, as a browser
//! and an attacker would: HTTP/1.1 through `hyper`, WebSockets through
//! `tokio-tungstenite`. Adding an adapter means adding one such file.
//!
//! ```ignore
//! struct Axum;
//! impl auth_adapter_suite::Adapter for Axum {
//!     fn serve(auth: LiveAuth) -> std::net::SocketAddr { /* … */ }
//! }
//! auth_adapter_suite::adapter_suite!(Axum);
//! ```

// A test kit: every case and helper fails by panicking, as tests do.
#![allow(clippy::missing_panics_doc)]

pub mod cases;
pub mod client;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::throttle::MemoryThrottle;
use auth_core::{NewUser, Policies, Policy, Principal, SessionKey};
use auth_http::auth_local_idp::{Argon2Hasher, LocalIdP, LocalIdpBuilder, TokenIssuer};
use auth_http::{
    ConfigError, Guard, LiveAuth, LiveAuthBuilder, LivePage, Region, TargetRegion, escape_html,
};

/// A framework adapter under test.
///
/// `serve` starts a server on `127.0.0.1:0` and returns its address once it
/// accepts connections. The app it serves, behind the adapter's session
/// layer and [`auth_http::SecureHeaders::new`], is:
///
/// | route | answer |
/// | --- | --- |
/// | the adapter's auth routes | at `auth.prefix()` (`/auth`) |
/// | `GET /live` | the signed-in user only: `page("live").render_region(.., "admin", ..)` followed by the page's script tag |
/// | `GET /whoami` | the current user's display name, or `anonymous` |
/// | `POST /grant` | same origin only: grants `role=admin` to the request's principal and answers `303` to `/live` |
/// | `GET /admin` | `admin page`, behind the adapter's guard for `Guard::policy("AdminOnly")` |
pub trait Adapter {
    /// Serves `auth` and the app above on `listener` (bound, blocking or
    /// not); returns its address.
    fn serve_on(auth: LiveAuth, listener: std::net::TcpListener) -> SocketAddr;

    /// Serves `auth` and the app above on a fresh loopback port; returns
    /// the listening address.
    fn serve(auth: LiveAuth) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback port");
        Self::serve_on(auth, listener)
    }
}

/// The test secret for the local IdP's tokens.
pub const SECRET: &[u8] = b"a test secret that is long enough, 32+ bytes";

/// The app's `LiveAuth` over the memory backends: a `live` page with a
/// `claims` region and an `AdminOnly` `admin` region, an `admin` page,
/// an `admin-user` page watching a target user (regions `target-claims`:
/// its claims as `kind=value,…`, and `target-sessions`: how many sessions),
/// the admin console under `AdminOnly` with the store as audit log and
/// directory, the local IdP of [`local_idp`], plain (non-`Secure`) cookies
/// for `http://`, a session check every 200 ms.
pub fn live_auth() -> LiveAuth {
    live_auth_with(|builder| builder).expect("valid test settings")
}

/// [`live_auth`] with more settings: `configure` receives the builder with
/// everything above set and may change or add to it.
pub fn live_auth_with(
    configure: impl FnOnce(LiveAuthBuilder) -> LiveAuthBuilder,
) -> Result<LiveAuth, ConfigError> {
    live_auth_on(Arc::new(MemoryStore::new()), configure)
}

/// [`live_auth_with`] over a store the caller keeps too (to hand the same
/// users to second factors or account flows).
pub fn live_auth_on(
    store: Arc<MemoryStore>,
    configure: impl FnOnce(LiveAuthBuilder) -> LiveAuthBuilder,
) -> Result<LiveAuth, ConfigError> {
    let page = LivePage::new("live")
        .with_guard(Guard::login_required())
        .with_region(Region::new("claims", |p: &Principal| {
            claims_text(p.claims())
        }))
        .with_region(
            Region::new("admin", |_| "SECRET admin content".to_owned())
                .with_policy("AdminOnly")
                .otherwise(|_| "admin content hidden".to_owned()),
        );
    let admin_user = LivePage::new("admin-user")
        .with_guard(Guard::policy("AdminOnly"))
        .with_target_region(TargetRegion::new("target-claims", |detail| {
            claims_text(&detail.user.claims)
        }))
        .with_target_region(TargetRegion::new("target-sessions", |detail| {
            format!("{} sessions", detail.sessions.len())
        }));
    let builder = LiveAuth::builder(
        store.clone(),
        Arc::new(MemorySessionBackend::new()),
        Arc::new(MemoryChannel::new()),
    )
    .with_local_idp(Arc::new(
        local_idp(store.clone()).build().expect("valid provider"),
    ))
    .with_secure_cookie(false)
    .with_policies(Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin"))))
    .with_page(page)
    .with_page(LivePage::new("admin").with_guard(Guard::policy("AdminOnly")))
    .with_page(admin_user)
    .with_audit(store.clone())
    .with_admin("AdminOnly", store)
    .with_session_check_interval(Duration::from_millis(200));
    configure(builder).build()
}

/// Claims as `kind=value,…`, escaped.
fn claims_text(claims: &[auth_core::Claim]) -> String {
    let claims: Vec<String> = claims
        .iter()
        .map(|c| format!("{}={}", escape_html(&c.kind), escape_html(&c.value)))
        .collect();
    claims.join(",")
}

/// The local IdP's builder over `store`: HS256 tokens under [`SECRET`],
/// tiny Argon2 parameters (tests only) with a long hashing queue (cases
/// race a few dozen registrations at once) and a throttle of 5 attempts a
/// minute per email. Add to it (an address throttle, a counting hasher)
/// and pass the result to [`live_auth_with`].
pub fn local_idp(store: Arc<MemoryStore>) -> LocalIdpBuilder {
    let tokens = TokenIssuer::hs256(SECRET).build().expect("32-byte secret");
    let hasher = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .with_queue_capacity(1024)
        .build()
        .expect("valid parameters");
    LocalIdP::builder(store, tokens)
        .with_hasher(hasher)
        .with_email_throttle(Arc::new(MemoryThrottle::new(5, Duration::from_secs(60))))
}

/// A server under test and the `LiveAuth` it serves.
pub struct Served {
    /// What the server serves; acting on it is acting as the app.
    pub auth: LiveAuth,
    /// The listening address.
    pub addr: SocketAddr,
}

impl Served {
    /// Serves [`live_auth`] through adapter `A`.
    pub fn start<A: Adapter>() -> Self {
        Self::serve::<A>(live_auth())
    }

    /// Serves `auth` (built with [`live_auth_with`]) through adapter `A`.
    pub fn serve<A: Adapter>(auth: LiveAuth) -> Self {
        let addr = A::serve(auth.clone());
        Self { auth, addr }
    }

    /// `http://{addr}`, the server's own origin.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Signs `user_id` in directly (creating the user); returns the
    /// `Cookie` header value and the session key.
    pub async fn sign_in(&self, user_id: &str) -> (String, SessionKey) {
        let store = self.auth.actions().store();
        let user = match store.get_user(user_id).await.expect("store works") {
            Some(user) => user,
            None => store
                .create_user(NewUser::new(user_id).with_name(format!("name of {user_id}")))
                .await
                .expect("user created"),
        };
        let (token, session) = self
            .auth
            .sessions()
            .sign_in(None, Principal::for_user(&user))
            .await
            .expect("signed in");
        (
            format!("{}={}", self.auth.cookie_name(), token.as_str()),
            session.key,
        )
    }

    /// The principal the session `key` holds now.
    pub async fn principal(&self, key: &SessionKey) -> Principal {
        self.auth
            .sessions()
            .load(key)
            .await
            .expect("session backend works")
            .expect("session exists")
            .record
            .principal
    }
}

/// One `#[tokio::test]` per case in [`cases`], for the adapter type given,
/// in one module per subject (`forms::…`, `pages::…`, `live::…`, `local::…`,
/// `tokens::…`, `hostile::…`, `hostile_sessions::…`, `hostile_tokens::…`,
/// `limits::…`, `account::…`, `admin::…`, `mfa::…`).
#[macro_export]
macro_rules! adapter_suite {
    ($adapter:ty) => {
        $crate::forms_cases!($adapter);
        $crate::pages_cases!($adapter);
        $crate::live_cases!($adapter);
        $crate::local_cases!($adapter);
        $crate::tokens_cases!($adapter);
        $crate::hostile_cases!($adapter);
        $crate::hostile_sessions_cases!($adapter);
        $crate::hostile_tokens_cases!($adapter);
        $crate::limits_cases!($adapter);
        $crate::account_cases!($adapter);
        $crate::admin_cases!($adapter);
        $crate::mfa_cases!($adapter);
        $crate::oidc_cases!($adapter);
    };
    (@module $adapter:ty, $module:ident; $($case:ident),+ $(,)?) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::cases::$module::$case::<$adapter>().await;
                }
            )+
        }
    };
}
