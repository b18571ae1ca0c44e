//! One pool, connected once from one `RedisSettings`, serving the session
//! backend, a login throttle and the channel's publisher at once, against
//! a real Redis: everything works through it, the channel adds only its
//! subscriber connection, dropping the channel leaves the pool to the
//! others, and once the pool is gone all three fail with typed errors.

mod common;

use std::time::Duration;

use auth_channel_redis::RedisAuthChannel;
use auth_channel_redis::fred::interfaces::ClientLike;
use auth_core::throttle::{Throttle, ThrottleDecision};
use auth_core::{AuthChannel, AuthEvent, Claim, Principal, SessionBackend, SessionError};
use auth_core::{ChannelError, SessionRecord, SessionToken};
use auth_session_redis::RedisSessionBackend;
use auth_throttle_redis::RedisThrottle;
use common::{channel, connections_named, fresh_prefix, next_within, raw_client, redis_url};

const WAIT: Duration = Duration::from_secs(5);
const LONG: Duration = Duration::from_secs(600);

#[tokio::test]
async fn one_pool_serves_sessions_throttles_and_the_channel() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let settings = common::settings(&url, &prefix);
    let pool = settings.connect_pool().await.unwrap();

    let sessions = RedisSessionBackend::from_pool(pool.clone(), &settings).unwrap();
    let throttle = RedisThrottle::from_pool(pool.clone(), &settings, 2, LONG).unwrap();
    let shared = RedisAuthChannel::from_pool(pool.clone(), &settings)
        .await
        .unwrap();
    // Another worker, with connections of its own, to hear the shared one.
    let other = channel(&url, &prefix).await;

    // Sessions through the pool.
    let key = SessionToken::generate().key();
    let record = SessionRecord::new(Principal::authenticated("local:1", "Ada", vec![]), 0);
    sessions.save(&key, &record, LONG).await.unwrap();
    assert_eq!(sessions.load(&key).await.unwrap(), Some(record.clone()));

    // The throttle through the same pool, under the same prefix.
    for remaining in [1, 0] {
        assert_eq!(
            throttle.attempt("addr:192.0.2.1").await.unwrap(),
            ThrottleDecision::Allowed { remaining }
        );
    }
    assert!(matches!(
        throttle.attempt("addr:192.0.2.1").await.unwrap(),
        ThrottleDecision::Refused { .. }
    ));

    // The channel publishes through the pool and subscribes on its own
    // connection: events cross both ways.
    let mut on_other = other.subscribe("local:1").await.unwrap();
    let mut on_shared = shared.subscribe("local:1").await.unwrap();
    let grant = AuthEvent::update_claims(vec![Claim::new("role", "admin")]);
    shared.publish("local:1", grant.clone()).await.unwrap();
    assert_eq!(next_within(&mut on_other, WAIT).await, Some(grant.clone()));
    assert_eq!(next_within(&mut on_shared, WAIT).await, Some(grant));
    other.revoke("local:1").await.unwrap();
    assert_eq!(
        next_within(&mut on_shared, WAIT).await,
        Some(AuthEvent::revoke(None))
    );

    // The shared channel opened one connection, its subscriber, and named
    // no publisher.
    assert_eq!(shared.redis_connections(), 1);
    assert_eq!(shared.publisher_name(), None);
    assert!(shared.is_connected());
    let raw = raw_client(&url).await;
    let subscribers = connections_named(&raw, shared.subscriber_name()).await;
    assert_eq!(subscribers.len(), 2, "the shared channel's and the other's");
    let publisher = other
        .publisher_name()
        .expect("the other owns its publisher");
    assert_eq!(connections_named(&raw, publisher).await.len(), 1);

    // Dropping the channel closes its subscriber but leaves the pool to
    // the sessions and the throttle.
    drop(on_shared);
    drop(shared);
    let started = std::time::Instant::now();
    while connections_named(&raw, other.subscriber_name()).await.len() != 1 {
        assert!(started.elapsed() < WAIT, "the subscriber stayed open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(pool.is_connected());
    assert_eq!(sessions.load(&key).await.unwrap(), Some(record.clone()));
    throttle.reset("addr:192.0.2.1").await.unwrap();

    // A channel over the pool again, then the pool goes: all three fail
    // with typed errors instead of hanging or panicking.
    let again = RedisAuthChannel::from_pool(pool.clone(), &settings)
        .await
        .unwrap();
    pool.quit().await.unwrap();
    let loaded = tokio::time::timeout(WAIT, sessions.load(&key)).await;
    assert!(
        matches!(loaded, Ok(Err(SessionError::Backend { .. }))),
        "{loaded:?}"
    );
    let counted = tokio::time::timeout(WAIT, throttle.attempt("addr:192.0.2.1")).await;
    assert!(matches!(counted, Ok(Err(_))), "{counted:?}");
    let revoked = tokio::time::timeout(WAIT, again.revoke("local:1")).await;
    assert!(
        matches!(revoked, Ok(Err(ChannelError::Backend { .. }))),
        "{revoked:?}"
    );
    raw.quit().await.unwrap();
}

#[tokio::test]
async fn a_bigger_pool_spreads_the_work_and_stays_correct() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let settings = common::settings(&url, &prefix).with_pool_size(4);
    let pool = settings.connect_pool().await.unwrap();
    assert_eq!(pool.size(), 4);
    let sessions = RedisSessionBackend::from_pool(pool.clone(), &settings).unwrap();
    let throttle = RedisThrottle::from_pool(pool.clone(), &settings, 40, LONG).unwrap();

    // Concurrent saves and attempts over every connection of the pool: the
    // scripts load on whichever connection runs them first, the index and
    // the count stay exact.
    let saves = (0..40).map(|_| {
        let sessions = sessions.clone();
        tokio::spawn(async move {
            let key = SessionToken::generate().key();
            let record = SessionRecord::new(Principal::authenticated("local:2", "Bo", vec![]), 0);
            sessions.save(&key, &record, LONG).await.unwrap();
        })
    });
    let attempts = (0..50).map(|_| {
        let throttle = throttle.clone();
        tokio::spawn(async move { throttle.attempt("email:bo@example.com").await.unwrap() })
    });
    let saves: Vec<_> = saves.collect();
    let attempts: Vec<_> = attempts.collect();
    for save in saves {
        save.await.unwrap();
    }
    let mut allowed = 0;
    for attempt in attempts {
        if matches!(attempt.await.unwrap(), ThrottleDecision::Allowed { .. }) {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 40);
    assert_eq!(sessions.sessions_of("local:2").await.unwrap().len(), 40);
    assert_eq!(sessions.delete_sessions_of("local:2").await.unwrap(), 40);
    pool.quit().await.unwrap();
}
