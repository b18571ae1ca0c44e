//! The tower layer that finds the session cookie and puts the request's
//! [`RequestAuth`] in its extensions (nothing is loaded yet). When the
//! request did read the session, the response is marked `no-store`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use auth_http::{LiveAuth, RequestAuth, no_store_if_personal};
use http::{Request, Response};
use tower::{Layer, Service};

/// The layer of [`LiveAuthExt::layer`](crate::LiveAuthExt::layer).
#[derive(Clone, Debug)]
pub struct AuthLayer {
    pub(crate) auth: LiveAuth,
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

/// The service of [`AuthLayer`], for any request and response body type.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    auth: LiveAuth,
    inner: S,
}

impl<S, B, R> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = AuthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let found = RequestAuth::for_request(
            &self.auth,
            request.method(),
            request.uri(),
            request.headers(),
        );
        request.extensions_mut().insert(found.clone());
        AuthFuture {
            inner: self.inner.call(request),
            found,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`AuthService`].
    pub struct AuthFuture<F> {
        #[pin]
        inner: F,
        found: RequestAuth,
    }
}

impl<F, R, E> Future for AuthFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        no_store_if_personal(this.found.was_loaded(), response.headers_mut());
        Poll::Ready(Ok(response))
    }
}
