//! Extractors: the principal, the three-layer writer bound to the request's
//! session, and the same-origin check. Each asks the request's
//! [`RequestAuth`], so the session is loaded once however many ask.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use auth_core::Principal;
use auth_http::{Rejection, RequestAuth};
use futures_util::future::LocalBoxFuture;

use crate::convert::{headers, into_actix};

/// Why an extractor refused, answered with the fixed status of its
/// [`Rejection`]: 500 when the auth middleware is missing, 503 when the
/// session backend failed, 303 to the login path, 403 cross-site.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct AuthRejection(pub Rejection);

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        into_actix(self.0.clone().into_response())
    }
}

fn request_auth(request: &HttpRequest) -> Result<RequestAuth, AuthRejection> {
    request
        .extensions()
        .get::<RequestAuth>()
        .cloned()
        .ok_or(AuthRejection(Rejection::MissingMiddleware))
}

/// The request's principal; anonymous when there is no live session.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Principal);

impl FromRequest for CurrentUser {
    type Error = AuthRejection;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = request_auth(request);
        Box::pin(async move { found?.principal().await.map(Self).map_err(AuthRejection) })
    }
}

/// A signed-in principal; anonymous requests are redirected (303) to the
/// login path.
#[derive(Clone, Debug)]
pub struct RequireUser(pub Principal);

impl FromRequest for RequireUser {
    type Error = AuthRejection;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = request_auth(request);
        Box::pin(async move { found?.require_user().await.map(Self).map_err(AuthRejection) })
    }
}

/// The three-layer writer bound to this request's principal and session
/// (see [`auth_http::Auth`] for its methods).
#[derive(Clone, Debug)]
pub struct Auth(pub auth_http::Auth);

impl std::ops::Deref for Auth {
    type Target = auth_http::Auth;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequest for Auth {
    type Error = AuthRejection;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = request_auth(request);
        Box::pin(async move { found?.writer().await.map(Self).map_err(AuthRejection) })
    }
}

/// Refuses cross-site requests (403) by the
/// [`same_origin`](auth_http::same_origin) decision table. Add it to every
/// state-changing handler of the app.
#[derive(Clone, Copy, Debug)]
pub struct SameOrigin;

impl FromRequest for SameOrigin {
    type Error = AuthRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(if auth_http::same_origin(&headers(request)) {
            Ok(Self)
        } else {
            Err(AuthRejection(Rejection::CrossSite))
        })
    }
}
