//! The [`AuthChannel`] suite.

use std::time::Duration;

use futures_util::StreamExt;

use crate::channel::{AuthChannel, AuthEvent, EventStream};
use crate::principal::{Claim, Principal};
use crate::session::SessionToken;

use super::Check;

/// How long an event may take to arrive.
const DELIVERY: Duration = Duration::from_secs(5);
/// How long a subscriber that must receive nothing is watched.
const QUIET: Duration = Duration::from_millis(300);

fn check(name: &'static str) -> Check {
    Check {
        suite: "channel",
        name,
    }
}

/// Waits for the next event of `stream`, failing on a timeout or an ended
/// stream.
async fn next_event(c: Check, stream: &mut EventStream, what: &str) -> AuthEvent {
    match tokio::time::timeout(DELIVERY, stream.next()).await {
        Ok(Some(event)) => event,
        Ok(None) => c.fail(format_args!("{what}: the stream ended")),
        Err(_) => c.fail(format_args!("{what}: nothing arrived within {DELIVERY:?}")),
    }
}

/// Fails if `stream` yields anything (or ends) within [`QUIET`].
async fn expect_quiet(c: Check, stream: &mut EventStream, what: &str) {
    match tokio::time::timeout(QUIET, stream.next()).await {
        Err(_) => {}
        Ok(Some(event)) => c.fail(format_args!("{what}: received {event:?}")),
        Ok(None) => c.fail(format_args!("{what}: the stream ended")),
    }
}

/// One event of every kind, as subscribers must receive them.
fn every_kind(user_id: &str) -> Vec<AuthEvent> {
    let principal = Principal::authenticated(user_id, "Zoë 👩🏽‍💻", vec![Claim::new("role", "admin")])
        .with_raw(serde_json::json!({ "user_id": user_id, "extras": { "n": [1, 2.5, null] } }));
    vec![
        AuthEvent::update(principal),
        AuthEvent::update_claims(vec![
            Claim::new("role", "admin"),
            Claim::new("tier", "ünï ✓"),
        ]),
        AuthEvent::update_claims(Vec::new()),
        AuthEvent::revoke(Some(SessionToken::generate().key())),
        AuthEvent::revoke(None),
        AuthEvent::Resync,
    ]
}

/// Runs every check of the [`AuthChannel`] contract against `channel`.
///
/// Covers: a subscriber receives each event kind unchanged (`Update`,
/// `UpdateClaims`, `Revoke` of one session and of all, `Resync`), through
/// `publish` and through the provided `update_principal`, `update_claims`
/// and `revoke`; every subscriber of a user receives; another user's
/// subscriber receives nothing; publishing with no subscribers succeeds; a
/// dropped subscription breaks nothing.
///
/// Every wait has a timeout (5 s for an event to arrive, 300 ms of quiet
/// for "receives nothing"), so a broken channel fails instead of hanging.
/// Every run uses fresh random user ids.
///
/// # Panics
///
/// When the channel breaks its contract; the message names the failed
/// check and, when a call failed, the channel's error chain.
pub async fn channel_conformance(channel: &dyn AuthChannel) {
    crate::__testkit_checks!(channel, __testkit_run_all(channel_checks, channel));
}

pub(crate) async fn every_event_kind(channel: &dyn AuthChannel, user: &str) {
    let c = check("a subscriber receives every event kind unchanged");
    let mut stream = c.ok(channel.subscribe(user).await, "subscribe");
    for event in every_kind(user) {
        c.ok(channel.publish(user, event.clone()).await, "publish");
        let received = next_event(c, &mut stream, "waiting for a published event").await;
        c.equal(&received, &event, "the received event");
    }
}

pub(crate) async fn provided_methods(channel: &dyn AuthChannel, user: &str) {
    let c = check("update_principal, update_claims and revoke publish their events");
    let mut stream = c.ok(channel.subscribe(user).await, "subscribe");
    let principal = Principal::authenticated(user, "Ada", vec![Claim::new("role", "user")]);
    c.ok(
        channel.update_principal(user, principal.clone()).await,
        "update_principal",
    );
    let received = next_event(c, &mut stream, "waiting for update_principal").await;
    c.equal(
        &received,
        &AuthEvent::update(principal),
        "the event of update_principal",
    );

    let claims = vec![Claim::new("role", "admin")];
    c.ok(
        channel.update_claims(user, claims.clone()).await,
        "update_claims",
    );
    let received = next_event(c, &mut stream, "waiting for update_claims").await;
    c.equal(
        &received,
        &AuthEvent::update_claims(claims),
        "the event of update_claims",
    );

    c.ok(channel.revoke(user).await, "revoke");
    let received = next_event(c, &mut stream, "waiting for revoke").await;
    c.equal(&received, &AuthEvent::revoke(None), "the event of revoke");
}

pub(crate) async fn many_subscribers(channel: &dyn AuthChannel, user: &str) {
    let c = check("every subscriber of a user receives");
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(c.ok(channel.subscribe(user).await, "subscribe"));
    }
    for event in [
        AuthEvent::update_claims(vec![Claim::new("k", "v")]),
        AuthEvent::revoke(None),
    ] {
        c.ok(channel.publish(user, event.clone()).await, "publish");
        for stream in &mut streams {
            let received = next_event(c, stream, "waiting at one of three subscribers").await;
            c.equal(&received, &event, "the event at one of three subscribers");
        }
    }
}

pub(crate) async fn other_users_hear_nothing(
    channel: &dyn AuthChannel,
    speaker: &str,
    listener: &str,
) {
    let c = check("another user's subscriber receives nothing");
    let mut speaking = c.ok(channel.subscribe(speaker).await, "subscribe");
    let mut listening = c.ok(channel.subscribe(listener).await, "subscribe");
    let event = AuthEvent::revoke(None);
    c.ok(channel.publish(speaker, event.clone()).await, "publish");
    let received = next_event(
        c,
        &mut speaking,
        "waiting at the addressed user's subscriber",
    )
    .await;
    c.equal(
        &received,
        &event,
        "the event at the addressed user's subscriber",
    );
    expect_quiet(c, &mut listening, "another user's subscriber").await;

    let own = AuthEvent::Resync;
    c.ok(channel.publish(listener, own.clone()).await, "publish");
    let received = next_event(c, &mut listening, "waiting for the listener's own event").await;
    c.equal(
        &received,
        &own,
        "the listener's own event (not the other user's)",
    );
}

pub(crate) async fn no_subscribers(channel: &dyn AuthChannel, user: &str) {
    let c = check("publishing with no subscribers succeeds");
    for event in every_kind(user) {
        c.ok(
            channel.publish(user, event).await,
            "publish to a user without subscribers",
        );
    }
}

pub(crate) async fn dropped_subscription(channel: &dyn AuthChannel, user: &str) {
    let c = check("a dropped subscription breaks nothing");
    let dropped = c.ok(channel.subscribe(user).await, "subscribe");
    let mut kept = c.ok(channel.subscribe(user).await, "subscribe");
    drop(dropped);
    let event = AuthEvent::update_claims(vec![Claim::new("after", "drop")]);
    c.ok(
        channel.publish(user, event.clone()).await,
        "publish after a subscriber dropped",
    );
    let received = next_event(c, &mut kept, "waiting at the remaining subscriber").await;
    c.equal(&received, &event, "the event at the remaining subscriber");

    drop(kept);
    let before = AuthEvent::update_claims(vec![Claim::new("before", "subscribe")]);
    c.ok(
        channel.publish(user, before).await,
        "publish after every subscriber dropped",
    );
    let mut fresh = c.ok(
        channel.subscribe(user).await,
        "subscribe after every subscriber dropped",
    );
    let event = AuthEvent::revoke(None);
    c.ok(channel.publish(user, event.clone()).await, "publish");
    let received = next_event(c, &mut fresh, "waiting at a new subscriber").await;
    c.equal(
        &received,
        &event,
        "the event at a new subscriber (not one published before it subscribed)",
    );
}
