//! The cases: each serves a fresh app through adapter `A` and checks one
//! behaviour over real TCP. [`adapter_suite!`](crate::adapter_suite) turns
//! each into a test.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::SinkExt;
use http::Method;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Answer, connect, form, frame_within, get, next_frame, refused_status, send};
use crate::{Adapter, Served};

const ADA: &[(&str, &str)] = &[
    ("email", "ada@example.com"),
    ("password", "correct horse battery"),
    ("name", "Ada"),
    ("next", "/live"),
];

async fn register_ada(served: &Served) -> Answer {
    let answer = form(served.addr, "/auth/local/register", ADA, &[]).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    answer
}

async fn whoami(served: &Served, cookie: &str) -> String {
    get(served.addr, "/whoami", Some(cookie)).await.body
}

/// Register signs in with a safe cookie and goes to next.
pub async fn register_signs_in_with_a_safe_cookie_and_goes_to_next<A: Adapter>() {
    let served = Served::start::<A>();
    let answer = register_ada(&served).await;
    assert_eq!(answer.location(), "/live");
    let set = answer.header("set-cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert_eq!(whoami(&served, &answer.cookie()).await, "Ada");
}

/// Wrong password returns to the login page with the invalid code.
pub async fn wrong_password_returns_to_the_login_page_with_the_invalid_code<A: Adapter>() {
    let served = Served::start::<A>();
    register_ada(&served).await;
    let fields = [
        ("email", "ada@example.com"),
        ("password", "wrong horse battery"),
        ("error_next", "/login_local"),
    ];
    let wrong = form(served.addr, "/auth/local/login", &fields, &[]).await;
    assert_eq!(wrong.status, 303);
    assert_eq!(wrong.location(), "/login_local?error=invalid");
    assert_eq!(wrong.header("set-cookie"), "", "no session for a failure");
    let fields = [
        ("email", "nobody@example.com"),
        ("password", "wrong horse battery"),
        ("error_next", "/login_local"),
    ];
    let unknown = form(served.addr, "/auth/local/login", &fields, &[]).await;
    assert_eq!(
        unknown.location(),
        wrong.location(),
        "unknown looks like wrong"
    );
}

/// Cross site posts are refused on every route.
pub async fn cross_site_posts_are_refused_on_every_route<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    for headers in [
        [("sec-fetch-site", "cross-site")],
        [("sec-fetch-site", "same-site")],
        [("origin", "http://evil.example")],
        [("origin", "null")],
    ] {
        for path in [
            "/auth/local/register",
            "/auth/local/login",
            "/auth/local/revoke",
            "/grant",
        ] {
            let mut all = headers.to_vec();
            all.push(("cookie", &cookie));
            let answer = form(served.addr, path, ADA, &all).await;
            assert_eq!(answer.status, 403, "{path} {headers:?}: {answer:?}");
        }
    }
    let origin = served.origin();
    let same = [
        ("origin", origin.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let answer = form(served.addr, "/auth/local/register", ADA, &same).await;
    assert_eq!(answer.status, 303, "{answer:?}");
}

/// Hostile next targets are ignored.
pub async fn hostile_next_targets_are_ignored<A: Adapter>() {
    let served = Served::start::<A>();
    let hostile = [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/x\r\nSet-Cookie: a=b",
        "//%2Fevil.example",
    ];
    for (n, target) in hostile.iter().enumerate() {
        let fields = [("email", ""), ("error_next", target)];
        let answer = form(served.addr, "/auth/local/login", &fields, &[]).await;
        assert_eq!(
            answer.location(),
            "/?error=missing",
            "error_next={target:?}"
        );
        let email = format!("user{n}@example.com");
        let fields = [
            ("email", email.as_str()),
            ("password", "correct horse battery"),
            ("next", target),
        ];
        let answer = form(served.addr, "/auth/local/register", &fields, &[]).await;
        assert_eq!(answer.status, 303, "next={target:?}");
        assert_eq!(answer.location(), "/", "next={target:?}");
    }
}

/// Wrong content types and oversized bodies are refused.
pub async fn wrong_content_types_and_oversized_bodies_are_refused<A: Adapter>() {
    let served = Served::start::<A>();
    for content_type in ["application/json", "text/plain"] {
        let headers = [("content-type", content_type)];
        let answer = send(
            served.addr,
            Method::POST,
            "/auth/local/login",
            &headers,
            "email=a",
        )
        .await;
        assert_eq!(answer.status, 415, "{content_type}");
    }
    let huge = format!("email=a&password={}", "x".repeat(64 * 1024));
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let answer = send(
        served.addr,
        Method::POST,
        "/auth/local/login",
        &headers,
        huge,
    )
    .await;
    assert_eq!(answer.status, 413);
    let bytes = Bytes::from_static(&[0xff, 0xfe, b'=', 0x00]);
    let answer = send(
        served.addr,
        Method::POST,
        "/auth/local/login",
        &headers,
        bytes,
    )
    .await;
    assert_eq!(
        answer.status, 303,
        "undecodable bytes are just a missing field"
    );
}

/// Pages need a session and redirect to the login page.
pub async fn pages_need_a_session_and_redirect_to_the_login_page<A: Adapter>() {
    let served = Served::start::<A>();
    let answer = get(served.addr, "/live", None).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location(), "/login_local");
    let answer = get(served.addr, "/live", Some("live_auth=forged")).await;
    assert_eq!(answer.location(), "/login_local");
    assert_eq!(whoami(&served, "live_auth=forged").await, "anonymous");

    let (cookie, _) = served.sign_in("local:ada").await;
    let answer = get(served.addr, "/live", Some(&cookie)).await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.contains("admin content hidden"),
        "{}",
        answer.body
    );
    assert!(
        !answer.body.contains("SECRET"),
        "a failed region is not sent"
    );
    assert!(answer.body.contains("/auth/live.js"), "{}", answer.body);
}

/// The guard admits after a grant through the writer.
pub async fn the_guard_admits_after_a_grant_through_the_writer<A: Adapter>() {
    let served = Served::start::<A>();
    assert_eq!(get(served.addr, "/admin", None).await.status, 303);
    let (cookie, _) = served.sign_in("local:ada").await;
    assert_eq!(get(served.addr, "/admin", Some(&cookie)).await.status, 403);
    let origin = served.origin();
    let headers = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    let answer = form(served.addr, "/grant", &[], &headers).await;
    assert_eq!((answer.status.as_u16(), answer.location()), (303, "/live"));
    let admin = get(served.addr, "/admin", Some(&cookie)).await;
    assert_eq!(
        (admin.status.as_u16(), admin.body.as_str()),
        (200, "admin page")
    );
}

/// Pages send the secure headers and personal ones are not stored.
pub async fn pages_send_the_secure_headers_and_personal_ones_are_not_stored<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let personal = get(served.addr, "/whoami", Some(&cookie)).await;
    let anonymous = get(served.addr, "/whoami", None).await;
    for answer in [&personal, &anonymous] {
        let csp = answer.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(answer.header("x-content-type-options"), "nosniff");
        assert_eq!(answer.header("x-frame-options"), "DENY");
        assert!(!answer.header("referrer-policy").is_empty());
    }
    assert!(
        personal.header("cache-control").contains("no-store"),
        "{personal:?}"
    );
}

/// A static script is served and cacheable.
pub async fn a_static_script_is_served_and_cacheable<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let script = get(served.addr, "/auth/live.js", Some(&cookie)).await;
    assert_eq!(script.status, 200);
    assert!(
        script.header("content-type").contains("javascript"),
        "{script:?}"
    );
    assert!(script.body.contains("WebSocket"), "the live client");
    assert!(
        !script.header("cache-control").contains("no-store"),
        "the script reads no session: {script:?}"
    );
}

/// Logout ends the session and clears the cookie.
pub async fn logout_ends_the_session_and_clears_the_cookie<A: Adapter>() {
    let served = Served::start::<A>();
    let session = register_ada(&served).await.cookie();
    let fields = [("next", "/login_local")];
    let answer = form(
        served.addr,
        "/auth/local/revoke",
        &fields,
        &[("cookie", &session)],
    )
    .await;
    assert_eq!(answer.location(), "/login_local");
    assert!(
        answer.header("set-cookie").contains("Max-Age=0"),
        "{answer:?}"
    );
    assert_eq!(answer.header("clear-site-data"), "\"cache\", \"storage\"");
    assert_eq!(whoami(&served, &session).await, "anonymous");
}

/// Cross site and anonymous upgrades are refused.
pub async fn cross_site_and_anonymous_upgrades_are_refused<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let origin = served.origin();
    let hostile = connect(served.addr, Some(&cookie), Some("http://evil.example")).await;
    assert_eq!(refused_status(hostile), 403);
    assert_eq!(
        refused_status(connect(served.addr, Some(&cookie), Some("null")).await),
        403
    );
    assert_eq!(
        refused_status(connect(served.addr, None, Some(&origin)).await),
        401
    );
    let forged = connect(served.addr, Some("live_auth=garbage"), Some(&origin)).await;
    assert_eq!(refused_status(forged), 401);
}

async fn signed_in_socket(served: &Served, cookie: &str) -> crate::client::Socket {
    let origin = served.origin();
    let mut socket = connect(served.addr, Some(cookie), Some(&origin))
        .await
        .expect("upgrade");
    let first = next_frame(&mut socket).await;
    assert_eq!(first["type"], "update", "{first}");
    socket
}

/// A grant reaches every tab with the region rendered.
pub async fn a_grant_reaches_every_tab_with_the_region_rendered<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tab1 = signed_in_socket(&served, &cookie).await;
    let mut tab2 = signed_in_socket(&served, &cookie).await;
    let actions = served.auth.actions();
    let principal = served.principal(&key).await;
    actions
        .grant(&principal, Some(&key), "role", "admin")
        .await
        .expect("granted");
    for tab in [&mut tab1, &mut tab2] {
        let frame = next_frame(tab).await;
        assert_eq!(frame["type"], "update");
        assert_eq!(frame["regions"]["admin"], "SECRET admin content");
        assert_eq!(frame["regions"]["claims"], "role=admin");
    }
    let principal = served.principal(&key).await;
    actions
        .revoke_claim(&principal, Some(&key), "role")
        .await
        .expect("revoked");
    for tab in [&mut tab1, &mut tab2] {
        let frame = next_frame(tab).await;
        assert_eq!(frame["regions"]["admin"], "admin content hidden");
        assert!(!frame.to_string().contains("SECRET"), "{frame}");
    }
}

/// Many grants and revokes in a row, from two tasks at once: whatever
/// frames a tab skips, the last one it shows is the session's final state.
pub async fn a_storm_of_grants_and_revokes_ends_in_the_last_state<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tab = signed_in_socket(&served, &cookie).await;
    let storm = |served_auth: auth_http::LiveAuth, key: auth_core::SessionKey| async move {
        for round in 0..100 {
            let principal = served_auth
                .sessions()
                .load(&key)
                .await
                .expect("backend works")
                .expect("session exists")
                .record
                .principal;
            let actions = served_auth.actions();
            if round % 2 == 0 {
                actions.grant(&principal, Some(&key), "role", "admin").await
            } else {
                actions.revoke_claim(&principal, Some(&key), "role").await
            }
            .expect("the writer works");
        }
    };
    let first = tokio::spawn(storm(served.auth.clone(), key.clone()));
    let second = tokio::spawn(storm(served.auth.clone(), key.clone()));
    first.await.expect("storm ran");
    second.await.expect("storm ran");
    let principal = served.principal(&key).await;
    served
        .auth
        .actions()
        .grant(&principal, Some(&key), "role", "admin")
        .await
        .expect("granted");

    let mut last = None;
    while let Some(frame) = frame_within(&mut tab, Duration::from_millis(1500)).await {
        last = Some(frame);
    }
    let last = last.expect("the tab heard the storm");
    assert_eq!(last["regions"]["admin"], "SECRET admin content", "{last}");
    assert_eq!(last["regions"]["claims"], "role=admin", "{last}");
}

/// Revoking a session navigates only its tabs.
pub async fn revoking_a_session_navigates_only_its_tabs<A: Adapter>() {
    let served = Served::start::<A>();
    let (mine_cookie, key) = served.sign_in("local:ada").await;
    let (other_cookie, _) = served.sign_in("local:ada").await;
    let mut mine = signed_in_socket(&served, &mine_cookie).await;
    let mut other = signed_in_socket(&served, &other_cookie).await;
    let principal = served.principal(&key).await;
    served
        .auth
        .actions()
        .revoke_session(&principal, &key)
        .await
        .expect("revoked");
    let frame = next_frame(&mut mine).await;
    assert_eq!(frame["type"], "navigate");
    assert_eq!(frame["to"], "/login_local");
    assert_eq!(
        frame_within(&mut other, Duration::from_millis(500)).await,
        None
    );
    assert_eq!(whoami(&served, &other_cookie).await, "name of local:ada");
}

/// Oversized socket frames close the socket.
pub async fn oversized_socket_frames_close_the_socket<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let mut socket = signed_in_socket(&served, &cookie).await;
    let huge = "x".repeat(64 * 1024);
    // The server may close before it has read the whole frame.
    let _ = socket.send(Message::text(huge)).await;
    let started = Instant::now();
    assert_eq!(
        frame_within(&mut socket, Duration::from_secs(8)).await,
        None
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the server closed the socket, not the wait: {:?}",
        started.elapsed()
    );
}
