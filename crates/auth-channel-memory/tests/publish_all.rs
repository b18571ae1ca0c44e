//! `publish_all`: one event to every subscription of every user, as a
//! networked channel does with a resync after its transport reconnected.

use auth_channel_memory::MemoryChannel;
use auth_core::{AuthChannel, AuthEvent, ChannelError, Claim, EventStream};
use futures_util::{FutureExt, StreamExt};

/// The event the stream has ready now; panics if it has none.
fn ready(stream: &mut EventStream) -> Option<AuthEvent> {
    stream
        .next()
        .now_or_never()
        .expect("an event (or the end) should be ready")
}

#[tokio::test]
async fn reaches_every_subscription_of_every_user_once() {
    let channel = MemoryChannel::with_shards(4);
    let mut tabs = Vec::new();
    for user in 0..20 {
        for _ in 0..3 {
            tabs.push(channel.subscribe(&format!("local:{user}")).await.unwrap());
        }
    }

    let reached = channel.publish_all(&AuthEvent::Resync).unwrap();

    assert_eq!(reached, 60);
    for tab in &mut tabs {
        assert_eq!(ready(tab), Some(AuthEvent::Resync));
        assert!(tab.next().now_or_never().is_none(), "delivered twice");
    }
}

#[tokio::test]
async fn a_resync_absorbs_pending_state_but_not_a_revoke_of_all() {
    let channel = MemoryChannel::new();
    let mut pending_state = channel.subscribe("local:1").await.unwrap();
    let mut revoked = channel.subscribe("local:2").await.unwrap();
    channel
        .update_claims("local:1", vec![Claim::new("role", "admin")])
        .await
        .unwrap();
    channel.revoke("local:2").await.unwrap();

    assert_eq!(channel.publish_all(&AuthEvent::Resync).unwrap(), 2);

    assert_eq!(ready(&mut pending_state), Some(AuthEvent::Resync));
    assert_eq!(ready(&mut revoked), Some(AuthEvent::revoke(None)));
}

#[tokio::test]
async fn no_subscribers_and_dropped_ones_count_nothing() {
    let channel = MemoryChannel::new();
    assert_eq!(channel.publish_all(&AuthEvent::Resync).unwrap(), 0);
    let dropped = channel.subscribe("local:1").await.unwrap();
    drop(dropped);
    assert_eq!(channel.publish_all(&AuthEvent::Resync).unwrap(), 0);
    let mut later = channel.subscribe("local:1").await.unwrap();
    assert!(
        later.next().now_or_never().is_none(),
        "a resync published before subscribing arrived"
    );
}

#[tokio::test]
async fn fails_closed_after_shutdown() {
    let channel = MemoryChannel::new();
    let mut tab = channel.subscribe("local:1").await.unwrap();
    channel.shutdown();
    assert!(matches!(
        channel.publish_all(&AuthEvent::Resync),
        Err(ChannelError::Closed)
    ));
    assert_eq!(tab.next().await, None);
}
