//! Many subscribers of one user.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_channel_memory::MemoryChannel;
use auth_core::{AuthChannel, AuthEvent, Claim};
use futures_util::{FutureExt, StreamExt};

const SUBSCRIBERS: usize = 10_000;

#[tokio::test]
async fn ten_thousand_subscribers_of_one_user_all_receive_one_event() {
    let channel = MemoryChannel::new();
    let mut tabs = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        tabs.push(channel.subscribe("local:1").await.unwrap());
    }
    assert_eq!(channel.subscriber_count("local:1"), SUBSCRIBERS);
    assert_eq!(channel.user_count(), 1);

    let event = AuthEvent::update_claims(vec![Claim::new("role", "admin")]);
    channel.publish("local:1", event.clone()).await.unwrap();

    for tab in &mut tabs {
        assert_eq!(tab.next().now_or_never(), Some(Some(event.clone())));
        assert!(tab.next().now_or_never().is_none(), "exactly one event");
    }

    // Drop in an order that exercises the swap-remove bookkeeping.
    let mut odd = Vec::new();
    for (i, tab) in tabs.into_iter().enumerate() {
        if i % 2 == 1 {
            odd.push(tab);
        }
    }
    assert_eq!(channel.subscriber_count("local:1"), SUBSCRIBERS / 2);
    channel.revoke("local:1").await.unwrap();
    for tab in &mut odd {
        assert_eq!(
            tab.next().now_or_never(),
            Some(Some(AuthEvent::revoke(None)))
        );
    }
    while let Some(tab) = odd.pop() {
        drop(tab);
        if odd.len() == SUBSCRIBERS / 4 {
            assert_eq!(channel.subscriber_count("local:1"), SUBSCRIBERS / 4);
        }
    }
    assert_eq!(channel.subscriber_count("local:1"), 0);
    assert_eq!(channel.user_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_waiting_tasks_are_all_woken() {
    let channel = MemoryChannel::new();
    let received = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        let mut tab = channel.subscribe("local:1").await.unwrap();
        let received = Arc::clone(&received);
        tasks.push(tokio::spawn(async move {
            let event = tab.next().await;
            received.fetch_add(1, Ordering::Relaxed);
            event
        }));
    }
    tokio::task::yield_now().await;
    channel.revoke("local:1").await.unwrap();
    for task in tasks {
        let event = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("every task is woken")
            .unwrap();
        assert_eq!(event, Some(AuthEvent::revoke(None)));
    }
    assert_eq!(received.load(Ordering::Relaxed), SUBSCRIBERS);
    assert_eq!(channel.user_count(), 0, "the tasks dropped their streams");
}
