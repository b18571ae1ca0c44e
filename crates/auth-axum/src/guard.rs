//! Guards: "signed in, else the login page" and "policy X, else 403".

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use auth_core::Principal;
use axum::body::Body;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Request, StatusCode};
use tower::{Layer, Service};

use crate::config::LiveAuth;
use crate::extract::MissingAuthLayer;
use crate::layer::RequestAuth;

#[derive(Clone, Debug)]
enum Rule {
    Authenticated,
    Policy(String),
}

/// Who may see a page or route.
///
/// An anonymous visitor who fails is sent to the login path (or the guard's
/// own redirect); a signed-in one who fails a policy gets 403 (or the
/// redirect, when one is set).
///
/// ```
/// use auth_axum::Guard;
///
/// let members = Guard::login_required();
/// let admins = Guard::policy("AdminOnly").redirect_to("/live");
/// # let _ = (members, admins);
/// ```
#[derive(Clone, Debug)]
pub struct Guard {
    rule: Rule,
    redirect: Option<String>,
}

/// What a guard decides for one principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuardOutcome {
    /// Let it through.
    Allow,
    /// Send the browser here.
    Redirect(String),
    /// Refuse with 403.
    Forbidden,
}

impl Guard {
    /// Signed-in principals only.
    pub fn login_required() -> Self {
        Self {
            rule: Rule::Authenticated,
            redirect: None,
        }
    }

    /// Principals that pass the named policy (which must be defined on the
    /// builder; `build()` checks pages, a layer answers 500 and logs).
    pub fn policy(name: impl Into<String>) -> Self {
        Self {
            rule: Rule::Policy(name.into()),
            redirect: None,
        }
    }

    /// Sends failures here instead (a path on this site).
    #[must_use]
    pub fn redirect_to(mut self, path: impl Into<String>) -> Self {
        self.redirect = Some(path.into());
        self
    }

    /// The policy this guard names, if any.
    pub fn policy_name(&self) -> Option<&str> {
        match &self.rule {
            Rule::Policy(name) => Some(name),
            Rule::Authenticated => None,
        }
    }

    /// The decision for `principal`. An undefined policy denies (and logs).
    pub fn decide(&self, auth: &LiveAuth, principal: &Principal) -> GuardOutcome {
        let allowed = principal.is_authenticated()
            && match &self.rule {
                Rule::Authenticated => true,
                Rule::Policy(name) => {
                    auth.policies()
                        .check(name, principal)
                        .unwrap_or_else(|error| {
                            tracing::error!(%error, "guard names an undefined policy");
                            false
                        })
                }
            };
        if allowed {
            return GuardOutcome::Allow;
        }
        match (&self.redirect, principal.is_authenticated()) {
            (Some(path), _) => GuardOutcome::Redirect(path.clone()),
            (None, false) => GuardOutcome::Redirect(auth.login_path().to_owned()),
            (None, true) => GuardOutcome::Forbidden,
        }
    }

    /// Where a live connection that fails this guard is sent.
    pub(crate) fn navigate_to<'a>(&'a self, auth: &'a LiveAuth) -> &'a str {
        self.redirect.as_deref().unwrap_or(auth.login_path())
    }
}

impl LiveAuth {
    /// A layer that applies `guard` to every route under it. Put it inside
    /// (after) [`LiveAuth::layer`].
    pub fn guard(&self, guard: Guard) -> GuardLayer {
        GuardLayer {
            auth: self.clone(),
            guard,
        }
    }
}

/// The layer of [`LiveAuth::guard`].
#[derive(Clone, Debug)]
pub struct GuardLayer {
    auth: LiveAuth,
    guard: Guard,
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service of [`GuardLayer`].
#[derive(Clone, Debug)]
pub struct GuardService<S> {
    layer: GuardLayer,
    inner: S,
}

impl<S> Service<Request<Body>> for GuardService<S>
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

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let outcome = request
            .extensions()
            .get::<RequestAuth>()
            .map(|found| self.layer.guard.decide(&self.layer.auth, found.principal()));
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            match outcome {
                Some(GuardOutcome::Allow) => inner.call(request).await,
                Some(GuardOutcome::Redirect(path)) => Ok(Redirect::to(&path).into_response()),
                Some(GuardOutcome::Forbidden) => {
                    Ok((StatusCode::FORBIDDEN, "forbidden").into_response())
                }
                None => Ok(MissingAuthLayer.into_response()),
            }
        })
    }
}
