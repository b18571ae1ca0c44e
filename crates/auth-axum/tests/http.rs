//! The layer, the extractors and the guards, over HTTP.
#![allow(clippy::unwrap_used)]

mod common;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::routing::get;
use common::{app, sign_in};
use http::{Request, StatusCode, header};
use tower::ServiceExt;

async fn get_with(
    router: &Router,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, http::HeaderMap, String) {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn anonymous_visitors_of_a_guarded_page_go_to_login() {
    let app = app();
    let (status, headers, _) = get_with(&app.router, "/live", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login_local");
}

#[tokio::test]
async fn a_signed_in_user_sees_the_page_without_the_region_they_fail() {
    let app = app();
    let (cookie, _) = sign_in(&app, "local:ada").await;
    let (status, _, body) = get_with(&app.router, "/live", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("admin content hidden"), "{body}");
    assert!(
        !body.contains("SECRET"),
        "a failed region's content must not be sent: {body}"
    );
    assert!(body.contains("/auth/live.js"), "{body}");
}

#[tokio::test]
async fn current_user_is_anonymous_without_a_valid_cookie() {
    let app = app();
    let (cookie, _) = sign_in(&app, "local:ada").await;
    assert_eq!(
        get_with(&app.router, "/whoami", Some(&cookie)).await.2,
        "name of local:ada"
    );
    for bad in [
        None,
        Some("live_auth=nothex"),
        Some("live_auth="),
        Some("live_auth=0000000000000000000000000000000000000000000000000000000000000000"),
        Some("other=1"),
        Some(";;;==;"),
    ] {
        let (status, _, body) = get_with(&app.router, "/whoami", bad).await;
        assert_eq!(status, StatusCode::OK, "{bad:?}");
        assert_eq!(body, "anonymous", "{bad:?}");
    }
}

#[tokio::test]
async fn a_signed_out_session_is_anonymous_on_its_next_request() {
    let app = app();
    let (cookie, key) = sign_in(&app, "local:ada").await;
    app.auth.sessions().sign_out(&key).await.unwrap();
    assert_eq!(
        get_with(&app.router, "/whoami", Some(&cookie)).await.2,
        "anonymous"
    );
    let (status, _, _) = get_with(&app.router, "/live", Some(&cookie)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "replay after sign-out is refused"
    );
}

#[tokio::test]
async fn the_policy_guard_refuses_then_allows_after_a_grant() {
    let app = app();
    let (cookie, _) = sign_in(&app, "local:ada").await;
    let (status, _, _) = get_with(&app.router, "/admin", Some(&cookie)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, _) = get_with(&app.router, "/admin", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login_local");

    let grant = Request::post("/grant")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(grant).await.unwrap();
    assert_eq!(response.headers()[header::LOCATION], "/live");

    let (status, _, body) = get_with(&app.router, "/admin", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "admin page");
}

#[tokio::test]
async fn a_grant_in_one_session_reaches_the_users_other_session() {
    let app = app();
    let (laptop, _) = sign_in(&app, "local:ada").await;
    let (phone, _) = sign_in(&app, "local:ada").await;
    let grant = Request::post("/grant")
        .header(header::COOKIE, &laptop)
        .body(Body::empty())
        .unwrap();
    app.router.clone().oneshot(grant).await.unwrap();
    let (status, _, body) = get_with(&app.router, "/live", Some(&phone)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("SECRET admin content"), "{body}");
}

#[tokio::test]
async fn an_anonymous_grant_changes_nothing() {
    let app = app();
    let response = app
        .router
        .clone()
        .oneshot(Request::post("/grant").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.headers()[header::LOCATION], "/live?error=unknown");
}

#[tokio::test]
async fn extractors_without_the_layer_answer_500() {
    let router: Router =
        Router::new().route(
            "/whoami",
            get(
                |auth_axum::CurrentUser(user): auth_axum::CurrentUser| async move {
                    format!("{user:?}")
                },
            ),
        );
    let (status, _, body) = get_with(&router, "/whoami", None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body, "internal error");
}

#[tokio::test]
async fn the_client_script_is_served() {
    let app = app();
    let (status, headers, body) = get_with(&app.router, "/auth/live.js", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(body.contains("new WebSocket"));
}

#[tokio::test]
async fn the_builder_refuses_bad_settings() {
    use auth_axum::{ConfigError, LivePage, Region};
    let bad_prefix = common::app_with_result(|b| b.with_prefix("auth/"));
    assert!(matches!(bad_prefix, Err(ConfigError::Prefix)));
    let bad_login = common::app_with_result(|b| b.with_login_path("https://evil.example/"));
    assert!(matches!(bad_login, Err(ConfigError::Path(_))));
    let unknown_policy = common::app_with_result(|b| {
        b.with_page(
            LivePage::new("x").with_region(Region::new("r", |_| String::new()).with_policy("Nope")),
        )
    });
    assert!(matches!(
        unknown_policy,
        Err(ConfigError::UnknownPolicy { .. })
    ));
    let duplicate = common::app_with_result(|b| b.with_page(LivePage::new("live")));
    assert!(matches!(duplicate, Err(ConfigError::DuplicatePage(_))));
}
