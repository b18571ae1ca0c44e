//! The axum adapter (`auth-axum`), with the `axum` it is built on as
//! `live_auth::axum::axum`, and a [`prelude`] for handlers.
//!
//! ```no_run
//! use live_auth::axum::{axum, prelude::*};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Stack::from_env().await?.live_auth().build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/", axum::routing::get(|RequireUser(user): RequireUser| async move {
//!         format!("Hello, {}", user.display_name().unwrap_or("you"))
//!     }))
//!     .merge(auth.router())
//!     .layer(auth.layer());
//! # let _ = app; Ok(()) }
//! ```

pub use auth_axum::*;

/// What an axum handler and its router need: the extractors, the
/// [`LiveAuthExt`] methods (`layer`, `router`),
/// the secure-headers layer and the framework-neutral
/// [`crate::prelude`].
pub mod prelude {
    pub use crate::prelude::*;
    pub use auth_axum::{
        Auth, CurrentUser, LiveAuthExt as _, RequireUser, SameOrigin, SecureHeadersLayer,
    };
}
