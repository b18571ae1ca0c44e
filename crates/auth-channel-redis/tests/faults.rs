//! Outages, played without touching the shared Redis server: the channel's
//! own connections are killed by name (`CLIENT KILL ID`), or a proxy in
//! front of Redis goes down and comes back.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_channel_redis::fred::interfaces::ClientLike;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{
    AuthActions, AuthChannel, AuthEvent, AuthStore, ChannelError, Claim, NewUser, Principal,
    SessionConfig, Sessions,
};
use common::{Proxy, channel, fresh_prefix, kill_named, next_within, raw_client, redis_url};

const WAIT: Duration = Duration::from_secs(10);

/// Waits until `check` holds, or fails after [`WAIT`].
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn killed_subscriber_reconnects_resubscribes_and_resyncs_the_tabs() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let (a, b) = (channel(&url, &prefix).await, channel(&url, &prefix).await);
    let mut tabs = Vec::new();
    for user in ["local:1", "local:1", "local:2"] {
        tabs.push(a.subscribe(user).await.unwrap());
    }
    let raw = raw_client(&url).await;

    // Both workers' subscriber connections share the name; kill both, as a
    // Redis restart would.
    let killed = kill_named(&raw, a.subscriber_name()).await;
    assert_eq!(killed, 2);

    for tab in &mut tabs {
        assert_eq!(next_within(tab, WAIT).await, Some(AuthEvent::Resync));
    }
    assert!(a.resyncs() >= 1);
    eventually("both connections to be back", || a.is_connected()).await;

    // After the outage, events from the other worker reach the tabs again.
    let event = AuthEvent::update_claims(vec![Claim::new("role", "admin")]);
    b.publish("local:1", event.clone()).await.unwrap();
    assert_eq!(next_within(&mut tabs[0], WAIT).await, Some(event.clone()));
    assert_eq!(next_within(&mut tabs[1], WAIT).await, Some(event));
    raw.quit().await.unwrap();
}

#[tokio::test]
async fn killed_publisher_reconnects_and_publishes_again() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let (a, b) = (channel(&url, &prefix).await, channel(&url, &prefix).await);
    let mut tab = b.subscribe("local:1").await.unwrap();
    let raw = raw_client(&url).await;
    let publisher = a.publisher_name().expect("a publisher of its own");
    assert_eq!(kill_named(&raw, publisher).await, 2);

    // A publish right after the kill either waits for the reconnect or
    // fails with a typed error; one soon after goes through.
    let started = Instant::now();
    loop {
        match a.revoke("local:1").await {
            Ok(()) => break,
            Err(ChannelError::Backend { .. }) => {
                assert!(started.elapsed() < WAIT, "publishing never recovered");
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(
        next_within(&mut tab, WAIT).await,
        Some(AuthEvent::revoke(None))
    );
    raw.quit().await.unwrap();
}

#[tokio::test]
async fn redis_down_publish_fails_typed_and_local_tabs_still_hear() {
    let Some(url) = redis_url() else { return };
    let proxy = Proxy::start(&url).await;
    let prefix = fresh_prefix();
    let through_proxy = channel(&common::url_via(&url, proxy.port()), &prefix).await;
    let direct = channel(&url, &prefix).await;
    let mut local_tab = through_proxy.subscribe("local:1").await.unwrap();
    let mut remote_tab = direct.subscribe("local:1").await.unwrap();

    proxy.down().await;
    let started = Instant::now();
    let result = through_proxy.revoke("local:1").await;
    assert!(
        matches!(result, Err(ChannelError::Backend { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        next_within(&mut local_tab, WAIT).await,
        Some(AuthEvent::revoke(None)),
        "the local tab of the publishing process"
    );
    assert_eq!(
        next_within(&mut remote_tab, Duration::from_millis(300)).await,
        None
    );

    // Redis comes back: the channel reconnects by itself, the tabs resync,
    // and events flow both ways again.
    proxy.up().await;
    assert_eq!(
        next_within(&mut local_tab, WAIT).await,
        Some(AuthEvent::Resync)
    );
    eventually("the channel to reconnect", || through_proxy.is_connected()).await;
    let event = AuthEvent::update_claims(vec![Claim::new("back", "up")]);
    direct.publish("local:1", event.clone()).await.unwrap();
    assert_eq!(next_within(&mut local_tab, WAIT).await, Some(event.clone()));
    // The publisher's own tab hears it locally; take it now, so the next
    // event it reads can only have come through Redis.
    assert_eq!(next_within(&mut remote_tab, WAIT).await, Some(event));
    let started = Instant::now();
    let event = AuthEvent::update_claims(vec![Claim::new("and", "out")]);
    loop {
        match through_proxy.publish("local:1", event.clone()).await {
            Ok(()) => break,
            Err(_) if started.elapsed() < WAIT => {}
            Err(error) => panic!("publishing never recovered: {error}"),
        }
    }
    assert_eq!(next_within(&mut remote_tab, WAIT).await, Some(event));
}

#[tokio::test]
async fn redis_down_during_a_grant_the_store_and_session_keep_the_claim() {
    let Some(url) = redis_url() else { return };
    let proxy = Proxy::start(&url).await;
    let channel = Arc::new(channel(&common::url_via(&url, proxy.port()), &fresh_prefix()).await);
    let store = Arc::new(MemoryStore::new());
    let sessions = Sessions::new(
        Arc::new(MemorySessionBackend::new()),
        store.clone(),
        SessionConfig::new(),
    )
    .unwrap();
    let actions = AuthActions::new(store.clone(), sessions.clone(), channel.clone());
    store
        .create_user(NewUser::new("local:ada").with_name("Ada"))
        .await
        .unwrap();
    let (_, session) = sessions
        .sign_in(None, Principal::authenticated("local:ada", "Ada", vec![]))
        .await
        .unwrap();
    let mut tab = channel.subscribe("local:ada").await.unwrap();

    proxy.down().await;
    let granted = actions
        .grant(session.principal(), Some(&session.key), "role", "admin")
        .await
        .expect("the channel is best-effort: the grant succeeds");
    assert!(granted.has_claim("role", Some("admin")));

    let user = store.get_user("local:ada").await.unwrap().unwrap();
    assert!(user.claims.contains(&Claim::new("role", "admin")));
    let reloaded = sessions.load(&session.key).await.unwrap().unwrap();
    assert!(reloaded.principal().has_claim("role", Some("admin")));
    // This process's tab heard it directly.
    let event = next_within(&mut tab, WAIT).await.unwrap();
    assert!(
        event
            .apply(&Principal::authenticated("local:ada", "Ada", vec![]), None)
            .unwrap()
            .has_claim("role", Some("admin"))
    );
    proxy.up().await;
}

#[tokio::test]
async fn dropping_the_channel_closes_its_connections_and_ends_local_streams() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    let channel = channel(&url, &prefix).await;
    let mut tab = channel.subscribe("local:1").await.unwrap();
    let names: Vec<String> = [Some(channel.subscriber_name()), channel.publisher_name()]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    assert_eq!(names.len(), 2);
    drop(channel);
    assert_eq!(next_within(&mut tab, WAIT).await, None);
    let raw = raw_client(&url).await;
    let started = Instant::now();
    loop {
        let mut open = 0;
        for name in &names {
            open += common::connections_named(&raw, name).await.len();
        }
        if open == 0 {
            break;
        }
        assert!(started.elapsed() < WAIT, "{open} connections still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    raw.quit().await.unwrap();
}

#[tokio::test]
async fn a_flood_ends_in_the_latest_state_or_a_resync_never_a_stale_one() {
    let Some(url) = redis_url() else { return };
    let prefix = fresh_prefix();
    // A one-message buffer, so a flood can overflow it.
    let channel = auth_channel_redis::RedisAuthChannel::builder(&common::settings(&url, &prefix))
        .with_message_buffer(1)
        .connect()
        .await
        .unwrap();
    let mut tab = channel.subscribe("local:1").await.unwrap();
    let raw = raw_client(&url).await;
    let pipeline = raw.pipeline();
    let topic = format!("{prefix}:user:local:1");
    for i in 0..2_000 {
        let event = AuthEvent::update_claims(vec![Claim::new("n", i.to_string())]);
        let text = auth_channel_redis::wire::encode(&event, "flood").unwrap();
        let _: () = auth_channel_redis::fred::interfaces::PubsubInterface::publish(
            &pipeline,
            topic.as_str(),
            text,
        )
        .await
        .unwrap();
    }
    let _: Vec<i64> = pipeline.all().await.unwrap();

    let mut last = None;
    while let Some(event) = next_within(&mut tab, Duration::from_millis(500)).await {
        last = Some(event);
    }
    let latest = AuthEvent::update_claims(vec![Claim::new("n", "1999")]);
    match last {
        Some(AuthEvent::Resync) => {
            assert!(channel.resyncs() > 0 || channel.dropped_messages() > 0);
        }
        Some(event) => assert_eq!(event, latest, "the tab ended on a stale state"),
        None => panic!("the flood delivered nothing"),
    }
    raw.quit().await.unwrap();
}
