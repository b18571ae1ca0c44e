//! The actix-web adapter (`auth-actix`), with the `actix-web` it is built
//! on as `live_auth::actix::actix_web`, and a [`prelude`] for handlers.
//!
//! ```no_run
//! use live_auth::actix::{actix_web, prelude::*};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Stack::from_env().await?.live_auth().build()?;
//! actix_web::HttpServer::new(move || {
//!     actix_web::App::new()
//!         .route("/", actix_web::web::get().to(|RequireUser(user): RequireUser| async move {
//!             format!("Hello, {}", user.display_name().unwrap_or("you"))
//!         }))
//!         .configure(auth.routes_config())
//!         .wrap(auth.middleware())
//! })
//! .bind("127.0.0.1:8000")?
//! .run()
//! .await?;
//! # Ok(()) }
//! ```

pub use auth_actix::*;

/// What an actix-web handler and its app need: the extractors, the
/// [`LiveAuthExt`] methods (`middleware`,
/// `routes_config`), [`into_actix`], the secure
/// headers and the framework-neutral [`crate::prelude`].
pub mod prelude {
    pub use crate::prelude::*;
    pub use auth_actix::{
        Auth, CurrentUser, LiveAuthExt as _, RequireUser, SameOrigin, into_actix, secure_headers,
    };
}
