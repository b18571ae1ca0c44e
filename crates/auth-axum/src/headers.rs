//! The secure browser headers as a tower layer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use auth_http::SecureHeaders;
use http::{Request, Response};
use tower::{Layer, Service};

/// Adds [`SecureHeaders`] to every response that lacks them:
/// `app.layer(SecureHeadersLayer::new(SecureHeaders::new()))`.
#[derive(Clone, Debug)]
pub struct SecureHeadersLayer {
    headers: Arc<SecureHeaders>,
}

impl SecureHeadersLayer {
    /// A layer adding `headers`.
    pub fn new(headers: SecureHeaders) -> Self {
        Self {
            headers: Arc::new(headers),
        }
    }
}

impl<S> Layer<S> for SecureHeadersLayer {
    type Service = SecureHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecureHeadersService {
            headers: self.headers.clone(),
            inner,
        }
    }
}

/// The service of [`SecureHeadersLayer`].
#[derive(Clone, Debug)]
pub struct SecureHeadersService<S> {
    headers: Arc<SecureHeaders>,
    inner: S,
}

impl<S, B, R> Service<Request<B>> for SecureHeadersService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = SecureHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        SecureHeadersFuture {
            inner: self.inner.call(request),
            headers: self.headers.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SecureHeadersService`].
    pub struct SecureHeadersFuture<F> {
        #[pin]
        inner: F,
        headers: Arc<SecureHeaders>,
    }
}

impl<F, R, E> Future for SecureHeadersFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        this.headers.apply(response.headers_mut());
        Poll::Ready(Ok(response))
    }
}
