//! `MemoryThrottle` on its own: the window, reset, forgive, the key bound
//! under floods, and concurrency. The throttle inside the login path is
//! tested in `auth-local-idp`.

use std::sync::Arc;
use std::time::Duration;

use auth_core::throttle::{MemoryThrottle, Throttle, ThrottleDecision};

const WINDOW: Duration = Duration::from_secs(60);

fn allowed(decision: ThrottleDecision) -> bool {
    matches!(decision, ThrottleDecision::Allowed { .. })
}

#[tokio::test(start_paused = true)]
async fn the_n_plus_first_attempt_is_refused_until_the_window_ends() {
    let throttle = MemoryThrottle::new(5, WINDOW);
    for i in 0..5 {
        assert_eq!(
            throttle.attempt("email:a@example.com").await.unwrap(),
            ThrottleDecision::Allowed { remaining: 4 - i }
        );
    }
    tokio::time::advance(Duration::from_secs(20)).await;
    match throttle.attempt("email:a@example.com").await.unwrap() {
        ThrottleDecision::Refused { retry_after } => {
            assert_eq!(retry_after, Duration::from_secs(40));
        }
        other @ ThrottleDecision::Allowed { .. } => panic!("sixth attempt: {other:?}"),
    }
    // Other keys are not affected.
    assert!(allowed(
        throttle.attempt("email:b@example.com").await.unwrap()
    ));
    // Still refused just before the window ends ...
    tokio::time::advance(Duration::from_secs(39)).await;
    assert!(!allowed(
        throttle.attempt("email:a@example.com").await.unwrap()
    ));
    // ... and allowed again after it.
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        throttle.attempt("email:a@example.com").await.unwrap(),
        ThrottleDecision::Allowed { remaining: 4 }
    );
}

#[tokio::test(start_paused = true)]
async fn reset_forgets_a_key() {
    let throttle = MemoryThrottle::new(2, WINDOW);
    for _ in 0..2 {
        throttle.attempt("k").await.unwrap();
    }
    assert!(!allowed(throttle.attempt("k").await.unwrap()));
    throttle.reset("k").await.unwrap();
    assert!(allowed(throttle.attempt("k").await.unwrap()));
    // Resetting an unknown key is a no-op.
    throttle.reset("never seen").await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn zero_limit_refuses_everything() {
    let throttle = MemoryThrottle::new(0, WINDOW);
    assert!(!allowed(throttle.attempt("k").await.unwrap()));
    assert!(throttle.is_empty());
}

#[tokio::test(start_paused = true)]
async fn huge_window_does_not_overflow() {
    let throttle = MemoryThrottle::new(1, Duration::MAX);
    assert!(allowed(throttle.attempt("k").await.unwrap()));
    assert!(!allowed(throttle.attempt("k").await.unwrap()));
    tokio::time::advance(Duration::from_secs(3600)).await;
    match throttle.attempt("k").await.unwrap() {
        ThrottleDecision::Refused { retry_after } => {
            assert!(retry_after > Duration::from_secs(3600));
        }
        other @ ThrottleDecision::Allowed { .. } => panic!("{other:?}"),
    }
    assert!(allowed(throttle.attempt("other").await.unwrap()));
}

#[tokio::test(start_paused = true)]
async fn a_million_distinct_keys_keep_memory_bounded() {
    let capacity = 10_000;
    let throttle = MemoryThrottle::new(3, Duration::from_secs(3600)).with_capacity(capacity);
    let mut peak = 0;
    for i in 0..1_000_000u32 {
        let decision = throttle.attempt(&format!("addr:{i}")).await.unwrap();
        assert!(allowed(decision));
        if i % 10_000 == 0 {
            peak = peak.max(throttle.len());
        }
    }
    peak = peak.max(throttle.len());
    assert!(peak <= capacity, "tracked {peak} keys, cap {capacity}");
    assert_eq!(throttle.len(), capacity);
    // The newest keys are still counted.
    for _ in 0..2 {
        throttle.attempt("addr:999999").await.unwrap();
    }
    assert!(!allowed(throttle.attempt("addr:999999").await.unwrap()));
}

#[tokio::test(start_paused = true)]
async fn flooding_with_resets_stays_bounded() {
    let throttle = MemoryThrottle::new(3, Duration::from_secs(3600)).with_capacity(100);
    for i in 0..10_000u32 {
        let key = format!("k{}", i % 50);
        throttle.attempt(&key).await.unwrap();
        throttle.reset(&key).await.unwrap();
    }
    assert!(throttle.len() <= 100);
    // Still counts correctly afterwards.
    for _ in 0..3 {
        assert!(allowed(throttle.attempt("fresh").await.unwrap()));
    }
    assert!(!allowed(throttle.attempt("fresh").await.unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_attempts_never_exceed_the_limit() {
    let throttle = Arc::new(MemoryThrottle::new(10, Duration::from_secs(3600)));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let throttle = Arc::clone(&throttle);
            tokio::spawn(async move { throttle.attempt("shared").await.unwrap() })
        })
        .collect();
    let mut allowed_count = 0;
    for task in tasks {
        if allowed(task.await.unwrap()) {
            allowed_count += 1;
        }
    }
    assert_eq!(allowed_count, 10);
}

#[tokio::test]
async fn forgive_takes_back_one_attempt_and_never_goes_below_zero() {
    let throttle = MemoryThrottle::new(2, WINDOW);
    throttle.forgive("unknown").await.unwrap();
    assert!(throttle.is_empty());
    assert!(allowed(throttle.attempt("k").await.unwrap()));
    assert!(allowed(throttle.attempt("k").await.unwrap()));
    throttle.forgive("k").await.unwrap();
    assert!(allowed(throttle.attempt("k").await.unwrap()));
    assert!(!allowed(throttle.attempt("k").await.unwrap()));
    for _ in 0..5 {
        throttle.forgive("k").await.unwrap();
    }
    assert!(allowed(throttle.attempt("k").await.unwrap()));
    assert!(allowed(throttle.attempt("k").await.unwrap()));
    assert!(!allowed(throttle.attempt("k").await.unwrap()));
}
