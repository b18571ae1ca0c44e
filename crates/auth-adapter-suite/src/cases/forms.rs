//! The local account forms: registration, sign-in, sign-out, and what
//! every form route refuses.

use bytes::Bytes;
use http::Method;

use super::{ADA, register_ada, whoami};
use crate::client::{form, send};
use crate::{Adapter, Served};

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

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! forms_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, forms;
            register_signs_in_with_a_safe_cookie_and_goes_to_next,
            wrong_password_returns_to_the_login_page_with_the_invalid_code,
            cross_site_posts_are_refused_on_every_route,
            hostile_next_targets_are_ignored,
            wrong_content_types_and_oversized_bodies_are_refused,
            logout_ends_the_session_and_clears_the_cookie,
        );
    };
}
