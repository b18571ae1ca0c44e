//! A Redis [`Throttle`](auth_core::throttle::Throttle) for the live-auth stack:
//! when several workers serve one app, a login throttle in each worker's
//! memory lets an attacker multiply the limit by the number of workers.
//! [`RedisThrottle`] keeps one count per key in Redis, so every worker
//! counts the same attempts.
//!
//! | piece | what it is |
//! |---|---|
//! | [`RedisThrottle`] | at most N attempts per key per fixed window, one Lua script per attempt |
//! | [`RedisThrottleError`] | configuration, connection and command failures, kept with their source |
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
//! use auth_throttle_redis::RedisThrottle;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let throttle =
//!     RedisThrottle::connect("redis://127.0.0.1:6379", "my-app", 2, Duration::from_secs(60)).await?;
//! assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Allowed { remaining: 1 }));
//! assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Allowed { remaining: 0 }));
//! assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Refused { .. }));
//! throttle.reset("addr:192.0.2.7").await?;
//! # Ok(()) }
//! ```

mod error;
mod throttle;

pub use error::RedisThrottleError;
pub use throttle::{DEFAULT_PREFIX, RedisThrottle};

/// The Redis client this crate is built on, re-exported so apps use the
/// matching version.
pub use fred;

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
