//! The guard middleware: "signed in, else the login page" and "policy X,
//! else 403", decided by [`auth_http::Guard`].

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage, ResponseError};
use auth_http::{Guard, Rejection, RequestAuth};
use futures_util::future::LocalBoxFuture;

use crate::extract::AuthRejection;

/// The middleware of [`LiveAuthExt::guard`](crate::LiveAuthExt::guard). Put
/// it on a scope or resource inside the auth middleware.
#[derive(Clone, Debug)]
pub struct GuardMiddleware {
    pub(crate) guard: Guard,
}

impl<S, B> Transform<S, ServiceRequest> for GuardMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = GuardService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(GuardService {
            guard: self.guard.clone(),
            service: Rc::new(service),
        }))
    }
}

/// The service of [`GuardMiddleware`].
#[derive(Debug)]
pub struct GuardService<S> {
    guard: Guard,
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for GuardService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let found = request.extensions().get::<RequestAuth>().cloned();
        let guard = self.guard.clone();
        let service = self.service.clone();
        Box::pin(async move {
            let decided = match &found {
                Some(found) => guard.check(found).await,
                None => Err(Rejection::MissingMiddleware),
            };
            match decided {
                Ok(()) => Ok(service.call(request).await?.map_into_left_body()),
                Err(rejection) => {
                    let response = AuthRejection(rejection).error_response();
                    Ok(request.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
