//! An [`AuthChannel`](auth_core::AuthChannel) over Redis pub/sub, for apps
//! that run several worker processes behind a load balancer: a grant made
//! through one worker reaches the user's tabs connected to any other.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use auth_channel_redis::{RedisAuthChannel, RedisSettings};
//! use auth_core::{AuthChannel, Claim};
//! use futures_util::StreamExt;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // One channel per process, shared by every request and live socket.
//! let settings = RedisSettings::new("redis://127.0.0.1:6379").with_prefix("my-app");
//! let channel: Arc<dyn AuthChannel> = Arc::new(RedisAuthChannel::connect(&settings).await?);
//!
//! // A live socket of this process subscribes...
//! let mut tab = channel.subscribe("local:1").await?;
//! // ...and a grant in any process with the same prefix reaches it.
//! channel.update_claims("local:1", vec![Claim::new("role", "admin")]).await?;
//! let event = tab.next().await;
//! # drop(event); Ok(()) }
//! ```
//!
//! # Design
//!
//! | piece | what it does |
//! |---|---|
//! | one **subscriber** connection | `PSUBSCRIBE <prefix>:user:*` once, for every user; messages go to the local fan-out |
//! | a **publisher** pool | `PUBLISH <prefix>:user:<user id> <encoded event>`; its own (one connection by default), or the app's, shared with sessions and throttles |
//! | a [`MemoryChannel`](auth_channel_memory::MemoryChannel) | the process's subscribers (one per tab), with its bounded coalescing slots |
//!
//! A process holds two Redis connections however many tabs it serves, or
//! one beside the pool it shares (see [Connecting](#connecting)).
//! Subscribing a tab is local: the pattern subscription already covers
//! every user, so there is no per-user `SUBSCRIBE` churn as tabs come and
//! go, and no window in which a new user's events are missed. The cost is
//! that every process receives every user's events and drops those of users
//! it has no tab for, which is one map lookup per event; deployments whose
//! event rate outgrows that would want per-user subscriptions instead.
//!
//! An event published by a process reaches that process's own subscribers
//! directly, at once; the copy that comes back through Redis carries the
//! publishing instance's id and is skipped, so no subscriber receives an
//! event twice.
//!
//! # The wire
//!
//! Versioned JSON, see [`wire`]: `{"v":1,"origin":"…","event":{…}}`. A
//! message of an unknown version, or garbage, is logged and dropped (counted
//! by [`RedisAuthChannel::dropped_messages`]); a version-1 event of an
//! unknown kind becomes a resync.
//!
//! # Outages
//!
//! The channel is best-effort; the store is the authority.
//!
//! - **Publishing while Redis is down** delivers to local subscribers, waits
//!   up to the publish timeout, then fails with
//!   [`ChannelError::Backend`](auth_core::ChannelError::Backend). The
//!   three-layer writer logs that and succeeds: the store row and session
//!   written before it stand, and the other workers' tabs catch up on their
//!   next resync or request.
//! - **When a connection drops** it reconnects with exponential backoff
//!   (by default 100 ms doubling to 5 s, forever; see
//!   [`RedisSettings::with_reconnect_backoff`]). The subscriber then
//!   resubscribes and sends every local subscriber an
//!   [`AuthEvent::Resync`](auth_core::AuthEvent::Resync), after the
//!   subscription is back, so their tabs refetch the authoritative state and
//!   miss nothing published afterwards.
//! - **A connection that dies silently** (no FIN or RST reaches the process,
//!   e.g. a network partition) is noticed by TCP keepalive: by default
//!   probes after 30 s of silence, every 10 s, as many as the OS allows (9
//!   on Linux); then it reconnects and resyncs as above.
//! - **When the local fan-out falls behind** the received messages (more
//!   than the message buffer waiting), the overflow is dropped and local
//!   subscribers get a resync too.
//!
//! The channel names its connections with `CLIENT SETNAME`
//! (`<prefix>:subscriber`, and `<prefix>:publisher` for a publisher pool of
//! its own) so they can be found in `CLIENT LIST`.
//!
//! # Connecting
//!
//! Every Redis crate of the stack takes the same
//! [`RedisSettings`] (crate `auth-redis`, re-exported here): URL, prefix,
//! timeouts, TCP keepalive, reconnect backoff, pool size.
//!
//! | constructor | connections the channel opens |
//! |---|---|
//! | [`RedisAuthChannel::connect(&settings)`](RedisAuthChannel::connect) | a subscriber and a publisher pool |
//! | [`RedisAuthChannel::from_pool(pool, &settings)`](RedisAuthChannel::from_pool) | a subscriber only; publishes through `pool`, which the app connected with [`RedisSettings::connect_pool`] and shares with `RedisSessionBackend::from_pool` and `RedisThrottle::from_pool` |
//! | [`RedisAuthChannel::builder(&settings)`](RedisAuthChannel::builder) | either, with the channel's own publish timeout and message buffer |
//!
//! The subscriber connection is always the channel's own: a connection in
//! subscribe mode can run no other command, so it cannot come from a
//! shared pool.
//!
//! Loopback or a private network only: this crate enables no TLS feature
//! of `fred`. It talks to one Redis server (or a primary), not a cluster.

mod channel;
mod config;
mod error;
mod listener;
pub mod wire;

pub use channel::RedisAuthChannel;
pub use config::{DEFAULT_MESSAGE_BUFFER, RedisChannelBuilder};
pub use error::RedisChannelError;

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
