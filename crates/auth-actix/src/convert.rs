//! Between actix-web's request and response types and `auth-http`'s.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use auth_http::{AuthRequest, LiveAuth, RequestAuth};

/// The request's headers as `http` types (actix-web keeps its own).
pub(crate) fn headers(request: &HttpRequest) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    out
}

/// Only the `Cookie` headers, which is all the middleware reads.
pub(crate) fn cookies(request: &actix_web::dev::ServiceRequest) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    for value in request.headers().get_all(actix_web::http::header::COOKIE) {
        if let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) {
            out.append(http::header::COOKIE, value);
        }
    }
    out
}

/// The request's method and path-and-query as `http` types.
pub(crate) fn method_and_uri(request: &HttpRequest) -> (http::Method, http::Uri) {
    let method =
        http::Method::from_bytes(request.method().as_str().as_bytes()).unwrap_or(http::Method::GET);
    let uri = request
        .uri()
        .path_and_query()
        .and_then(|path| path.as_str().parse().ok())
        .unwrap_or_default();
    (method, uri)
}

/// The web layer's view of a request: method, URI, headers, the peer
/// address, and the middleware's session handle when it ran.
pub(crate) fn neutral(auth: &LiveAuth, request: &HttpRequest) -> AuthRequest {
    let (method, uri) = method_and_uri(request);
    let session = request.extensions().get::<RequestAuth>().cloned();
    let neutral = AuthRequest::new(auth, method, uri, headers(request))
        .with_peer(request.peer_addr().map(|addr| addr.ip()));
    match session {
        Some(session) => neutral.with_session(session),
        None => neutral,
    }
}

/// An `auth-http` response (a shared page or action's answer) as
/// actix-web's.
pub fn into_actix(response: auth_http::Response) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status =
        StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::build(status).body(body);
    let headers = out.headers_mut();
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    out
}
