//! [`MemoryThrottle`]: the in-process throttle, in bounded memory.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::{Throttle, ThrottleDecision, ThrottleError};

/// An in-process [`Throttle`] with bounded memory.
///
/// It tracks at most `capacity` keys (default
/// [`MemoryThrottle::DEFAULT_CAPACITY`], about 60 bytes each). Keys are kept
/// as 64-bit keyed hashes, so a hostile key costs no more than a short one.
/// When a new key arrives at capacity, the key whose window opened first is
/// forgotten: under a flood of more distinct keys than the capacity, the
/// oldest windows restart (the throttle fails open for them rather than
/// refusing everyone).
///
/// ```
/// use std::time::Duration;
/// use auth_core::throttle::{MemoryThrottle, Throttle, ThrottleDecision, ThrottleError};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), ThrottleError> {
/// let throttle = MemoryThrottle::new(2, Duration::from_secs(60));
/// assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Allowed { remaining: 1 }));
/// assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Allowed { remaining: 0 }));
/// assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Refused { .. }));
/// throttle.reset("addr:192.0.2.7").await?;
/// assert!(matches!(throttle.attempt("addr:192.0.2.7").await?, ThrottleDecision::Allowed { .. }));
/// # Ok(()) }
/// ```
pub struct MemoryThrottle {
    limit: u32,
    window: Duration,
    capacity: usize,
    hasher: std::collections::hash_map::RandomState,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    windows: HashMap<u64, Window>,
    /// Window openings in time order: (key hash, opened at). A record whose
    /// key has since been reset or reopened is stale and skipped.
    order: VecDeque<(u64, Instant)>,
}

#[derive(Clone, Copy)]
struct Window {
    opened: Instant,
    count: u32,
}

impl MemoryThrottle {
    /// The default number of keys tracked at once.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// At most `limit` attempts per key per `window`. A zero `limit`
    /// refuses everything; a zero `window` throttles nothing.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            capacity: Self::DEFAULT_CAPACITY,
            hasher: std::collections::hash_map::RandomState::new(),
            state: Mutex::new(State::default()),
        }
    }

    /// Sets how many keys are tracked at once (at least 1).
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How many keys are tracked now (never above the capacity).
    pub fn len(&self) -> usize {
        self.state().windows.len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most keys tracked at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Attempts allowed per key per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.window
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every mutation below leaves the maps consistent at each step, so a
        // poisoned lock holds usable data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, key: &str, now: Instant) -> ThrottleDecision {
        let hash = self.hasher.hash_one(key);
        let mut state = self.state();
        state.expire(now, self.window);
        if let Some(window) = state.windows.get_mut(&hash) {
            if window.count >= self.limit {
                let retry_after = window
                    .opened
                    .checked_add(self.window)
                    .map_or(Duration::MAX, |ends| ends.saturating_duration_since(now));
                return ThrottleDecision::Refused { retry_after };
            }
            window.count += 1;
            return ThrottleDecision::Allowed {
                remaining: self.limit - window.count,
            };
        }
        if self.limit == 0 {
            return ThrottleDecision::Refused {
                retry_after: self.window,
            };
        }
        while state.windows.len() >= self.capacity {
            state.evict_oldest();
        }
        state.windows.insert(
            hash,
            Window {
                opened: now,
                count: 1,
            },
        );
        state.order.push_back((hash, now));
        if state.order.len() > self.capacity.saturating_mul(2) {
            state.compact();
        }
        ThrottleDecision::Allowed {
            remaining: self.limit - 1,
        }
    }
}

impl State {
    /// Drops every window that has ended.
    fn expire(&mut self, now: Instant, length: Duration) {
        while let Some(&(hash, opened)) = self.order.front() {
            // A window too long to represent never ends.
            if opened.checked_add(length).is_none_or(|ends| ends > now) {
                break;
            }
            self.order.pop_front();
            self.remove_if_opened(hash, opened);
        }
    }

    /// Drops the window that opened first.
    fn evict_oldest(&mut self) {
        while let Some((hash, opened)) = self.order.pop_front() {
            if self.remove_if_opened(hash, opened) {
                return;
            }
        }
        // No live record left (cannot happen while windows is non-empty,
        // since every window has one); keep the bound regardless.
        self.windows.clear();
    }

    fn remove_if_opened(&mut self, hash: u64, opened: Instant) -> bool {
        if self.windows.get(&hash).is_some_and(|w| w.opened == opened) {
            self.windows.remove(&hash);
            return true;
        }
        false
    }

    /// Drops stale order records (left by resets).
    fn compact(&mut self) {
        let windows = &self.windows;
        self.order
            .retain(|(hash, opened)| windows.get(hash).is_some_and(|w| w.opened == *opened));
    }
}

#[async_trait]
impl Throttle for MemoryThrottle {
    async fn attempt(&self, key: &str) -> Result<ThrottleDecision, ThrottleError> {
        Ok(self.record(key, Instant::now()))
    }

    async fn reset(&self, key: &str) -> Result<(), ThrottleError> {
        let hash = self.hasher.hash_one(key);
        self.state().windows.remove(&hash);
        Ok(())
    }

    async fn forgive(&self, key: &str) -> Result<(), ThrottleError> {
        let hash = self.hasher.hash_one(key);
        let mut state = self.state();
        state.expire(Instant::now(), self.window);
        if let Some(window) = state.windows.get_mut(&hash) {
            window.count = window.count.saturating_sub(1);
        }
        Ok(())
    }
}

impl fmt::Debug for MemoryThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryThrottle")
            .field("limit", &self.limit)
            .field("window", &self.window)
            .field("capacity", &self.capacity)
            .field("tracked", &self.len())
            .finish_non_exhaustive()
    }
}
