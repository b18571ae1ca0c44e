//! One subscriber's bounded slot and the coalescing rules.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

use auth_core::AuthEvent;

/// How many distinct session-scoped revokes a slot keeps before it collapses
/// them (and any pending state) into one [`AuthEvent::Resync`].
pub const MAX_PENDING_REVOKES: usize = 16;

/// Locks `mutex`, ignoring poisoning: nothing panics while one of this
/// crate's locks is held with its data half-written, so the data is always
/// consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What an event does to a slot, worked out once per publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// [`AuthEvent::Update`]: replaces the pending state.
    Update,
    /// [`AuthEvent::UpdateClaims`]: merges into a pending `Update`, else
    /// replaces the pending state.
    UpdateClaims,
    /// A revoke of one session: joins the small set of pending revokes.
    RevokeSession,
    /// A revoke of every session: dominates everything.
    RevokeAll,
    /// [`AuthEvent::Resync`], and any event kind this crate does not know
    /// (`AuthEvent` is non-exhaustive): a refetch is always safe.
    Resync,
}

impl Kind {
    pub(crate) fn of(event: &AuthEvent) -> Self {
        match event {
            AuthEvent::Update { .. } => Self::Update,
            AuthEvent::UpdateClaims { .. } => Self::UpdateClaims,
            AuthEvent::Revoke { session: Some(_) } => Self::RevokeSession,
            AuthEvent::Revoke { session: None } => Self::RevokeAll,
            _ => Self::Resync,
        }
    }
}

/// Remembers the last `Update` + `UpdateClaims` merge of one publish, so a
/// fan-out to many slots holding the same pending `Update` builds the merged
/// principal once instead of once per slot.
#[derive(Default)]
pub(crate) struct MergeCache {
    last: Option<(Arc<AuthEvent>, Arc<AuthEvent>)>,
}

impl MergeCache {
    /// `Update { principal }` followed by `UpdateClaims { claims }` is
    /// `Update { principal with claims }`.
    fn merge(&mut self, update: &Arc<AuthEvent>, claims: &Arc<AuthEvent>) -> Arc<AuthEvent> {
        if let Some((input, output)) = &self.last
            && Arc::ptr_eq(input, update)
        {
            return Arc::clone(output);
        }
        let merged = match (&**update, &**claims) {
            (AuthEvent::Update { principal }, AuthEvent::UpdateClaims { claims }) => Arc::new(
                AuthEvent::update(principal.clone().with_claims(claims.clone())),
            ),
            // Only called with an Update and an UpdateClaims; the later event
            // wins otherwise.
            _ => Arc::clone(claims),
        };
        self.last = Some((Arc::clone(update), Arc::clone(&merged)));
        merged
    }
}

/// The events waiting for one subscriber: at most one state event, a few
/// session revokes, or one of the two flags. Never a queue.
#[derive(Default)]
struct Pending {
    /// The latest `Update` / `UpdateClaims` (merged).
    state: Option<Arc<AuthEvent>>,
    /// Distinct `Revoke { session: Some(_) }` events, at most
    /// [`MAX_PENDING_REVOKES`], in arrival order; `None` rather than empty,
    /// boxed so an idle slot pays one pointer for it.
    #[allow(clippy::box_collection)]
    revokes: Option<Box<Vec<Arc<AuthEvent>>>>,
    /// A `Resync` is pending; it absorbs state and session revokes.
    resync: bool,
    /// A revoke of every session is pending; it absorbs everything.
    revoke_all: bool,
}

impl Pending {
    /// Folds `event` in. Returns whether the subscriber needs a wake-up.
    fn push(&mut self, event: &Arc<AuthEvent>, kind: Kind, cache: &mut MergeCache) -> bool {
        if self.revoke_all {
            // Every session is revoked: nothing after it matters to this
            // connection, which drops to anonymous and navigates away.
            return false;
        }
        if kind == Kind::RevokeAll {
            *self = Self {
                revoke_all: true,
                ..Self::default()
            };
            return true;
        }
        if self.resync {
            // The subscriber refetches when it takes the Resync, which is
            // after this event was published (and after the store was
            // written), so the refetch already covers it.
            return false;
        }
        match kind {
            Kind::Update => self.state = Some(Arc::clone(event)),
            Kind::UpdateClaims => {
                self.state = Some(match self.state.take() {
                    Some(previous) if matches!(*previous, AuthEvent::Update { .. }) => {
                        cache.merge(&previous, event)
                    }
                    _ => Arc::clone(event),
                });
            }
            Kind::RevokeSession => {
                let revokes = self.revokes.get_or_insert_with(Box::default);
                if revokes.iter().any(|pending| **pending == **event) {
                    return false;
                }
                if revokes.len() >= MAX_PENDING_REVOKES {
                    self.collapse_to_resync();
                } else {
                    revokes.push(Arc::clone(event));
                }
            }
            Kind::Resync => self.collapse_to_resync(),
            Kind::RevokeAll => unreachable!("handled above"),
        }
        true
    }

    fn collapse_to_resync(&mut self) {
        *self = Self {
            resync: true,
            ..Self::default()
        };
    }

    /// The next event to deliver: a revoke of all sessions, else a resync,
    /// else the state, else the session revokes in arrival order.
    ///
    /// The state goes before the session revokes because a revoke is final:
    /// whatever order `Update {p}` and `Revoke {s}` were published in,
    /// session `s`'s connections must end anonymous, and the others must end
    /// holding `p`.
    fn take(&mut self) -> Option<AuthEvent> {
        if std::mem::take(&mut self.revoke_all) {
            return Some(AuthEvent::revoke(None));
        }
        if std::mem::take(&mut self.resync) {
            return Some(AuthEvent::Resync);
        }
        if let Some(state) = self.state.take() {
            return Some(Arc::unwrap_or_clone(state));
        }
        let revokes = self.revokes.as_mut()?;
        let first = revokes.remove(0);
        if revokes.is_empty() {
            // Give the buffer back: an idle slot holds no heap memory.
            self.revokes = None;
        }
        Some(Arc::unwrap_or_clone(first))
    }
}

/// One subscription's shared half: the pending events and the waker of the
/// task polling the stream, under one lock, and where the slot sits in its
/// user's list.
pub(crate) struct Slot {
    state: Mutex<SlotState>,
    /// The slot's position in its user's subscriber list; only written with
    /// that list locked.
    index: AtomicUsize,
}

#[derive(Default)]
struct SlotState {
    pending: Pending,
    /// Set while the stream waits; taken by the change that wakes it.
    waker: Option<Waker>,
}

impl Slot {
    pub(crate) fn new(index: usize) -> Self {
        Self {
            state: Mutex::default(),
            index: AtomicUsize::new(index),
        }
    }

    /// Folds `event` into the slot and wakes the subscriber if it changed.
    /// The waker runs after the slot is unlocked.
    pub(crate) fn push(&self, event: &Arc<AuthEvent>, kind: Kind, cache: &mut MergeCache) {
        let waker = {
            let mut state = lock(&self.state);
            if state.pending.push(event, kind, cache) {
                state.waker.take()
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The next pending event; else the end when `closed` is set; else
    /// `Pending`, with `waker` stored for the next change. One lock covers
    /// the look and the store, so no wake-up falls between them: a publish
    /// finds the waker, and `shutdown` sets `closed` before it calls
    /// [`wake`](Self::wake).
    pub(crate) fn poll_take(&self, waker: &Waker, closed: &AtomicBool) -> Poll<Option<AuthEvent>> {
        let mut state = lock(&self.state);
        if let Some(event) = state.pending.take() {
            return Poll::Ready(Some(event));
        }
        if closed.load(Ordering::Acquire) {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(stored) if stored.will_wake(waker) => {}
            stored => *stored = Some(waker.clone()),
        }
        Poll::Pending
    }

    /// Wakes the subscriber, if it waits.
    pub(crate) fn wake(&self) {
        let waker = lock(&self.state).waker.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn index(&self) -> usize {
        self.index.load(Ordering::Relaxed)
    }

    pub(crate) fn set_index(&self, index: usize) {
        self.index.store(index, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use auth_core::{Claim, Principal, SessionToken};

    use super::*;

    fn push(pending: &mut Pending, event: AuthEvent) {
        let kind = Kind::of(&event);
        pending.push(&Arc::new(event), kind, &mut MergeCache::default());
    }

    fn drain(pending: &mut Pending) -> Vec<AuthEvent> {
        std::iter::from_fn(|| pending.take()).collect()
    }

    fn ada() -> Principal {
        Principal::authenticated("local:1", "Ada", vec![])
    }

    fn revoke_one() -> AuthEvent {
        AuthEvent::revoke(Some(SessionToken::generate().key()))
    }

    #[test]
    fn an_idle_slot_is_small() {
        assert!(size_of::<Pending>() <= 24, "{}", size_of::<Pending>());
        assert!(size_of::<Slot>() <= 56, "{}", size_of::<Slot>());
    }

    #[test]
    fn update_then_claims_merges_into_an_update() {
        let mut p = Pending::default();
        push(&mut p, AuthEvent::update(ada()));
        push(
            &mut p,
            AuthEvent::update_claims(vec![Claim::new("role", "admin")]),
        );
        assert_eq!(
            drain(&mut p),
            vec![AuthEvent::update(
                ada().with_claims(vec![Claim::new("role", "admin")])
            )]
        );
    }

    #[test]
    fn claims_then_claims_keeps_the_later() {
        let mut p = Pending::default();
        push(&mut p, AuthEvent::update_claims(vec![Claim::new("a", "1")]));
        push(&mut p, AuthEvent::update_claims(vec![Claim::new("b", "2")]));
        assert_eq!(
            drain(&mut p),
            vec![AuthEvent::update_claims(vec![Claim::new("b", "2")])]
        );
    }

    #[test]
    fn anything_then_update_is_the_update() {
        let mut p = Pending::default();
        push(&mut p, AuthEvent::update_claims(vec![Claim::new("a", "1")]));
        push(&mut p, AuthEvent::update(ada()));
        assert_eq!(drain(&mut p), vec![AuthEvent::update(ada())]);
    }

    #[test]
    fn revoke_all_absorbs_everything_before_and_after() {
        let mut p = Pending::default();
        push(&mut p, AuthEvent::update(ada()));
        push(&mut p, revoke_one());
        push(&mut p, AuthEvent::revoke(None));
        push(&mut p, AuthEvent::update(ada()));
        push(&mut p, revoke_one());
        push(&mut p, AuthEvent::Resync);
        assert_eq!(drain(&mut p), vec![AuthEvent::revoke(None)]);
        assert!(p.revokes.is_none());
    }

    #[test]
    fn state_goes_before_session_revokes_which_keep_their_order() {
        let mut p = Pending::default();
        let (r1, r2) = (revoke_one(), revoke_one());
        push(&mut p, r1.clone());
        push(&mut p, AuthEvent::update(ada()));
        push(&mut p, r2.clone());
        push(&mut p, r1.clone());
        assert_eq!(
            drain(&mut p),
            vec![AuthEvent::update(ada()), r1, r2],
            "duplicates are dropped"
        );
        assert!(p.revokes.is_none(), "the buffer is given back");
    }

    #[test]
    fn too_many_session_revokes_collapse_to_resync() {
        let mut p = Pending::default();
        push(&mut p, AuthEvent::update(ada()));
        for _ in 0..MAX_PENDING_REVOKES {
            push(&mut p, revoke_one());
        }
        assert_eq!(
            p.revokes.as_ref().map(|r| r.len()),
            Some(MAX_PENDING_REVOKES)
        );
        push(&mut p, revoke_one());
        push(&mut p, AuthEvent::update(ada()));
        push(&mut p, revoke_one());
        assert_eq!(drain(&mut p), vec![AuthEvent::Resync]);
    }

    #[test]
    fn resync_absorbs_state_but_not_revoke_all() {
        let mut p = Pending::default();
        push(&mut p, AuthEvent::update(ada()));
        push(&mut p, AuthEvent::Resync);
        push(&mut p, AuthEvent::update(ada()));
        assert_eq!(drain(&mut p), vec![AuthEvent::Resync]);

        push(&mut p, AuthEvent::Resync);
        push(&mut p, AuthEvent::revoke(None));
        assert_eq!(drain(&mut p), vec![AuthEvent::revoke(None)]);
    }

    #[test]
    fn merges_are_shared_across_slots_of_one_publish() {
        let update = Arc::new(AuthEvent::update(ada()));
        let claims = Arc::new(AuthEvent::update_claims(vec![Claim::new("r", "x")]));
        let mut cache = MergeCache::default();
        let mut slots: Vec<Pending> = (0..3).map(|_| Pending::default()).collect();
        for slot in &mut slots {
            slot.push(&update, Kind::Update, &mut MergeCache::default());
        }
        for slot in &mut slots {
            slot.push(&claims, Kind::UpdateClaims, &mut cache);
        }
        let merged: Vec<_> = slots.iter().map(|s| s.state.clone().unwrap()).collect();
        assert!(Arc::ptr_eq(&merged[0], &merged[1]));
        assert!(Arc::ptr_eq(&merged[1], &merged[2]));
    }
}
