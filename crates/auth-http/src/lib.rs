//! The framework-neutral web layer of the live-auth stack.
//!
//! Everything a web adapter needs that does not need a web framework lives
//! here, on the [`http`] crate's types: the session cookie, the cross-site
//! (CSRF) decision, safe redirects, the client address behind trusted
//! proxies, forms and their `?error=` codes, guards, live pages and their
//! policy regions, the live connection as a transport-free state machine,
//! the browser client, and every route handler. An adapter (`auth-axum`,
//! `auth-actix`) only translates requests, responses and sockets; a new
//! route written here is served by every adapter.
//!
//! One builder ([`LiveAuth::builder`]) takes a store, a session backend and
//! a channel. Per request an adapter makes a [`RequestAuth`] (the session,
//! loaded only when something asks for it, and then once), and for each of
//! [`LiveAuth::routes`] hands an [`AuthRequest`] to [`LiveAuth::handle`].
//!
//! ```
//! use std::sync::Arc;
//!
//! use auth_channel_memory::MemoryChannel;
//! use auth_core::memory::{MemorySessionBackend, MemoryStore};
//! use auth_core::{Policies, Policy};
//! use auth_http::{AuthRequest, Guard, LiveAuth, LivePage, Region, Route};
//! use http::{HeaderMap, Method, StatusCode};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
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
//! // What an adapter mounts: a path and a route for each.
//! let (path, route) = auth.routes().into_iter().find(|(_, r)| *r == Route::ClientJs).unwrap();
//! assert_eq!(path, "/auth/live.js");
//! let request = AuthRequest::new(&auth, Method::GET, path.parse().unwrap(), HeaderMap::new());
//! let response = auth.handle(route, request).await;
//! assert_eq!(response.status(), StatusCode::OK);
//! # }
//! ```

#[cfg(feature = "local-idp")]
mod account;
mod admin;
mod client_addr;
mod code;
mod config;
mod cookie;
mod csrf;
mod form;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod headers;
mod live;
#[cfg(feature = "local-idp")]
mod mfa;
#[cfg(feature = "oidc")]
mod oidc;
mod redirect;
mod rejection;
mod request;
mod response;
mod routes;
mod warn;
mod writer;

#[cfg(feature = "local-idp")]
pub use account::{
    AccountFlows, DEFAULT_MAIL_ADDRESS_LIMIT, DEFAULT_MAIL_LIMIT, DEFAULT_MAIL_WINDOW,
    DEFAULT_MAX_PENDING_MAIL, RegistrationMode,
};
pub use admin::{
    ADMIN_AUDIT_PER_PAGE, ADMIN_MAX_SESSIONS, ADMIN_SEARCH_SCAN, ADMIN_USERS_PER_PAGE,
    MAX_SEARCH_LEN, SessionSummary, UserDetail, UserList, UserSummary,
};
pub use code::ErrorCode;
pub use config::{
    ConfigError, CookieConfig, DEFAULT_MAX_SOCKETS_PER_SESSION, LiveAuth, LiveAuthBuilder,
};
pub use csrf::same_origin;
pub use guard::{Guard, GuardOutcome};
pub use headers::{DEFAULT_CONTENT_SECURITY_POLICY, SecureHeaders, no_store_if_personal};
pub use live::{
    CLIENT_JS, Incoming, LiveConnection, LivePage, MAX_MESSAGE_BURST, MAX_MESSAGE_BYTES,
    MESSAGE_REFILL, Outgoing, Region, Step, TargetRegion, escape_html,
};
#[cfg(feature = "local-idp")]
pub use mfa::{
    CodesPage, DEFAULT_FACTOR_LIMIT, DEFAULT_FACTOR_WINDOW, DEFAULT_STEP_UP_MAX_AGE, Enrolment,
    SecondFactors,
};
#[cfg(feature = "oidc")]
pub use oidc::OidcRoutes;
pub use redirect::safe_path;
pub use rejection::Rejection;
pub use request::{AuthRequest, RequestAuth, RequestBody};
pub use response::{Body, Response};
pub use routes::Route;
#[cfg(feature = "local-idp")]
pub use routes::{FactorStatus, StepUp};
pub use writer::Auth;

pub use auth_core;
#[cfg(feature = "local-idp")]
pub use auth_local_idp;
#[cfg(feature = "oidc")]
pub use auth_oidc;
pub use http;

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
