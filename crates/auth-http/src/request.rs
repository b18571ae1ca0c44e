//! A request as the handlers see it, and its session, loaded on demand.

use std::net::IpAddr;
use std::sync::Arc;

use auth_core::{Principal, SessionError, SessionKey, SessionToken};
use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use tokio::sync::OnceCell;

use crate::config::LiveAuth;
use crate::rejection::Rejection;
use crate::writer::Auth;

/// The session of one request: found from its cookie, loaded from the
/// backend only when something asks (an extractor, a guard, a route), and
/// then only once, however many ask.
///
/// An adapter's middleware makes one per request ([`RequestAuth::new`]) and
/// keeps it in the request (axum: its extensions); a request whose route
/// never reads the principal (a static file) never touches the session
/// backend. Cloning shares the loaded state.
#[derive(Clone)]
pub struct RequestAuth {
    auth: LiveAuth,
    token: Option<SessionToken>,
    return_to: Option<String>,
    loaded: Arc<OnceCell<Loaded>>,
}

/// What loading found: the principal (anonymous without a live session)
/// and the live session's key.
#[derive(Clone, Debug)]
struct Loaded {
    principal: Principal,
    session: Option<SessionKey>,
}

impl std::fmt::Debug for RequestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestAuth")
            .field("has_cookie", &self.token.is_some())
            .field("loaded", &self.loaded.initialized())
            .finish_non_exhaustive()
    }
}

impl RequestAuth {
    /// The session handle of a request with these headers. Reads the cookie
    /// only; nothing is loaded yet.
    pub fn new(auth: &LiveAuth, headers: &HeaderMap) -> Self {
        Self {
            auth: auth.clone(),
            token: auth.token_from(headers),
            return_to: None,
            loaded: Arc::new(OnceCell::new()),
        }
    }

    /// The session handle of the request `method uri` with these headers:
    /// as [`RequestAuth::new`], and a visitor sent to the login page from a
    /// `GET` or `HEAD` of a path on this site is sent with `next` set to
    /// that path and query, so signing in brings them back.
    pub fn for_request(auth: &LiveAuth, method: &Method, uri: &Uri, headers: &HeaderMap) -> Self {
        let mut found = Self::new(auth, headers);
        if *method == Method::GET || *method == Method::HEAD {
            found.return_to = uri
                .path_and_query()
                .map(http::uri::PathAndQuery::as_str)
                .and_then(crate::redirect::safe_path)
                .map(str::to_owned);
        }
        found
    }

    /// Where an anonymous visitor of a guarded route goes: the login path,
    /// with `next` back to this request when it was a `GET` of a path on
    /// this site.
    pub fn login_redirect(&self) -> String {
        let login = self.auth.login_path();
        match &self.return_to {
            Some(back) => crate::redirect::with_param(login, "next", back),
            None => login.to_owned(),
        }
    }

    /// The path and query of this request when it was a `GET` or `HEAD` of
    /// a path on this site: where a detour (sign-in, step-up) comes back to.
    pub fn return_path(&self) -> Option<&str> {
        self.return_to.as_deref()
    }

    /// The web layer this request is served by.
    pub fn live_auth(&self) -> &LiveAuth {
        &self.auth
    }

    /// The session token of the request's cookie, if it carries a well
    /// formed one (live or not).
    pub fn token(&self) -> Option<&SessionToken> {
        self.token.as_ref()
    }

    /// Whether something read the session during this request: then the
    /// answer depends on who asked, and must not be cached as shared.
    pub fn was_loaded(&self) -> bool {
        self.loaded.initialized()
    }

    /// The key the cookie's session would be stored under, live or not
    /// (sign-in replaces it, so a planted id is never promoted).
    pub fn cookie_key(&self) -> Option<SessionKey> {
        self.token
            .as_ref()
            .map(|token| self.auth.sessions().key_of(token))
    }

    async fn loaded(&self) -> Result<&Loaded, SessionError> {
        self.loaded
            .get_or_try_init(|| async {
                let session = match &self.token {
                    Some(token) => self.auth.sessions().load_token(token).await?,
                    None => None,
                };
                Ok(match session {
                    Some(active) => Loaded {
                        principal: active.record.principal,
                        session: Some(active.key),
                    },
                    None => Loaded {
                        principal: Principal::anonymous(),
                        session: None,
                    },
                })
            })
            .await
    }

    /// The request's principal (anonymous without a live session) and its
    /// session key. A backend failure is an error, not an anonymous answer.
    pub async fn load(&self) -> Result<(Principal, Option<SessionKey>), SessionError> {
        let loaded = self.loaded().await?;
        Ok((loaded.principal.clone(), loaded.session.clone()))
    }

    /// The principal, for extractors: a backend failure is logged and
    /// becomes [`Rejection::Unavailable`].
    pub async fn principal(&self) -> Result<Principal, Rejection> {
        match self.loaded().await {
            Ok(loaded) => Ok(loaded.principal.clone()),
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                Err(Rejection::Unavailable)
            }
        }
    }

    /// A signed-in principal, else [`Rejection::Redirect`] to the login
    /// path.
    pub async fn require_user(&self) -> Result<Principal, Rejection> {
        let principal = self.principal().await?;
        if principal.is_authenticated() {
            Ok(principal)
        } else {
            Err(Rejection::Redirect(self.login_redirect()))
        }
    }

    /// The three-layer writer bound to this request's principal and session.
    pub async fn writer(&self) -> Result<Auth, Rejection> {
        match self.loaded().await {
            Ok(loaded) => Ok(Auth::new(
                self.auth.clone(),
                loaded.principal.clone(),
                loaded.session.clone(),
            )),
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                Err(Rejection::Unavailable)
            }
        }
    }
}

/// A request body as the adapter read it: whole, or refused for its size
/// (the handler decides in which order to answer what, so a cross-site
/// oversized post is still a 403).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum RequestBody {
    /// No body was read (a GET, or a route that takes none).
    #[default]
    Empty,
    /// The whole body, within [`Route::body_limit`](crate::Route::body_limit).
    Bytes(Bytes),
    /// The body was longer than the route's limit; it was not kept.
    TooLarge,
}

/// A request as the route handlers take it: what an adapter reads from its
/// framework's request.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthRequest {
    /// The method.
    pub method: Method,
    /// The path and query.
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The connection's peer address, when the server records it (the
    /// login and `verify-token` throttles count it; without it they fall
    /// back to coarser keys).
    pub peer: Option<IpAddr>,
    /// The body.
    pub body: RequestBody,
    /// The request's session handle.
    pub session: RequestAuth,
}

impl AuthRequest {
    /// A request with no body and no peer address; the session handle is
    /// made from the headers.
    pub fn new(auth: &LiveAuth, method: Method, uri: Uri, headers: HeaderMap) -> Self {
        let session = RequestAuth::for_request(auth, &method, &uri, &headers);
        Self {
            method,
            uri,
            headers,
            peer: None,
            body: RequestBody::Empty,
            session,
        }
    }

    /// Sets the peer address.
    #[must_use]
    pub fn with_peer(mut self, peer: Option<IpAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: RequestBody) -> Self {
        self.body = body;
        self
    }

    /// Uses the session handle the adapter's middleware already made, so
    /// the session is loaded once per request however many ask.
    #[must_use]
    pub fn with_session(mut self, session: RequestAuth) -> Self {
        self.session = session;
        self
    }

    /// The first value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.uri.query()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}
