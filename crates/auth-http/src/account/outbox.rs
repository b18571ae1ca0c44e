//! Work the account flows finish after answering (looking the address up,
//! storing a token, sending the message), so that the answer and its time
//! do not depend on whether an account exists; bounded, so a slow mail
//! server or a flood costs bounded memory.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{Email, MailError, Mailer};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The waits before each new try of a message the mail server could not
/// take ([`MailError::Unavailable`]: unreachable, or a temporary failure).
/// The job keeps its outbox slot meanwhile, so an outage fills the outbox
/// and the next requests are answered 503, never queued without bound.
pub(crate) const MAIL_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(2),
    Duration::from_secs(10),
    Duration::from_secs(30),
];

/// Sends `email`, trying again after each of [`MAIL_RETRY_DELAYS`] while
/// the server is unavailable; a refusal for good is not retried. Errors
/// are logged without the message, whose links are secrets.
pub(crate) async fn send_with_retry(mailer: &dyn Mailer, email: Email) {
    let mut delays = MAIL_RETRY_DELAYS.iter();
    loop {
        let error = match mailer.send(email.clone()).await {
            Ok(()) => return,
            Err(error) => error,
        };
        let (MailError::Unavailable { .. }, Some(delay)) = (&error, delays.next()) else {
            tracing::error!(%error, "sending account mail failed");
            return;
        };
        tracing::warn!(%error, retry_in = ?delay, "account mail not sent yet");
        tokio::time::sleep(*delay).await;
    }
}

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
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;

    /// A mail server in front of which the first `failures` answers are
    /// `failure`: what a flaky or restarting server looks like to the
    /// outbox. Records when each try came.
    struct Flaky {
        failures: usize,
        permanent: bool,
        tries: Mutex<Vec<tokio::time::Instant>>,
    }

    #[async_trait]
    impl Mailer for Flaky {
        async fn send(&self, _email: Email) -> Result<(), MailError> {
            let mut tries = self.tries.lock().unwrap();
            tries.push(tokio::time::Instant::now());
            if tries.len() > self.failures {
                return Ok(());
            }
            let cause = std::io::Error::other("connection refused");
            Err(if self.permanent {
                MailError::rejected("sending", cause)
            } else {
                MailError::unavailable("connecting", cause)
            })
        }
    }

    async fn tries(failures: usize, permanent: bool) -> Vec<Duration> {
        let mailer = Flaky {
            failures,
            permanent,
            tries: Mutex::new(Vec::new()),
        };
        let started = tokio::time::Instant::now();
        let email = Email::new("ada@example.com", "Hi", "x");
        send_with_retry(&mailer, email).await;
        let tries = mailer.tries.lock().unwrap();
        tries.iter().map(|at| *at - started).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn an_unavailable_server_is_tried_again_after_each_delay() {
        let seconds =
            |tries: Vec<Duration>| -> Vec<u64> { tries.iter().map(Duration::as_secs).collect() };
        assert_eq!(seconds(tries(0, false).await), [0]);
        assert_eq!(seconds(tries(2, false).await), [0, 2, 12]);
        // Down for longer than every delay: four tries, then given up.
        assert_eq!(seconds(tries(10, false).await), [0, 2, 12, 42]);
        // Refused for good: never again.
        assert_eq!(seconds(tries(10, true).await), [0]);
    }

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
