//! An in-process [`AuthChannel`]: fans a user's [`AuthEvent`]s out to every
//! stream subscribed to that user, inside one process. Use it for a
//! single-process deployment, for tests, and as the local fan-out stage
//! behind a networked channel.
//!
//! ```
//! use auth_channel_memory::MemoryChannel;
//! use auth_core::{AuthChannel, AuthEvent, Claim, Principal};
//! use futures_util::StreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), auth_core::ChannelError> {
//! let channel = MemoryChannel::new();
//! let mut tab = channel.subscribe("local:1").await?;
//!
//! channel.update_claims("local:1", vec![Claim::new("role", "admin")]).await?;
//!
//! let event = tab.next().await.expect("the channel is open");
//! let current = Principal::authenticated("local:1", "Ada", vec![]);
//! let next = event.apply(&current, None).expect("not a revoke");
//! assert!(next.has_claim("role", Some("admin")));
//!
//! drop(tab); // unsubscribes
//! assert_eq!(channel.user_count(), 0);
//! # Ok(()) }
//! ```
//!
//! # Coalescing: one bounded slot per subscriber
//!
//! Each subscription owns a *slot*, not a queue. Publishing folds the event
//! into every subscriber's slot and wakes it; polling the stream takes what
//! the slot holds. A subscriber that keeps up sees every event as published;
//! a slow one sees the latest state instead of a backlog:
//!
//! | pending | then published | pending after |
//! |---|---|---|
//! | nothing or a state | [`AuthEvent::Update`] `{p}` | `Update {p}` |
//! | `Update {p}` | [`AuthEvent::UpdateClaims`] `{c}` | `Update {p with claims c}` |
//! | nothing or `UpdateClaims` | `UpdateClaims {c}` | `UpdateClaims {c}` |
//! | anything | `Revoke { session: None }` | that revoke only; it absorbs every later event until taken |
//! | up to 15 distinct session revokes | `Revoke { session: Some(k) }` | the set plus `k` (a duplicate is dropped) |
//! | 16 distinct session revokes | a 17th | [`AuthEvent::Resync`] only |
//! | anything but a revoke of all | `Resync` (or an event kind this crate does not know) | `Resync` only; it absorbs later state and session revokes until taken |
//!
//! The pending state and the pending session revokes sit side by side: a
//! state event leaves the revokes alone, and a session revoke the state.
//!
//! A slot delivers, in this order: the revoke of all sessions, else the
//! resync, else the state, then the session revokes in arrival order. The
//! state goes first because a revoke is final: however `Update {p}` and
//! `Revoke {s}` were interleaved, connections of session `s` end anonymous
//! and the others end holding `p`. A `Resync` replaces what it absorbs
//! safely: the subscriber refetches when it takes it, after those events
//! were published, and the store is written before an event is published.
//!
//! # Memory
//!
//! An idle subscription (nothing pending) costs about 133 bytes, measured
//! over 10,000 subscriptions of one user by the `fanout` bench's counting
//! allocator (see `docs/performance.md`): 117 on the heap (the boxed stream
//! of 32 bytes; the shared slot of 72 bytes, which holds the pending state,
//! the waiting task's waker and the slot's index; one pointer in the user's
//! list, with its spare capacity; a share of the user's entry) and the
//! 16-byte [`EventStream`] handle itself. Its user's entry goes with its
//! last subscriber.
//!
//! A subscription with events pending holds at most one state event, 16
//! session revokes and two flags, however many events were published: a
//! subscriber that never polls cannot grow the process. An event is built
//! once per publish and shared by the slots until each subscriber takes
//! its own copy.
//!
//! # Locks
//!
//! Users are spread over shards (a lock each) by a hash of their id; each
//! user has a lock over its subscriber list, and each slot a lock over its
//! pending events and its waker. All are `std` locks held for a few
//! instructions, never across an `.await`; a waker is called after its
//! slot is unlocked. Publishing to a user with 10,000 subscribers holds
//! that user's list lock during the fan-out, which delays only that user's
//! subscribes and unsubscribes.

mod slot;

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use auth_core::{AuthChannel, AuthEvent, ChannelError, EventStream};
use futures_util::Stream;

use crate::slot::{Kind, MergeCache, Slot, lock};

pub use crate::slot::MAX_PENDING_REVOKES;

/// The number of shards [`MemoryChannel::new`] uses.
pub const DEFAULT_SHARDS: usize = 16;

/// The in-process channel. See the [crate docs](crate) for the coalescing
/// rules and the memory bound.
///
/// Cloning gives another handle to the same channel. When the last handle is
/// dropped the channel shuts down, so no stream waits forever for a publisher
/// that is gone.
#[derive(Clone)]
pub struct MemoryChannel {
    handle: Arc<Handle>,
}

/// Shuts the channel down when the last [`MemoryChannel`] goes; streams hold
/// the [`Inner`] only.
struct Handle {
    inner: Arc<Inner>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.inner.shutdown();
    }
}

type Shard = Mutex<HashMap<Arc<str>, Arc<UserEntry>>>;

struct Inner {
    shards: Box<[Shard]>,
    hasher: RandomState,
    closed: AtomicBool,
}

/// One user's subscribers. Lives in its shard's map exactly while it has at
/// least one subscriber (until shutdown empties the maps).
struct UserEntry {
    id: Arc<str>,
    subscribers: Mutex<Vec<Arc<Slot>>>,
}

impl MemoryChannel {
    /// An open channel with [`DEFAULT_SHARDS`] shards.
    pub fn new() -> Self {
        Self::with_shards(DEFAULT_SHARDS)
    }

    /// An open channel whose users are spread over `shards` locks (rounded
    /// up to a power of two, at least 1). More shards let subscribes,
    /// unsubscribes and publishes for different users proceed in parallel.
    pub fn with_shards(shards: usize) -> Self {
        let shards = shards.max(1).next_power_of_two();
        let inner = Inner {
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            closed: AtomicBool::new(false),
        };
        Self {
            handle: Arc::new(Handle {
                inner: Arc::new(inner),
            }),
        }
    }

    /// Shuts the channel down: every stream ends (`None`) once it has
    /// delivered what was pending, and later publishes and subscribes fail
    /// with [`ChannelError::Closed`]. Idempotent.
    pub fn shutdown(&self) {
        self.inner().shutdown();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner().closed.load(Ordering::Acquire)
    }

    /// The number of live subscriptions of `user_id`.
    pub fn subscriber_count(&self, user_id: &str) -> usize {
        let inner = self.inner();
        let user = lock(inner.shard(user_id)).get(user_id).cloned();
        user.map_or(0, |user| lock(&user.subscribers).len())
    }

    /// The number of users with at least one live subscription.
    pub fn user_count(&self) -> usize {
        self.inner()
            .shards
            .iter()
            .map(|shard| lock(shard).len())
            .sum()
    }

    /// Sends `event` to every live subscription of every user, and returns
    /// how many subscriptions it reached. A networked channel uses it to
    /// send [`AuthEvent::Resync`] to all its local tabs after its transport
    /// reconnected (events may have been lost meanwhile).
    ///
    /// Each user's subscribers are reached under that user's list lock, one
    /// user at a time; a user who subscribes during the call may or may not
    /// receive the event. Fails with [`ChannelError::Closed`] after
    /// [`shutdown`](Self::shutdown).
    pub fn publish_all(&self, event: &AuthEvent) -> Result<usize, ChannelError> {
        let inner = self.inner();
        if inner.closed.load(Ordering::Acquire) {
            return Err(ChannelError::Closed);
        }
        let kind = Kind::of(event);
        let event = Arc::new(event.clone());
        let mut reached = 0;
        for shard in &inner.shards {
            // Clone the entries out so the shard is unlocked during the fan-out.
            let users: Vec<Arc<UserEntry>> = lock(shard).values().cloned().collect();
            for user in users {
                let mut cache = MergeCache::default();
                let subscribers = lock(&user.subscribers);
                for slot in subscribers.iter() {
                    slot.push(&event, kind, &mut cache);
                }
                reached += subscribers.len();
            }
        }
        Ok(reached)
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    fn publish_now(&self, user_id: &str, event: AuthEvent) -> Result<(), ChannelError> {
        let inner = self.inner();
        if inner.closed.load(Ordering::Acquire) {
            return Err(ChannelError::Closed);
        }
        // Clone the entry out so the shard is unlocked during the fan-out.
        let Some(user) = lock(inner.shard(user_id)).get(user_id).cloned() else {
            return Ok(());
        };
        let kind = Kind::of(&event);
        let event = Arc::new(event);
        let mut cache = MergeCache::default();
        for slot in lock(&user.subscribers).iter() {
            slot.push(&event, kind, &mut cache);
        }
        Ok(())
    }

    fn subscribe_now(&self, user_id: &str) -> Result<EventStream, ChannelError> {
        let inner = self.inner();
        let mut shard = lock(inner.shard(user_id));
        // Checked under the shard lock: `shutdown` sets the flag before it
        // empties the shards, so it cannot miss this entry.
        if inner.closed.load(Ordering::Acquire) {
            return Err(ChannelError::Closed);
        }
        let user = if let Some(user) = shard.get(user_id) {
            Arc::clone(user)
        } else {
            let id: Arc<str> = Arc::from(user_id);
            let user = Arc::new(UserEntry {
                id: Arc::clone(&id),
                subscribers: Mutex::new(Vec::new()),
            });
            shard.insert(id, Arc::clone(&user));
            user
        };
        let slot = {
            let mut subscribers = lock(&user.subscribers);
            let slot = Arc::new(Slot::new(subscribers.len()));
            subscribers.push(Arc::clone(&slot));
            slot
        };
        drop(shard);
        Ok(Box::pin(Subscription {
            inner: Arc::clone(inner),
            user,
            slot,
            done: false,
        }))
    }
}

impl Default for MemoryChannel {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryChannel")
            .field("shards", &self.inner().shards.len())
            .field("users", &self.user_count())
            .field("shut_down", &self.is_shut_down())
            .finish()
    }
}

#[async_trait]
impl AuthChannel for MemoryChannel {
    async fn publish(&self, user_id: &str, event: AuthEvent) -> Result<(), ChannelError> {
        self.publish_now(user_id, event)
    }

    async fn subscribe(&self, user_id: &str) -> Result<EventStream, ChannelError> {
        self.subscribe_now(user_id)
    }
}

impl Inner {
    fn shard(&self, user_id: &str) -> &Shard {
        // The shard count is a power of two; the low bits of the hash pick.
        #[allow(clippy::cast_possible_truncation)]
        let hash = self.hasher.hash_one(user_id) as usize;
        &self.shards[hash & (self.shards.len() - 1)]
    }

    fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        for shard in &self.shards {
            let users: Vec<Arc<UserEntry>> = lock(shard).drain().map(|(_, user)| user).collect();
            for user in users {
                for slot in lock(&user.subscribers).iter() {
                    slot.wake();
                }
            }
        }
    }
}

/// The stream half of one subscription. Dropping it unsubscribes.
struct Subscription {
    inner: Arc<Inner>,
    user: Arc<UserEntry>,
    slot: Arc<Slot>,
    /// The stream has ended; it stays ended.
    done: bool,
}

impl Stream for Subscription {
    type Item = AuthEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<AuthEvent>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let polled = this.slot.poll_take(cx.waker(), &this.inner.closed);
        if let Poll::Ready(None) = polled {
            this.done = true;
        }
        polled
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // Lock order everywhere: shard, then user list, then slot.
        let mut shard = lock(self.inner.shard(&self.user.id));
        let mut subscribers = lock(&self.user.subscribers);
        let mut index = self.slot.index();
        if !subscribers
            .get(index)
            .is_some_and(|slot| Arc::ptr_eq(slot, &self.slot))
        {
            // Unreachable while the index bookkeeping holds; stay correct
            // (and never panic in a destructor) if it does not.
            match subscribers
                .iter()
                .position(|slot| Arc::ptr_eq(slot, &self.slot))
            {
                Some(found) => index = found,
                None => return,
            }
        }
        subscribers.swap_remove(index);
        if let Some(moved) = subscribers.get(index) {
            moved.set_index(index);
        }
        if subscribers.is_empty() {
            *subscribers = Vec::new();
            if shard
                .get(&*self.user.id)
                .is_some_and(|entry| Arc::ptr_eq(entry, &self.user))
            {
                shard.remove(&*self.user.id);
            }
        } else if subscribers.capacity() > 64 && subscribers.len() * 4 < subscribers.capacity() {
            let keep = subscribers.len() * 2;
            subscribers.shrink_to(keep);
        }
    }
}

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
