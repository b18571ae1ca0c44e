//! A Redis [`Throttle`](auth_core::throttle::Throttle) for the live-auth stack:
//! when several workers serve one app, a login throttle in each worker's
//! memory lets an attacker multiply the limit by the number of workers.
//! [`RedisThrottle`] keeps one count per key in Redis, so every worker
//! counts the same attempts.
//!
//! | piece | what it is |
//! |---|---|
//! | [`RedisThrottle`] | at most N attempts per key per fixed window, one Lua script per attempt |
//! | [`RedisThrottleError`] | settings, connection and command failures, kept with their source |
//! | [`RedisSettings`] | where Redis is and how to connect (crate `auth-redis`, re-exported) |
//!
//! The trait is `auth-core`'s [`Throttle`](auth_core::throttle::Throttle),
//! so this crate depends on the core and `fred` only: no password hashing
//! or JWT code. [`RedisThrottle::connect`] opens a pool of its own;
//! [`RedisThrottle::from_pool`] shares one connected with
//! [`RedisSettings::connect_pool`] with other throttles, the session
//! backend and the channel's publisher.
//!
//! Keys are `<prefix>:throttle:<SHA-256 of the throttle key>`, each with
//! the window as its Redis expiry: nothing to clean up. One Redis server (or
//! primary), loopback or a private network: no TLS feature of `fred` is
//! enabled.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use auth_core::throttle::{Throttle, ThrottleDecision};
//! use auth_throttle_redis::{RedisSettings, RedisThrottle};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = RedisSettings::new("redis://127.0.0.1:6379").with_prefix("my-app");
//! let throttle = RedisThrottle::connect(&settings, 2, Duration::from_secs(60)).await?;
//! assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Allowed { remaining: 1 }));
//! assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Allowed { remaining: 0 }));
//! assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Refused { .. }));
//! throttle.reset("addr:192.0.2.7").await?;
//! # Ok(()) }
//! ```

mod error;
mod throttle;

pub use error::RedisThrottleError;
pub use throttle::RedisThrottle;

/// The settings every Redis crate of the stack takes, re-exported so this
/// crate alone is enough to connect.
pub use auth_redis::{self, RedisSettings, RedisSettingsError};

/// The Redis client this crate is built on, re-exported so apps use the
/// matching version.
pub use fred;

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
