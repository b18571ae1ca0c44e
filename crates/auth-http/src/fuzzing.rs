//! Entry points for the fuzz targets (the workspace's `fuzz/` directory).
//!
//! Each function is a thin wrapper around the private parser the web layer
//! itself uses, so the fuzzers exercise exactly the code that serves
//! requests. Hidden from the docs and not a stable API: use
//! [`safe_path`](crate::safe_path) and [`same_origin`](crate::same_origin)
//! from the crate root instead.

use std::collections::HashMap;

use auth_core::SessionToken;
use http::HeaderMap;

/// Largest form body the local routes read, in bytes; longer bodies are
/// refused with 413 before parsing.
#[cfg(feature = "local-idp")]
pub const MAX_FORM_BYTES: usize = crate::routes::MAX_FORM_BYTES;

/// The path and query of a same-host `Referer` (without its `error`
/// parameter), as the form routes compute where a failure returns to.
pub fn same_host_referer(headers: &HeaderMap) -> Option<String> {
    crate::redirect::same_host_referer(headers)
}

/// `target` with `?error=<code>` (or `&error=<code>`) appended, as the
/// form routes redirect on failure.
pub fn with_error(target: &str, code: &str) -> String {
    crate::redirect::with_error(target, code)
}

/// The session token read from the `Cookie` headers for the cookie `name`:
/// the first well-formed one, else `None`.
pub fn session_token(headers: &HeaderMap, name: &str) -> Option<SessionToken> {
    crate::cookie::session_token(headers, name)
}

/// The form parser: `None` unless the `Content-Type` is
/// `application/x-www-form-urlencoded`; else the first value of each field.
pub fn parse_form(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    crate::form::Form::parse(headers, body).map(|form| form.0)
}
