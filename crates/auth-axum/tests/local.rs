//! The five `/auth/local/*` routes: every success, every error code, and
//! hostile input.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use auth_axum::auth_local_idp::{
    Argon2Hasher, LocalIdP, MemoryThrottle, SESSION_CLAIM, TokenIssuer,
};
use auth_core::memory::MemoryStore;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use common::{app, app_with};
use http::{Request, Response, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

async fn post(
    router: &Router,
    path: &str,
    content_type: &str,
    body: impl Into<Body>,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut request = Request::post(path)
        .header(header::HOST, "app.example")
        .header(header::CONTENT_TYPE, content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    router
        .clone()
        .oneshot(request.body(body.into()).unwrap())
        .await
        .unwrap()
}

async fn form(
    router: &Router,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Response<Body> {
    let body = serde_urlencoded::to_string(fields).unwrap();
    post(
        router,
        path,
        "application/x-www-form-urlencoded",
        body,
        headers,
    )
    .await
}

fn location(response: &Response<Body>) -> &str {
    response.headers()[header::LOCATION].to_str().unwrap()
}

/// The `name=value` part of the response's session cookie.
fn cookie(response: &Response<Body>) -> String {
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn whoami(router: &Router, cookie: &str) -> String {
    let request = Request::get("/whoami")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    String::from_utf8(
        to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

async fn json(response: Response<Body>) -> Value {
    serde_json::from_slice(&to_bytes(response.into_body(), 1 << 16).await.unwrap()).unwrap()
}

const ADA: &[(&str, &str)] = &[
    ("email", "ada@example.com"),
    ("password", "correct horse battery"),
    ("name", "Ada"),
    ("next", "/live"),
];

async fn register_ada(router: &Router) -> String {
    let response = form(router, "/auth/local/register", ADA, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/live");
    cookie(&response)
}

#[tokio::test]
async fn register_signs_in_with_a_safe_cookie_and_goes_to_next() {
    let app = app();
    let response = form(&app.router, "/auth/local/register", ADA, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/live");
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert_eq!(whoami(&app.router, &cookie(&response)).await, "Ada");
}

#[tokio::test]
async fn register_answers_each_error_code() {
    let app = app();
    register_ada(&app.router).await;
    let back = [("error_next", "/register")];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("password", "correct horse battery")],
            "/register?error=missing",
        ),
        (vec![("email", "x@example.com")], "/register?error=missing"),
        (
            vec![("email", ""), ("password", "")],
            "/register?error=missing",
        ),
        (
            vec![
                ("email", " ADA@EXAMPLE.COM "),
                ("password", "another good one"),
            ],
            "/register?error=exists",
        ),
        (
            vec![("email", "bob@example.com"), ("password", "short")],
            "/register?error=invalid",
        ),
        (
            vec![("email", "not an email"), ("password", "long enough pw")],
            "/register?error=invalid",
        ),
    ];
    for (mut fields, expected) in cases {
        fields.extend(back);
        let response = form(&app.router, "/auth/local/register", &fields, &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{fields:?}");
        assert_eq!(location(&response), expected, "{fields:?}");
        assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "{fields:?}"
        );
    }
}

#[tokio::test]
async fn failures_return_to_error_next_then_referer_then_fallback() {
    let app = app();
    let missing = [("email", "")];
    let response = form(
        &app.router,
        "/auth/local/login",
        &missing,
        &[(
            "referer",
            "http://app.example/login_local?error=invalid&x=1",
        )],
    )
    .await;
    assert_eq!(location(&response), "/login_local?x=1&error=missing");
    let response = form(
        &app.router,
        "/auth/local/login",
        &missing,
        &[("referer", "http://evil.example/login_local")],
    )
    .await;
    assert_eq!(location(&response), "/?error=missing");
    let response = form(&app.router, "/auth/local/login", &missing, &[]).await;
    assert_eq!(location(&response), "/?error=missing");
}

#[tokio::test]
async fn hostile_redirect_targets_are_ignored() {
    let app = app();
    let hostile = [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "/x\r\nSet-Cookie: a=b",
        " /live",
        "/\tevil.example",
        "//%2Fevil.example",
        "evil.example",
    ];
    for target in hostile {
        let fields = [("email", ""), ("error_next", target)];
        let response = form(&app.router, "/auth/local/login", &fields, &[]).await;
        assert_eq!(
            location(&response),
            "/?error=missing",
            "error_next={target:?}"
        );

        let mut fields = ADA.to_vec();
        let email = format!(
            "{}@example.com",
            target.len() + hostile.iter().position(|t| *t == target).unwrap() * 100
        );
        fields[0] = ("email", &email);
        fields[3] = ("next", target);
        let response = form(&app.router, "/auth/local/register", &fields, &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "next={target:?}");
        assert_eq!(location(&response), "/", "next={target:?}");
    }
}

#[tokio::test]
async fn registration_cannot_assign_claims_unless_the_app_allows_them() {
    let app = app();
    let mut fields = ADA.to_vec();
    fields.extend([
        ("role", "admin"),
        ("email_verified", "on"),
        ("tier", "gold"),
    ]);
    let response = form(&app.router, "/auth/local/register", &fields, &[]).await;
    let token = token_for(&app.router, &cookie(&response)).await;
    assert_eq!(token["decoded"]["claims"], serde_json::json!([]));

    let app = app_with(|b| b.with_registration_claims(["role", "email_verified"]));
    let response = form(&app.router, "/auth/local/register", &fields, &[]).await;
    let token = token_for(&app.router, &cookie(&response)).await;
    assert_eq!(
        token["decoded"]["claims"],
        serde_json::json!([{"type": "email_verified", "value": "true"}, {"type": "role", "value": "admin"}])
    );
}

async fn token_for(router: &Router, cookie: &str) -> Value {
    let response = post(
        router,
        "/auth/local/token",
        "application/json",
        "",
        &[("cookie", cookie)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    json(response).await
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = app();
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
    ] {
        for path in [
            "/auth/local/register",
            "/auth/local/login",
            "/auth/local/revoke",
        ] {
            let response = form(&app.router, path, ADA, &headers).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{path} {headers:?}"
            );
        }
    }
    let same = form(
        &app.router,
        "/auth/local/register",
        ADA,
        &[
            ("origin", "http://app.example"),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(same.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn wrong_content_types_and_oversized_bodies_are_refused() {
    let app = app();
    let response = post(
        &app.router,
        "/auth/local/login",
        "application/json",
        r#"{"email":"a"}"#,
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = post(
        &app.router,
        "/auth/local/login",
        "text/plain",
        "email=a",
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!("email=a&password={}", "x".repeat(64 * 1024));
    let response = post(
        &app.router,
        "/auth/local/login",
        "application/x-www-form-urlencoded",
        huge,
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let response = post(
        &app.router,
        "/auth/local/login",
        "application/x-www-form-urlencoded",
        vec![0xff, 0xfe, b'=', 0x00],
        &[],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "undecodable bytes are just a missing field"
    );
}

#[tokio::test]
async fn login_issues_a_new_session_and_kills_the_planted_one() {
    let app = app();
    let first = register_ada(&app.router).await;
    let fields = [
        ("email", "ada@example.com"),
        ("password", "correct horse battery"),
        ("next", "/profile"),
    ];
    let response = form(
        &app.router,
        "/auth/local/login",
        &fields,
        &[("cookie", &first)],
    )
    .await;
    assert_eq!(location(&response), "/profile");
    let second = cookie(&response);
    assert_ne!(first, second, "sign-in must rotate the session id");
    assert_eq!(whoami(&app.router, &first).await, "anonymous");
    assert_eq!(whoami(&app.router, &second).await, "Ada");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = app();
    register_ada(&app.router).await;
    let wrong = form(
        &app.router,
        "/auth/local/login",
        &[
            ("email", "ada@example.com"),
            ("password", "wrong password!"),
        ],
        &[],
    )
    .await;
    let unknown = form(
        &app.router,
        "/auth/local/login",
        &[
            ("email", "nobody@example.com"),
            ("password", "wrong password!"),
        ],
        &[],
    )
    .await;
    assert_eq!(wrong.status(), unknown.status());
    assert_eq!(location(&wrong), "/?error=invalid");
    assert_eq!(location(&wrong), location(&unknown));
    assert!(wrong.headers().get(header::SET_COOKIE).is_none());
    assert!(unknown.headers().get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn too_many_attempts_are_throttled() {
    let app = app();
    register_ada(&app.router).await;
    let bad = [
        ("email", "ada@example.com"),
        ("password", "wrong password!"),
    ];
    let mut last = String::new();
    for _ in 0..6 {
        last = location(&form(&app.router, "/auth/local/login", &bad, &[]).await).to_owned();
    }
    assert_eq!(last, "/?error=throttled");
}

#[tokio::test]
async fn token_needs_a_session_and_verifies() {
    let app = app();
    let response = post(
        &app.router,
        "/auth/local/token",
        "application/json",
        "",
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json(response).await,
        serde_json::json!({"error": "unauthorized"})
    );

    let session = register_ada(&app.router).await;
    let issued = token_for(&app.router, &session).await;
    let token = issued["token"].as_str().unwrap();
    assert!(
        issued["decoded"]["sub"]
            .as_str()
            .unwrap()
            .starts_with("local:")
    );
    let exp = issued["decoded"]["exp"].as_u64().unwrap();
    let iat = issued["decoded"]["iat"].as_u64().unwrap();
    assert_eq!(exp - iat, 600);

    let body = serde_json::json!({"token": token}).to_string();
    let verified = json(
        post(
            &app.router,
            "/auth/local/verify-token",
            "application/json",
            body,
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["decoded"]["sub"], issued["decoded"]["sub"]);

    let mut tampered = token.to_owned();
    tampered.push('x');
    let body = serde_json::json!({"token": tampered}).to_string();
    let verified = json(
        post(
            &app.router,
            "/auth/local/verify-token",
            "application/json",
            body,
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(verified, serde_json::json!({"valid": false}));
}

#[tokio::test]
async fn verify_token_refuses_malformed_bodies_with_400() {
    let app = app();
    for body in [
        "",
        "{",
        "[]",
        "null",
        r#"{"tok":"x"}"#,
        r#"{"token":5}"#,
        r#"{"token":null}"#,
    ] {
        let response = post(
            &app.router,
            "/auth/local/verify-token",
            "application/json",
            body,
            &[],
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    for garbage in ["", "a.b.c", "....", "eyJhbGciOiJub25lIn0.e30."] {
        let body = serde_json::json!({"token": garbage}).to_string();
        let response = post(
            &app.router,
            "/auth/local/verify-token",
            "application/json",
            body,
            &[],
        )
        .await;
        assert_eq!(
            json(response).await,
            serde_json::json!({"valid": false}),
            "{garbage}"
        );
    }
}

#[tokio::test]
async fn revoke_signs_this_session_out() {
    let app = app();
    let session = register_ada(&app.router).await;
    let response = form(
        &app.router,
        "/auth/local/revoke",
        &[("next", "/login_local")],
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(location(&response), "/login_local");
    let cleared = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        response.headers()["clear-site-data"],
        "\"cache\", \"storage\""
    );
    assert_eq!(whoami(&app.router, &session).await, "anonymous");
    // Again, and anonymously: harmless.
    let response = form(
        &app.router,
        "/auth/local/revoke",
        &[],
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(location(&response), "/");
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_create_one_account() {
    let app = app();
    let attempts = (0..20).map(|_| form(&app.router, "/auth/local/register", ADA, &[]));
    let responses = futures_util::future::join_all(attempts).await;
    let created = responses.iter().filter(|r| location(r) == "/live").count();
    let exists = responses
        .iter()
        .filter(|r| location(r) == "/?error=exists")
        .count();
    assert_eq!((created, exists), (1, 19));
}

// ---- token, throttle and enumeration hardening -------------------------

/// A POST as it arrives from `peer` (what axum's `ConnectInfo` records).
async fn post_from(
    router: &Router,
    peer: &str,
    path: &str,
    body: String,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut request = Request::post(path).header(header::HOST, "app.example");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::from(body)).unwrap();
    let ip: IpAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40_000)));
    router.clone().oneshot(request).await.unwrap()
}

async fn verify_from(
    router: &Router,
    peer: &str,
    token: &str,
    xff: Option<&str>,
) -> Response<Body> {
    let headers: Vec<(&str, &str)> = xff.map(|v| ("x-forwarded-for", v)).into_iter().collect();
    post_from(
        router,
        peer,
        "/auth/local/verify-token",
        serde_json::json!({"token": token}).to_string(),
        &headers,
    )
    .await
}

async fn verify(router: &Router, token: &str) -> Value {
    json(verify_from(router, "192.0.2.10", token, None).await).await
}

/// The test app's issuer, for tokens the app did not hand out.
fn machine_issuer() -> TokenIssuer {
    TokenIssuer::hs256(common::SECRET).build().unwrap()
}

fn no_store(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap())
        == Some("no-store")
}

#[tokio::test]
async fn a_session_token_carries_sid_and_dies_with_its_session() {
    let app = app();
    let session = register_ada(&app.router).await;
    let issued = token_for(&app.router, &session).await;
    let token = issued["token"].as_str().unwrap().to_owned();
    let sid = issued["decoded"][SESSION_CLAIM]
        .as_str()
        .unwrap()
        .to_owned();
    // The sid is the session's stored key (a hash), not the cookie value.
    assert_eq!(sid.len(), 64);
    assert!(!session.contains(&sid));
    assert_eq!(verify(&app.router, &token).await["valid"], true);

    // Signed out through the revoke route: the token goes with it.
    let response = form(
        &app.router,
        "/auth/local/revoke",
        &[],
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        verify(&app.router, &token).await,
        serde_json::json!({"valid": false})
    );
}

#[tokio::test]
async fn a_token_whose_session_was_revoked_or_expired_is_invalid() {
    let app = app_with(|builder| {
        builder.with_session_config(
            auth_core::SessionConfig::new()
                .with_touch_interval(Duration::from_secs(1))
                .with_idle_timeout(Duration::from_secs(3)),
        )
    });
    // Revoked from elsewhere (an admin, another tab): the session key is
    // deleted from the backend.
    let session = register_ada(&app.router).await;
    let token = token_for(&app.router, &session).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify(&app.router, &token).await["valid"], true);
    let decoded = machine_issuer().verify(&token).unwrap();
    let sid = decoded.claim(SESSION_CLAIM).unwrap().as_str().unwrap();
    let key = auth_core::SessionKey::parse(sid).unwrap();
    assert!(app.auth.sessions().sign_out(&key).await.unwrap());
    assert_eq!(verify(&app.router, &token).await["valid"], false);

    // Expired: past the idle timeout, with only token checks in between
    // (they do not count as activity).
    let login = form(
        &app.router,
        "/auth/local/login",
        &[
            ("email", "ada@example.com"),
            ("password", "correct horse battery"),
        ],
        &[],
    )
    .await;
    let session = cookie(&login);
    let token = token_for(&app.router, &session).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(verify(&app.router, &token).await["valid"], true);
    // Token checks in between do not count as activity.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(verify(&app.router, &token).await["valid"], true);
    tokio::time::sleep(Duration::from_millis(3600)).await;
    assert_eq!(verify(&app.router, &token).await["valid"], false);
}

#[tokio::test]
async fn tokens_without_sid_keep_working_and_forged_sids_do_not() {
    let app = app();
    let issuer = machine_issuer();
    let machine = issuer
        .issue("service:backup", &serde_json::Map::new(), None)
        .unwrap();
    let verified = verify(&app.router, &machine).await;
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["decoded"]["sub"], "service:backup");

    // Another user's live session named in a token for someone else.
    let session = register_ada(&app.router).await;
    let ada = token_for(&app.router, &session).await;
    let ada_sid = ada["decoded"][SESSION_CLAIM].clone();
    for sid in [
        ada_sid,
        serde_json::json!("0".repeat(64)),
        serde_json::json!("not a key"),
        serde_json::json!(""),
        serde_json::json!(42),
        serde_json::json!(null),
        serde_json::json!(["a"]),
    ] {
        let mut claims = serde_json::Map::new();
        claims.insert(SESSION_CLAIM.into(), sid.clone());
        let token = issuer.issue("local:someone-else", &claims, None).unwrap();
        assert_eq!(
            verify(&app.router, &token).await,
            serde_json::json!({"valid": false}),
            "sid {sid}"
        );
    }
}

#[tokio::test]
async fn verify_token_is_throttled_per_client_with_429_and_retry_after() {
    let app = app_with(|builder| {
        builder
            .with_verify_token_throttle(Arc::new(MemoryThrottle::new(3, Duration::from_secs(60))))
    });
    for _ in 0..3 {
        let response = verify_from(&app.router, "198.51.100.7", "a.b.c", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(no_store(&response));
    }
    let refused = verify_from(&app.router, "198.51.100.7", "a.b.c", None).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(no_store(&refused));
    let retry: u64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body = json(refused).await;
    assert_eq!(body["error"], "throttled");
    assert_eq!(body["retry_after"], retry);
    // Another client is counted apart.
    let other = verify_from(&app.router, "198.51.100.8", "a.b.c", None).await;
    assert_eq!(other.status(), StatusCode::OK);
    // IPv4-mapped IPv6 is the same client.
    let mapped = verify_from(&app.router, "::ffff:198.51.100.7", "a.b.c", None).await;
    assert_eq!(mapped.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = app_with(|builder| {
        builder
            .with_verify_token_throttle(Arc::new(MemoryThrottle::new(3, Duration::from_secs(60))))
    });
    let spoofs = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"];
    let mut statuses = Vec::new();
    for spoof in spoofs {
        let response = verify_from(&app.router, "198.51.100.20", "a.b.c", Some(spoof)).await;
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "every attempt counted under the real peer"
    );
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_names_the_client() {
    let proxy: IpAddr = "192.0.2.254".parse().unwrap();
    let inner_proxy: IpAddr = "192.0.2.253".parse().unwrap();
    let app = app_with(|builder| {
        builder
            .with_trusted_proxies([proxy, inner_proxy])
            .with_verify_token_throttle(Arc::new(MemoryThrottle::new(2, Duration::from_secs(60))))
    });
    let status = |response: Response<Body>| response.status();
    // Two calls for client A through the proxy use up A's allowance...
    for _ in 0..2 {
        let response = verify_from(&app.router, "192.0.2.254", "a.b.c", Some("203.0.113.50")).await;
        assert_eq!(status(response), StatusCode::OK);
    }
    let response = verify_from(&app.router, "192.0.2.254", "a.b.c", Some("203.0.113.50")).await;
    assert_eq!(status(response), StatusCode::TOO_MANY_REQUESTS);
    // ...not the proxy's, nor client B's.
    let response = verify_from(&app.router, "192.0.2.254", "a.b.c", Some("203.0.113.51")).await;
    assert_eq!(status(response), StatusCode::OK);
    // A client that prepends a fake entry is still counted as itself: the
    // right-most untrusted entry wins, through a chain of trusted proxies.
    let response = verify_from(
        &app.router,
        "192.0.2.254",
        "a.b.c",
        Some("198.51.100.99, 203.0.113.50, 192.0.2.253"),
    )
    .await;
    assert_eq!(status(response), StatusCode::TOO_MANY_REQUESTS);
    // Garbage in the header stops the walk at the proxy: counted under it,
    // and it still has its own allowance.
    let response = verify_from(&app.router, "192.0.2.254", "a.b.c", Some("not-an-ip")).await;
    assert_eq!(status(response), StatusCode::OK);
}

#[tokio::test]
async fn token_routes_send_no_store_on_every_answer() {
    let app = app();
    let anonymous = post(
        &app.router,
        "/auth/local/token",
        "application/json",
        "",
        &[],
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(no_store(&anonymous));
    let session = register_ada(&app.router).await;
    let issued = post(
        &app.router,
        "/auth/local/token",
        "application/json",
        "",
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(issued.status(), StatusCode::OK);
    assert!(no_store(&issued));
    for body in ["{", r#"{"token":"a.b.c"}"#] {
        let response = post(
            &app.router,
            "/auth/local/verify-token",
            "application/json",
            body,
            &[],
        )
        .await;
        assert!(response.status().is_client_error() || response.status() == StatusCode::OK);
        assert!(no_store(&response), "{body}");
    }
}

#[tokio::test]
async fn hostile_tokens_at_the_route_are_invalid_never_5xx() {
    let app = app();
    let huge = "a".repeat(20_000);
    let cases = [
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.",
        "eyJhbGciOiJOT05FIn0.eyJzdWIiOiJ4In0.",
        "eyJhbGciOiJIUzI1NiIsImprdSI6Imh0dHA6Ly94In0.e30.AAAA",
        huge.as_str(),
        "\u{0}.\u{0}.\u{0}",
    ];
    for token in cases {
        let response = verify_from(&app.router, "192.0.2.30", token, None).await;
        assert_eq!(response.status(), StatusCode::OK, "{token:.40}");
        assert_eq!(json(response).await, serde_json::json!({"valid": false}));
    }
    // A body past the limit is refused before parsing, with 413.
    let big = serde_json::json!({"token": "a".repeat(100_000)}).to_string();
    let response = post_from(
        &app.router,
        "192.0.2.31",
        "/auth/local/verify-token",
        big,
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// A provider whose hasher the test can read, over its own store.
fn counted_idp() -> Arc<LocalIdP> {
    let hasher = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .build()
        .unwrap();
    Arc::new(
        LocalIdP::builder(Arc::new(MemoryStore::new()), machine_issuer())
            .with_hasher(hasher)
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn unknown_account_and_wrong_password_are_identical_and_cost_one_argon2_each() {
    let idp = counted_idp();
    let app = app_with({
        let idp = idp.clone();
        move |builder| builder.with_local_idp(idp)
    });
    idp.create_user(auth_axum::auth_local_idp::Registration::new(
        "grace@example.com",
        "correct horse battery",
    ))
    .await
    .unwrap();
    idp.warm_up().await.unwrap();

    let attempt = |email: &'static str| {
        let router = app.router.clone();
        async move {
            let body =
                serde_urlencoded::to_string([("email", email), ("password", "wrong password!")])
                    .unwrap();
            post_from(
                &router,
                "192.0.2.40",
                "/auth/local/login",
                body,
                &[("content-type", "application/x-www-form-urlencoded")],
            )
            .await
        }
    };
    let mut answers = Vec::new();
    for email in [
        "grace@example.com",
        "nobody@example.com",
        "GRACE@example.com ",
    ] {
        let before = idp.hasher().stats().verifications;
        let response = attempt(email).await;
        let after = idp.hasher().stats().verifications;
        assert_eq!(
            after - before,
            1,
            "{email}: exactly one Argon2 verification"
        );
        let status = response.status();
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        answers.push((status, headers, body));
    }
    assert_eq!(answers[0].0, StatusCode::SEE_OTHER);
    assert!(answers[0].1.iter().all(|(name, _)| name != "set-cookie"));
    assert_eq!(answers[0], answers[1], "wrong password vs unknown account");
    assert_eq!(
        answers[0], answers[2],
        "wrong password vs the same account, other spelling"
    );
}

#[tokio::test]
async fn registration_refuses_common_and_short_passwords_but_keeps_spaces() {
    let app = app();
    for password in ["Password1", "qwertyuiop", "ILOVEYOU", "1234567"] {
        let response = form(
            &app.router,
            "/auth/local/register",
            &[
                ("email", "weak@example.com"),
                ("password", password),
                ("error_next", "/register"),
            ],
            &[],
        )
        .await;
        assert_eq!(location(&response), "/register?error=invalid", "{password}");
        assert!(response.headers().get(header::SET_COOKIE).is_none());
    }
    // Spaces around a password are part of it, over HTTP too.
    let spaced = [
        ("email", "spaces@example.com"),
        ("password", "  plum crater violet  "),
    ];
    let response = form(&app.router, "/auth/local/register", &spaced, &[]).await;
    assert!(response.headers().get(header::SET_COOKIE).is_some());
    let trimmed = form(
        &app.router,
        "/auth/local/login",
        &[
            ("email", "spaces@example.com"),
            ("password", "plum crater violet"),
        ],
        &[],
    )
    .await;
    assert_eq!(location(&trimmed), "/?error=invalid");
    let exact = form(&app.router, "/auth/local/login", &spaced, &[]).await;
    assert!(exact.headers().get(header::SET_COOKIE).is_some());
}

/// An app whose provider allows 3 login attempts per client address.
fn app_with_address_limit(
    configure: impl FnOnce(auth_axum::LiveAuthBuilder) -> auth_axum::LiveAuthBuilder,
) -> common::TestApp {
    let hasher = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .build()
        .unwrap();
    let idp = LocalIdP::builder(Arc::new(MemoryStore::new()), machine_issuer())
        .with_hasher(hasher)
        .with_address_throttle(Arc::new(MemoryThrottle::new(3, Duration::from_secs(60))))
        .build()
        .unwrap();
    app_with(move |builder| configure(builder.with_local_idp(Arc::new(idp))))
}

async fn login_from(router: &Router, peer: &str, email: &str, xff: &str) -> String {
    let body =
        serde_urlencoded::to_string([("email", email), ("password", "wrong password!")]).unwrap();
    let response = post_from(
        router,
        peer,
        "/auth/local/login",
        body,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-forwarded-for", xff),
        ],
    )
    .await;
    location(&response).to_owned()
}

#[tokio::test]
async fn login_counts_the_real_peer_despite_a_spoofed_forwarded_for() {
    let app = app_with_address_limit(|builder| builder);
    let mut outcomes = Vec::new();
    for i in 0..5 {
        // A new account and a new fake address each time: only the
        // address throttle can stop this.
        let email = format!("victim{i}@example.com");
        let xff = format!("203.0.113.{i}");
        outcomes.push(login_from(&app.router, "198.51.100.60", &email, &xff).await);
    }
    assert_eq!(
        outcomes,
        [
            "/?error=invalid",
            "/?error=invalid",
            "/?error=invalid",
            "/?error=throttled",
            "/?error=throttled"
        ]
    );
}

#[tokio::test]
async fn login_behind_a_trusted_proxy_counts_each_forwarded_client() {
    let proxy: IpAddr = "192.0.2.254".parse().unwrap();
    let app = app_with_address_limit(|builder| builder.with_trusted_proxies([proxy]));
    for i in 0..5 {
        let email = format!("victim{i}@example.com");
        let xff = format!("203.0.113.{i}");
        assert_eq!(
            login_from(&app.router, "192.0.2.254", &email, &xff).await,
            "/?error=invalid",
            "each client has its own count"
        );
    }
    let mut outcomes = Vec::new();
    for i in 0..4 {
        let email = format!("other{i}@example.com");
        outcomes.push(login_from(&app.router, "192.0.2.254", &email, "203.0.113.200").await);
    }
    assert_eq!(outcomes[3], "/?error=throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_verify_calls_from_one_client_get_exactly_the_limit() {
    let app = app_with(|builder| {
        builder
            .with_verify_token_throttle(Arc::new(MemoryThrottle::new(10, Duration::from_secs(60))))
    });
    let calls = (0..50).map(|_| {
        let router = app.router.clone();
        tokio::spawn(async move {
            verify_from(&router, "198.51.100.77", "a.b.c", None)
                .await
                .status()
        })
    });
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        10
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        40
    );
}
