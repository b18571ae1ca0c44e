//! Helpers shared by the hostile-input suites: requests that fail the test
//! on any 5xx, form posts, and reading answers.

use std::sync::Arc;
use std::time::Duration;

use auth_axum::auth_local_idp::MemoryThrottle;
use axum::Router;
use axum::body::{Body, to_bytes};
use http::{Request, Response, StatusCode, header};
use tower::ServiceExt;

use super::{TestApp, app_with};

pub const FORM: &str = "application/x-www-form-urlencoded";
/// A POST to `path`; fails the test on any 5xx.
pub async fn post(
    router: &Router,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut request = Request::post(path).header(header::HOST, "app.example");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(body.into()).unwrap())
        .await
        .unwrap();
    assert!(
        !response.status().is_server_error(),
        "{path} answered {}",
        response.status()
    );
    response
}

pub async fn form(
    router: &Router,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Response<Body> {
    let body = serde_urlencoded::to_string(fields).unwrap();
    post(router, path, Some(FORM), body, headers).await
}

pub fn location(response: &Response<Body>) -> Option<&str> {
    response
        .headers()
        .get(header::LOCATION)
        .map(|v| std::str::from_utf8(v.as_bytes()).unwrap())
}

pub fn cookie(response: &Response<Body>) -> String {
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

pub async fn text(response: Response<Body>) -> String {
    String::from_utf8(
        to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

pub async fn whoami(router: &Router, cookie: &str) -> String {
    let request = Request::get("/whoami")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    text(router.clone().oneshot(request).await.unwrap()).await
}

pub fn account(email: &str) -> Vec<(&str, &str)> {
    vec![
        ("email", email),
        ("password", "correct horse battery"),
        ("name", "Ada"),
    ]
}

pub async fn register(router: &Router, email: &str) -> String {
    let response = form(router, "/auth/local/register", &account(email), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    cookie(&response)
}

/// An app whose verify-token throttle never trips in these tests.
pub fn roomy_app() -> TestApp {
    app_with(|b| {
        b.with_verify_token_throttle(Arc::new(MemoryThrottle::new(
            100_000,
            Duration::from_secs(60),
        )))
    })
}
