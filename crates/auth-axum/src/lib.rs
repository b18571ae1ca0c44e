//! The axum adapter of the live-auth stack: glue over [`auth_http`].
//!
//! Everything that does not need axum (cookies, CSRF, redirects, forms,
//! guards' decisions, live pages, the live connection, the route handlers)
//! lives in `auth-http`; this crate only translates. Bring
//! [`LiveAuthExt`] into scope and a [`LiveAuth`] gives:
//!
//! - a tower layer ([`LiveAuthExt::layer`]) that finds the session cookie
//!   and puts a [`RequestAuth`] in the request's extensions; the session
//!   is loaded only when an extractor, guard or route asks, and then once;
//! - extractors: [`CurrentUser`] (anonymous or not), [`RequireUser`]
//!   (signed in, else the login page), [`Auth`] (the three-layer writer
//!   bound to this request's session) and [`SameOrigin`];
//! - guards ([`LiveAuthExt::guard`] with a [`Guard`]): signed in, or a
//!   named policy, else a redirect or 403;
//! - the routes ([`LiveAuthExt::router`]): the live WebSocket per open tab
//!   and its client, and the local identity provider's five routes.
//!
//! ```
//! use std::sync::Arc;
//!
//! use auth_axum::{Auth, Guard, LiveAuth, LiveAuthExt, LivePage, Region, RequireUser};
//! use auth_channel_memory::MemoryChannel;
//! use auth_core::memory::{MemorySessionBackend, MemoryStore};
//! use auth_core::{Policies, Policy};
//! use axum::Router;
//! use axum::response::{Html, Redirect};
//! use axum::routing::{get, post};
//!
//! let page = LivePage::new("live")
//!     .with_guard(Guard::login_required())
//!     .with_region(
//!         Region::new("admin", |_| "<p>Admin content visible.</p>".into())
//!             .with_policy("AdminOnly")
//!             .otherwise(|_| "<p>Admin content hidden.</p>".into()),
//!     );
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
//! let app: Router = Router::new()
//!     .route("/live", get(move |RequireUser(user): RequireUser| async move {
//!         let page = show.page("live").expect("registered");
//!         let region = page.render_region(&show, "admin", &user);
//!         Html(format!("{region}{}", page.script_tag(&show)))
//!     }))
//!     .route("/live/grant-admin", post(|auth: Auth| async move {
//!         let _ = auth.grant("role", "admin").await;
//!         Redirect::to("/live")
//!     }))
//!     .merge(auth.router())
//!     .layer(auth.layer());
//! # let _ = app;
//! ```

mod extract;
mod guard;
mod headers;
mod layer;
mod live;
mod router;

pub use extract::{Auth, AuthRejection, CurrentUser, RequireUser, SameOrigin};
pub use guard::{GuardLayer, GuardService};
pub use headers::{SecureHeadersFuture, SecureHeadersLayer, SecureHeadersService};
pub use layer::{AuthFuture, AuthLayer, AuthService};
pub use router::LiveAuthExt;

pub use auth_http::{
    ConfigError, CookieConfig, Guard, GuardOutcome, LiveAuth, LiveAuthBuilder, LivePage, Region,
    Rejection, RequestAuth, SecureHeaders, escape_html, safe_path, same_origin,
};

pub use auth_core;
pub use auth_http;
#[cfg(feature = "local-idp")]
pub use auth_http::auth_local_idp;
pub use axum;

/// This crate's README example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
