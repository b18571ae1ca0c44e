//! Extractors: the principal, and the three-layer writer bound to the
//! request's session.

use auth_core::{ActiveSession, AuthError, Claim, Principal, SessionKey};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use http::request::Parts;

use crate::layer::RequestAuth;

/// The auth layer is not in front of this route: a wiring mistake, answered
/// with a generic 500 and logged.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the auth layer is missing: add `.layer(auth.layer())` to the router")]
pub struct MissingAuthLayer;

impl IntoResponse for MissingAuthLayer {
    fn into_response(self) -> Response {
        tracing::error!("{self}");
        (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
    }
}

fn request_auth(parts: &Parts) -> Result<&RequestAuth, MissingAuthLayer> {
    parts
        .extensions
        .get::<RequestAuth>()
        .ok_or(MissingAuthLayer)
}

/// The request's principal; anonymous when there is no live session.
///
/// Rejects only when the auth layer is missing.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = MissingAuthLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(request_auth(parts)?.principal.clone()))
    }
}

/// A signed-in principal; anonymous requests are redirected (303) to the
/// login path.
#[derive(Clone, Debug)]
pub struct RequireUser(pub Principal);

/// The rejection of [`RequireUser`].
#[derive(Debug)]
pub enum RequireUserRejection {
    /// The auth layer is missing.
    Missing(MissingAuthLayer),
    /// Anonymous: go to the login path.
    Login(String),
}

impl IntoResponse for RequireUserRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Missing(missing) => missing.into_response(),
            Self::Login(path) => Redirect::to(&path).into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = RequireUserRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let found = request_auth(parts).map_err(RequireUserRejection::Missing)?;
        if found.principal.is_authenticated() {
            Ok(Self(found.principal.clone()))
        } else {
            Err(RequireUserRejection::Login(
                found.auth.login_path().to_owned(),
            ))
        }
    }
}

/// The three-layer writer bound to this request's principal and session.
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
pub struct Auth(RequestAuth);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = MissingAuthLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(request_auth(parts)?.clone()))
    }
}

impl Auth {
    /// The request's principal.
    pub fn principal(&self) -> &Principal {
        &self.0.principal
    }

    /// The request's session key, if signed in.
    pub fn session(&self) -> Option<&SessionKey> {
        self.0.session.as_ref()
    }

    /// The adapter.
    pub fn live_auth(&self) -> &crate::LiveAuth {
        &self.0.auth
    }

    /// Replaces the user's claims (store, this session, live tabs).
    pub async fn update_claims(&self, claims: Vec<Claim>) -> Result<Principal, AuthError> {
        self.0
            .auth
            .actions()
            .update_claims(self.principal(), self.session(), claims)
            .await
    }

    /// Grants one claim, replacing any of the same type.
    pub async fn grant(&self, kind: &str, value: &str) -> Result<Principal, AuthError> {
        self.0
            .auth
            .actions()
            .grant(self.principal(), self.session(), kind, value)
            .await
    }

    /// Revokes every claim of a type.
    pub async fn revoke_claim(&self, kind: &str) -> Result<Principal, AuthError> {
        self.0
            .auth
            .actions()
            .revoke_claim(self.principal(), self.session(), kind)
            .await
    }

    /// Signs out this session and its live tabs; other sessions stay.
    /// Anonymous requests are a no-op.
    pub async fn revoke_session(&self) -> Result<(), AuthError> {
        match self.session() {
            Some(key) if self.principal().is_authenticated() => {
                self.0
                    .auth
                    .actions()
                    .revoke_session(self.principal(), key)
                    .await
            }
            Some(key) => Ok(self.0.auth.sessions().sign_out(key).await.map(drop)?),
            None => Ok(()),
        }
    }

    /// Signs the user out of every session and tab.
    pub async fn revoke_all_sessions(&self) -> Result<usize, AuthError> {
        self.0
            .auth
            .actions()
            .revoke_all_sessions(self.principal())
            .await
    }

    /// The user's live sessions ("where am I signed in").
    pub async fn sessions(&self) -> Result<Vec<ActiveSession>, AuthError> {
        let user_id = self.principal().user_id().ok_or(AuthError::Anonymous)?;
        Ok(self.0.auth.sessions().sessions_of(user_id).await?)
    }
}

/// Refuses cross-site requests (403) by the [`same_origin`](crate::same_origin)
/// decision table. Add it to every state-changing handler of the app:
/// `async fn grant(_: SameOrigin, auth: Auth) -> ...`.
#[derive(Clone, Copy, Debug)]
pub struct SameOrigin;

/// The rejection of [`SameOrigin`]: 403 with a generic body.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("cross-site request refused")]
pub struct CrossSite;

impl IntoResponse for CrossSite {
    fn into_response(self) -> Response {
        let mut response = (StatusCode::FORBIDDEN, "forbidden").into_response();
        response.headers_mut().insert(
            http::header::VARY,
            http::HeaderValue::from_static("Origin, Sec-Fetch-Site"),
        );
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = CrossSite;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if crate::csrf::same_origin(&parts.headers) {
            Ok(Self)
        } else {
            Err(CrossSite)
        }
    }
}
