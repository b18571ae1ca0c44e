//! The cross-site check on form posts and WebSocket upgrades.
//!
//! Input: header lines (`name: value`). Oracle: the decision never panics
//! and follows the table of `same_origin`'s docs: `Sec-Fetch-Site` decides
//! when present (only `same-origin` and `none` pass); else no `Origin`
//! passes, `null` is refused, and a passing `Origin` is an http(s) URL whose
//! `host[:port]` is the `Host` header.
#![no_main]

use auth_http::same_origin;
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }

    let allowed = same_origin(&headers);

    if let Some(site) = headers.get("sec-fetch-site") {
        let expected = matches!(site.as_bytes(), b"same-origin" | b"none");
        assert_eq!(allowed, expected, "Sec-Fetch-Site {site:?}");
        return;
    }
    let Some(origin) = headers.get(ORIGIN) else {
        assert!(allowed, "no Origin, no Sec-Fetch-Site: allowed");
        return;
    };
    if origin.as_bytes() == b"null" {
        assert!(!allowed, "Origin: null is refused");
    }
    if allowed {
        let origin = Url::parse(origin.to_str().expect("an allowed Origin is text"))
            .expect("an allowed Origin is a URL");
        assert!(matches!(origin.scheme(), "http" | "https"), "{origin}");
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .expect("an allowed Origin needs a Host");
        let authority = match origin.port() {
            Some(port) => format!("{}:{port}", origin.host_str().unwrap_or_default()),
            None => origin.host_str().unwrap_or_default().to_owned(),
        };
        assert!(
            authority.eq_ignore_ascii_case(host),
            "{authority} vs {host}"
        );
    }
});
