//! The actix-web adapter of the live-auth stack: glue over [`auth_http`].
//!
//! Everything that does not need actix-web (cookies, CSRF, redirects,
//! forms, guards' decisions, live pages, the live connection, the route
//! handlers) lives in `auth-http`; this crate only translates, and is held
//! to the same behaviour suite as `auth-axum`. Bring [`LiveAuthExt`] into
//! scope and a [`LiveAuth`] gives:
//!
//! - a middleware ([`LiveAuthExt::middleware`]) that finds the session
//!   cookie and puts a [`RequestAuth`] in the request's extensions; the
//!   session is loaded only when an extractor, guard or route asks, and
//!   then once;
//! - extractors: [`CurrentUser`], [`RequireUser`], [`Auth`] and
//!   [`SameOrigin`];
//! - guards ([`LiveAuthExt::guard`] with a [`Guard`]);
//! - the routes ([`LiveAuthExt::routes_config`]): the live WebSocket (over
//!   `actix-ws`) and its client, and the local identity provider's routes;
//! - [`secure_headers`]: the secure browser headers as middleware.
//!
//! ```
//! use std::sync::Arc;
//!
//! use actix_web::{App, HttpResponse, web};
//! use auth_actix::{Auth, Guard, LiveAuth, LiveAuthExt, LivePage, Region, RequireUser};
//! use auth_channel_memory::MemoryChannel;
//! use auth_core::memory::{MemorySessionBackend, MemoryStore};
//! use auth_core::{Policies, Policy};
//!
//! let page = LivePage::new("live").with_region(
//!     Region::new("admin", |_| "<p>Admin content visible.</p>".into())
//!         .with_policy("AdminOnly")
//!         .otherwise(|_| "<p>Admin content hidden.</p>".into()),
//! );
//! let auth = LiveAuth::builder(
//!     Arc::new(MemoryStore::new()),
//!     Arc::new(MemorySessionBackend::new()),
//!     Arc::new(MemoryChannel::new()),
//! )
//! .with_policies(Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin"))))
//! .with_page(page)
//! .build()
//! .expect("valid settings");
//!
//! let show = auth.clone();
//! let app = App::new()
//!     .route("/live", web::get().to(move |RequireUser(user): RequireUser| {
//!         let show = show.clone();
//!         async move {
//!             let page = show.page("live").expect("registered");
//!             let region = page.render_region(&show, "admin", &user);
//!             HttpResponse::Ok().body(format!("{region}{}", page.script_tag(&show)))
//!         }
//!     }))
//!     .route("/live/grant-admin", web::post().to(|auth: Auth| async move {
//!         let _ = auth.grant("role", "admin").await;
//!         HttpResponse::SeeOther().insert_header(("location", "/live")).finish()
//!     }))
//!     .configure(auth.routes_config())
//!     .wrap(auth.middleware());
//! # let _ = app;
//! ```

mod convert;
mod extract;
mod guard;
mod headers;
mod live;
mod middleware;
mod routes;

pub use convert::into_actix;
pub use extract::{Auth, AuthRejection, CurrentUser, RequireUser, SameOrigin};
pub use guard::{GuardMiddleware, GuardService};
pub use headers::secure_headers;
pub use middleware::{AuthMiddleware, AuthService};
pub use routes::LiveAuthExt;

pub use auth_http::{
    ConfigError, CookieConfig, Guard, GuardOutcome, LiveAuth, LiveAuthBuilder, LivePage, Region,
    Rejection, RequestAuth, SecureHeaders, escape_html, safe_path, same_origin,
};

pub use actix_web;
pub use auth_core;
pub use auth_http;
#[cfg(feature = "local-idp")]
pub use auth_http::auth_local_idp;

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
