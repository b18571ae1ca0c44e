//! The hasher: bounded concurrency, memory and queue off the runtime,
//! logins before new hashes, re-hash decisions.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use auth_core::PasswordHash;
use auth_local_idp::{
    Argon2Hasher, ConfigError, DEFAULT_QUEUE_PER_THREAD, LocalIdpError, MAX_CONCURRENCY,
    MAX_QUEUE_CAPACITY, Verification,
};

#[tokio::test(flavor = "current_thread")]
async fn a_hashing_storm_neither_exceeds_the_bound_nor_blocks_the_runtime() {
    // One runtime thread: if hashing ran on it, the ticker below would stall.
    let hasher = Argon2Hasher::builder()
        .with_params(2048, 2, 1)
        .with_concurrency(2)
        .with_queue_capacity(64)
        .build()
        .unwrap();
    let ticks = Arc::new(AtomicU64::new(0));
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let storm: Vec<_> = (0..16)
        .map(|i| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(&format!("password {i}")).await })
        })
        .collect();
    let before = ticks.load(Ordering::Relaxed);
    let mut made = Vec::new();
    for task in storm {
        made.push(task.await.unwrap().unwrap());
    }
    let during = ticks.load(Ordering::Relaxed) - before;
    ticker.abort();
    assert_eq!(hasher.stats().hashes, 16);
    let peak = hasher.stats().peak_concurrency;
    assert!((1..=2).contains(&peak), "peak concurrency {peak}");
    assert!(during > 0, "the runtime made no progress while hashing");
    // Every hash has its own salt.
    made.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    made.dedup();
    assert_eq!(made.len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_caller_keeps_the_bound() {
    let hasher = Argon2Hasher::builder()
        .with_params(4096, 2, 1)
        .with_concurrency(1)
        .build()
        .unwrap();
    // Start work and give up on it at once, many times over.
    for i in 0..8 {
        let hasher = hasher.clone();
        let call = tokio::spawn(async move { hasher.hash(&format!("p{i}")).await });
        tokio::task::yield_now().await;
        call.abort();
    }
    hasher.hash("finally").await.unwrap();
    assert_eq!(hasher.stats().peak_concurrency, 1);
}

#[tokio::test]
async fn rehash_is_asked_for_other_parameters_and_variants() {
    let hasher = common::fast_hasher();
    let own = hasher.hash("pw").await.unwrap();
    assert!(!hasher.needs_rehash(&own));
    let other = Argon2Hasher::builder()
        .with_params(128, 1, 1)
        .build()
        .unwrap();
    let theirs = other.hash("pw").await.unwrap();
    assert!(hasher.needs_rehash(&theirs));
    assert_eq!(
        hasher.verify("pw", &theirs).await.unwrap(),
        Verification::Match { rehash: true }
    );
    // An argon2i hash of the same parameters is re-hashed to argon2id.
    let argon2i = PasswordHash::new(own.as_str().replacen("$argon2id$", "$argon2i$", 1));
    assert!(hasher.needs_rehash(&argon2i));
    // Garbage is unreadable, so it needs replacing too (and does not verify).
    let garbage = PasswordHash::new("garbage");
    assert!(hasher.needs_rehash(&garbage));
    assert!(hasher.verify("pw", &garbage).await.is_err());
}

#[tokio::test]
async fn dummy_verification_never_matches() {
    let hasher = common::fast_hasher();
    for password in ["", "pw", "correct horse battery staple"] {
        hasher.verify_dummy(password).await.unwrap();
    }
    let stats = hasher.stats();
    assert_eq!(stats.verifications, 3);
    assert_eq!(stats.hashes, 1, "the dummy hash is made once");
}

#[test]
fn invalid_settings_are_config_errors() {
    assert!(matches!(
        Argon2Hasher::builder().with_params(1, 1, 1).build(),
        Err(ConfigError::Argon2(_))
    ));
    assert!(matches!(
        Argon2Hasher::builder().with_params(64, 0, 1).build(),
        Err(ConfigError::Argon2(_))
    ));
    for concurrency in [0, MAX_CONCURRENCY + 1, usize::MAX] {
        assert!(matches!(
            Argon2Hasher::builder()
                .with_concurrency(concurrency)
                .build(),
            Err(ConfigError::Invalid(_))
        ));
    }
    for capacity in [0, 1, MAX_QUEUE_CAPACITY + 1] {
        assert!(matches!(
            Argon2Hasher::builder()
                .with_queue_capacity(capacity)
                .build(),
            Err(ConfigError::Invalid(_))
        ));
    }
    let hasher = Argon2Hasher::builder().build().unwrap();
    assert_eq!(
        hasher.params(),
        (
            auth_local_idp::DEFAULT_M_COST,
            auth_local_idp::DEFAULT_T_COST,
            auth_local_idp::DEFAULT_P_COST
        )
    );
    assert!(hasher.concurrency() >= 1);
    assert_eq!(
        hasher.queue_capacity(),
        DEFAULT_QUEUE_PER_THREAD * hasher.concurrency()
    );
}

#[test]
fn hashing_outside_a_tokio_runtime_works() {
    // The work runs on the hasher's own threads; any executor can wait.
    let hasher = common::fast_hasher();
    let hash = futures_lite_block_on(hasher.hash("pw")).unwrap();
    assert_eq!(
        futures_lite_block_on(hasher.verify("pw", &hash)).unwrap(),
        Verification::Match { rehash: false }
    );
}

/// Polls a future to completion without a tokio runtime.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

/// A hasher slow enough (tens of milliseconds a job) for calls to pile up,
/// with one thread and `capacity` places (a quarter for new hashes).
fn slow_hasher(capacity: usize) -> Argon2Hasher {
    Argon2Hasher::builder()
        .with_params(8192, 6, 1)
        .with_concurrency(1)
        .with_queue_capacity(capacity)
        .build()
        .expect("valid settings")
}

/// Waits until the hasher has refused a call (so a class is full).
async fn until_refused(hasher: &Argon2Hasher) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while hasher.stats().refused == 0 {
        assert!(Instant::now() < deadline, "no call was ever refused");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_busy_at_once_and_recovers() {
    // One thread, 4 places, of which 1 for new hashes: of 12 hashes at
    // once, at most one runs and one waits; the others are refused.
    let hasher = slow_hasher(4);
    let calls: Vec<_> = (0..12)
        .map(|i| {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let outcome = hasher.hash(&format!("password {i}")).await;
                (outcome, started.elapsed())
            })
        })
        .collect();
    let (mut made, mut busy) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            (Ok(_), _) => made += 1,
            (Err(LocalIdpError::Busy { retry_after }), took) => {
                busy += 1;
                assert!(took < Duration::from_millis(50), "refused after {took:?}");
                assert!(retry_after >= Duration::from_secs(1), "{retry_after:?}");
            }
            (Err(other), _) => panic!("unexpected error: {other}"),
        }
    }
    assert!(made >= 1, "none made");
    assert!(busy >= 1, "none of {made} refused");
    assert_eq!(hasher.stats().refused, busy);
    assert_eq!(hasher.stats().hashes, made);
    // Once the queue has drained, hashing works again.
    let hash = hasher.hash("after the flood").await.unwrap();
    assert_eq!(
        hasher.verify("after the flood", &hash).await.unwrap(),
        Verification::Match { rehash: false }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_gets_in_and_goes_first_during_a_flood_of_new_hashes() {
    // One thread, 8 places, 2 for new hashes.
    let hasher = slow_hasher(8);
    let stored = hasher.hash("the user's password").await.unwrap();
    let flood: Vec<_> = (0..30)
        .map(|i| {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                let outcome = hasher.hash(&format!("flood {i}")).await;
                (outcome.is_ok(), Instant::now())
            })
        })
        .collect();
    until_refused(&hasher).await;
    // The new hashes' share is full: a login still gets a place, and the
    // thread takes it before the queued hashes. It waits at most for the
    // hash running when it arrived, then runs: two jobs of tens of
    // milliseconds. Allow seconds for a loaded machine.
    let started = Instant::now();
    let login = hasher.verify("the user's password", &stored).await;
    let (took, logged_in) = (started.elapsed(), Instant::now());
    assert_eq!(login.unwrap(), Verification::Match { rehash: false });
    assert!(took < Duration::from_secs(3), "the login took {took:?}");
    let mut accepted_after_login = 0;
    for call in flood {
        let (accepted, finished) = call.await.unwrap();
        if accepted && finished > logged_in {
            accepted_after_login += 1;
        }
    }
    assert!(
        accepted_after_login >= 1,
        "every queued hash ran before the login"
    );
    assert!(hasher.stats().refused >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_while_queued_is_skipped() {
    let hasher = slow_hasher(8);
    let first = {
        let hasher = hasher.clone();
        tokio::spawn(async move { hasher.hash("first").await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    // Queued behind the first, then abandoned.
    let abandoned = {
        let hasher = hasher.clone();
        tokio::spawn(async move { hasher.hash("abandoned").await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());
    first.await.unwrap().unwrap();
    hasher.hash("last").await.unwrap();
    assert_eq!(
        hasher.stats().hashes,
        2,
        "the abandoned job was computed anyway"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_memory_is_at_most_concurrency_times_the_largest_m() {
    let hasher = Argon2Hasher::builder()
        .with_params(1024, 1, 1)
        .with_concurrency(2)
        .with_queue_capacity(64)
        .build()
        .unwrap();
    assert_eq!(hasher.stats().memory_kib, 0, "memory is taken on first use");
    let calls: Vec<_> = (0..16)
        .map(|i| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(&format!("p{i}")).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let held = hasher.stats().memory_kib;
    assert!((1024..=2 * 1024).contains(&held), "{held} KiB");
    // A stored hash with a larger m grows the buffer of the thread that
    // verifies it, and only that much.
    let larger = Argon2Hasher::builder()
        .with_params(4096, 1, 1)
        .build()
        .unwrap()
        .hash("pw")
        .await
        .unwrap();
    assert_eq!(
        hasher.verify("pw", &larger).await.unwrap(),
        Verification::Match { rehash: true }
    );
    let held = hasher.stats().memory_kib;
    assert!((4096 + 1024..=2 * 4096).contains(&held), "{held} KiB");
}
