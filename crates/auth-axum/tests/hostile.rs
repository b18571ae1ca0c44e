//! Hostile input against every `/auth/local/*` route and the live socket,
//! over HTTP against the real adapter: each case asserts the documented
//! answer, and no answer is ever a 5xx. JWT forgeries are in
//! `hostile_tokens.rs`; the socket, sessions and registration fields in
//! `hostile_sessions.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use common::app;
use common::hostile::{FORM, account, form, location, post, register, roomy_app, whoami};
use http::{Response, StatusCode, header};

const FORM_ROUTES: [&str; 3] = [
    "/auth/local/register",
    "/auth/local/login",
    "/auth/local/revoke",
];

// ---- CSRF: the Fetch Metadata + Origin decision table -------------------

/// `(headers, allowed)`: the table in `auth_axum::same_origin`'s docs.
const CSRF_TABLE: &[(&[(&str, &str)], bool)] = &[
    (&[("sec-fetch-site", "same-origin")], true),
    (&[("sec-fetch-site", "none")], true),
    (&[("sec-fetch-site", "same-site")], false),
    (&[("sec-fetch-site", "cross-site")], false),
    (&[("sec-fetch-site", "SAME-ORIGIN")], false),
    (&[("sec-fetch-site", "")], false),
    (
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://app.example"),
        ],
        false,
    ),
    (
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://app.example"),
        ],
        false,
    ),
    (&[("origin", "null")], false),
    (&[("origin", "http://app.example")], true),
    (&[("origin", "https://APP.EXAMPLE")], true),
    (&[("origin", "http://evil.example")], false),
    (&[("origin", "http://app.example:8443")], false),
    (&[("origin", "http://app.example.evil.example")], false),
    (&[("origin", "http://evil.example#app.example")], false),
    (&[("origin", "file://")], false),
    (&[("origin", "garbage")], false),
    (&[], true),
];

fn has_vary(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::VARY)
        .is_some_and(|v| v.to_str().unwrap().contains("Origin"))
}

#[tokio::test]
async fn the_csrf_table_holds_on_every_form_route() {
    let app = app();
    for (i, (headers, allowed)) in CSRF_TABLE.iter().enumerate() {
        for path in FORM_ROUTES {
            let email = format!("csrf{i}@example.com");
            let response = form(&app.router, path, &account(&email), headers).await;
            let expected = if *allowed {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(response.status(), expected, "{path} {headers:?}");
            assert!(has_vary(&response), "{path} {headers:?}: no Vary");
        }
    }
}

#[tokio::test]
async fn the_csrf_table_holds_on_the_token_route() {
    let app = app();
    let session = register(&app.router, "token-csrf@example.com").await;
    for (headers, allowed) in CSRF_TABLE {
        let mut headers = headers.to_vec();
        headers.push(("cookie", &session));
        let response = post(&app.router, "/auth/local/token", None, "", &headers).await;
        if *allowed {
            assert_eq!(response.status(), StatusCode::OK, "{headers:?}");
        } else {
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
            assert!(has_vary(&response), "{headers:?}: no Vary");
        }
    }
}

#[tokio::test]
async fn a_refused_cross_site_post_changes_nothing() {
    let app = app();
    let victim = register(&app.router, "victim@example.com").await;
    let response = form(
        &app.router,
        "/auth/local/revoke",
        &[],
        &[("cookie", &victim), ("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(whoami(&app.router, &victim).await, "Ada");
    let response = form(
        &app.router,
        "/auth/local/register",
        &account("planted@example.com"),
        &[("origin", "null")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let again = form(
        &app.router,
        "/auth/local/register",
        &account("planted@example.com"),
        &[],
    )
    .await;
    assert_eq!(location(&again), Some("/"), "no account was created");
}

// ---- redirect targets: `next` and `error_next` ---------------------------

/// Paths on this site: followed as given.
const SITE_PATHS: &[&str] = &[
    "/",
    "/live",
    "/a/b?c=d&e=f#g",
    "/@evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%0d%0aSet-Cookie:%20x=1",
    "/a:b",
    "/..//evil.example",
];

/// Anything else: replaced by the fallback path.
const FOREIGN: &[&str] = &[
    "//evil.example",
    "///evil.example",
    "//user@evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/a\\b",
    "https://evil.example/",
    "http:evil.example",
    "http:/evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "data:text/html,x",
    "https://app.example@evil.example/",
    "evil.example",
    " /live",
    "/live ",
    "/\tevil",
    "/\nevil",
    "/a\r\nSet-Cookie: x=1",
    "/\u{0}",
    "/\u{7f}",
    "/\u{3000}evil",
    "\u{ff0f}\u{ff0f}evil.example",
    "\u{2215}\u{2215}evil.example",
];

/// Non-ASCII look-alikes behind a real `/`: a path on this site (a URL
/// parser reads only `/` and `\` as separators), sent as UTF-8 bytes.
const LOOK_ALIKES: &[&str] = &[
    "/\u{ff0f}evil.example",
    "/\u{2215}evil.example",
    "/\u{200b}",
];

fn over_long() -> String {
    format!("/{}", "a".repeat(4096))
}

#[tokio::test]
async fn next_is_followed_only_when_it_is_a_path_on_this_site() {
    let app = app();
    let long = over_long();
    let foreign = FOREIGN.iter().copied().chain([long.as_str()]);
    // Revoke without a session redirects to `next` (the same choice every
    // successful form route makes).
    for target in SITE_PATHS {
        let response = form(&app.router, "/auth/local/revoke", &[("next", target)], &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), Some(*target), "{target:?}");
    }
    for target in foreign {
        let response = form(&app.router, "/auth/local/revoke", &[("next", target)], &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), Some("/"), "{target:?}");
    }
    for target in LOOK_ALIKES {
        let response = form(&app.router, "/auth/local/revoke", &[("next", target)], &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), Some(*target), "{target:?}");
        let base = url::Url::parse("http://app.example/").unwrap();
        let joined = base.join(target).unwrap();
        assert_eq!(joined.origin(), base.origin(), "{target:?}");
    }
}

#[tokio::test]
async fn a_successful_registration_follows_only_site_paths() {
    let app = app();
    for (i, (target, expected)) in [
        ("/live", "/live"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("next{i}@example.com");
        let mut fields = account(&email);
        fields.push(("next", target));
        let response = form(&app.router, "/auth/local/register", &fields, &[]).await;
        assert_eq!(location(&response), Some(expected), "{target:?}");
    }
}

#[tokio::test]
async fn error_next_is_followed_only_when_it_is_a_path_on_this_site() {
    let app = app();
    let long = over_long();
    let foreign = FOREIGN.iter().copied().chain([long.as_str()]);
    let missing = |target| vec![("email", "x@example.com"), ("error_next", target)];
    for target in SITE_PATHS {
        let response = form(&app.router, "/auth/local/login", &missing(target), &[]).await;
        let got = location(&response).unwrap();
        assert!(
            got.starts_with(target.split('#').next().unwrap()) && got.contains("error=missing"),
            "{target:?} -> {got}"
        );
    }
    for target in foreign {
        let response = form(&app.router, "/auth/local/login", &missing(target), &[]).await;
        assert_eq!(location(&response), Some("/?error=missing"), "{target:?}");
    }
    // A foreign Referer is no fallback either.
    let response = form(
        &app.router,
        "/auth/local/login",
        &[("email", "x@example.com")],
        &[("referer", "http://evil.example/login")],
    )
    .await;
    assert_eq!(location(&response), Some("/?error=missing"));
}

// ---- bodies and content types -------------------------------------------

#[tokio::test]
async fn wrong_content_types_are_415_on_every_form_route() {
    let app = app();
    for path in FORM_ROUTES {
        for content_type in [
            None,
            Some("application/json"),
            Some("text/plain"),
            Some("multipart/form-data; boundary=x"),
            Some("application/x-www-form-urlencoded-evil"),
            Some("application/xml"),
            Some(""),
        ] {
            let response = post(&app.router, path, content_type, "email=a", &[]).await;
            assert_eq!(
                response.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} {content_type:?}"
            );
        }
        let charset = "application/x-www-form-urlencoded; charset=UTF-8";
        let response = post(&app.router, path, Some(charset), "x=1", &[]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    }
}

#[tokio::test]
async fn oversized_and_garbage_bodies_never_fail_the_server() {
    let app = app();
    let big = format!("email=a%40b.c&password={}", "x".repeat(17 * 1024));
    let many = "a=1&".repeat(4000);
    let garbage: Vec<u8> = (0..=255u8).cycle().take(8 * 1024).collect();
    for path in FORM_ROUTES {
        let response = post(&app.router, path, Some(FORM), big.clone(), &[]).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        for body in [
            garbage.clone(),
            many.clone().into_bytes(),
            b"%%%&&&===%zz%0".to_vec(),
            b"email=%00&password=%ff%fe".to_vec(),
            vec![],
        ] {
            let response = post(&app.router, path, Some(FORM), body, &[]).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        }
    }
}

#[tokio::test]
async fn verify_token_refuses_malformed_bodies() {
    let app = roomy_app();
    for body in [
        "",
        "token",
        "{",
        "[]",
        "null",
        r#"{"token": 42}"#,
        r#"{"token": null}"#,
        r#"{"token": ["a.b.c"]}"#,
        r#"{"tokens": "a.b.c"}"#,
    ] {
        let path = "/auth/local/verify-token";
        let response = post(&app.router, path, Some("application/json"), body, &[]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
}
