//! A subscriber that never polls while 100,000 events are published holds
//! bounded memory, and then gets the latest state, not 100,000 items.
//!
//! This binary counts heap bytes with a global allocator, so it holds one
//! test: a second one running in parallel would disturb the count.

use std::alloc::System;

use auth_channel_memory::{MAX_PENDING_REVOKES, MemoryChannel};
use auth_core::{AuthChannel, AuthEvent, Claim, EventStream, Principal, SessionToken};
use futures_util::{FutureExt, StreamExt};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const EVENTS: usize = 100_000;
/// Far below what a queue would hold (100,000 events of ~100 bytes and
/// more), far above one principal and 16 session keys.
const BOUND: isize = 16 * 1024;

fn live_bytes(region: &Region<'_, System>) -> isize {
    let change = region.change();
    change.bytes_allocated.cast_signed() - change.bytes_deallocated.cast_signed()
}

fn drain(stream: &mut EventStream) -> Vec<AuthEvent> {
    std::iter::from_fn(|| stream.next().now_or_never().flatten()).collect()
}

fn principal(i: usize) -> Principal {
    Principal::authenticated("local:1", format!("Ada {i}"), vec![])
}

#[tokio::test]
async fn a_slow_subscriber_holds_bounded_memory_and_gets_the_latest_state() {
    let channel = MemoryChannel::new();
    let mut slow = channel.subscribe("local:1").await.unwrap();
    let mut fast = channel.subscribe("local:1").await.unwrap();
    let keys: Vec<_> = (0..4).map(|_| SessionToken::generate().key()).collect();

    // Phase 1: updates, overlays and a few repeated session revokes.
    let region = Region::new(GLOBAL);
    let mut peak = 0;
    let mut fast_seen = 0;
    for i in 0..EVENTS {
        let event = match i % 10 {
            0..=5 => AuthEvent::update(principal(i)),
            6 => AuthEvent::revoke(Some(keys[(i / 10) % keys.len()].clone())),
            _ => AuthEvent::update_claims(vec![Claim::new("n", i.to_string())]),
        };
        channel.publish("local:1", event).await.unwrap();
        if i % 1000 == 0 {
            // The fast subscriber keeps up now and then.
            fast_seen += drain(&mut fast).len();
            peak = peak.max(live_bytes(&region));
        }
    }
    fast_seen += drain(&mut fast).len();
    peak = peak.max(live_bytes(&region));
    assert!(peak < BOUND, "held {peak} bytes for {EVENTS} events");
    assert!(fast_seen > 100, "the fast subscriber kept receiving");

    // The last events were Update{Ada 99995}, a revoke, then overlays
    // 99997..99999.
    let events = drain(&mut slow);
    let mut expected =
        vec![AuthEvent::update(principal(EVENTS - 5).with_claims(vec![
            Claim::new("n", (EVENTS - 1).to_string()),
        ]))];
    expected.extend(keys.iter().map(|k| AuthEvent::revoke(Some(k.clone()))));
    assert_eq!(events.len(), expected.len(), "{events:?}");
    assert_eq!(events[0], expected[0], "the latest state, merged");
    for key in &expected[1..] {
        assert!(events.contains(key), "every revoked session is reported");
    }

    // Phase 2: 100,000 distinct session revokes collapse into one Resync.
    let region = Region::new(GLOBAL);
    let mut peak = 0;
    for i in 0..EVENTS {
        let key = SessionToken::generate().key();
        channel
            .publish("local:1", AuthEvent::revoke(Some(key)))
            .await
            .unwrap();
        if i % 1000 == 0 {
            peak = peak.max(live_bytes(&region));
        }
    }
    drop(fast);
    assert!(peak < BOUND, "held {peak} bytes for {EVENTS} revokes");
    const { assert!(MAX_PENDING_REVOKES < EVENTS) };
    assert_eq!(drain(&mut slow), vec![AuthEvent::Resync]);

    // Phase 3: a revoke of all sessions absorbs everything after it.
    channel
        .update_principal("local:1", principal(0))
        .await
        .unwrap();
    channel.revoke("local:1").await.unwrap();
    for i in 0..EVENTS {
        channel
            .update_principal("local:1", principal(i))
            .await
            .unwrap();
    }
    assert_eq!(drain(&mut slow), vec![AuthEvent::revoke(None)]);

    // Drained, the slot is idle again and delivers what comes next.
    channel
        .update_principal("local:1", principal(7))
        .await
        .unwrap();
    assert_eq!(drain(&mut slow), vec![AuthEvent::update(principal(7))]);
}
