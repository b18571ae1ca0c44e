//! Hostile input over HTTP against the real adapter, part three: the live
//! socket's upgrade checks, session fixation, replay after sign-out and
//! mass assignment on registration. No answer is ever a 5xx.
#![allow(clippy::unwrap_used)]

mod common;

use common::hostile::{account, cookie, form, location, post, register, roomy_app, text, whoami};
use common::{TestApp, app, app_with, serve, sign_in};
use http::{StatusCode, header};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

// ---- the live WebSocket ---------------------------------------------------

async fn upgrade_status(
    addr: std::net::SocketAddr,
    headers: &[(&'static str, &str)],
) -> Option<u16> {
    let mut request = format!("ws://{addr}/auth/live?page=live")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => None,
        Err(WsError::Http(response)) => Some(response.status().as_u16()),
        Err(other) => panic!("expected an HTTP answer, got {other}"),
    }
}

#[tokio::test]
async fn cross_site_null_and_anonymous_upgrades_are_refused() {
    let app = app();
    let addr = serve(&app).await;
    let (session, _) = sign_in(&app, "local:ws-hostile").await;
    let own = format!("http://{addr}");
    let other_port = format!("http://127.0.0.1:{}", addr.port().wrapping_add(1));
    for (headers, expected) in [
        (vec![("origin", "http://evil.example")], Some(403)),
        (vec![("origin", "null")], Some(403)),
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
    assert_eq!(upgrade_status(addr, &[("origin", &own)]).await, Some(401));
    let forged = format!("{}=forged", app.auth.cookie_name());
    assert_eq!(
        upgrade_status(addr, &[("origin", &own), ("cookie", &forged)]).await,
        Some(401)
    );
}

// ---- session fixation and replay ------------------------------------------

#[tokio::test]
async fn a_planted_cookie_is_never_promoted_by_sign_in() {
    let app = app();
    register(&app.router, "fixed@example.com").await;
    let name = app.auth.cookie_name();
    let chosen = format!("{name}={}", "ab".repeat(32));
    let (attacker, _) = sign_in(&app, "local:mallory").await;
    for planted in [chosen, attacker] {
        let mut fields = account("fixed@example.com");
        fields.push(("next", "/live"));
        let response = form(
            &app.router,
            "/auth/local/login",
            &fields,
            &[("cookie", &planted)],
        )
        .await;
        assert_eq!(location(&response), Some("/live"));
        let fresh = cookie(&response);
        assert_ne!(fresh, planted);
        assert_eq!(whoami(&app.router, &fresh).await, "Ada");
        assert_eq!(whoami(&app.router, &planted).await, "anonymous");
    }
}

#[tokio::test]
async fn after_sign_out_the_old_cookie_and_token_are_dead() {
    let app = roomy_app();
    let session = register(&app.router, "replay@example.com").await;
    let response = post(
        &app.router,
        "/auth/local/token",
        None,
        "",
        &[("cookie", &session)],
    )
    .await;
    let issued: Value = serde_json::from_str(&text(response).await).unwrap();
    let token = issued["token"].as_str().unwrap().to_owned();
    assert!(issued["decoded"]["sid"].is_string(), "{issued}");
    let check = serde_json::json!({ "token": token }).to_string();
    let verify = async || {
        let path = "/auth/local/verify-token";
        let response = post(
            &app.router,
            path,
            Some("application/json"),
            check.clone(),
            &[],
        )
        .await;
        serde_json::from_str::<Value>(&text(response).await).unwrap()["valid"].clone()
    };
    assert_eq!(verify().await, Value::Bool(true));

    let response = form(
        &app.router,
        "/auth/local/revoke",
        &[],
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers().contains_key("clear-site-data"));
    assert_eq!(whoami(&app.router, &session).await, "anonymous");
    assert_eq!(verify().await, Value::Bool(false));
    // Replaying the dead cookie on every route is harmless.
    let again = form(
        &app.router,
        "/auth/local/revoke",
        &[],
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let response = post(
        &app.router,
        "/auth/local/token",
        None,
        "",
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

// ---- mass assignment on registration --------------------------------------

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

async fn decoded_after_registering(app: &TestApp, email: &str) -> Value {
    let mut fields = account(email);
    fields.extend(SMUGGLED);
    let response = form(&app.router, "/auth/local/register", &fields, &[]).await;
    let session = cookie(&response);
    let path = "/auth/local/token";
    let response = post(&app.router, path, None, "", &[("cookie", &session)]).await;
    let body: Value = serde_json::from_str(&text(response).await).unwrap();
    body["decoded"].clone()
}

#[tokio::test]
async fn registration_ignores_every_field_it_does_not_allowlist() {
    let app = app();
    let decoded = decoded_after_registering(&app, "mass@example.com").await;
    assert_eq!(decoded["claims"], serde_json::json!([]), "{decoded}");
    assert_ne!(decoded["sub"], "local:admin");
    assert_ne!(decoded["iss"], "evil");
    assert_ne!(decoded["sid"], "00");

    let app = app_with(|b| b.with_registration_claims(["role"]));
    let decoded = decoded_after_registering(&app, "mass2@example.com").await;
    assert_eq!(
        decoded["claims"],
        serde_json::json!([{"type": "role", "value": "admin"}]),
        "only the allowlisted claim is taken"
    );
}

// ---- the cookie itself ------------------------------------------------------

#[tokio::test]
async fn a_secure_session_cookie_is_host_prefixed_and_script_proof() {
    let app = app_with(|b| b.with_secure_cookie(true));
    assert_eq!(app.auth.cookie_name(), "__Host-live_auth");
    let response = form(
        &app.router,
        "/auth/local/register",
        &account("host@example.com"),
        &[],
    )
    .await;
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(set.starts_with("__Host-live_auth="), "{set}");
    let value = set.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(value.len(), 64, "256 random bits, hex");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.to_ascii_lowercase().contains("domain="), "{set}");
}
