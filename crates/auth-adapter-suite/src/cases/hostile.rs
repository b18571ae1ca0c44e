//! Hostile input against every `/auth/local/*` form route and the token
//! routes: each case asserts the documented answer, and no answer is ever a
//! 5xx. JWT forgeries are in [`hostile_tokens`](super::hostile_tokens); the
//! socket, sessions and registration fields in
//! [`hostile_sessions`](super::hostile_sessions).

use std::sync::Arc;
use std::time::Duration;

use auth_core::throttle::MemoryThrottle;
use bytes::Bytes;
use http::{Method, StatusCode, header};

use super::whoami;
use crate::client::{Answer, form, send};
use crate::{Adapter, Served, live_auth_with};

/// The urlencoded form content type.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// The three local form routes.
const FORM_ROUTES: [&str; 3] = [
    "/auth/local/register",
    "/auth/local/login",
    "/auth/local/revoke",
];

/// Fails the test when `answer` is a 5xx.
fn never_5xx(path: &str, answer: Answer) -> Answer {
    assert!(
        !answer.status.is_server_error(),
        "{path} answered {}: {answer:?}",
        answer.status
    );
    answer
}

/// A POST to `path` with an optional content type; fails the test on a 5xx.
pub(crate) async fn post(
    served: &Served,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Bytes>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut all: Vec<(&str, &str)> = content_type
        .map(|c| (header::CONTENT_TYPE.as_str(), c))
        .into_iter()
        .collect();
    all.extend_from_slice(headers);
    never_5xx(
        path,
        send(served.addr, Method::POST, path, &all, body).await,
    )
}

/// A urlencoded form POST to `path`; fails the test on a 5xx.
pub(crate) async fn post_form(
    served: &Served,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Answer {
    never_5xx(path, form(served.addr, path, fields, headers).await)
}

/// The `Location` header as UTF-8 (it may carry non-ASCII bytes), or `""`.
pub(crate) fn location(answer: &Answer) -> String {
    answer
        .headers
        .get(header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// Registration fields for Ada under `email`.
pub(crate) fn account(email: &str) -> Vec<(&str, &str)> {
    vec![
        ("email", email),
        ("password", "correct horse battery"),
        ("name", "Ada"),
    ]
}

/// Registers Ada under `email`; returns the session cookie.
pub(crate) async fn register(served: &Served, email: &str) -> String {
    let answer = post_form(served, "/auth/local/register", &account(email), &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{answer:?}");
    answer.cookie()
}

/// An app whose verify-token throttle never trips in these tests.
pub(crate) fn roomy<A: Adapter>() -> Served {
    let auth = live_auth_with(|b| {
        b.with_verify_token_throttle(Arc::new(MemoryThrottle::new(
            100_000,
            Duration::from_secs(60),
        )))
    })
    .expect("valid test settings");
    Served::serve::<A>(auth)
}

/// `(headers, allowed)`: the table in `auth_http::same_origin`'s docs, for
/// the server's own authority `addr` (host case-folding, which an IP
/// authority cannot show, is in that function's unit tests).
fn csrf_table(served: &Served) -> Vec<(Vec<(&'static str, String)>, bool)> {
    let own = served.origin();
    let addr = served.addr;
    let other_port = format!(
        "http://{}:{}",
        addr.ip(),
        addr.port().wrapping_add(1).max(1)
    );
    let site = |v: &str| ("sec-fetch-site", v.to_owned());
    let origin = |v: String| ("origin", v);
    vec![
        (vec![site("same-origin")], true),
        (vec![site("none")], true),
        (vec![site("same-site")], false),
        (vec![site("cross-site")], false),
        (vec![site("SAME-ORIGIN")], false),
        (vec![site("")], false),
        (vec![site("cross-site"), origin(own.clone())], false),
        (vec![site("same-site"), origin(own.clone())], false),
        (vec![origin("null".to_owned())], false),
        (vec![origin(own.clone())], true),
        (vec![origin(format!("HTTPS://{addr}"))], true),
        (vec![origin("http://evil.example".to_owned())], false),
        (vec![origin(other_port)], false),
        (vec![origin(format!("{own}.evil.example"))], false),
        (vec![origin(format!("http://evil.example#{addr}"))], false),
        (vec![origin("file://".to_owned())], false),
        (vec![origin("garbage".to_owned())], false),
        (vec![], true),
    ]
}

/// Whether `Vary` names `Origin`.
fn has_vary(answer: &Answer) -> bool {
    answer
        .headers
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("Origin")))
}

/// The CSRF table holds on every form route, each answer with `Vary: Origin`.
pub async fn the_csrf_table_holds_on_every_form_route<A: Adapter>() {
    let served = Served::start::<A>();
    for (i, (headers, allowed)) in csrf_table(&served).iter().enumerate() {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        for path in FORM_ROUTES {
            let email = format!("csrf{i}@example.com");
            let answer = post_form(&served, path, &account(&email), &headers).await;
            let expected = if *allowed {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(answer.status, expected, "{path} {headers:?}");
            assert!(has_vary(&answer), "{path} {headers:?}: no Vary");
        }
    }
}

/// The CSRF table holds on the token route, refusals with `Vary: Origin`.
pub async fn the_csrf_table_holds_on_the_token_route<A: Adapter>() {
    let served = Served::start::<A>();
    let session = register(&served, "token-csrf@example.com").await;
    for (headers, allowed) in csrf_table(&served) {
        let mut headers: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        headers.push(("cookie", &session));
        let answer = post(&served, "/auth/local/token", None, "", &headers).await;
        if allowed {
            assert_eq!(answer.status, StatusCode::OK, "{headers:?}");
        } else {
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{headers:?}");
            assert!(has_vary(&answer), "{headers:?}: no Vary");
        }
    }
}

/// A refused cross-site post changes nothing: no sign-out, no account.
pub async fn a_refused_cross_site_post_changes_nothing<A: Adapter>() {
    let served = Served::start::<A>();
    let victim = register(&served, "victim@example.com").await;
    let headers = [
        ("cookie", victim.as_str()),
        ("sec-fetch-site", "cross-site"),
    ];
    let answer = post_form(&served, "/auth/local/revoke", &[], &headers).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer.headers.get(header::SET_COOKIE).is_none(),
        "{answer:?}"
    );
    assert_eq!(whoami(&served, &victim).await, "Ada");
    let planted = account("planted@example.com");
    let path = "/auth/local/register";
    let answer = post_form(&served, path, &planted, &[("origin", "null")]).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let again = post_form(&served, path, &planted, &[]).await;
    assert_eq!(location(&again), "/", "no account was created");
}

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

/// A site path longer than any redirect target may be.
fn over_long() -> String {
    format!("/{}", "a".repeat(4096))
}

/// `next` is followed only when it is a path on this site.
pub async fn next_is_followed_only_when_it_is_a_path_on_this_site<A: Adapter>() {
    let served = Served::start::<A>();
    let long = over_long();
    let foreign = FOREIGN.iter().copied().chain([long.as_str()]);
    let revoke = async |target: &str| {
        let answer = post_form(&served, "/auth/local/revoke", &[("next", target)], &[]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{target:?}");
        location(&answer)
    };
    // Revoke without a session redirects to `next` (the same choice every
    // successful form route makes).
    for target in SITE_PATHS {
        assert_eq!(revoke(target).await, *target, "{target:?}");
    }
    for target in foreign {
        assert_eq!(revoke(target).await, "/", "{target:?}");
    }
    let base = url::Url::parse(&served.origin()).expect("the server's URL");
    for target in LOOK_ALIKES {
        assert_eq!(revoke(target).await, *target, "{target:?}");
        let joined = base.join(target).expect("a relative reference");
        assert_eq!(joined.origin(), base.origin(), "{target:?}");
    }
}

/// `error_next` is followed only when it is a path on this site; a foreign
/// `Referer` is no fallback.
pub async fn error_next_is_followed_only_when_it_is_a_path_on_this_site<A: Adapter>() {
    let served = Served::start::<A>();
    let long = over_long();
    let foreign = FOREIGN.iter().copied().chain([long.as_str()]);
    let missing = async |target: &str| {
        let fields = [("email", "x@example.com"), ("error_next", target)];
        location(&post_form(&served, "/auth/local/login", &fields, &[]).await)
    };
    for target in SITE_PATHS {
        let got = missing(target).await;
        let path = target.split('#').next().unwrap_or_default();
        assert!(
            got.starts_with(path) && got.contains("error=missing"),
            "{target:?} -> {got}"
        );
    }
    for target in foreign {
        assert_eq!(missing(target).await, "/?error=missing", "{target:?}");
    }
    let answer = post_form(
        &served,
        "/auth/local/login",
        &[("email", "x@example.com")],
        &[("referer", "http://evil.example/login")],
    )
    .await;
    assert_eq!(location(&answer), "/?error=missing");
}

/// Wrong content types are 415 on every form route; a charset is fine.
pub async fn wrong_content_types_are_415_on_every_form_route<A: Adapter>() {
    let served = Served::start::<A>();
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
            let answer = post(&served, path, content_type, "email=a", &[]).await;
            assert_eq!(
                answer.status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} {content_type:?}"
            );
        }
        let charset = "application/x-www-form-urlencoded; charset=UTF-8";
        let answer = post(&served, path, Some(charset), "x=1", &[]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
    }
}

/// Oversized bodies are 413 and garbage bodies a plain 303, on every form
/// route.
pub async fn oversized_and_garbage_bodies_never_fail_the_server<A: Adapter>() {
    let served = Served::start::<A>();
    let big = format!("email=a%40b.c&password={}", "x".repeat(17 * 1024));
    let many = "a=1&".repeat(4000);
    let garbage: Vec<u8> = (0..=255u8).cycle().take(8 * 1024).collect();
    for path in FORM_ROUTES {
        let answer = post(&served, path, Some(FORM), big.clone(), &[]).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        for body in [
            garbage.clone(),
            many.clone().into_bytes(),
            b"%%%&&&===%zz%0".to_vec(),
            b"email=%00&password=%ff%fe".to_vec(),
            vec![],
        ] {
            let answer = post(&served, path, Some(FORM), body, &[]).await;
            assert_eq!(answer.status, StatusCode::SEE_OTHER, "{path}");
        }
    }
}

/// `verify-token` answers 400 to every malformed JSON body.
pub async fn verify_token_refuses_malformed_bodies<A: Adapter>() {
    let served = roomy::<A>();
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
        let answer = post(&served, path, Some("application/json"), body, &[]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! hostile_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, hostile;
            the_csrf_table_holds_on_every_form_route,
            the_csrf_table_holds_on_the_token_route,
            a_refused_cross_site_post_changes_nothing,
            next_is_followed_only_when_it_is_a_path_on_this_site,
            error_next_is_followed_only_when_it_is_a_path_on_this_site,
            wrong_content_types_are_415_on_every_form_route,
            oversized_and_garbage_bodies_never_fail_the_server,
            verify_token_refuses_malformed_bodies,
        );
    };
}
