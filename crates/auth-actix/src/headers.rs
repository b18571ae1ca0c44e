//! The secure browser headers as actix-web middleware.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use auth_http::SecureHeaders;

/// [`SecureHeaders`] as actix-web's [`DefaultHeaders`], which adds each
/// header a response does not set itself:
/// `App::new().wrap(auth_actix::secure_headers(&SecureHeaders::new()))`.
pub fn secure_headers(headers: &SecureHeaders) -> DefaultHeaders {
    headers
        .pairs()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_bytes(name.as_str().as_bytes()).ok()?,
                HeaderValue::from_bytes(value.as_bytes()).ok()?,
            ))
        })
        .fold(DefaultHeaders::new(), DefaultHeaders::add)
}
