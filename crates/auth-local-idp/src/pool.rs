//! The hashing threads: a fixed set of OS threads, each reusing its own
//! Argon2 memory, fed by one bounded queue with two classes of job.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::Block;
use tokio::sync::oneshot;

use crate::error::{ConfigError, LocalIdpError};

/// The shortest `retry_after` a full queue answers with.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Which part of the queue a job may take, and in which order the workers
/// take it: logins first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Verifications (logins, the dummy verification, the old password of
    /// a change) and the dummy hash: any free place of the queue.
    Login,
    /// New hashes (registration, password change or reset, re-hash): at
    /// most their share of the queue.
    NewHash,
}

/// Counters of the work done, shared by the caller side and the workers.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) hashes: AtomicU64,
    pub(crate) verifications: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) running: AtomicUsize,
    pub(crate) peak: AtomicUsize,
    /// Argon2 blocks (KiB) the workers hold, all together.
    pub(crate) memory_kib: AtomicUsize,
    /// A moving average of one job's duration, in nanoseconds.
    mean_job_nanos: AtomicU64,
}

/// One worker's Argon2 memory, kept across jobs. It grows to the largest
/// block count a job has needed and never shrinks.
pub(crate) struct Memory {
    blocks: Vec<Block>,
    counters: Arc<Counters>,
}

impl Memory {
    /// The first `count` blocks, growing the buffer first if it is smaller.
    pub(crate) fn blocks(&mut self, count: usize) -> Result<&mut [Block], LocalIdpError> {
        if self.blocks.len() < count {
            let held = self.blocks.len();
            // Free the smaller buffer before taking the larger one, so the
            // two never coexist.
            self.blocks = Vec::new();
            self.counters.memory_kib.fetch_sub(held, Ordering::Relaxed);
            let mut grown = Vec::new();
            grown
                .try_reserve_exact(count)
                .map_err(|e| LocalIdpError::hashing("allocating Argon2 memory", e))?;
            grown.resize(count, Block::default());
            self.blocks = grown;
            self.counters.memory_kib.fetch_add(count, Ordering::Relaxed);
        }
        self.blocks
            .get_mut(..count)
            .ok_or_else(|| LocalIdpError::hashing("allocating Argon2 memory", "short buffer"))
    }
}

/// A queued job: runs the work and sends its result, or does nothing when
/// its caller has gone (returning `false`).
type Job = Box<dyn FnOnce(&mut Memory) -> bool + Send>;

struct State {
    logins: VecDeque<Job>,
    new_hashes: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    counters: Arc<Counters>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A job never runs under the lock, so a poisoned lock still holds
        // consistent queues.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next job, logins first; `None` once the pool is closed.
    fn next(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return None;
            }
            if let Some(job) = state
                .logins
                .pop_front()
                .or_else(|| state.new_hashes.pop_front())
            {
                return Some(job);
            }
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The worker threads and their queue. Dropping it closes the queue: each
/// thread ends after its current job, and queued jobs are dropped (their
/// callers, if any are left, get a [`LocalIdpError::Hashing`]).
pub(crate) struct Pool {
    shared: Arc<Shared>,
    workers: usize,
    capacity: usize,
    new_hash_capacity: usize,
}

impl Pool {
    /// Starts `workers` threads named `argon2-<i>` in front of a queue of
    /// `capacity` waiting jobs, of which new hashes may take
    /// `new_hash_capacity`; with `background`, each thread lowers its own
    /// CPU priority first (see [`lower_priority`]).
    pub(crate) fn start(
        workers: usize,
        capacity: usize,
        new_hash_capacity: usize,
        background: bool,
        counters: Arc<Counters>,
    ) -> Result<Self, ConfigError> {
        let pool = Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    logins: VecDeque::with_capacity(capacity),
                    new_hashes: VecDeque::with_capacity(new_hash_capacity),
                    closed: false,
                }),
                ready: Condvar::new(),
                counters,
            }),
            workers,
            capacity,
            new_hash_capacity,
        };
        for i in 0..workers {
            let shared = Arc::clone(&pool.shared);
            // On failure `pool` is dropped, which stops the threads started.
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    if background {
                        lower_priority();
                    }
                    work(&shared);
                })
                .map_err(ConfigError::Threads)?;
        }
        Ok(pool)
    }

    /// Queues `work` and waits for its result, or fails at once with
    /// [`LocalIdpError::Busy`] when its class has no free place. A caller
    /// that stops waiting (its future dropped) leaves a job that is skipped
    /// if no worker has started it, or whose result is discarded.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        class: Class,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, LocalIdpError> {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |memory: &mut Memory| {
            if reply.is_closed() {
                return false;
            }
            // The caller may have gone meanwhile; the result is dropped then.
            let _ = reply.send(work(memory));
            true
        });
        self.push(class, job)?;
        result
            .await
            .map_err(|e| LocalIdpError::hashing("waiting for a hashing thread", e))
    }

    fn push(&self, class: Class, job: Job) -> Result<(), LocalIdpError> {
        let mut state = self.shared.lock();
        let queued = state.logins.len() + state.new_hashes.len();
        let full = queued >= self.capacity
            || (class == Class::NewHash && state.new_hashes.len() >= self.new_hash_capacity);
        if full {
            drop(state);
            self.shared.counters.refused.fetch_add(1, Ordering::Relaxed);
            let retry_after = self.retry_after(queued);
            tracing::debug!(?class, queued, ?retry_after, "hashing queue full");
            return Err(LocalIdpError::Busy { retry_after });
        }
        match class {
            Class::Login => state.logins.push_back(job),
            Class::NewHash => state.new_hashes.push_back(job),
        }
        drop(state);
        self.shared.ready.notify_one();
        Ok(())
    }

    /// About when the jobs queued now will have run, at least a second.
    fn retry_after(&self, queued: usize) -> Duration {
        let mean = self.shared.counters.mean_job_nanos.load(Ordering::Relaxed);
        let rounds = u64::try_from(queued / self.workers + 1).unwrap_or(u64::MAX);
        Duration::from_nanos(mean.saturating_mul(rounds)).max(MIN_RETRY_AFTER)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closed = true;
        let dropped = (
            std::mem::take(&mut state.logins),
            std::mem::take(&mut state.new_hashes),
        );
        drop(state);
        self.shared.ready.notify_all();
        drop(dropped);
    }
}

/// One worker: takes jobs until the pool closes, with one buffer of Argon2
/// memory for all of them.
/// Gives the calling thread the lowest CPU priority: on Linux the batch
/// policy (`SCHED_BATCH`, for CPU-bound work that should not preempt
/// interactive threads) at nice 19; elsewhere the platform's lowest normal
/// priority. Hashing then gets every CPU cycle request handling leaves, and
/// none it needs. A refusal (a sandbox forbidding it) is logged and the
/// thread runs at normal priority.
fn lower_priority() {
    use thread_priority::ThreadPriority;
    #[cfg(target_os = "linux")]
    let lowered = {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
        )
    };
    #[cfg(not(target_os = "linux"))]
    let lowered = thread_priority::set_current_thread_priority(ThreadPriority::Min);
    if let Err(error) = lowered {
        tracing::warn!(?error, "could not lower a hashing thread's CPU priority");
    }
}

fn work(shared: &Shared) {
    let counters = Arc::clone(&shared.counters);
    let mut memory = Memory {
        blocks: Vec::new(),
        counters: Arc::clone(&counters),
    };
    while let Some(job) = shared.next() {
        let running = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
        counters.peak.fetch_max(running, Ordering::SeqCst);
        let started = Instant::now();
        // A panicking job drops its reply (its caller gets an error); the
        // worker carries on with the next one.
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
        counters.running.fetch_sub(1, Ordering::SeqCst);
        match ran {
            Ok(true) => record(&counters, started.elapsed()),
            Ok(false) => {}
            Err(_) => tracing::error!("a hashing job panicked"),
        }
    }
    let held = memory.blocks.len();
    drop(memory);
    counters.memory_kib.fetch_sub(held, Ordering::Relaxed);
}

/// Folds one job's duration into the moving average (weight 1/8).
fn record(counters: &Counters, took: Duration) {
    let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
    let mean = &counters.mean_job_nanos;
    let old = mean.load(Ordering::Relaxed);
    let new = if old == 0 {
        took
    } else {
        old - old / 8 + took / 8
    };
    mean.store(new, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use argon2::{Algorithm, Argon2, Params, Version};

    use super::{Arc, Counters, Memory};

    #[test]
    fn a_reused_dirty_buffer_gives_the_same_output_as_a_fresh_one() {
        let counters = Arc::new(Counters::default());
        let mut memory = Memory {
            blocks: Vec::new(),
            counters,
        };
        let params = Params::new(256, 2, 1, Some(32)).expect("params");
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut first = [0u8; 32];
        argon2
            .hash_password_into_with_memory(
                b"one",
                b"saltsaltsalt",
                &mut first,
                memory.blocks(256).expect("memory"),
            )
            .expect("hashed");
        // The buffer now holds the first run's blocks.
        let mut reused = [0u8; 32];
        argon2
            .hash_password_into_with_memory(
                b"two",
                b"othersaltsalt",
                &mut reused,
                memory.blocks(256).expect("memory"),
            )
            .expect("hashed");
        let mut fresh = [0u8; 32];
        argon2
            .hash_password_into(b"two", b"othersaltsalt", &mut fresh)
            .expect("hashed");
        assert_eq!(reused, fresh);
        assert_ne!(first, fresh);
        assert_eq!(
            memory.counters.memory_kib.load(super::Ordering::Relaxed),
            256
        );
    }
}
