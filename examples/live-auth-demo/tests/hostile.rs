//! Hostile requests against the demo's own buttons (`/live/*`), over HTTP
//! on a fresh SQLite file: cross-site and anonymous posts change nothing,
//! and no answer is a 5xx.
#![allow(clippy::unwrap_used)]

use live_auth::axum::axum::Router;
use live_auth::axum::axum::body::{Body, to_bytes};
use live_auth::axum::axum::http::{Request, StatusCode, header};
use live_auth_demo::{Settings, build, router};
use tower::ServiceExt;

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn demo() -> (Router, TempDir) {
    let dir = std::env::temp_dir().join(format!(
        "live-auth-hostile-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/auth.db", dir.display());
    let settings =
        Settings::from_lookup(|name| (name == "LOCAL_AUTH_DB").then(|| url.clone())).unwrap();
    let auth = build(&settings).await.unwrap();
    (router(&auth), TempDir(dir))
}

/// A form POST; fails the test on any 5xx.
async fn post(
    router: &Router,
    path: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
    form: &str,
) -> (StatusCode, header::HeaderMap) {
    let mut request = Request::post(path)
        .header(header::HOST, "127.0.0.1:8000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::from(form.to_owned())).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    assert!(!status.is_server_error(), "{path} answered {status}");
    (status, response.headers().clone())
}

async fn claims_page(router: &Router, cookie: &str) -> (StatusCode, String) {
    let request = Request::get("/profile")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body = String::from_utf8_lossy(&body).into_owned();
    // Only the claims part: the sessions list shows ages that tick.
    let claims = body
        .split_once("<h2>Claims</h2>")
        .and_then(|(_, rest)| rest.split_once("<h2>Active sessions</h2>"))
        .map(|(claims, _)| claims.to_owned())
        .unwrap_or_default();
    (status, claims)
}

async fn register(router: &Router, email: &str) -> String {
    let form = format!("email={email}&password=correct+horse+battery&name=Ada&next=/live");
    let (status, headers) = post(router, "/auth/local/register", None, &[], &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

const BUTTONS: [&str; 4] = [
    "/live/grant-admin",
    "/live/revoke-admin",
    "/live/sign-out",
    "/live/sign-out-everywhere",
];

#[tokio::test]
async fn cross_site_button_posts_are_refused_and_change_nothing() {
    let (router, _dir) = demo().await;
    let session = register(&router, "demo-csrf@example.com").await;
    let (status, before) = claims_page(&router, &session).await;
    assert_eq!(status, StatusCode::OK);
    for headers in [
        [("sec-fetch-site", "cross-site")],
        [("sec-fetch-site", "same-site")],
        [("origin", "null")],
        [("origin", "http://evil.example")],
        [("origin", "http://127.0.0.1:9999")],
    ] {
        for path in BUTTONS {
            let (status, set) = post(&router, path, Some(&session), &headers, "").await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {headers:?}");
            assert!(set.get(header::SET_COOKIE).is_none(), "{path}");
        }
    }
    let (status, after) = claims_page(&router, &session).await;
    assert_eq!(status, StatusCode::OK, "the session survived");
    assert_eq!(before, after, "no claim changed");
}

#[tokio::test]
async fn anonymous_and_forged_button_posts_change_nothing() {
    let (router, _dir) = demo().await;
    let forged = "__Host-live_auth=forged; live_auth=forged";
    for path in BUTTONS {
        for cookie in [None, Some(forged)] {
            let (status, _) = post(&router, path, cookie, &[], "").await;
            assert!(
                status.is_redirection() || status.is_client_error(),
                "{path} {cookie:?}: {status}"
            );
        }
    }
    // The same buttons from this site work, so the refusals above mean
    // something.
    let session = register(&router, "demo-ok@example.com").await;
    let (_, before) = claims_page(&router, &session).await;
    assert!(!before.contains("admin"), "{before}");
    let origin = [("sec-fetch-site", "same-origin")];
    let (status, _) = post(&router, "/live/grant-admin", Some(&session), &origin, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = claims_page(&router, &session).await;
    assert!(page.contains("admin"), "the grant applied: {page}");
}
