//! The local routes' form parser (`POST {prefix}/local/*` bodies).
//!
//! Input: a `Content-Type` value, a newline, then the body. Oracle: the
//! parser never panics; it accepts exactly the urlencoded content type;
//! its fields equal an independent decoder's (WHATWG
//! `application/x-www-form-urlencoded` parsing), where the first value of a
//! repeated field wins; and its output is bounded by the body's size.
#![no_main]

use std::collections::HashMap;

use auth_http::fuzzing::{MAX_FORM_BYTES, parse_form};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

const FORM: &str = "application/x-www-form-urlencoded";

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (FORM.as_bytes(), data),
    };
    // The routes refuse longer bodies (413) before parsing.
    if body.len() > MAX_FORM_BYTES {
        return;
    }
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(content_type) {
        headers.insert(CONTENT_TYPE, value);
    }

    let parsed = parse_form(&headers, body);
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(FORM));
    assert_eq!(parsed.is_some(), is_form, "content type {content_type:?}");
    let Some(fields) = parsed else {
        return;
    };

    assert_eq!(fields, reference(body), "body {body:?}");
    // A field takes at least one byte and a separator; decoding shrinks
    // everything but invalid UTF-8, where one byte becomes U+FFFD (3 bytes).
    assert!(fields.len() <= body.len().div_ceil(2));
    let size: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(size <= 3 * body.len());
});

/// An independent urlencoded decoder: split on `&`, skip empty pairs,
/// split at the first `=`, `+` is a space, `%XX` is a byte (a `%` not
/// followed by two hex digits stays), then lossy UTF-8. First value wins.
fn reference(body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        out.entry(decode(name)).or_insert_with(|| decode(value));
    }
    out
}

fn decode(input: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let escaped = match input.get(i + 1..i + 3) {
            Some(&[high, low]) if input[i] == b'%' => hex(high).zip(hex(low)),
            _ => None,
        };
        match (input[i], escaped) {
            (b'%', Some((high, low))) => {
                bytes.push(high * 16 + low);
                i += 2;
            }
            (b'+', _) => bytes.push(b' '),
            (other, _) => bytes.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}
