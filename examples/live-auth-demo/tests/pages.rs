//! The demo's pages and buttons, over HTTP, on a fresh SQLite file.
#![allow(clippy::unwrap_used)]

use live_auth::axum::axum::Router;
use live_auth::axum::axum::body::{Body, to_bytes};
use live_auth::axum::axum::http::{Request, StatusCode, header};
use live_auth_demo::{Settings, build, router};
use tower::ServiceExt;

struct Demo {
    router: Router,
    _dir: TempDir,
}

/// A directory removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn demo() -> Demo {
    let dir = std::env::temp_dir().join(format!(
        "live-auth-demo-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/auth.db", dir.display());
    let settings =
        Settings::from_lookup(|name| (name == "LOCAL_AUTH_DB").then(|| url.clone())).unwrap();
    let auth = build(&settings).await.unwrap();
    Demo {
        router: router(&auth),
        _dir: TempDir(dir),
    }
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, header::HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

fn post(path: &str, cookie: Option<&str>, form: &str) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::HOST, "127.0.0.1:8000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(form.to_owned())).unwrap()
}

async fn register(router: &Router, email: &str, extra: &str) -> String {
    let form = format!("email={email}&password=correct+horse+battery&name=Ada&next=/live{extra}");
    let (status, headers, _) = send(router, post("/auth/local/register", None, &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/live");
    let set = headers[header::SET_COOKIE].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_public_pages_render_with_their_error_messages() {
    let demo = demo().await;
    let (status, _, body) = send(&demo.router, get("/", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Live auth updates"));
    let (_, _, body) = send(&demo.router, get("/register?error=exists", None)).await;
    assert!(body.contains("That email is already registered."), "{body}");
    let (_, _, body) = send(&demo.router, get("/login_local?error=invalid", None)).await;
    assert!(body.contains("Invalid email or password."), "{body}");
    let (_, _, body) = send(&demo.router, get("/login_local?error=%3Cscript%3E", None)).await;
    assert!(!body.contains("<script>"), "unknown codes are not echoed");
    let (status, headers, _) = send(&demo.router, get("/style.css", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn guarded_pages_send_anonymous_visitors_to_login() {
    let demo = demo().await;
    for path in ["/live", "/profile"] {
        let (status, headers, _) = send(&demo.router, get(path, None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let back = format!("/login_local?next=%2F{}", &path[1..]);
        assert_eq!(headers[header::LOCATION], back.as_str(), "{path}");
    }
}

#[tokio::test]
async fn the_login_page_sends_the_visitor_back_to_a_safe_next_only() {
    let demo = demo().await;
    for (query, expected) in [
        ("?next=%2Fprofile", "value=\"/profile\""),
        ("", "value=\"/live\""),
        ("?next=%2F%2Fevil.example", "value=\"/live\""),
        ("?next=https%3A%2F%2Fevil.example", "value=\"/live\""),
    ] {
        let (status, _, body) =
            send(&demo.router, get(&format!("/login_local{query}"), None)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(expected), "{query}: {body}");
        assert!(!body.contains("evil"), "{query}: {body}");
    }
}

#[tokio::test]
async fn the_buttons_change_the_claims_and_sign_out() {
    let demo = demo().await;
    let cookie = register(&demo.router, "ada@example.com", "").await;
    let (_, _, body) = send(&demo.router, get("/live", Some(&cookie))).await;
    assert!(body.contains("Admin content hidden."), "{body}");
    assert!(!body.contains("Admin content visible."), "{body}");

    let (status, headers, _) =
        send(&demo.router, post("/live/grant-admin", Some(&cookie), "")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/live");
    let (_, _, body) = send(&demo.router, get("/live", Some(&cookie))).await;
    assert!(body.contains("Admin content visible."), "{body}");
    assert!(
        body.contains("<code>role</code> = <code>admin</code>"),
        "{body}"
    );

    send(&demo.router, post("/live/revoke-admin", Some(&cookie), "")).await;
    let (_, _, body) = send(&demo.router, get("/live", Some(&cookie))).await;
    assert!(body.contains("Admin content hidden."), "{body}");

    let (_, headers, _) = send(&demo.router, post("/live/sign-out", Some(&cookie), "")).await;
    assert_eq!(headers[header::LOCATION], "/login_local");
    assert_eq!(headers["clear-site-data"], "\"cache\", \"storage\"");
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _, _) = send(&demo.router, get("/live", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test]
async fn sign_out_everywhere_ends_the_other_browsers_session_too() {
    let demo = demo().await;
    let first = register(&demo.router, "ada@example.com", "").await;
    let login = "email=ada%40example.com&password=correct+horse+battery&next=/live";
    let (_, headers, _) = send(&demo.router, post("/auth/local/login", None, login)).await;
    let second = headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    send(&demo.router, post("/live/sign-out", Some(&first), "")).await;
    let (status, _, _) = send(&demo.router, get("/live", Some(&second))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "signing out one browser leaves the other"
    );

    let (_, _, profile) = send(&demo.router, get("/profile", Some(&second))).await;
    assert!(profile.contains("(this browser)"), "{profile}");

    send(
        &demo.router,
        post("/live/sign-out-everywhere", Some(&second), ""),
    )
    .await;
    let (status, _, _) = send(&demo.router, get("/live", Some(&second))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_demo_allows_role_and_email_verified_at_registration() {
    let demo = demo().await;
    let cookie = register(
        &demo.router,
        "root@example.com",
        "&role=admin&email_verified=on&tier=gold",
    )
    .await;
    let (_, _, body) = send(&demo.router, get("/live", Some(&cookie))).await;
    assert!(body.contains("Admin content visible."), "{body}");
    assert!(
        body.contains("<code>email_verified</code> = <code>true</code>"),
        "{body}"
    );
    assert!(
        !body.contains("tier"),
        "claims outside the allowlist are dropped: {body}"
    );
}

#[tokio::test]
async fn cross_site_button_posts_are_refused() {
    let demo = demo().await;
    let cookie = register(&demo.router, "ada@example.com", "").await;
    for path in [
        "/live/grant-admin",
        "/live/revoke-admin",
        "/live/sign-out",
        "/live/sign-out-everywhere",
    ] {
        let mut request = post(path, Some(&cookie), "");
        request
            .headers_mut()
            .insert("sec-fetch-site", "cross-site".parse().unwrap());
        let (status, _, _) = send(&demo.router, request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, _, body) = send(&demo.router, get("/live", Some(&cookie))).await;
    assert!(
        body.contains("Admin content hidden."),
        "the refused grant wrote nothing"
    );
}

#[tokio::test]
async fn users_survive_a_restart_on_the_same_database() {
    let dir = std::env::temp_dir().join(format!("live-auth-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDir(dir.clone());
    let url = format!("sqlite://{}/auth.db", dir.display());
    // The same session secret across the restart, as in production.
    let settings = Settings::from_lookup(|name| match name {
        "LOCAL_AUTH_DB" => Some(url.clone()),
        "AUTH_SESSION_SECRET" => Some("a session secret that outlives the restart".to_owned()),
        _ => None,
    })
    .unwrap();
    let first = router(&build(&settings).await.unwrap());
    let cookie = register(&first, "ada@example.com", "").await;
    drop(first);

    let second = router(&build(&settings).await.unwrap());
    let (status, _, _) = send(&second, get("/live", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "sessions live in SQLite too");
    let login = "email=ada%40example.com&password=correct+horse+battery&next=/live";
    let (_, headers, _) = send(&second, post("/auth/local/login", None, login)).await;
    assert_eq!(headers[header::LOCATION], "/live");
}

#[tokio::test]
async fn the_security_page_shows_the_qr_code_uncached_and_the_second_step_renders() {
    let demo = demo().await;
    let cookie = register(&demo.router, "qr@example.com", "").await;
    let (status, headers, body) = send(&demo.router, get("/profile/security", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Set up an authenticator app"), "{body}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let form = "next=/profile/security";
    let (status, headers, _) = send(
        &demo.router,
        post("/auth/mfa/totp/begin", Some(&cookie), form),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/profile/security");
    let (status, headers, body) = send(&demo.router, get("/profile/security", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<svg"), "{body}");
    assert!(!body.contains("<?xml"), "{body}");
    assert!(body.contains("role=\"img\""));
    assert!(body.contains("Turn on"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(headers.contains_key("content-security-policy"));
    let (status, _, _) = send(&demo.router, get("/profile/security", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, _, body) = send(
        &demo.router,
        get("/login/second-factor?next=/live&error=invalid", None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("action=\"/auth/mfa/verify\""), "{body}");
    assert!(body.contains("That code is not right"));
    assert!(
        body.contains("value=\"/login/second-factor?next=/live\""),
        "{body}"
    );
}

#[tokio::test]
async fn the_admin_console_is_for_admins_and_its_buttons_change_the_user() {
    let demo = demo().await;
    let r = &demo.router;
    let (status, headers, _) = send(r, get("/admin", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login_local?next=%2Fadmin");

    let user = register(r, "user@example.com", "").await;
    let (status, _, _) = send(r, get("/admin", Some(&user))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = register(r, "admin@example.com", "&role=admin").await;

    // The list, a search, and the user's page with its live regions.
    let (status, headers, body) = send(r, get("/admin", Some(&admin))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(body.contains("user@example.com") && body.contains("admin@example.com"));
    let (_, _, found) = send(r, get("/admin?q=USER%40", Some(&admin))).await;
    assert!(found.contains("user@example.com") && !found.contains("admin@example.com"));
    let marker = "href=\"/admin/users/";
    let start = found.find(marker).unwrap() + marker.len() - "/admin/users/".len();
    let path = &found[start..start + found[start..].find('"').unwrap()];
    let (status, _, page) = send(r, get(path, Some(&admin))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for region in [
        "target-account",
        "target-claims",
        "target-sessions",
        "target-audit",
    ] {
        assert!(
            page.contains(&format!("data-live-region=\"{region}\"")),
            "{region}"
        );
    }
    assert!(page.contains("data-live-target=\"local:"), "{page}");
    let (status, _, _) = send(r, get("/admin/users/local:nobody", Some(&admin))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(r, get("/admin/users/%0A", Some(&admin))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A button: the user gets the claim, the page lists it and the change.
    let user_id = path.trim_start_matches("/admin/users/").replace("%3A", ":");
    let form = format!("user_id={user_id}&kind=team&value=blue&next={path}");
    let (status, headers, _) = send(r, post("/auth/admin/grant", Some(&admin), &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The form's `next` was decoded like every field.
    assert_eq!(headers[header::LOCATION], format!("/admin/users/{user_id}"));
    let (_, _, page) = send(r, get(path, Some(&admin))).await;
    assert!(
        page.contains("<code>team</code> = <code>blue</code>"),
        "{page}"
    );
    // The audit table: what, and by whom.
    assert!(page.contains("<td>grant</td><td>team=blue</td>"), "{page}");
    let (_, _, live) = send(r, get("/live", Some(&user))).await;
    assert!(live.contains("<code>team</code>"), "{live}");
    // The user, no admin, cannot do the same.
    let (status, _, _) = send(r, post("/auth/admin/grant", Some(&user), &form)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
