//! The local IdP's token routes, `POST /auth/local/token` and
//! `POST /auth/local/verify-token`: issuing, verifying, tokens tied to their
//! session, the per-client throttle and the client address behind trusted
//! proxies, `no-store`, and hostile tokens.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::throttle::MemoryThrottle;
use auth_core::{SessionConfig, SessionKey};
use auth_http::auth_local_idp::{SESSION_CLAIM, TokenIssuer};
use http::Method;
use serde_json::{Value, json};

use super::register_ada;
use crate::client::{Answer, form, send};
use crate::{Adapter, SECRET, Served, live_auth_with};

/// The body as JSON.
fn json_of(answer: &Answer) -> Value {
    serde_json::from_str(&answer.body).expect("JSON body")
}

/// Whether the answer says `Cache-Control: no-store`.
fn no_store(answer: &Answer) -> bool {
    answer.header("cache-control") == "no-store"
}

/// `POST path` with a JSON content type, `body` and extra headers.
async fn post_json(served: &Served, path: &str, body: String, headers: &[(&str, &str)]) -> Answer {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    send(served.addr, Method::POST, path, &all, body).await
}

/// A token for the session of `cookie`: the route's JSON answer, which
/// must be a `200` with `no-store`.
pub(crate) async fn token_for(served: &Served, cookie: &str) -> Value {
    let answer = post_json(
        served,
        "/auth/local/token",
        String::new(),
        &[("cookie", cookie)],
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(no_store(&answer), "{answer:?}");
    json_of(&answer)
}

/// `token` at the verify route, with an optional `X-Forwarded-For`.
async fn verify_from(served: &Served, token: &str, xff: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = xff.map(|v| ("x-forwarded-for", v)).into_iter().collect();
    let body = json!({ "token": token }).to_string();
    post_json(served, "/auth/local/verify-token", body, &headers).await
}

/// What the verify route says of `token`.
pub(crate) async fn verify(served: &Served, token: &str) -> Value {
    json_of(&verify_from(served, token, None).await)
}

/// The token string of a [`token_for`] answer.
pub(crate) fn token_of(issued: &Value) -> String {
    issued["token"].as_str().expect("a token").to_owned()
}

/// The test app's issuer, for tokens the app did not hand out.
fn machine_issuer() -> TokenIssuer {
    TokenIssuer::hs256(SECRET).build().expect("32-byte secret")
}

/// An app whose verify route allows `limit` calls a minute per client,
/// with more settings.
fn served_with_verify_limit<A: Adapter>(
    limit: u32,
    configure: impl FnOnce(auth_http::LiveAuthBuilder) -> auth_http::LiveAuthBuilder,
) -> Served {
    let throttle = Arc::new(MemoryThrottle::new(limit, Duration::from_secs(60)));
    let auth = live_auth_with(|builder| configure(builder.with_verify_token_throttle(throttle)))
        .expect("valid test settings");
    Served::serve::<A>(auth)
}

/// The token route needs a session; its tokens verify, tampered ones do not.
pub async fn token_needs_a_session_and_verifies<A: Adapter>() {
    let served = Served::start::<A>();
    let anonymous = post_json(&served, "/auth/local/token", String::new(), &[]).await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert_eq!(json_of(&anonymous), json!({"error": "unauthorized"}));

    let session = register_ada(&served).await.cookie();
    let issued = token_for(&served, &session).await;
    let token = token_of(&issued);
    assert!(
        issued["decoded"]["sub"]
            .as_str()
            .expect("a subject")
            .starts_with("local:"),
        "{issued}"
    );
    let exp = issued["decoded"]["exp"].as_u64().expect("exp");
    let iat = issued["decoded"]["iat"].as_u64().expect("iat");
    assert_eq!(exp - iat, 600);

    let verified = verify(&served, &token).await;
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["decoded"]["sub"], issued["decoded"]["sub"]);

    let tampered = format!("{token}x");
    assert_eq!(verify(&served, &tampered).await, json!({"valid": false}));
}

/// Verify-token refuses malformed bodies with 400; garbage tokens are invalid.
pub async fn verify_token_refuses_malformed_bodies_with_400<A: Adapter>() {
    let served = Served::start::<A>();
    for body in [
        "",
        "{",
        "[]",
        "null",
        r#"{"tok":"x"}"#,
        r#"{"token":5}"#,
        r#"{"token":null}"#,
    ] {
        let answer = post_json(&served, "/auth/local/verify-token", body.to_owned(), &[]).await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
    }
    for garbage in ["", "a.b.c", "....", "eyJhbGciOiJub25lIn0.e30."] {
        assert_eq!(
            verify(&served, garbage).await,
            json!({"valid": false}),
            "{garbage}"
        );
    }
}

/// A session token carries sid and dies with its session.
pub async fn a_session_token_carries_sid_and_dies_with_its_session<A: Adapter>() {
    let served = Served::start::<A>();
    let session = register_ada(&served).await.cookie();
    let issued = token_for(&served, &session).await;
    let token = token_of(&issued);
    let sid = issued["decoded"][SESSION_CLAIM]
        .as_str()
        .expect("a sid")
        .to_owned();
    // The sid is the session's stored key (a hash), not the cookie value.
    assert_eq!(sid.len(), 64);
    assert!(!session.contains(&sid));
    assert_eq!(verify(&served, &token).await["valid"], true);

    // Signed out through the revoke route: the token goes with it.
    let answer = form(
        served.addr,
        "/auth/local/revoke",
        &[],
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(verify(&served, &token).await, json!({"valid": false}));
}

/// A token whose session was revoked or expired is invalid.
pub async fn a_token_whose_session_was_revoked_or_expired_is_invalid<A: Adapter>() {
    let auth = live_auth_with(|builder| {
        builder.with_session_config(
            SessionConfig::new()
                .with_touch_interval(Duration::from_secs(1))
                .with_idle_timeout(Duration::from_secs(3)),
        )
    })
    .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    // Revoked from elsewhere (an admin, another tab): the session key is
    // deleted from the backend.
    let session = register_ada(&served).await.cookie();
    let token = token_of(&token_for(&served, &session).await);
    assert_eq!(verify(&served, &token).await["valid"], true);
    let decoded = machine_issuer().verify(&token).expect("our own token");
    let sid = decoded
        .claim(SESSION_CLAIM)
        .and_then(Value::as_str)
        .expect("a sid");
    let key = SessionKey::parse(sid).expect("a session key");
    assert!(
        served
            .auth
            .sessions()
            .sign_out(&key)
            .await
            .expect("session backend works")
    );
    assert_eq!(verify(&served, &token).await["valid"], false);

    // Expired: past the idle timeout, with only token checks in between.
    let fields = [
        ("email", "ada@example.com"),
        ("password", "correct horse battery"),
    ];
    let login = form(served.addr, "/auth/local/login", &fields, &[]).await;
    let token = token_of(&token_for(&served, &login.cookie()).await);
    assert_eq!(verify(&served, &token).await["valid"], true);
    // Token checks in between do not count as activity.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(verify(&served, &token).await["valid"], true);
    tokio::time::sleep(Duration::from_millis(3600)).await;
    assert_eq!(verify(&served, &token).await["valid"], false);
}

/// Tokens without sid keep working and forged sids do not.
pub async fn tokens_without_sid_keep_working_and_forged_sids_do_not<A: Adapter>() {
    let served = Served::start::<A>();
    let issuer = machine_issuer();
    let machine = issuer
        .issue("service:backup", &serde_json::Map::new(), None)
        .expect("issued");
    let verified = verify(&served, &machine).await;
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["decoded"]["sub"], "service:backup");

    // Another user's live session named in a token for someone else.
    let session = register_ada(&served).await.cookie();
    let ada = token_for(&served, &session).await;
    let ada_sid = ada["decoded"][SESSION_CLAIM].clone();
    for sid in [
        ada_sid,
        json!("0".repeat(64)),
        json!("not a key"),
        json!(""),
        json!(42),
        json!(null),
        json!(["a"]),
    ] {
        let mut claims = serde_json::Map::new();
        claims.insert(SESSION_CLAIM.into(), sid.clone());
        let token = issuer
            .issue("local:someone-else", &claims, None)
            .expect("issued");
        assert_eq!(
            verify(&served, &token).await,
            json!({"valid": false}),
            "sid {sid}"
        );
    }
}

/// Verify-token is throttled per client with 429 and Retry-After.
pub async fn verify_token_is_throttled_per_client_with_429_and_retry_after<A: Adapter>() {
    let loopback = IpAddr::from([127, 0, 0, 1]);
    let served =
        served_with_verify_limit::<A>(3, |builder| builder.with_trusted_proxies([loopback]));
    let client = Some("198.51.100.7");
    for _ in 0..3 {
        let answer = verify_from(&served, "a.b.c", client).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(no_store(&answer), "{answer:?}");
    }
    let refused = verify_from(&served, "a.b.c", client).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert!(no_store(&refused), "{refused:?}");
    let retry: u64 = refused
        .header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body = json_of(&refused);
    assert_eq!(body["error"], "throttled");
    assert_eq!(body["retry_after"], retry);
    // Another client is counted apart.
    let other = verify_from(&served, "a.b.c", Some("198.51.100.8")).await;
    assert_eq!(other.status, 200, "{other:?}");
    // IPv4-mapped IPv6 is the same client.
    let mapped = verify_from(&served, "a.b.c", Some("::ffff:198.51.100.7")).await;
    assert_eq!(mapped.status, 429, "{mapped:?}");
}

/// Spoofed forwarded-for from an untrusted peer is ignored.
pub async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored<A: Adapter>() {
    let served = served_with_verify_limit::<A>(3, |builder| builder);
    let spoofs = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
    let mut statuses = Vec::new();
    for spoof in spoofs {
        statuses.push(verify_from(&served, "a.b.c", Some(spoof)).await.status);
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 429],
        "every attempt counted under the real peer"
    );
}

/// Forwarded-for from a trusted proxy names the client.
pub async fn forwarded_for_from_a_trusted_proxy_names_the_client<A: Adapter>() {
    let proxy = IpAddr::from([127, 0, 0, 1]);
    let inner_proxy = IpAddr::from([192, 0, 2, 253]);
    let served = served_with_verify_limit::<A>(2, |builder| {
        builder.with_trusted_proxies([proxy, inner_proxy])
    });
    let status = async |xff: &str| verify_from(&served, "a.b.c", Some(xff)).await.status;
    // Two calls for client A through the proxy use up A's allowance...
    for _ in 0..2 {
        assert_eq!(status("203.0.113.50").await, 200);
    }
    assert_eq!(status("203.0.113.50").await, 429);
    // ...not the proxy's, nor client B's.
    assert_eq!(status("203.0.113.51").await, 200);
    // A client that prepends a fake entry is still counted as itself: the
    // right-most untrusted entry wins, through a chain of trusted proxies.
    assert_eq!(
        status("198.51.100.99, 203.0.113.50, 192.0.2.253").await,
        429
    );
    // Garbage in the header stops the walk at the proxy: counted under it,
    // and it still has its own allowance.
    assert_eq!(status("not-an-ip").await, 200);
}

/// Token routes send no-store on every answer.
pub async fn token_routes_send_no_store_on_every_answer<A: Adapter>() {
    let served = Served::start::<A>();
    let anonymous = post_json(&served, "/auth/local/token", String::new(), &[]).await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert!(no_store(&anonymous), "{anonymous:?}");
    let session = register_ada(&served).await.cookie();
    // token_for checks the 200 and its no-store.
    token_for(&served, &session).await;
    for body in ["{", r#"{"token":"a.b.c"}"#] {
        let answer = post_json(&served, "/auth/local/verify-token", body.to_owned(), &[]).await;
        assert!(
            answer.status.is_client_error() || answer.status == 200,
            "{body}: {answer:?}"
        );
        assert!(no_store(&answer), "{body}: {answer:?}");
    }
}

/// Hostile tokens at the route are invalid, never 5xx; a huge body is 413.
pub async fn hostile_tokens_at_the_route_are_invalid_never_5xx<A: Adapter>() {
    let served = Served::start::<A>();
    let huge = "a".repeat(20_000);
    let cases = [
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.",
        "eyJhbGciOiJOT05FIn0.eyJzdWIiOiJ4In0.",
        "eyJhbGciOiJIUzI1NiIsImprdSI6Imh0dHA6Ly94In0.e30.AAAA",
        huge.as_str(),
        "\u{0}.\u{0}.\u{0}",
    ];
    for token in cases {
        let answer = verify_from(&served, token, None).await;
        assert_eq!(answer.status, 200, "{token:.40}");
        assert_eq!(json_of(&answer), json!({"valid": false}), "{token:.40}");
    }
    // A body past the limit is refused before parsing, with 413.
    let big = json!({"token": "a".repeat(100_000)}).to_string();
    let answer = post_json(&served, "/auth/local/verify-token", big, &[]).await;
    assert_eq!(answer.status, 413, "{:?}", answer.status);
}

/// Concurrent verify calls from one client get exactly the limit.
pub async fn concurrent_verify_calls_from_one_client_get_exactly_the_limit<A: Adapter>() {
    let served = served_with_verify_limit::<A>(10, |builder| builder);
    let calls = (0..50).map(|_| verify_from(&served, "a.b.c", None));
    let statuses: Vec<u16> = futures_util::future::join_all(calls)
        .await
        .iter()
        .map(|answer| answer.status.as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40);
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! tokens_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, tokens;
            token_needs_a_session_and_verifies,
            verify_token_refuses_malformed_bodies_with_400,
            a_session_token_carries_sid_and_dies_with_its_session,
            a_token_whose_session_was_revoked_or_expired_is_invalid,
            tokens_without_sid_keep_working_and_forged_sids_do_not,
            verify_token_is_throttled_per_client_with_429_and_retry_after,
            spoofed_forwarded_for_from_an_untrusted_peer_is_ignored,
            forwarded_for_from_a_trusted_proxy_names_the_client,
            token_routes_send_no_store_on_every_answer,
            hostile_tokens_at_the_route_are_invalid_never_5xx,
            concurrent_verify_calls_from_one_client_get_exactly_the_limit,
        );
    };
}
