//! The local account routes' redirect targets: the hostile `next` and
//! `error_next` values the shared suite's `forms::hostile_next_targets_are_ignored`
//! does not try yet. Everything else about `/auth/local/*` runs for every
//! adapter in `auth-adapter-suite` (`forms`, `local`, `tokens`).
#![allow(clippy::unwrap_used)]

mod common;

use axum::Router;
use axum::body::Body;
use common::app;
use http::{Request, Response, StatusCode, header};
use tower::ServiceExt;

async fn form(router: &Router, path: &str, fields: &[(&str, &str)]) -> Response<Body> {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = Request::post(path)
        .header(header::HOST, "app.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    router.clone().oneshot(request).await.unwrap()
}

fn location(response: &Response<Body>) -> &str {
    response.headers()[header::LOCATION].to_str().unwrap()
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
    for (n, target) in hostile.iter().enumerate() {
        let fields = [("email", ""), ("error_next", target)];
        let response = form(&app.router, "/auth/local/login", &fields).await;
        assert_eq!(
            location(&response),
            "/?error=missing",
            "error_next={target:?}"
        );

        let email = format!("user{n}@example.com");
        let fields = [
            ("email", email.as_str()),
            ("password", "correct horse battery"),
            ("name", "Ada"),
            ("next", target),
        ];
        let response = form(&app.router, "/auth/local/register", &fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "next={target:?}");
        assert_eq!(location(&response), "/", "next={target:?}");
    }
}
