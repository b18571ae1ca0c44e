//! What bounds one session's live sockets and one socket's messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auth_core::SessionKey;

/// How many messages a tab may send in a burst; the only message of the
/// protocol is `resync`, which the browser client never needs more than
/// once in a while.
pub const MAX_MESSAGE_BURST: u32 = 10;

/// How often one more message is allowed once the burst is spent.
pub const MESSAGE_REFILL: Duration = Duration::from_secs(1);

/// Open live sockets per session, with a cap. An entry exists only while
/// its session has a socket open, so the map is bounded by the sessions
/// that are connected.
#[derive(Clone, Debug)]
pub(crate) struct SocketCounts {
    max: usize,
    open: Arc<Mutex<HashMap<SessionKey, usize>>>,
}

impl SocketCounts {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// A slot for one more socket of `key`, or `None` when it has the
    /// most it may.
    pub(crate) fn reserve(&self, key: &SessionKey) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            counts: self.clone(),
            key: key.clone(),
        })
    }

    #[cfg(test)]
    fn open(&self, key: &SessionKey) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(key).copied().unwrap_or(0)
    }
}

/// One open socket's place in [`SocketCounts`], given back on drop.
#[derive(Debug)]
pub(crate) struct SocketSlot {
    counts: SocketCounts,
    key: SessionKey,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self
            .counts
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A token bucket for one socket's messages.
#[derive(Debug)]
pub(crate) struct MessageBudget {
    left: u32,
    refilled: Instant,
}

impl MessageBudget {
    pub(crate) fn new() -> Self {
        Self {
            left: MAX_MESSAGE_BURST,
            refilled: Instant::now(),
        }
    }

    /// Spends one message; `false` when the budget is spent.
    pub(crate) fn spend(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_millis() / MESSAGE_REFILL.as_millis();
        if earned > 0 {
            let earned = u32::try_from(earned).unwrap_or(u32::MAX);
            self.left = self.left.saturating_add(earned).min(MAX_MESSAGE_BURST);
            self.refilled = now;
        }
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_gets_its_cap_and_slots_come_back_on_drop() {
        let counts = SocketCounts::new(2);
        let key = SessionKey::parse(&"ab".repeat(32)).unwrap();
        let first = counts.reserve(&key).unwrap();
        let second = counts.reserve(&key).unwrap();
        assert!(counts.reserve(&key).is_none());
        drop(first);
        let third = counts.reserve(&key).unwrap();
        drop((second, third));
        assert_eq!(counts.open(&key), 0);
        assert!(
            counts.open.lock().unwrap().is_empty(),
            "no entry left behind"
        );
    }

    #[test]
    fn a_burst_is_allowed_then_refused() {
        let mut budget = MessageBudget::new();
        for _ in 0..MAX_MESSAGE_BURST {
            assert!(budget.spend());
        }
        assert!(!budget.spend());
    }
}
