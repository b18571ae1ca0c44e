//! The tower layer that loads the session from its cookie and puts the
//! principal in the request's extensions.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use auth_core::{Principal, SessionKey, SessionToken};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::COOKIE;
use http::{HeaderMap, Request, StatusCode};
use tower::{Layer, Service};

use crate::config::LiveAuth;

/// What the layer found for this request: the principal (anonymous when
/// there is no valid session) and the session's key. Extractors read it.
#[derive(Clone, Debug)]
pub struct RequestAuth {
    pub(crate) auth: LiveAuth,
    pub(crate) principal: Principal,
    pub(crate) session: Option<SessionKey>,
}

impl RequestAuth {
    /// The request's principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The key of the request's session, if it has a live one.
    pub fn session(&self) -> Option<&SessionKey> {
        self.session.as_ref()
    }

    /// The adapter.
    pub fn auth(&self) -> &LiveAuth {
        &self.auth
    }
}

impl LiveAuth {
    /// The layer to put around every route that needs to know who is asking:
    /// `Router::new()...layer(auth.layer())`.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer { auth: self.clone() }
    }

    /// The session token the request's cookie carries, if well formed.
    pub(crate) fn token_from(&self, headers: &HeaderMap) -> Option<SessionToken> {
        session_token(headers, self.cookie_name())
    }

    /// Loads the request's session. A backend failure is an error: the
    /// request is refused rather than served as if anonymous.
    pub(crate) async fn request_auth(
        &self,
        headers: &HeaderMap,
    ) -> Result<RequestAuth, auth_core::SessionError> {
        let session = match self.token_from(headers) {
            Some(token) => self.sessions().load_token(&token).await?,
            None => None,
        };
        let (principal, session) = match session {
            Some(active) => (active.record.principal, Some(active.key)),
            None => (Principal::anonymous(), None),
        };
        Ok(RequestAuth {
            auth: self.clone(),
            principal,
            session,
        })
    }
}

/// The first well-formed session token among the request's cookies named
/// `name` (in header order); malformed values are skipped.
pub(crate) fn session_token(headers: &HeaderMap, name: &str) -> Option<SessionToken> {
    cookie_values(headers, name).find_map(SessionToken::parse)
}

/// Every value of the cookie `name` in the request's `Cookie` headers.
fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(move |pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.trim_matches('"'))
        })
}

/// The layer of [`LiveAuth::layer`].
#[derive(Clone, Debug)]
pub struct AuthLayer {
    auth: LiveAuth,
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            auth: self.auth.clone(),
            inner,
        }
    }
}

/// The service of [`AuthLayer`].
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    auth: LiveAuth,
    inner: S,
}

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone that was made ready serves this request; a fresh clone
        // stays behind for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        Box::pin(async move {
            match auth.request_auth(request.headers()).await {
                Ok(found) => {
                    request.extensions_mut().insert(found);
                    inner.call(request).await
                }
                Err(error) => {
                    tracing::error!(%error, "session could not be loaded");
                    Ok((StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "a=1; live_auth=abc; b=2".parse().unwrap());
        headers.append(COOKIE, "live_auth=\"def\"".parse().unwrap());
        let found: Vec<&str> = cookie_values(&headers, "live_auth").collect();
        assert_eq!(found, ["abc", "def"]);
        assert_eq!(cookie_values(&headers, "live").count(), 0);
    }

    #[test]
    fn the_first_well_formed_token_wins() {
        let good = "0123456789abcdef".repeat(4);
        let other = "fedcba9876543210".repeat(4);
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            format!(
                "live_auth=short; live_auth={}; x={other}",
                good.to_uppercase()
            )
            .parse()
            .unwrap(),
        );
        headers.append(COOKIE, format!("live_auth=\"{good}\"").parse().unwrap());
        headers.append(COOKIE, format!("live_auth={other}").parse().unwrap());
        let found = session_token(&headers, "live_auth").map(|t| t.as_str().to_owned());
        assert_eq!(found.as_deref(), Some(good.as_str()));
        assert!(session_token(&headers, "x").is_some());
        assert!(session_token(&headers, "live").is_none());
    }
}
