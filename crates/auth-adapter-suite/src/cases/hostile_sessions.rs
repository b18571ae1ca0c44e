//! Hostile input, part two: the live socket's upgrade checks beyond
//! [`live`](super::live), session fixation, replay after sign-out, mass
//! assignment on registration and the secure cookie. No answer is ever a
//! 5xx.

use std::net::SocketAddr;

use http::{StatusCode, header};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::hostile::{account, location, post, post_form, register, roomy};
use super::whoami;
use crate::client::WAIT;
use crate::{Adapter, Served, live_auth_with};

/// The status of a refused upgrade of page `live` with `headers`; `None`
/// when it succeeded. Fails the test on a 5xx.
async fn upgrade_status(addr: SocketAddr, headers: &[(&'static str, &str)]) -> Option<u16> {
    let mut request = format!("ws://{addr}/auth/live?page=live")
        .into_client_request()
        .expect("valid URL");
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, value.parse().expect("valid header"));
    }
    let result = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("the upgrade was answered in time");
    match result {
        Ok(_) => None,
        Err(WsError::Http(response)) => {
            let status = response.status();
            assert!(!status.is_server_error(), "upgrade answered {status}");
            Some(status.as_u16())
        }
        Err(other) => panic!("expected an HTTP answer, got {other}"),
    }
}

/// Upgrades from another port or refused by Fetch Metadata are 403; the
/// own origin with a session is upgraded.
pub async fn upgrades_from_another_port_or_site_are_refused<A: Adapter>() {
    let served = Served::start::<A>();
    let (session, _) = served.sign_in("local:ws-hostile").await;
    let own = served.origin();
    let addr = served.addr;
    let other_port = format!(
        "http://{}:{}",
        addr.ip(),
        addr.port().wrapping_add(1).max(1)
    );
    for (headers, expected) in [
        (vec![("origin", other_port.as_str())], Some(403)),
        (vec![("sec-fetch-site", "cross-site")], Some(403)),
        (
            vec![("sec-fetch-site", "same-site"), ("origin", own.as_str())],
            Some(403),
        ),
        (vec![("origin", own.as_str())], None),
    ] {
        let mut headers = headers;
        headers.push(("cookie", session.as_str()));
        assert_eq!(
            upgrade_status(addr, &headers).await,
            expected,
            "{headers:?}"
        );
    }
}

/// A planted cookie (chosen or another user's) is never promoted by
/// sign-in: a fresh one is issued and the planted one stays anonymous.
pub async fn a_planted_cookie_is_never_promoted_by_sign_in<A: Adapter>() {
    let served = Served::start::<A>();
    register(&served, "fixed@example.com").await;
    let name = served.auth.cookie_name();
    let chosen = format!("{name}={}", "ab".repeat(32));
    let (attacker, _) = served.sign_in("local:mallory").await;
    for planted in [chosen, attacker] {
        let mut fields = account("fixed@example.com");
        fields.push(("next", "/live"));
        let headers = [("cookie", planted.as_str())];
        let answer = post_form(&served, "/auth/local/login", &fields, &headers).await;
        assert_eq!(location(&answer), "/live", "{answer:?}");
        let fresh = answer.cookie();
        assert_ne!(fresh, planted);
        assert_eq!(whoami(&served, &fresh).await, "Ada");
        assert_eq!(whoami(&served, &planted).await, "anonymous");
    }
}

/// `POST /auth/local/token` with `cookie`.
async fn token(served: &Served, cookie: &str) -> crate::client::Answer {
    post(served, "/auth/local/token", None, "", &[("cookie", cookie)]).await
}

/// After sign-out the old cookie and its token are dead, and replaying the
/// cookie is harmless.
pub async fn after_sign_out_the_old_cookie_and_token_are_dead<A: Adapter>() {
    let served = roomy::<A>();
    let session = register(&served, "replay@example.com").await;
    let issued: Value =
        serde_json::from_str(&token(&served, &session).await.body).expect("JSON token");
    let jwt = issued["token"].as_str().expect("a token").to_owned();
    assert!(issued["decoded"]["sid"].is_string(), "{issued}");
    let check = json!({ "token": jwt }).to_string();
    let verify = async || {
        let path = "/auth/local/verify-token";
        let answer = post(&served, path, Some("application/json"), check.clone(), &[]).await;
        serde_json::from_str::<Value>(&answer.body).expect("JSON answer")["valid"].clone()
    };
    assert_eq!(verify().await, Value::Bool(true));

    let headers = [("cookie", session.as_str())];
    let answer = post_form(&served, "/auth/local/revoke", &[], &headers).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(answer.headers.contains_key("clear-site-data"), "{answer:?}");
    assert_eq!(whoami(&served, &session).await, "anonymous");
    assert_eq!(verify().await, Value::Bool(false));
    let again = post_form(&served, "/auth/local/revoke", &[], &headers).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(
        token(&served, &session).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Fields a registration form must not be able to set.
const SMUGGLED: &[(&str, &str)] = &[
    ("role", "admin"),
    ("email_verified", "on"),
    ("claims", "role=admin"),
    ("claims[role]", "admin"),
    ("user_id", "local:admin"),
    ("id", "local:admin"),
    ("sub", "local:admin"),
    ("admin", "true"),
    ("sid", "00"),
    ("iss", "evil"),
];

/// Registers `email` with [`SMUGGLED`] fields; the decoded token claims.
async fn decoded_after_registering(served: &Served, email: &str) -> Value {
    let mut fields = account(email);
    fields.extend(SMUGGLED);
    let answer = post_form(served, "/auth/local/register", &fields, &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{answer:?}");
    let body: Value =
        serde_json::from_str(&token(served, &answer.cookie()).await.body).expect("JSON token");
    body["decoded"].clone()
}

/// Registration ignores every field it does not allowlist.
pub async fn registration_ignores_every_field_it_does_not_allowlist<A: Adapter>() {
    let served = Served::start::<A>();
    let decoded = decoded_after_registering(&served, "mass@example.com").await;
    assert_eq!(decoded["claims"], json!([]), "{decoded}");
    assert_ne!(decoded["sub"], "local:admin");
    assert_ne!(decoded["iss"], "evil");
    assert_ne!(decoded["sid"], "00");

    let auth = live_auth_with(|b| b.with_registration_claims(["role"])).expect("valid settings");
    let served = Served::serve::<A>(auth);
    let decoded = decoded_after_registering(&served, "mass2@example.com").await;
    assert_eq!(
        decoded["claims"],
        json!([{"type": "role", "value": "admin"}]),
        "only the allowlisted claim is taken"
    );
}

/// A secure session cookie is `__Host-` prefixed, `Secure`, `HttpOnly`,
/// `SameSite=Lax`, `Path=/`, without `Domain`, 256 random bits.
pub async fn a_secure_session_cookie_is_host_prefixed_and_script_proof<A: Adapter>() {
    let auth = live_auth_with(|b| b.with_secure_cookie(true)).expect("valid settings");
    let served = Served::serve::<A>(auth);
    assert_eq!(served.auth.cookie_name(), "__Host-live_auth");
    let path = "/auth/local/register";
    let answer = post_form(&served, path, &account("host@example.com"), &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{answer:?}");
    // Over plain http the client still receives the header: inspect it.
    let set = answer.header(header::SET_COOKIE.as_str());
    assert!(set.starts_with("__Host-live_auth="), "{set}");
    let value = answer.cookie();
    let value = value.split_once('=').map_or("", |(_, v)| v);
    assert_eq!(value.len(), 64, "256 random bits, hex: {set}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.to_ascii_lowercase().contains("domain="), "{set}");
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! hostile_sessions_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, hostile_sessions;
            upgrades_from_another_port_or_site_are_refused,
            a_planted_cookie_is_never_promoted_by_sign_in,
            after_sign_out_the_old_cookie_and_token_are_dead,
            registration_ignores_every_field_it_does_not_allowlist,
            a_secure_session_cookie_is_host_prefixed_and_script_proof,
        );
    };
}
