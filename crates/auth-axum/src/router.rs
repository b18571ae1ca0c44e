//! Mounting the web layer's routes on an axum router, and the extension
//! trait that gives a [`LiveAuth`] its layer, guards and routes.

use std::net::SocketAddr;

use auth_http::{AuthRequest, Guard, LiveAuth, RequestAuth, RequestBody, Route};
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::routing::{MethodFilter, get, on};
use http::Method;
use http::request::Parts;

use crate::guard::GuardLayer;
use crate::layer::AuthLayer;

/// What the axum adapter adds to a [`LiveAuth`].
pub trait LiveAuthExt {
    /// The layer to put around every route that needs to know who is
    /// asking: `Router::new()...layer(auth.layer())`.
    fn layer(&self) -> AuthLayer;

    /// A layer that applies `guard` to every route under it. Put it inside
    /// (after) [`LiveAuthExt::layer`].
    ///
    /// # Panics
    ///
    /// When the guard names a policy the [`LiveAuth`] does not define (see
    /// [`LiveAuth::checked_guard`]): while the router is built, not per
    /// request.
    fn guard(&self, guard: Guard) -> GuardLayer;

    /// The web layer's routes, under the prefix: `GET {prefix}/live` (the
    /// WebSocket), `GET {prefix}/live.js` (its client) and, with the
    /// `local-idp` feature and a provider configured, the five
    /// `POST {prefix}/local/*` routes. Merge it into the app:
    /// `app.merge(auth.router())`. The routes work with or without
    /// [`LiveAuthExt::layer`]; behind it they share its session load.
    /// Serve the app with `into_make_service_with_connect_info::<SocketAddr>()`
    /// so the throttles see the peer address.
    fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static;
}

impl LiveAuthExt for LiveAuth {
    fn layer(&self) -> AuthLayer {
        AuthLayer { auth: self.clone() }
    }

    fn guard(&self, guard: Guard) -> GuardLayer {
        match self.checked_guard(guard) {
            Ok(guard) => GuardLayer { guard },
            Err(error) => panic!("{error}"),
        }
    }

    fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let mut router = Router::new();
        for (path, route) in self.routes() {
            let auth = self.clone();
            router = if route.is_websocket() {
                router.route(
                    &path,
                    get(move |request: Request| crate::live::upgrade(auth, request)),
                )
            } else {
                let handler = move |request: Request| serve(auth, route, request);
                router.route(&path, on(method_filter(&route.method()), handler))
            };
        }
        router
    }
}

fn method_filter(method: &Method) -> MethodFilter {
    if method == Method::GET {
        MethodFilter::GET
    } else {
        MethodFilter::POST
    }
}

/// Reads the body within the route's limit and hands the request over.
async fn serve(auth: LiveAuth, route: Route, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match route.body_limit() {
        0 => RequestBody::Empty,
        limit => match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => RequestBody::Bytes(bytes),
            Err(_) => RequestBody::TooLarge,
        },
    };
    let request = neutral(&auth, parts).with_body(body);
    into_axum(auth.handle(route, request).await)
}

/// The web layer's view of a request: method, URI, headers, the peer from
/// `ConnectInfo`, and the layer's session handle when the layer ran.
pub(crate) fn neutral(auth: &LiveAuth, parts: Parts) -> AuthRequest {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let session = parts.extensions.get::<RequestAuth>().cloned();
    let request = AuthRequest::new(auth, parts.method, parts.uri, parts.headers).with_peer(peer);
    match session {
        Some(session) => request.with_session(session),
        None => request,
    }
}

/// An `auth-http` response as axum's.
pub(crate) fn into_axum(response: auth_http::Response) -> Response {
    response.map(Body::from)
}
