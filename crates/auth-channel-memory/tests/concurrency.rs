//! Subscribes, drops and publishes racing on a multi-thread runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth_channel_memory::MemoryChannel;
use auth_core::{AuthChannel, AuthEvent, Claim, Principal, SessionToken};
use futures_util::{FutureExt, StreamExt};

const USERS: usize = 8;
const TASKS: usize = 64;
const ROUNDS: usize = 300;

fn user(i: usize) -> String {
    format!("local:{}", i % USERS)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_subscribe_drop_publish_leaves_an_empty_map() {
    for shards in [1, 16] {
        let channel = Arc::new(MemoryChannel::with_shards(shards));
        let delivered = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();

        // Subscribers: subscribe, hold a while, sometimes read, drop.
        for task in 0..TASKS {
            let channel = Arc::clone(&channel);
            let delivered = Arc::clone(&delivered);
            handles.push(tokio::spawn(async move {
                let mut held = Vec::new();
                for round in 0..ROUNDS {
                    let mut tab = channel.subscribe(&user(task + round)).await.unwrap();
                    if round % 3 == 0
                        && let Some(Some(_)) = tab.next().now_or_never()
                    {
                        delivered.fetch_add(1, Ordering::Relaxed);
                    }
                    if round % 5 == 0 {
                        held.push(tab);
                    }
                    if held.len() > 4 {
                        drop(held.swap_remove(round % held.len()));
                    }
                    if round % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }
        // Long-lived waiters that read until their user is revoked.
        for task in 0..USERS {
            let channel = Arc::clone(&channel);
            let mut tab = channel.subscribe(&user(task)).await.unwrap();
            let delivered = Arc::clone(&delivered);
            handles.push(tokio::spawn(async move {
                while let Some(event) = tab.next().await {
                    delivered.fetch_add(1, Ordering::Relaxed);
                    if event == AuthEvent::revoke(None) {
                        break;
                    }
                }
            }));
        }
        // Publishers.
        for task in 0..4 {
            let channel = Arc::clone(&channel);
            handles.push(tokio::spawn(async move {
                let key = SessionToken::generate().key();
                for round in 0..ROUNDS * 4 {
                    let to = user(task * 3 + round);
                    let event = match round % 4 {
                        0 => AuthEvent::update(Principal::authenticated(&to, "x", vec![])),
                        1 => AuthEvent::update_claims(vec![Claim::new("n", round.to_string())]),
                        2 => AuthEvent::revoke(Some(key.clone())),
                        _ => AuthEvent::Resync,
                    };
                    channel.publish(&to, event).await.unwrap();
                    if round % 11 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            }));
        }

        let (waiters, others): (Vec<_>, Vec<_>) = handles
            .into_iter()
            .enumerate()
            .partition(|(i, _)| (TASKS..TASKS + USERS).contains(i));
        for (_, handle) in others {
            handle.await.expect("no task panicked");
        }
        for i in 0..USERS {
            channel.revoke(&user(i)).await.unwrap();
        }
        for (_, handle) in waiters {
            tokio::time::timeout(Duration::from_secs(10), handle)
                .await
                .expect("waiters end on the revoke")
                .expect("no task panicked");
        }

        assert_eq!(channel.user_count(), 0, "shards: {shards}");
        for i in 0..USERS {
            assert_eq!(channel.subscriber_count(&user(i)), 0);
        }
        assert!(delivered.load(Ordering::Relaxed) >= USERS);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_racing_subscribers_ends_them_all() {
    let channel = Arc::new(MemoryChannel::new());
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let channel = Arc::clone(&channel);
        handles.push(tokio::spawn(async move {
            let mut ended = 0;
            for round in 0..ROUNDS {
                let Ok(mut tab) = channel.subscribe(&user(task + round)).await else {
                    return ended;
                };
                if round % 2 == 0 {
                    tokio::task::yield_now().await;
                }
                if let Some(None) = tab.next().now_or_never() {
                    ended += 1;
                }
            }
            ended
        }));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    channel.shutdown();
    for handle in handles {
        handle.await.expect("no task panicked");
    }
    assert_eq!(channel.user_count(), 0);
    assert!(channel.subscribe("local:0").await.is_err());
}
