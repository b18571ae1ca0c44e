//! Extractors: the principal, the three-layer writer bound to the request's
//! session, and the same-origin check. Each asks the request's
//! [`RequestAuth`], so the session is loaded once however many ask.

use auth_core::Principal;
use auth_http::{Rejection, RequestAuth};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::router::into_axum;

/// Why an extractor refused, answered with the fixed status of its
/// [`Rejection`]: 500 when the auth layer is missing, 503 when the session
/// backend failed, 303 to the login path, 403 cross-site.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct AuthRejection(pub Rejection);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        into_axum(self.0.into_response())
    }
}

fn request_auth(parts: &Parts) -> Result<&RequestAuth, AuthRejection> {
    parts
        .extensions
        .get::<RequestAuth>()
        .ok_or(AuthRejection(Rejection::MissingMiddleware))
}

/// The request's principal; anonymous when there is no live session.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let found = request_auth(parts)?;
        found.principal().await.map(Self).map_err(AuthRejection)
    }
}

/// A signed-in principal; anonymous requests are redirected (303) to the
/// login path.
#[derive(Clone, Debug)]
pub struct RequireUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let found = request_auth(parts)?;
        found.require_user().await.map(Self).map_err(AuthRejection)
    }
}

/// The three-layer writer bound to this request's principal and session
/// (see [`auth_http::Auth`] for its methods).
///
/// ```
/// use auth_axum::Auth;
/// use axum::response::Redirect;
///
/// async fn grant_admin(auth: Auth) -> Redirect {
///     if let Err(error) = auth.grant("role", "admin").await {
///         tracing::warn!(%error, "grant failed");
///     }
///     Redirect::to("/live")
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Auth(pub auth_http::Auth);

impl std::ops::Deref for Auth {
    type Target = auth_http::Auth;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let found = request_auth(parts)?;
        found.writer().await.map(Self).map_err(AuthRejection)
    }
}

/// Refuses cross-site requests (403) by the [`same_origin`](crate::same_origin)
/// decision table. Add it to every state-changing handler of the app:
/// `async fn grant(_: SameOrigin, auth: Auth) -> ...`.
#[derive(Clone, Copy, Debug)]
pub struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if auth_http::same_origin(&parts.headers) {
            Ok(Self)
        } else {
            Err(AuthRejection(Rejection::CrossSite))
        }
    }
}
