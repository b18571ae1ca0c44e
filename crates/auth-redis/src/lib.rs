//! Redis connection settings for the live-auth stack, and the `fred` pool
//! built from them: one [`RedisSettings`] for the channel
//! (`auth-channel-redis`), the sessions (`auth-session-redis`) and the
//! throttles (`auth-throttle-redis`), so the three read the same URL,
//! prefix and timeouts and can share one pool.
//!
//! | piece | what it is |
//! |---|---|
//! | [`RedisSettings`] | URL, key prefix, connect and command timeouts, TCP keepalive, reconnect backoff, pool size; `new(url)` and `with_*` |
//! | [`RedisSettings::connect_pool`] | a connected `fred` [`Pool`](fred::clients::Pool) the three crates share through their `from_pool` |
//! | [`RedisSettingsError`], [`RedisConnectError`] | refused settings and failed connects, never with the URL's password |
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use auth_redis::RedisSettings;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = RedisSettings::new("redis://127.0.0.1:6379")
//!     .with_prefix("my-app")
//!     .with_pool_size(2);
//! let pool = settings.connect_pool().await?;
//! // e.g. RedisSessionBackend::from_pool(pool.clone(), &settings)?, and the
//! // same pool for the throttles and the channel's publisher.
//! # drop(pool); Ok(()) }
//! ```
//!
//! # Sharing one pool
//!
//! Each crate's `connect(&settings)` opens a pool of its own; its
//! `from_pool(pool, &settings)` uses one the app already connected, taking
//! only the prefix from the settings. The sessions, the throttles and the
//! channel's publishing side all run ordinary commands, so one pool serves
//! them all. The channel's **subscriber** connection is always its own: a
//! connection in subscribe mode can run no other command.
//!
//! One Redis server (or primary), loopback or a private network: the
//! scripts name the keys they compute, so no cluster, and no TLS feature of
//! `fred` is enabled, so a `rediss://` URL is refused rather than sent in
//! the clear.

mod error;
mod pool;
mod settings;

pub use error::{RedisConnectError, RedisSettingsError};
pub use settings::{DEFAULT_PREFIX, MAX_POOL_SIZE, MAX_PREFIX_LEN, RedisSettings};

/// The Redis client this crate is built on, re-exported so apps use the
/// matching version.
pub use fred;

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
