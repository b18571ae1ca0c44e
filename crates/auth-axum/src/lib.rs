//! The axum adapter of the live-auth stack.
//!
//! One builder ([`LiveAuth::builder`]) takes a store, a session backend and a
//! channel, and gives:
//!
//! - a tower layer ([`LiveAuth::layer`]) that loads the session from its
//!   cookie and puts the principal in the request;
//! - extractors: [`CurrentUser`] (anonymous or not), [`RequireUser`]
//!   (signed in, else the login page) and [`Auth`] (the three-layer writer
//!   bound to this request's session);
//! - guards ([`LiveAuth::guard`] with a [`Guard`]): signed in, or a named
//!   policy, else a redirect or 403;
//! - the live endpoint ([`LiveAuth::router`]): a WebSocket per open tab that
//!   re-renders a page's [`Region`]s on the server when the principal
//!   changes, or sends the tab to the login page when it is signed out.
//!
//! ```
//! use std::sync::Arc;
//!
//! use auth_axum::{Auth, Guard, LiveAuth, LivePage, Region, RequireUser};
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
//!         let region = page.render_region(&show, "admin", &user).unwrap_or_default();
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

mod config;
mod cookie;
mod csrf;
mod extract;
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod layer;
mod live;
#[cfg(feature = "local-idp")]
mod local;
mod redirect;
mod router;

pub use config::{ConfigError, CookieConfig, LiveAuth, LiveAuthBuilder};
pub use csrf::same_origin;
pub use extract::{
    Auth, CrossSite, CurrentUser, MissingAuthLayer, RequireUser, RequireUserRejection, SameOrigin,
};
pub use guard::{Guard, GuardLayer, GuardOutcome, GuardService};
pub use layer::{AuthLayer, AuthService, RequestAuth};
pub use live::{LivePage, Region, escape_html};
pub use redirect::safe_path;

pub use auth_core;
#[cfg(feature = "local-idp")]
pub use auth_local_idp;
pub use axum;

/// The workspace README's example, compiled and run as a doctest so the
/// README never drifts from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
