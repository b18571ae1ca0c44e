//! The guard layer: "signed in, else the login page" and "policy X, else
//! 403", decided by [`auth_http::Guard`].

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use auth_http::{Guard, Rejection, RequestAuth};
use axum::response::{IntoResponse, Response};
use http::Request;
use tower::{Layer, Service};

use crate::extract::AuthRejection;

/// The layer of [`LiveAuthExt::guard`](crate::LiveAuthExt::guard).
#[derive(Clone, Debug)]
pub struct GuardLayer {
    pub(crate) guard: Guard,
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            guard: self.guard.clone(),
            inner,
        }
    }
}

/// The service of [`GuardLayer`], for any request body type.
#[derive(Clone, Debug)]
pub struct GuardService<S> {
    guard: Guard,
    inner: S,
}

impl<S, B> Service<Request<B>> for GuardService<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let found = request.extensions().get::<RequestAuth>().cloned();
        let guard = self.guard.clone();
        // The clone that was made ready serves this request; a fresh clone
        // stays behind for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let decided = match &found {
                Some(found) => guard.check(found).await,
                None => Err(Rejection::MissingMiddleware),
            };
            match decided {
                Ok(()) => inner.call(request).await,
                Err(rejection) => Ok(AuthRejection(rejection).into_response()),
            }
        })
    }
}
