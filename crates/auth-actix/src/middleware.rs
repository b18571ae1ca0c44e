//! The middleware that finds the session cookie and puts the request's
//! [`RequestAuth`] in its extensions (nothing is loaded yet); when the
//! request did read the session, the response is marked `no-store`.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use auth_http::{LiveAuth, RequestAuth};
use futures_util::future::LocalBoxFuture;

use crate::convert::{cookies, method_and_uri};

/// The middleware of [`LiveAuthExt::middleware`](crate::LiveAuthExt::middleware).
#[derive(Clone, Debug)]
pub struct AuthMiddleware {
    pub(crate) auth: LiveAuth,
}

impl<S, B> Transform<S, ServiceRequest> for AuthMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = AuthService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthService {
            auth: self.auth.clone(),
            service: Rc::new(service),
        }))
    }
}

/// The service of [`AuthMiddleware`].
#[derive(Debug)]
pub struct AuthService<S> {
    auth: LiveAuth,
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for AuthService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let (method, uri) = method_and_uri(request.request());
        let found = RequestAuth::for_request(&self.auth, &method, &uri, &cookies(&request));
        request.extensions_mut().insert(found.clone());
        let served = self.service.call(request);
        Box::pin(async move {
            let mut response = served.await?;
            if found.was_loaded() && !response.headers().contains_key(CACHE_CONTROL) {
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            Ok(response)
        })
    }
}
