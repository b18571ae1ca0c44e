//! The core conformance kit on the Redis channel (one test per check), and delivery between
//! channel instances (as between worker processes) through a real Redis.

mod common;

use std::time::Duration;

use auth_channel_redis::fred::interfaces::{ClientLike, PubsubInterface};
use auth_core::testkit::channel_conformance;
use auth_core::{AuthChannel, AuthEvent, Claim, Principal};
use common::{channel, fresh_prefix, next_within, raw_client, redis_url};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(300);

/// A channel under a fresh prefix, or `None` when Redis is left out.
async fn fresh_channel() -> Option<auth_channel_redis::RedisAuthChannel> {
    let url = redis_url()?;
    Some(channel(&url, &fresh_prefix()).await)
}

/// The kit, one test per check: `kit::every_event_kind` and so on.
mod kit {
    auth_core::channel_conformance_tests!(super::fresh_channel().await);
}

#[tokio::test]
async fn passes_the_kit_while_another_worker_shares_the_prefix() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let (a, b) = (channel(&url, &prefix).await, channel(&url, &prefix).await);
    tokio::join!(channel_conformance(&a), channel_conformance(&b));
}

#[tokio::test]
async fn an_event_crosses_to_another_instance_and_nobody_gets_it_twice() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let (a, b) = (channel(&url, &prefix).await, channel(&url, &prefix).await);
    let mut on_a = a.subscribe("local:1").await.unwrap();
    let mut on_b = b.subscribe("local:1").await.unwrap();

    let principal = Principal::authenticated("local:1", "Ada", vec![Claim::new("role", "admin")]);
    a.update_principal("local:1", principal.clone())
        .await
        .unwrap();

    let expected = AuthEvent::update(principal);
    assert_eq!(next_within(&mut on_b, WAIT).await, Some(expected.clone()));
    assert_eq!(next_within(&mut on_a, WAIT).await, Some(expected));
    assert_eq!(
        next_within(&mut on_a, QUIET).await,
        None,
        "delivered twice to the publisher's process"
    );
    assert_eq!(
        next_within(&mut on_b, QUIET).await,
        None,
        "delivered twice to the other process"
    );
}

#[tokio::test]
async fn prefixes_isolate_apps_sharing_one_redis() {
    let Some(url) = redis_url() else { return };
    let (mine, theirs) = (
        channel(&url, &fresh_prefix()).await,
        channel(&url, &fresh_prefix()).await,
    );
    let mut tab = theirs.subscribe("local:1").await.unwrap();
    mine.revoke("local:1").await.unwrap();
    assert_eq!(next_within(&mut tab, QUIET).await, None);
}

#[tokio::test]
async fn garbage_and_unknown_versions_on_the_wire_are_dropped() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let channel = channel(&url, &prefix).await;
    let raw = raw_client(&url).await;
    let mut tab = channel.subscribe("local:1").await.unwrap();
    let topic = format!("{prefix}:user:local:1");

    for garbage in [
        "",
        "not json",
        "{\"v\":2,\"event\":{\"kind\":\"revoke\"}}",
        "{\"v\":1,\"event\":42}",
        "{\"v\":1}",
        "[]",
        "\u{0}\u{1}",
    ] {
        let _: i64 = raw.publish(topic.as_str(), garbage).await.unwrap();
    }
    let huge = format!(
        "{{\"v\":1,\"event\":{{\"kind\":\"{}\"}}}}",
        "x".repeat(100_000)
    );
    let _: i64 = raw.publish(topic.as_str(), huge).await.unwrap();
    // A channel name that is the prefix alone, and one of another shape.
    let _: i64 = raw.publish(format!("{prefix}:user:"), "{}").await.unwrap();
    let _: i64 = raw
        .publish(
            format!("{prefix}:user:local:1:extra"),
            "{\"v\":1,\"event\":{\"kind\":\"revoke\"}}",
        )
        .await
        .unwrap();

    // The unknown kind (the huge one) arrives as a resync; the rest is
    // dropped, and the channel still works.
    assert_eq!(next_within(&mut tab, WAIT).await, Some(AuthEvent::Resync));
    assert_eq!(next_within(&mut tab, QUIET).await, None);
    let event = AuthEvent::update_claims(vec![Claim::new("after", "garbage")]);
    let other = common::channel(&url, &prefix).await;
    other.publish("local:1", event.clone()).await.unwrap();
    assert_eq!(next_within(&mut tab, WAIT).await, Some(event));
    assert!(
        channel.dropped_messages() >= 6,
        "{}",
        channel.dropped_messages()
    );
    raw.quit().await.unwrap();
}

#[tokio::test]
async fn a_thousand_tabs_cost_two_redis_connections() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let channel = channel(&url, &prefix).await;
    let mut tabs = Vec::new();
    for i in 0..1_000 {
        tabs.push(
            channel
                .subscribe(&format!("local:{}", i % 100))
                .await
                .unwrap(),
        );
    }
    let raw = raw_client(&url).await;
    let publisher = channel.publisher_name().expect("a publisher of its own");
    let held = common::connections_named(&raw, channel.subscriber_name())
        .await
        .len()
        + common::connections_named(&raw, publisher).await.len();
    assert_eq!(held, 2);
    assert_eq!(channel.redis_connections(), 2);
    assert_eq!(channel.local().user_count(), 100);
    raw.quit().await.unwrap();
}

#[tokio::test]
async fn refuses_bad_settings_and_an_unreachable_server() {
    let Some(url) = redis_url() else { return };
    let spaced = common::settings(&url, "two words");
    let bad = auth_channel_redis::RedisAuthChannel::connect(&spaced).await;
    assert!(matches!(
        bad,
        Err(auth_channel_redis::RedisChannelError::Settings(_))
    ));
    let pool = common::settings(&url, "p").build_pool().unwrap();
    let shared = auth_channel_redis::RedisAuthChannel::from_pool(pool, &spaced).await;
    assert!(matches!(
        shared,
        Err(auth_channel_redis::RedisChannelError::Settings(_))
    ));
    let zero = auth_channel_redis::RedisAuthChannel::builder(&common::settings(&url, "p"))
        .with_publish_timeout(Duration::ZERO)
        .connect()
        .await;
    assert!(matches!(
        zero,
        Err(auth_channel_redis::RedisChannelError::Config(_))
    ));
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = std::time::Instant::now();
    let nobody = auth_channel_redis::RedisSettings::new(format!("redis://127.0.0.1:{closed}"));
    let down = auth_channel_redis::RedisAuthChannel::connect(&nobody).await;
    assert!(matches!(
        down,
        Err(auth_channel_redis::RedisChannelError::Connect(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(10));
}
