//! Responses on `http` types with a bytes body, and the few shapes every
//! route answers with.

use std::time::Duration;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER, VARY};
use http::{HeaderValue, StatusCode};
use serde_json::Value;

/// A response body: the whole body in memory (every answer here is small).
pub type Body = bytes::Bytes;

/// A response as every handler of this crate returns it; adapters turn it
/// into their framework's response.
pub type Response = http::Response<Body>;

/// Answers that depend on where a request came from say so to caches.
const VARY_SITE: HeaderValue = HeaderValue::from_static("Origin, Sec-Fetch-Site");

/// A plain-text answer with a fixed, generic body.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response {
    let mut response = http::Response::new(Body::from_static(body.as_bytes()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A refusal of a state-changing request: generic text, `Vary` on the
/// headers the decision read.
pub(crate) fn refused(status: StatusCode, body: &'static str) -> Response {
    let mut response = text(status, body);
    response.headers_mut().insert(VARY, VARY_SITE);
    response
}

/// 303 to `location` (which the caller made safe).
pub(crate) fn see_other(location: &str) -> Response {
    let mut response = http::Response::new(Body::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response.headers_mut().insert(VARY, VARY_SITE);
    response
}

/// A JSON answer that no cache keeps.
#[cfg_attr(not(feature = "local-idp"), allow(dead_code))]
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    let mut response = http::Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A wait in whole seconds for `Retry-After`: rounded up, at least 1.
#[cfg_attr(not(feature = "local-idp"), allow(dead_code))]
fn retry_after_seconds(retry_after: Duration) -> u64 {
    retry_after
        .as_secs()
        .saturating_add(u64::from(retry_after.subsec_nanos() > 0))
        .max(1)
}

/// 429 with a JSON body and `Retry-After` in whole seconds (at least 1).
#[cfg_attr(not(feature = "local-idp"), allow(dead_code))]
pub(crate) fn too_many(retry_after: Duration) -> Response {
    let seconds = retry_after_seconds(retry_after);
    let mut response = json(
        StatusCode::TOO_MANY_REQUESTS,
        &serde_json::json!({"error": "throttled", "retry_after": seconds}),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// 503 for a form route whose password hashing queue is full: a short
/// text body, `Retry-After` in whole seconds (at least 1), never cached.
#[cfg_attr(not(feature = "local-idp"), allow(dead_code))]
pub(crate) fn busy(retry_after: Duration) -> Response {
    let mut response = refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy: please try again in a moment",
    );
    let headers = response.headers_mut();
    headers.insert(
        RETRY_AFTER,
        HeaderValue::from(retry_after_seconds(retry_after)),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::retry_after_seconds;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        let cases = [(0, 1), (1, 1), (999, 1), (1_000, 1), (1_001, 2), (2_500, 3)];
        for (millis, seconds) in cases {
            assert_eq!(
                retry_after_seconds(Duration::from_millis(millis)),
                seconds,
                "{millis} ms"
            );
        }
    }
}
