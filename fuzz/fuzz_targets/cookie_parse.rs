//! The session-cookie lookup of the auth layer.
//!
//! Input: `Cookie` header values, one per line. Oracle: the lookup never
//! panics; what it returns is a well-formed session token
//! (`SessionToken::parse` accepts it: 64 lowercase hex characters), and it
//! is the first such value of the named cookie in header order, as an
//! independent scan of the headers finds it.
#![no_main]

use auth_http::fuzzing::session_token;
use auth_core::SessionToken;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

/// The default cookie names: secure (`__Host-` prefix) and plain.
const NAMES: [&str; 2] = ["__Host-live_auth", "live_auth"];

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(COOKIE, value);
        }
    }
    for name in NAMES {
        let found = session_token(&headers, name);
        let expected = reference(&headers, name);
        if let Some(token) = &found {
            let text = token.as_str();
            assert_eq!(text.len(), 64, "{text:?}");
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{text:?}"
            );
            assert!(SessionToken::parse(text).is_some());
        }
        assert_eq!(
            found.as_ref().map(SessionToken::as_str),
            expected.as_deref(),
            "cookie {name} in {data:?}"
        );
    }
});

/// The first value of cookie `name` that is 64 lowercase hex characters
/// (optionally in one pair of double quotes), scanning pairs in header
/// order.
fn reference(headers: &HeaderMap, name: &str) -> Option<String> {
    for value in headers.get_all(COOKIE) {
        let Ok(line) = value.to_str() else {
            continue;
        };
        for pair in line.split(';') {
            let pair = pair.trim_matches(|c: char| c.is_whitespace());
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            // Like the cookie crate, whitespace around the name and the
            // value is not part of them.
            if key.trim() != name {
                continue;
            }
            let value = value.trim();
            // One surrounding pair of quotes is allowed; an unbalanced quote
            // makes the value malformed.
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if value.len() == 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Some(value.to_owned());
            }
        }
    }
    None
}
