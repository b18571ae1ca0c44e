//! Setup mistakes that weaken the stack are said once, loudly: no session
//! secret, no peer address, a `Secure` cookie a browser on plain HTTP will
//! drop.
#![cfg(feature = "local-idp")]

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth_channel_memory::MemoryChannel;
use auth_core::SessionConfig;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_http::auth_local_idp::{Argon2Hasher, LocalIdP, TokenIssuer};
use auth_http::{AuthRequest, LiveAuth, RequestBody, Route};
use bytes::Bytes;
use http::{HeaderMap, Method};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn live_auth(session: SessionConfig, secure_cookie: bool) -> LiveAuth {
    let store = Arc::new(MemoryStore::new());
    let tokens = TokenIssuer::hs256(b"a test secret that is long enough, 32+ bytes")
        .build()
        .expect("issuer");
    let hasher = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .build()
        .expect("hasher");
    let idp = LocalIdP::builder(store.clone(), tokens)
        .with_hasher(hasher)
        .build()
        .expect("provider");
    LiveAuth::builder(
        store,
        Arc::new(MemorySessionBackend::new()),
        Arc::new(MemoryChannel::new()),
    )
    .with_local_idp(Arc::new(idp))
    .with_session_config(session)
    .with_secure_cookie(secure_cookie)
    .build()
    .expect("valid settings")
}

/// A login post from a browser at `origin` (also the `Host`), without a
/// peer address.
fn login_from(auth: &LiveAuth, host: &str) -> AuthRequest {
    let mut headers = HeaderMap::new();
    headers.insert("host", host.parse().expect("header"));
    headers.insert("origin", format!("http://{host}").parse().expect("header"));
    headers.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().expect("header"),
    );
    let body = Bytes::from_static(b"email=ada%40example.com&password=wrong+password");
    AuthRequest::new(
        auth,
        Method::POST,
        "/auth/local/login".parse().expect("uri"),
        headers,
    )
    .with_body(RequestBody::Bytes(body))
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[tokio::test(flavor = "current_thread")]
async fn weakening_setups_are_each_said_once() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let auth = live_auth(SessionConfig::new(), true);
    for _ in 0..3 {
        auth.handle(Route::LocalLogin, login_from(&auth, "192.0.2.10:8000"))
            .await;
    }
    let logs = captured.text();
    assert_eq!(count(&logs, "no session secret is set"), 1, "{logs}");
    assert_eq!(
        count(&logs, "does not pass the connection's peer address"),
        1,
        "{logs}"
    );
    assert_eq!(count(&logs, "will drop the cookie"), 1, "{logs}");
    assert!(logs.contains("http://192.0.2.10:8000"), "{logs}");

    // None of them where the setup is sound: a secret, the peer address,
    // and a loopback browser (or no `Secure` cookie).
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let secret = "another test secret, long enough: 32+ bytes";
    let auth = live_auth(SessionConfig::new().with_secret(secret), true);
    let peer = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    auth.handle(
        Route::LocalLogin,
        login_from(&auth, "127.0.0.1:8000").with_peer(peer),
    )
    .await;
    let insecure = live_auth(SessionConfig::new().with_secret(secret), false);
    insecure
        .handle(
            Route::LocalLogin,
            login_from(&insecure, "192.0.2.10:8000").with_peer(peer),
        )
        .await;
    let logs = captured.text();
    assert!(!logs.contains("WARN"), "{logs}");
}
