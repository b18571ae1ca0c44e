//! Mounting the web layer's routes on an actix-web app, and the extension
//! trait that gives a [`LiveAuth`] its middleware, guards and routes.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_http::{Guard, LiveAuth, RequestBody, Route};

use crate::convert::{into_actix, neutral};
use crate::guard::GuardMiddleware;
use crate::middleware::AuthMiddleware;

/// What the actix-web adapter adds to a [`LiveAuth`].
pub trait LiveAuthExt {
    /// The middleware to wrap every route that needs to know who is
    /// asking: `App::new()...wrap(auth.middleware())`.
    fn middleware(&self) -> AuthMiddleware;

    /// A middleware that applies `guard` to a scope or resource. It needs
    /// [`LiveAuthExt::middleware`] around it.
    ///
    /// # Panics
    ///
    /// When the guard names a policy the [`LiveAuth`] does not define (see
    /// [`LiveAuth::checked_guard`]): while the app is built, not per
    /// request.
    fn guard(&self, guard: Guard) -> GuardMiddleware;

    /// The web layer's routes, under the prefix: `GET {prefix}/live` (the
    /// WebSocket), `GET {prefix}/live.js` (its client) and, with the
    /// `local-idp` feature and a provider configured, the five
    /// `POST {prefix}/local/*` routes: `App::new().configure(auth.routes_config())`.
    /// They work with or without the middleware; behind it they share its
    /// session load.
    fn routes_config(&self) -> impl FnOnce(&mut web::ServiceConfig) + 'static;
}

impl LiveAuthExt for LiveAuth {
    fn middleware(&self) -> AuthMiddleware {
        AuthMiddleware { auth: self.clone() }
    }

    fn guard(&self, guard: Guard) -> GuardMiddleware {
        match self.checked_guard(guard) {
            Ok(guard) => GuardMiddleware { guard },
            Err(error) => panic!("{error}"),
        }
    }

    fn routes_config(&self) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
        let auth = self.clone();
        move |config| {
            for (path, route) in auth.routes() {
                let auth = auth.clone();
                if route.is_websocket() {
                    config.route(
                        &path,
                        web::get().to(move |request: HttpRequest, body: web::Payload| {
                            crate::live::upgrade(auth.clone(), request, body)
                        }),
                    );
                } else {
                    let method = if route.method() == http::Method::GET {
                        web::get()
                    } else {
                        web::post()
                    };
                    config.route(
                        &path,
                        method.to(move |request: HttpRequest, body: web::Payload| {
                            serve(auth.clone(), route, request, body)
                        }),
                    );
                }
            }
        }
    }
}

/// Reads the body within the route's limit (never buffering more) and
/// hands the request over.
async fn serve(
    auth: LiveAuth,
    route: Route,
    request: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let body = match route.body_limit() {
        0 => RequestBody::Empty,
        limit => match body.to_bytes_limited(limit).await {
            Ok(Ok(bytes)) => RequestBody::Bytes(bytes),
            Ok(Err(_)) | Err(_) => RequestBody::TooLarge,
        },
    };
    let neutral = neutral(&auth, &request).with_body(body);
    into_actix(auth.handle(route, neutral).await)
}
