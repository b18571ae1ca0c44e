//! Update frames rendered lately, shared by a page's tabs.
//!
//! A user's tabs on one page show the same principal, so one change would
//! otherwise render every region and serialise the same frame once per tab.
//! The page keeps the last few frames it rendered, by principal: the first
//! tab to handle an event renders, the others reuse its text. An entry
//! serves only an equal principal and only briefly ([`FRESH_FOR`]), so a
//! region whose output depends on something besides the principal (the
//! time, say) is at most that old; a changed principal never matches an
//! older entry.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use auth_core::Principal;

/// How many principals' frames a page keeps: a burst of events for one
/// user is served from the first, and a few users changing at once still
/// hit.
const KEPT: usize = 8;

/// How long a rendered frame is reused.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(1);

struct Entry {
    principal: Principal,
    rendered_at: Instant,
    frame: Arc<str>,
}

/// The recent frames of one page (at most [`KEPT`]).
#[derive(Default)]
pub(crate) struct RecentFrames {
    entries: Mutex<VecDeque<Entry>>,
}

impl RecentFrames {
    /// The frame for `principal`: a fresh one rendered for an equal
    /// principal, else `render`'s (kept for the next tab). `None` when
    /// `render` gives none; nothing is kept then.
    pub(crate) fn get_or_render(
        &self,
        principal: &Principal,
        render: impl FnOnce() -> Option<String>,
    ) -> Option<Arc<str>> {
        if let Some(frame) = self.fresh(principal) {
            return Some(frame);
        }
        // Rendered outside the lock: tabs of other users are not held up,
        // and two tabs racing on the same principal each render once.
        let frame: Arc<str> = render()?.into();
        let mut entries = self.lock();
        entries.retain(|e| e.principal != *principal);
        if entries.len() >= KEPT {
            entries.pop_back();
        }
        entries.push_front(Entry {
            principal: principal.clone(),
            rendered_at: Instant::now(),
            frame: frame.clone(),
        });
        Some(frame)
    }

    fn fresh(&self, principal: &Principal) -> Option<Arc<str>> {
        let entries = self.lock();
        entries
            .iter()
            .find(|e| e.principal == *principal && e.rendered_at.elapsed() < FRESH_FOR)
            .map(|e| e.frame.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        // The entries are only ever whole; a panic elsewhere leaves them
        // usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use auth_core::Claim;

    use super::*;

    fn principal(user: &str, role: &str) -> Principal {
        Principal::authenticated(user, user, vec![Claim::new("role", role)])
    }

    #[test]
    fn an_equal_principal_reuses_the_frame_and_another_renders() {
        let frames = RecentFrames::default();
        let renders = Cell::new(0);
        let render = |text: &str| {
            renders.set(renders.get() + 1);
            Some(text.to_owned())
        };
        let ada = principal("ada", "admin");
        let first = frames.get_or_render(&ada, || render("admin")).unwrap();
        let again = frames
            .get_or_render(&ada.clone(), || render("other"))
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(renders.get(), 1);

        let revoked = principal("ada", "user");
        let changed = frames.get_or_render(&revoked, || render("user")).unwrap();
        assert_eq!(&*changed, "user");
        assert_eq!(renders.get(), 2);
    }

    #[test]
    fn at_most_kept_principals_stay_and_nothing_is_kept_for_a_failed_render() {
        let frames = RecentFrames::default();
        for i in 0..KEPT + 3 {
            let p = principal(&format!("user-{i}"), "x");
            frames.get_or_render(&p, || Some(format!("frame {i}")));
        }
        assert_eq!(frames.lock().len(), KEPT);
        // The oldest went first.
        assert!(frames.fresh(&principal("user-0", "x")).is_none());
        assert!(
            frames
                .fresh(&principal(&format!("user-{}", KEPT + 2), "x"))
                .is_some()
        );

        let p = principal("nobody", "x");
        assert!(frames.get_or_render(&p, || None).is_none());
        assert!(frames.fresh(&p).is_none());
    }

    #[test]
    fn a_frame_older_than_its_freshness_is_rendered_again() {
        let frames = RecentFrames::default();
        let p = principal("ada", "admin");
        frames.get_or_render(&p, || Some("old".to_owned()));
        frames.lock()[0].rendered_at = Instant::now()
            .checked_sub(FRESH_FOR)
            .expect("the clock is past one second");
        let frame = frames.get_or_render(&p, || Some("new".to_owned())).unwrap();
        assert_eq!(&*frame, "new");
    }
}
