//! Secure browser headers for the pages an app serves, in the spirit of
//! Phoenix's `put_secure_browser_headers`.

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use http::{HeaderMap, HeaderValue};

use crate::config::ConfigError;

/// The default policy: everything from this origin only, no inline script
/// or style, no plugins, no framing, forms post only here. The live client
/// (`{prefix}/live.js`) and its socket work under it.
pub const DEFAULT_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The headers every page gets, unless the app set its own value:
///
/// | header | value |
/// |---|---|
/// | `Content-Security-Policy` | [`DEFAULT_CONTENT_SECURITY_POLICY`], or the app's |
/// | `X-Content-Type-Options` | `nosniff` |
/// | `X-Frame-Options` | `DENY` |
/// | `Referrer-Policy` | `strict-origin-when-cross-origin` (the form routes read a same-site `Referer`) |
/// | `Cross-Origin-Opener-Policy` | `same-origin` |
///
/// Adapters add them with one layer or middleware. Separately, a response
/// whose request read the session is sent `Cache-Control: no-store` (when
/// it has no `Cache-Control` of its own) by the adapter's auth layer, see
/// [`RequestAuth::was_loaded`](crate::RequestAuth::was_loaded).
///
/// ```
/// use auth_http::SecureHeaders;
/// use http::HeaderMap;
///
/// let mut headers = HeaderMap::new();
/// SecureHeaders::new().apply(&mut headers);
/// assert_eq!(headers["x-content-type-options"], "nosniff");
/// assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
/// ```
#[derive(Clone, Debug)]
pub struct SecureHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Default for SecureHeaders {
    fn default() -> Self {
        Self::new()
    }
}

impl SecureHeaders {
    /// The headers of the table above.
    pub fn new() -> Self {
        Self {
            headers: vec![
                (
                    CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(DEFAULT_CONTENT_SECURITY_POLICY),
                ),
                (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                (
                    REFERRER_POLICY,
                    HeaderValue::from_static("strict-origin-when-cross-origin"),
                ),
                (
                    HeaderName::from_static("cross-origin-opener-policy"),
                    HeaderValue::from_static("same-origin"),
                ),
            ],
        }
    }

    /// Another `Content-Security-Policy`. Loosening it (inline script,
    /// other origins) weakens the page's protection against injected
    /// script: keep `script-src` to origins you serve.
    pub fn with_content_security_policy(mut self, policy: &str) -> Result<Self, ConfigError> {
        let value = HeaderValue::from_str(policy).map_err(|_| ConfigError::HeaderValue)?;
        for (name, old) in &mut self.headers {
            if *name == CONTENT_SECURITY_POLICY {
                *old = value.clone();
            }
        }
        Ok(self)
    }

    /// The headers, as name and value.
    pub fn pairs(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.headers.iter().map(|(name, value)| (name, value))
    }

    /// Adds each header that `headers` does not already have.
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
    }
}

/// Marks a response private when its request read the session: adds
/// `Cache-Control: no-store` unless it has a `Cache-Control` already, so a
/// shared cache or the back button never shows one user's page to another
/// or after sign-out.
pub fn no_store_if_personal(read_session: bool, headers: &mut HeaderMap) {
    if read_session && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
