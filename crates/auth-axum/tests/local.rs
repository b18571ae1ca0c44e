//! The five `/auth/local/*` routes: every success, every error code, and
//! hostile input.
#![allow(clippy::unwrap_used)]

mod common;

use axum::Router;
use axum::body::{Body, to_bytes};
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
