//! `safe_path`, the check on every redirect target a form names (`next`,
//! `error_next`), and the `Referer` fallback of a failed form.
//!
//! Oracle: a value `safe_path` accepts is returned unchanged, holds no
//! whitespace, control character or backslash, and resolved against a base
//! URL of the site (as a browser resolves a `Location` header) keeps the
//! site's origin, with or without the `?error=` code the routes append. The
//! same holds for what `same_host_referer` derives from a `Referer`.
#![no_main]

use auth_http::fuzzing::{same_host_referer, with_error};
use auth_http::safe_path;
use http::header::{HOST, REFERER};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use url::Url;

/// Site URLs a redirect is resolved against: the root, a deep page with a
/// query and fragment, and a non-default port.
const BASES: [&str; 3] = [
    "https://app.example/",
    "https://app.example/a/b/c?q=1#top",
    "http://app.example:8000/x/",
];

/// The `Host` the `Referer` case runs under.
const HOST_VALUE: &str = "app.example:8000";

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    if let Some(accepted) = safe_path(&value) {
        assert_eq!(accepted, value, "safe_path must return its input");
        check_stays_on_site(accepted);
    }

    // The same input as a `Referer`, raw and as a path on the site.
    for referer in [value.to_string(), format!("http://{HOST_VALUE}{value}")] {
        let Ok(referer) = HeaderValue::from_str(&referer) else {
            continue;
        };
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static(HOST_VALUE));
        headers.insert(REFERER, referer);
        if let Some(target) = same_host_referer(&headers) {
            assert_eq!(
                safe_path(&target),
                Some(target.as_str()),
                "a referer target must pass safe_path"
            );
            check_stays_on_site(&target);
        }
    }
});

/// Panics unless `path` is a clean same-origin target.
fn check_stays_on_site(path: &str) {
    assert!(
        !path
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control()),
        "accepted a backslash, whitespace or control character: {path:?}"
    );
    assert!(
        path.starts_with('/'),
        "accepted a relative target: {path:?}"
    );
    for candidate in [path.to_owned(), with_error(path, "invalid")] {
        for base in BASES {
            let base = Url::parse(base).expect("the base URLs parse");
            let joined = base
                .join(&candidate)
                .unwrap_or_else(|e| panic!("accepted {candidate:?}, which does not resolve: {e}"));
            assert_eq!(
                joined.origin(),
                base.origin(),
                "{candidate:?} leaves the origin: {joined}"
            );
            assert_eq!(joined.host_str(), base.host_str(), "{candidate:?}");
            assert_eq!(joined.username(), "", "{candidate:?} sets a user name");
            assert_eq!(joined.password(), None, "{candidate:?} sets a password");
        }
    }
}
