//! Sign-in, link and unlink through a real OpenID Provider (node's
//! `oidc-provider`, started per case), and the hostile callbacks: a
//! missing or altered `state`, no flow cookie, a replayed callback, an
//! unverified email aiming at an existing account, an open redirect in
//! `next`, a link that would move, the last way to sign in.

use std::sync::Arc;

use auth_core::AuthStore;
use auth_core::memory::MemoryStore;
use auth_http::OidcRoutes;
use auth_http::auth_oidc::testkit::TestProvider;
use auth_http::auth_oidc::{ClaimMap, FlowKey, OidcProvider, ProviderConfig};

use crate::client::{Answer, form, get};
use crate::{Adapter, Served, live_auth_on};

/// The provider id the cases use.
const ID: &str = "oidc";

/// An app with one provider, `oidc`, and the provider it talks to.
pub(crate) struct OidcApp {
    pub(crate) served: Served,
    pub(crate) provider: TestProvider,
    pub(crate) store: Arc<MemoryStore>,
}

impl OidcApp {
    /// Serves the suite's app through `A` with the provider `oidc`;
    /// `configure` adjusts its settings.
    pub(crate) async fn start<A: Adapter>(
        configure: impl FnOnce(ProviderConfig) -> ProviderConfig,
    ) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback port");
        let addr = listener.local_addr().expect("bound");
        let redirect = format!("http://{addr}/auth/{ID}/callback");
        let provider = TestProvider::start(std::slice::from_ref(&redirect)).await;
        let store = Arc::new(MemoryStore::new());
        let config = ProviderConfig::issuer(
            ID,
            &provider.issuer,
            &provider.client_id,
            provider.client_secret.as_str(),
            redirect,
        )
        .with_name("Test provider")
        .with_claim_map(ClaimMap::new().map("email_verified", "email_verified"));
        let oidc = OidcProvider::new(configure(config), store.clone()).expect("valid provider");
        let routes = OidcRoutes::new(FlowKey::new("f".repeat(32)).expect("long key"))
            .with_provider(Arc::new(oidc));
        let auth = live_auth_on(store.clone(), |builder| builder.with_oidc(routes))
            .expect("valid settings");
        let served = Served {
            addr: A::serve_on(auth.clone(), listener),
            auth,
        };
        Self {
            served,
            provider,
            store,
        }
    }

    /// `GET /auth/oidc/login?next=...`: the provider URL and the flow
    /// cookie.
    pub(crate) async fn login(&self, next: &str) -> (String, String) {
        let path = format!("/auth/{ID}/login?next={}", encode(next));
        let answer = get(self.served.addr, &path, None).await;
        assert_eq!(answer.status, 303, "{answer:?}");
        assert!(
            answer.location().starts_with(&self.provider.issuer),
            "{answer:?}"
        );
        assert!(
            answer.header("set-cookie").contains("HttpOnly"),
            "{answer:?}"
        );
        (answer.location().to_owned(), answer.cookie())
    }

    /// The provider's answer for `login`, as a path on the app.
    pub(crate) async fn authorize(&self, url: &str, login: &str) -> String {
        let back = self.provider.authorize(url, login).await;
        let prefix = format!("http://{}", self.served.addr);
        back.strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("sent back to {back}"))
            .to_owned()
    }

    /// The app's answer to the callback `path` with `cookie`.
    pub(crate) async fn callback(&self, path: &str, cookie: &str) -> Answer {
        get(self.served.addr, path, Some(cookie)).await
    }

    /// A whole sign-in as `login`, going to `next`: the final answer.
    pub(crate) async fn sign_in(&self, login: &str, next: &str) -> Answer {
        let (url, flow) = self.login(next).await;
        let back = self.authorize(&url, login).await;
        self.callback(&back, &flow).await
    }

    /// A same-origin form post to `/auth/oidc/{action}` as `cookie`.
    pub(crate) async fn post(&self, action: &str, cookie: &str, next: &str) -> Answer {
        form(
            self.served.addr,
            &format!("/auth/{ID}/{action}"),
            &[("next", next)],
            &[("cookie", cookie), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// A whole link of `login` to the user of `cookie`: the final answer.
    pub(crate) async fn link(&self, cookie: &str, login: &str) -> Answer {
        let start = self.post("link", cookie, "/profile").await;
        assert_eq!(start.status, 303, "{start:?}");
        assert!(
            start.location().starts_with(&self.provider.issuer),
            "{start:?}"
        );
        let back = self.authorize(start.location(), login).await;
        let both = format!("{cookie}; {}", start.cookie());
        self.callback(&back, &both).await
    }

    /// The user the identity `login` is linked to.
    pub(crate) async fn owner(&self, login: &str) -> Option<String> {
        self.store
            .find_by_provider(ID, login)
            .await
            .expect("store works")
            .map(|user| user.user_id)
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The first sign-in creates a user and its link (with the mapped claims
/// and a fresh session); the next one signs in as the same user.
pub async fn first_sign_in_creates_the_user_and_the_link<A: Adapter>() {
    let app = OidcApp::start::<A>(|config| config).await;
    let answer = app.sign_in("alice", "/live").await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(answer.location(), "/live");
    let session = answer.cookie();
    assert!(
        session.starts_with(&format!("{}=", app.served.auth.cookie_name())),
        "{answer:?}"
    );
    let whoami = get(app.served.addr, "/whoami", Some(&session)).await.body;
    assert_eq!(whoami, "User alice");
    let user_id = app.owner("alice").await.expect("linked");
    assert!(user_id.starts_with("oidc:"), "{user_id}");
    let user = app
        .store
        .get_user(&user_id)
        .await
        .expect("as the case set up")
        .expect("as the case set up");
    assert_eq!(user.email.as_deref(), Some("alice@example.com"));
    let links = app
        .store
        .links_of(&user_id)
        .await
        .expect("as the case set up");
    assert_eq!(links.len(), 1);
    assert_eq!(
        links[0].claims,
        vec![auth_core::Claim::new("email_verified", "true")]
    );
    let again = app.sign_in("alice", "/").await;
    assert_eq!(again.status, 303, "{again:?}");
    assert_ne!(again.cookie(), session, "every sign-in is a new session");
    assert_eq!(app.owner("alice").await.as_deref(), Some(user_id.as_str()));
}

/// A callback whose `state` is altered or missing, or that comes without
/// the flow cookie, or with a forged one, signs nobody in.
pub async fn callbacks_without_this_browsers_state_are_refused<A: Adapter>() {
    let app = OidcApp::start::<A>(|config| config).await;
    let (url, flow) = app.login("/live").await;
    let back = app.authorize(&url, "bob").await;
    let state = url::Url::parse(&format!("http://x{back}"))
        .expect("as the case set up")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state");
    let altered = back.replace(&format!("state={state}"), "state=attacker");
    let missing = back.replace(&format!("state={state}"), "");
    let forged = flow.replace('.', ".x");
    for (path, cookie) in [
        (altered.as_str(), flow.as_str()),
        (missing.as_str(), flow.as_str()),
        (back.as_str(), ""),
        (back.as_str(), forged.as_str()),
    ] {
        let answer = app.callback(path, cookie).await;
        assert_eq!(answer.status, 303, "{answer:?}");
        assert_eq!(
            answer.location(),
            "/login_local?error=state",
            "{path} {cookie}"
        );
        let session = format!("{}=", app.served.auth.cookie_name());
        assert!(!answer.cookie().starts_with(&session), "{answer:?}");
    }
    assert_eq!(app.owner("bob").await, None, "nobody was created");
}

/// A callback replayed with the same flow cookie is refused: each flow
/// state is used once.
pub async fn a_replayed_callback_is_refused<A: Adapter>() {
    let app = OidcApp::start::<A>(|config| config).await;
    let (url, flow) = app.login("/live").await;
    let back = app.authorize(&url, "carol").await;
    let first = app.callback(&back, &flow).await;
    assert_eq!(first.location(), "/live", "{first:?}");
    let cleared = first
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.starts_with("live_auth_oidc=;") && value.contains("Max-Age=0"));
    assert!(cleared, "the callback clears the flow cookie: {first:?}");
    let replay = app.callback(&back, &flow).await;
    assert_eq!(replay.location(), "/login_local?error=state", "{replay:?}");
}

/// An unverified email never joins the account that has that address,
/// even when the app lets verified ones do so; a verified one does then,
/// and not without the opt-in.
pub async fn an_unverified_email_cannot_take_over_an_account<A: Adapter>() {
    let app = OidcApp::start::<A>(|config| config.link_verified_email(true)).await;
    for email in ["unverified@example.com", "dora@example.com"] {
        let registered = form(
            app.served.addr,
            "/auth/local/register",
            &[
                ("email", email),
                ("password", "correct horse battery"),
                ("next", "/"),
            ],
            &[],
        )
        .await;
        assert_eq!(registered.status, 303, "{registered:?}");
    }
    let refused = app.sign_in("unverified@example.com", "/live").await;
    assert_eq!(
        refused.location(),
        "/login_local?error=exists",
        "{refused:?}"
    );
    assert_eq!(app.owner("unverified@example.com").await, None);
    let joined = app.sign_in("dora@example.com", "/live").await;
    assert_eq!(joined.location(), "/live", "{joined:?}");
    let local = app
        .store
        .find_by_provider("local", "dora@example.com")
        .await
        .expect("as the case set up")
        .expect("as the case set up");
    assert_eq!(app.owner("dora@example.com").await, Some(local.user_id));

    let strict = OidcApp::start::<A>(|config| config).await;
    let registered = form(
        strict.served.addr,
        "/auth/local/register",
        &[
            ("email", "erin@example.com"),
            ("password", "correct horse battery"),
        ],
        &[],
    )
    .await;
    assert_eq!(registered.status, 303);
    let refused = strict.sign_in("erin@example.com", "/live").await;
    assert_eq!(
        refused.location(),
        "/login_local?error=exists",
        "{refused:?}"
    );
}

/// `next` is followed only when it is a path on this site.
pub async fn next_never_leaves_the_site<A: Adapter>() {
    let app = OidcApp::start::<A>(|config| config).await;
    for hostile in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let answer = app.sign_in("frank", hostile).await;
        assert_eq!(answer.status, 303, "{answer:?}");
        assert_eq!(answer.location(), "/", "{hostile}");
    }
}

/// A signed-in user links the provider and unlinks it again; both need
/// the same origin and a session.
pub async fn a_signed_in_user_links_and_unlinks<A: Adapter>() {
    let app = OidcApp::start::<A>(|config| config).await;
    let registered = form(
        app.served.addr,
        "/auth/local/register",
        &[
            ("email", "gail@example.com"),
            ("password", "correct horse battery"),
        ],
        &[],
    )
    .await;
    let cookie = registered.cookie();
    let linked = app.link(&cookie, "gail-at-provider").await;
    assert_eq!(linked.location(), "/profile", "{linked:?}");
    let local = app
        .store
        .find_by_provider("local", "gail@example.com")
        .await
        .expect("as the case set up")
        .expect("as the case set up");
    assert_eq!(
        app.owner("gail-at-provider").await,
        Some(local.user_id.clone())
    );

    let cross_site = form(
        app.served.addr,
        "/auth/oidc/unlink",
        &[("next", "/profile")],
        &[("cookie", &cookie), ("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(cross_site.status, 403);
    let anonymous = app.post("link", "", "/profile").await;
    assert!(
        anonymous.location().ends_with("error=signed_out"),
        "{anonymous:?}"
    );

    let unlinked = app.post("unlink", &cookie, "/profile").await;
    assert_eq!(unlinked.location(), "/profile", "{unlinked:?}");
    assert_eq!(app.owner("gail-at-provider").await, None);
    let again = app.post("unlink", &cookie, "/profile").await;
    assert!(again.location().ends_with("error=invalid"), "{again:?}");
}

/// The only way a user signs in is never unlinked, and a link never moves
/// to another user.
pub async fn the_last_way_in_stays_and_links_never_move<A: Adapter>() {
    let app = OidcApp::start::<A>(|config| config).await;
    let signed_in = app.sign_in("hank", "/live").await;
    let cookie = signed_in.cookie();
    let owner = app.owner("hank").await.expect("linked");
    let refused = app.post("unlink", &cookie, "/profile").await;
    assert!(
        refused.location().ends_with("error=last_sign_in"),
        "{refused:?}"
    );
    assert_eq!(app.owner("hank").await.as_deref(), Some(owner.as_str()));

    let other = form(
        app.served.addr,
        "/auth/local/register",
        &[
            ("email", "ivy@example.com"),
            ("password", "correct horse battery"),
        ],
        &[],
    )
    .await;
    let moved = app.link(&other.cookie(), "hank").await;
    assert!(
        moved.location().ends_with("error=linked_elsewhere"),
        "{moved:?}"
    );
    assert_eq!(app.owner("hank").await, Some(owner));
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[macro_export]
macro_rules! oidc_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, oidc;
            first_sign_in_creates_the_user_and_the_link,
            callbacks_without_this_browsers_state_are_refused,
            a_replayed_callback_is_refused,
            an_unverified_email_cannot_take_over_an_account,
            next_never_leaves_the_site,
            a_signed_in_user_links_and_unlinks,
            the_last_way_in_stays_and_links_never_move,
        );
    };
}
