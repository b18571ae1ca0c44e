//! The seeds' channel-semantics table, user isolation, and the lifecycle
//! (unsubscribe on drop, shutdown).

use auth_channel_memory::MemoryChannel;
use auth_core::{
    AuthChannel, AuthEvent, ChannelError, Claim, EventStream, Principal, SessionToken,
};
use futures_util::{FutureExt, StreamExt};

fn ada() -> Principal {
    Principal::authenticated("local:1", "Ada", vec![Claim::new("role", "reader")])
}

/// The event the stream has ready now; panics if it has none.
fn ready(stream: &mut EventStream) -> Option<AuthEvent> {
    stream
        .next()
        .now_or_never()
        .expect("an event (or the end) should be ready")
}

/// Whether the stream has nothing ready.
fn is_idle(stream: &mut EventStream) -> bool {
    stream.next().now_or_never().is_none()
}

#[tokio::test]
async fn update_replaces_the_principal() {
    let channel = MemoryChannel::new();
    let mut tab = channel.subscribe("local:1").await.unwrap();
    let renamed = Principal::authenticated("local:1", "Ada L.", vec![]);

    channel
        .update_principal("local:1", renamed.clone())
        .await
        .unwrap();

    let event = ready(&mut tab).unwrap();
    assert_eq!(event, AuthEvent::update(renamed.clone()));
    assert_eq!(event.apply(&ada(), None), Some(renamed));
    assert!(is_idle(&mut tab));
}

#[tokio::test]
async fn update_claims_overlays_the_current_principal() {
    let channel = MemoryChannel::new();
    let mut tab = channel.subscribe("local:1").await.unwrap();

    channel
        .update_claims("local:1", vec![Claim::new("role", "admin")])
        .await
        .unwrap();

    let event = ready(&mut tab).unwrap();
    let next = event.apply(&ada(), None).expect("not a revoke");
    assert!(next.has_claim("role", Some("admin")));
    assert!(!next.has_claim("role", Some("reader")));
    assert_eq!(next.display_name(), Some("Ada"));
    assert_eq!(next.user_id(), Some("local:1"));
    assert!(next.is_authenticated());
}

#[tokio::test]
async fn revoke_drops_every_connection_to_anonymous() {
    let channel = MemoryChannel::new();
    let s1 = SessionToken::generate().key();
    let s2 = SessionToken::generate().key();
    let mut tab1 = channel.subscribe("local:1").await.unwrap();
    let mut tab2 = channel.subscribe("local:1").await.unwrap();

    channel.revoke("local:1").await.unwrap();

    for (tab, key) in [(&mut tab1, &s1), (&mut tab2, &s2)] {
        let event = ready(tab).unwrap();
        assert_eq!(event, AuthEvent::revoke(None));
        assert_eq!(event.apply(&ada(), Some(key)), None, "drop to anonymous");
        assert_eq!(event.apply(&ada(), None), None);
    }
}

#[tokio::test]
async fn session_revoke_takes_effect_only_on_that_sessions_connections() {
    let channel = MemoryChannel::new();
    let revoked = SessionToken::generate().key();
    let kept = SessionToken::generate().key();
    // Two tabs of the revoked session, one of another session of the user.
    let mut tabs = Vec::new();
    for key in [&revoked, &revoked, &kept] {
        tabs.push((channel.subscribe("local:1").await.unwrap(), key));
    }

    channel
        .publish("local:1", AuthEvent::revoke(Some(revoked.clone())))
        .await
        .unwrap();

    for (tab, key) in &mut tabs {
        let event = ready(tab).unwrap();
        let after = event.apply(&ada(), Some(key));
        if *key == &revoked {
            assert_eq!(after, None, "the revoked session drops to anonymous");
        } else {
            assert_eq!(after, Some(ada()), "the other session is untouched");
        }
    }
}

#[tokio::test]
async fn resync_is_delivered_and_leaves_the_principal() {
    let channel = MemoryChannel::new();
    let mut tab = channel.subscribe("local:1").await.unwrap();
    channel.publish("local:1", AuthEvent::Resync).await.unwrap();
    let event = ready(&mut tab).unwrap();
    assert_eq!(event, AuthEvent::Resync);
    assert_eq!(event.apply(&ada(), None), Some(ada()));
}

#[tokio::test]
async fn a_subscriber_that_keeps_up_sees_every_event_in_order() {
    let channel = MemoryChannel::new();
    let mut tab = channel.subscribe("local:1").await.unwrap();
    let events = [
        AuthEvent::update(ada()),
        AuthEvent::update_claims(vec![Claim::new("role", "admin")]),
        AuthEvent::revoke(Some(SessionToken::generate().key())),
        AuthEvent::Resync,
        AuthEvent::revoke(None),
        AuthEvent::update(ada()),
    ];
    for event in events {
        channel.publish("local:1", event.clone()).await.unwrap();
        assert_eq!(ready(&mut tab), Some(event));
        assert!(is_idle(&mut tab));
    }
}

#[tokio::test]
async fn a_waiting_subscriber_is_woken() {
    let channel = MemoryChannel::new();
    let mut tab = channel.subscribe("local:1").await.unwrap();
    let waiter = tokio::spawn(async move { tab.next().await });
    tokio::task::yield_now().await;
    channel.revoke("local:1").await.unwrap();
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
        .await
        .expect("woken")
        .unwrap();
    assert_eq!(event, Some(AuthEvent::revoke(None)));
}

#[tokio::test]
async fn events_for_one_user_never_reach_another() {
    let channel = MemoryChannel::new();
    let mut a = channel.subscribe("local:a").await.unwrap();
    let mut b = channel.subscribe("local:b").await.unwrap();

    channel.update_principal("local:a", ada()).await.unwrap();
    channel.revoke("local:a").await.unwrap();
    channel.publish("local:a", AuthEvent::Resync).await.unwrap();

    assert!(is_idle(&mut b), "user B got nothing");
    assert_eq!(ready(&mut a), Some(AuthEvent::revoke(None)));

    channel.revoke("local:b").await.unwrap();
    assert_eq!(ready(&mut b), Some(AuthEvent::revoke(None)));
    assert!(is_idle(&mut a), "user A got nothing of B's");
}

#[tokio::test]
async fn publishing_without_subscribers_succeeds() {
    let channel = MemoryChannel::new();
    channel.update_principal("nobody", ada()).await.unwrap();
    channel.revoke("nobody").await.unwrap();
    assert_eq!(channel.user_count(), 0, "publishing creates no entry");

    // A subscriber that comes later sees only what is published from then on.
    let mut late = channel.subscribe("nobody").await.unwrap();
    assert!(is_idle(&mut late));
}

#[tokio::test]
async fn dropping_streams_unsubscribes_and_removes_the_user() {
    let channel = MemoryChannel::new();
    let a1 = channel.subscribe("local:a").await.unwrap();
    let a2 = channel.subscribe("local:a").await.unwrap();
    let b = channel.subscribe("local:b").await.unwrap();
    assert_eq!(channel.subscriber_count("local:a"), 2);
    assert_eq!(channel.subscriber_count("local:b"), 1);
    assert_eq!(channel.subscriber_count("local:c"), 0);
    assert_eq!(channel.user_count(), 2);

    drop(a1);
    assert_eq!(channel.subscriber_count("local:a"), 1);
    assert_eq!(channel.user_count(), 2);
    drop(a2);
    assert_eq!(channel.subscriber_count("local:a"), 0);
    assert_eq!(channel.user_count(), 1, "no empty entry is left behind");
    drop(b);
    assert_eq!(channel.user_count(), 0);

    // Publishing to a user that is gone still succeeds.
    channel.revoke("local:a").await.unwrap();
}

#[tokio::test]
async fn shutdown_ends_streams_after_what_was_pending() {
    let channel = MemoryChannel::new();
    let mut idle = channel.subscribe("local:1").await.unwrap();
    let mut behind = channel.subscribe("local:2").await.unwrap();
    let waiting = {
        let mut tab = channel.subscribe("local:3").await.unwrap();
        tokio::spawn(async move { tab.next().await })
    };
    channel.update_principal("local:2", ada()).await.unwrap();
    tokio::task::yield_now().await;

    channel.shutdown();
    channel.shutdown(); // idempotent
    assert!(channel.is_shut_down());

    assert_eq!(ready(&mut idle), None);
    assert_eq!(ready(&mut idle), None, "an ended stream stays ended");
    assert_eq!(ready(&mut behind), Some(AuthEvent::update(ada())));
    assert_eq!(ready(&mut behind), None);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("a waiting stream is woken by shutdown")
        .unwrap();
    assert_eq!(ended, None);

    assert_eq!(channel.user_count(), 0);
    assert!(matches!(
        channel.subscribe("local:1").await,
        Err(ChannelError::Closed)
    ));
    assert!(matches!(
        channel.revoke("local:1").await,
        Err(ChannelError::Closed)
    ));
    drop((idle, behind)); // dropping after shutdown is fine
}

#[tokio::test]
async fn dropping_the_last_handle_shuts_down() {
    let channel = MemoryChannel::new();
    let clone = channel.clone();
    let mut tab = channel.subscribe("local:1").await.unwrap();
    drop(channel);
    clone.update_principal("local:1", ada()).await.unwrap();
    assert_eq!(ready(&mut tab), Some(AuthEvent::update(ada())));
    assert!(is_idle(&mut tab), "a clone keeps the channel open");
    drop(clone);
    assert_eq!(ready(&mut tab), None);
}

#[tokio::test]
async fn works_behind_a_trait_object_with_any_shard_count() {
    for shards in [0, 1, 3, 64] {
        let channel: std::sync::Arc<dyn AuthChannel> =
            std::sync::Arc::new(MemoryChannel::with_shards(shards));
        let mut tabs = Vec::new();
        for user in 0..50 {
            tabs.push(channel.subscribe(&format!("local:{user}")).await.unwrap());
        }
        for user in 0..50 {
            channel
                .update_claims(
                    &format!("local:{user}"),
                    vec![Claim::new("n", user.to_string())],
                )
                .await
                .unwrap();
        }
        for (user, tab) in tabs.iter_mut().enumerate() {
            assert_eq!(
                ready(tab),
                Some(AuthEvent::update_claims(vec![Claim::new(
                    "n",
                    user.to_string()
                )]))
            );
        }
    }
}
