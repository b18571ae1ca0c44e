//! Work the account flows finish after answering (looking the address up,
//! storing a token, sending the message), so that the answer and its time
//! do not depend on whether an account exists; bounded, so a slow mail
//! server or a flood costs bounded memory.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most `max` jobs at once; one more is refused before anything runs.
#[derive(Clone, Debug)]
pub(crate) struct Outbox {
    slots: Arc<Semaphore>,
}

impl Outbox {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max.max(1))),
        }
    }

    /// A slot for one job, or `None` when every slot is taken.
    pub(crate) fn reserve(&self) -> Option<Slot> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| Slot { _permit: permit })
    }

    /// Jobs running now.
    #[cfg(test)]
    fn running(&self, max: usize) -> usize {
        max - self.slots.available_permits()
    }
}

/// A reserved place in the [`Outbox`]; [`Slot::run`] spends it.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Slot {
    /// Runs `job` in the background; the slot frees when it ends.
    pub(crate) fn run(self, job: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(async move {
            job.await;
            drop(self);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_outbox_refuses_and_frees_its_slots_when_jobs_end() {
        let outbox = Outbox::new(2);
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let first = outbox.reserve().expect("a free slot");
        first.run(async move {
            let _ = wait.await;
        });
        let second = outbox.reserve().expect("a second slot");
        assert!(outbox.reserve().is_none(), "a third slot was handed out");
        drop(second);
        assert_eq!(outbox.running(2), 1);
        release.send(()).expect("the job waits");
        for _ in 0..100 {
            if outbox.running(2) == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the finished job kept its slot");
    }
}
