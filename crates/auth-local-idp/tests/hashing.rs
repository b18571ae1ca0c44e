//! The hasher: bounded concurrency off the runtime, re-hash decisions.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use auth_core::PasswordHash;
use auth_local_idp::{Argon2Hasher, ConfigError, Verification};

#[tokio::test(flavor = "current_thread")]
async fn a_hashing_storm_neither_exceeds_the_bound_nor_blocks_the_runtime() {
    // One runtime thread: if hashing ran on it, the ticker below would stall.
    let hasher = Argon2Hasher::builder()
        .with_params(2048, 2, 1)
        .with_concurrency(2)
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
    for concurrency in [0, usize::MAX] {
        assert!(matches!(
            Argon2Hasher::builder()
                .with_concurrency(concurrency)
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
}

#[test]
fn hashing_outside_a_runtime_is_an_error_not_a_panic() {
    let hasher = common::fast_hasher();
    let outcome = futures_lite_block_on(hasher.hash("pw"));
    assert!(outcome.is_err());
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
