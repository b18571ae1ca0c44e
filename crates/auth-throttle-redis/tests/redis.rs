//! The Redis throttle against a real Redis (`AUTH_TEST_REDIS_URL`, else the
//! local default; see `auth_core::testkit::services`): the
//! window, the limit, reset, sharing between workers, concurrency, hostile
//! keys and an unreachable server.

use std::sync::Arc;
use std::time::Duration;

use auth_core::testkit::services::{redis_url, unique_prefix};
use auth_core::throttle::{Throttle, ThrottleDecision};
use auth_throttle_redis::fred::interfaces::KeysInterface;
use auth_throttle_redis::{RedisSettings, RedisThrottle, RedisThrottleError};
use futures_util::future::join_all;

fn prefix() -> String {
    unique_prefix("test")
}

async fn throttle(prefix: &str, limit: u32, window: Duration) -> Option<RedisThrottle> {
    let settings = RedisSettings::new(redis_url()?).with_prefix(prefix);
    let connected = RedisThrottle::connect(&settings, limit, window).await;
    Some(connected.unwrap_or_else(|e| panic!("connecting to Redis: {e}")))
}

fn allowed(decision: ThrottleDecision) -> bool {
    matches!(decision, ThrottleDecision::Allowed { .. })
}

#[tokio::test]
async fn the_n_plus_first_attempt_is_refused_until_the_window_ends() {
    let window = Duration::from_millis(1500);
    let Some(throttle) = throttle(&prefix(), 3, window).await else {
        return;
    };
    for remaining in [2, 1, 0] {
        assert_eq!(
            throttle.attempt("email:ada@example.com").await.unwrap(),
            ThrottleDecision::Allowed { remaining }
        );
    }
    let ThrottleDecision::Refused { retry_after } =
        throttle.attempt("email:ada@example.com").await.unwrap()
    else {
        panic!("the fourth attempt was allowed");
    };
    assert!(
        retry_after > Duration::ZERO && retry_after <= window,
        "{retry_after:?}"
    );
    // Other keys have their own count.
    assert!(allowed(
        throttle.attempt("email:bob@example.com").await.unwrap()
    ));
    // Refused attempts do not stretch the window: it ends on time.
    tokio::time::sleep(window + Duration::from_millis(200)).await;
    assert_eq!(
        throttle.attempt("email:ada@example.com").await.unwrap(),
        ThrottleDecision::Allowed { remaining: 2 }
    );
}

#[tokio::test]
async fn reset_forgets_a_key_and_unknown_keys_are_a_no_op() {
    let Some(throttle) = throttle(&prefix(), 1, Duration::from_secs(60)).await else {
        return;
    };
    assert!(allowed(throttle.attempt("addr:192.0.2.1").await.unwrap()));
    assert!(!allowed(throttle.attempt("addr:192.0.2.1").await.unwrap()));
    throttle.reset("addr:192.0.2.1").await.unwrap();
    assert!(allowed(throttle.attempt("addr:192.0.2.1").await.unwrap()));
    throttle.reset("addr:never-seen").await.unwrap();
}

#[tokio::test]
async fn forgive_takes_back_one_attempt_keeps_the_window_and_never_goes_below_zero() {
    let Some(throttle) = throttle(&prefix(), 2, Duration::from_secs(60)).await else {
        return;
    };
    throttle.forgive("addr:never-seen").await.unwrap();
    let key = throttle.redis_key("addr:never-seen");
    let exists: i64 = throttle.pool().exists(&key).await.unwrap();
    assert_eq!(exists, 0, "forgiving an unknown key must not create it");

    assert!(allowed(throttle.attempt("addr:192.0.2.2").await.unwrap()));
    assert!(allowed(throttle.attempt("addr:192.0.2.2").await.unwrap()));
    throttle.forgive("addr:192.0.2.2").await.unwrap();
    let key = throttle.redis_key("addr:192.0.2.2");
    let ttl: i64 = throttle.pool().pttl(&key).await.unwrap();
    assert!(ttl > 0, "the window keeps its end: {ttl}");
    assert!(allowed(throttle.attempt("addr:192.0.2.2").await.unwrap()));
    assert!(!allowed(throttle.attempt("addr:192.0.2.2").await.unwrap()));
    for _ in 0..6 {
        throttle.forgive("addr:192.0.2.2").await.unwrap();
    }
    let count: i64 = throttle.pool().get(&key).await.unwrap();
    assert_eq!(count, 0);
    assert_eq!(
        throttle.attempt("addr:192.0.2.2").await.unwrap(),
        ThrottleDecision::Allowed { remaining: 1 }
    );
}

#[tokio::test]
async fn workers_share_one_count() {
    let prefix = prefix();
    let window = Duration::from_secs(60);
    let (Some(first), Some(second)) = (
        throttle(&prefix, 4, window).await,
        throttle(&prefix, 4, window).await,
    ) else {
        return;
    };
    // Two connections, as two worker processes would have.
    let mut outcomes = Vec::new();
    for i in 0..6 {
        let worker = if i % 2 == 0 { &first } else { &second };
        outcomes.push(allowed(
            worker.attempt("email:shared@example.com").await.unwrap(),
        ));
    }
    assert_eq!(outcomes, [true, true, true, true, false, false]);
    // A success seen by one worker resets the count for both.
    first.reset("email:shared@example.com").await.unwrap();
    assert!(allowed(
        second.attempt("email:shared@example.com").await.unwrap()
    ));
}

#[tokio::test]
async fn concurrent_attempts_never_exceed_the_limit() {
    let Some(throttle) = throttle(&prefix(), 10, Duration::from_secs(60)).await else {
        return;
    };
    let throttle = Arc::new(throttle);
    let attempts = (0..100).map(|_| {
        let throttle = Arc::clone(&throttle);
        tokio::spawn(async move { throttle.attempt("addr:198.51.100.1").await.unwrap() })
    });
    let decisions: Vec<_> = join_all(attempts)
        .await
        .into_iter()
        .map(|joined| joined.unwrap())
        .collect();
    assert_eq!(decisions.iter().filter(|d| allowed(**d)).count(), 10);
}

#[tokio::test]
async fn hostile_keys_are_hashed_into_short_fixed_keys() {
    let prefix = prefix();
    let Some(throttle) = throttle(&prefix, 2, Duration::from_secs(60)).await else {
        return;
    };
    let long = "k".repeat(1 << 20);
    for key in [
        "",
        "*",
        "email:a@example.com\r\nFLUSHALL\r\n",
        "\u{0}\u{ffff}",
        long.as_str(),
    ] {
        assert!(allowed(throttle.attempt(key).await.unwrap()));
        let redis_key = throttle.redis_key(key);
        assert_eq!(redis_key.len(), prefix.len() + ":throttle:".len() + 64);
        let ttl: i64 = throttle.pool().pttl(&redis_key).await.unwrap();
        assert!(ttl > 0 && ttl <= 60_000, "every counter expires: {ttl}");
    }
    // The glob character is a key like any other, not a pattern.
    assert_eq!(
        throttle.attempt("*").await.unwrap(),
        ThrottleDecision::Allowed { remaining: 0 }
    );
}

#[tokio::test]
async fn a_counter_without_expiry_gets_one_again() {
    let Some(throttle) = throttle(&prefix(), 5, Duration::from_secs(30)).await else {
        return;
    };
    let key = throttle.redis_key("addr:192.0.2.9");
    let _: () = throttle
        .pool()
        .set(&key, 3, None, None, false)
        .await
        .unwrap();
    assert_eq!(
        throttle.attempt("addr:192.0.2.9").await.unwrap(),
        ThrottleDecision::Allowed { remaining: 1 }
    );
    let ttl: i64 = throttle.pool().pttl(&key).await.unwrap();
    assert!(ttl > 0 && ttl <= 30_000, "{ttl}");
}

/// A pool for a server that is not there, never connected: any command
/// on it fails.
fn unconnected() -> (auth_throttle_redis::fred::clients::Pool, RedisSettings) {
    let settings = RedisSettings::new("redis://127.0.0.1:1").with_prefix("x");
    let pool = settings
        .build_pool()
        .unwrap_or_else(|e| panic!("building a pool: {e}"));
    (pool, settings)
}

#[tokio::test]
async fn zero_limit_and_zero_window_do_not_touch_redis() {
    let (pool, settings) = unconnected();
    let refuse_all =
        RedisThrottle::from_pool(pool.clone(), &settings, 0, Duration::from_secs(5)).unwrap();
    assert_eq!(
        refuse_all.attempt("k").await.unwrap(),
        ThrottleDecision::Refused {
            retry_after: Duration::from_secs(5)
        }
    );
    let open = RedisThrottle::from_pool(pool, &settings, 7, Duration::ZERO).unwrap();
    assert_eq!(
        open.attempt("k").await.unwrap(),
        ThrottleDecision::Allowed { remaining: 7 }
    );
}

#[tokio::test]
async fn bad_settings_and_an_unreachable_server_are_typed_errors() {
    let (pool, _) = unconnected();
    for prefix in ["", "has space", &"p".repeat(101)] {
        let settings = RedisSettings::new("redis://127.0.0.1:1").with_prefix(prefix);
        let refused = RedisThrottle::from_pool(pool.clone(), &settings, 1, Duration::from_secs(1));
        assert!(
            matches!(refused, Err(RedisThrottleError::Settings(_))),
            "{prefix:?}"
        );
    }
    let not_a_url = RedisSettings::new("not a url");
    assert!(matches!(
        RedisThrottle::connect(&not_a_url, 1, Duration::from_secs(1)).await,
        Err(RedisThrottleError::Settings(_))
    ));
    // Port 1 on loopback: nothing listens there.
    let nobody = RedisSettings::new("redis://127.0.0.1:1");
    assert!(matches!(
        RedisThrottle::connect(&nobody, 1, Duration::from_secs(1)).await,
        Err(RedisThrottleError::Connect(_))
    ));
    // A throttle whose server is gone fails its attempts within the
    // command timeout (the local IdP then refuses the login) instead of
    // allowing them.
    let gone = RedisSettings::new("redis://127.0.0.1:1")
        .with_prefix("x")
        .with_command_timeout(Duration::from_millis(300));
    let unreachable =
        RedisThrottle::from_pool(gone.build_pool().unwrap(), &gone, 5, Duration::from_secs(5))
            .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), unreachable.attempt("k")).await;
    let error = outcome.expect("answers within the timeout").unwrap_err();
    assert!(error.to_string().contains("throttle"), "{error}");
}

#[tokio::test]
async fn debug_names_the_settings() {
    let (pool, _) = unconnected();
    let settings = RedisSettings::new("redis://app:hunter2@127.0.0.1:1").with_prefix("app");
    let throttle = RedisThrottle::from_pool(pool, &settings, 5, Duration::from_secs(5)).unwrap();
    let debug = format!("{throttle:?}");
    assert!(debug.contains("app") && debug.contains("limit"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
}
