//! The framework-neutral names an app's handlers use: the principal and its
//! claims, policies, guards and live pages, the stack builder. The
//! framework preludes, `live_auth::axum::prelude` and
//! `live_auth::actix::prelude`, add their extractors to these.

pub use auth_core::{AuthActions, Claim, Policies, Policy, Principal};

#[cfg(feature = "http")]
pub use crate::{ConfigError, Stack, StackBuilder, StackError};
#[cfg(feature = "http")]
pub use auth_http::{Guard, LiveAuth, LivePage, Region, SecureHeaders};
