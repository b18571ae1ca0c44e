//! A [`SessionBackend`](auth_core::SessionBackend) in Redis, for apps that
//! run several worker processes: every worker sees every session, and a
//! sign-out or claim change made through one reaches the others.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use auth_core::{SessionBackend, SessionRecord, SessionToken, Principal};
//! use auth_session_redis::{RedisSessionBackend, RedisSettings};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = RedisSettings::new("redis://127.0.0.1:6379").with_prefix("my-app");
//! let backend: Arc<dyn SessionBackend> = Arc::new(RedisSessionBackend::connect(&settings).await?);
//!
//! let key = SessionToken::generate().key();
//! let record = SessionRecord::new(Principal::authenticated("local:1", "Ada", vec![]), 0);
//! backend.save(&key, &record, std::time::Duration::from_secs(3600)).await?;
//! assert_eq!(backend.sessions_of("local:1").await?.len(), 1);
//! assert_eq!(backend.delete_sessions_of("local:1").await?, 1);
//! # Ok(()) }
//! ```
//!
//! # Keys
//!
//! | key | type | holds | expires |
//! |---|---|---|---|
//! | `<prefix>:session:<session key>` | hash | `record` (the JSON [`SessionRecord`](auth_core::SessionRecord)), `user` (its indexed user id) | the session's TTL |
//! | `<prefix>:user-sessions:<user id>` | set | the user's session keys | raised on each save to the longest session's TTL |
//! | `<prefix>:user-stamp:<user id>` | string | the change stamp (`INCR`) | never |
//!
//! Expiry is Redis's own (`PEXPIRE`, millisecond precision). Saves,
//! updates and deletes are Lua scripts (see the `scripts` module source),
//! so a session and its user's index always change together, and `update`
//! writes only a session that still exists. "List my sessions" and "sign
//! out everywhere" read the user's set: O(sessions of that user), no scan;
//! members whose session expired are pruned as they are met.
//!
//! Stamps never expire: a stamp that vanished would restart at 0 and let
//! stale snapshots pass as fresh. They cost a few bytes per user who ever
//! had a claim change.
//!
//! Session keys are derived from the cookie token (a SHA-256, or an HMAC
//! under the app's session secret), never the token itself, so the keyspace
//! hands out no live sessions. `Debug` shows the prefix only.
//!
//! # Connecting
//!
//! [`RedisSessionBackend::connect`] opens a pool of its own from a
//! [`RedisSettings`] (URL, prefix, timeouts, keepalive, pool size; from
//! `auth-redis`, re-exported here); [`RedisSessionBackend::from_pool`] uses
//! one the app already connected with [`RedisSettings::connect_pool`], so
//! the sessions, the login throttles (`auth-throttle-redis`) and the
//! channel's publisher (`auth-channel-redis`) share one set of connections.
//!
//! A crate of its own rather than a feature of `auth-channel-redis`: one
//! crate per backend, and the two are chosen separately (an app may keep
//! sessions in SQL and send only live events through Redis, or the
//! reverse). All of them take the same settings and re-export the same
//! `fred`.
//!
//! One Redis server (or primary), not a cluster: the scripts name keys they
//! compute. Loopback or a private network only: no TLS feature of `fred`
//! is enabled.

mod backend;
mod error;
mod scripts;

pub use backend::RedisSessionBackend;
pub use error::RedisSessionError;

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
