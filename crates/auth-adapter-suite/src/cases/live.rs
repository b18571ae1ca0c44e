//! The live socket: refusals, updates to every tab, ordering, limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_core::{AuthEvent, Principal};
use auth_http::{LivePage, Region};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{signed_in_socket, whoami};
use crate::client::{WAIT, connect, connect_page, frame_within, next_frame, refused_status};
use crate::{Adapter, Served, live_auth_with};

/// Cross site and anonymous upgrades are refused.
pub async fn cross_site_and_anonymous_upgrades_are_refused<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let origin = served.origin();
    let hostile = connect(served.addr, Some(&cookie), Some("http://evil.example")).await;
    assert_eq!(refused_status(hostile), 403);
    assert_eq!(
        refused_status(connect(served.addr, Some(&cookie), Some("null")).await),
        403
    );
    assert_eq!(
        refused_status(connect(served.addr, None, Some(&origin)).await),
        401
    );
    let forged = connect(served.addr, Some("live_auth=garbage"), Some(&origin)).await;
    assert_eq!(refused_status(forged), 401);
    let forged = connect(served.addr, Some("live_auth=garbage"), None).await;
    assert_eq!(
        refused_status(forged),
        401,
        "no origin still needs a session"
    );
}

/// Unknown pages are refused.
pub async fn unknown_pages_are_refused<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let origin = served.origin();
    let mut request = format!("ws://{}/auth/live?page=nope", served.addr)
        .into_client_request()
        .expect("valid URL");
    for (name, value) in [("cookie", &cookie), ("origin", &origin)] {
        request
            .headers_mut()
            .insert(name, value.parse().expect("valid header"));
    }
    let refused = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("the upgrade was answered in time")
        .map(|(socket, _)| socket);
    assert_eq!(refused_status(refused), 404);
}

/// A grant reaches every tab with the region rendered.
pub async fn a_grant_reaches_every_tab_with_the_region_rendered<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tab1 = signed_in_socket(&served, &cookie).await;
    let mut tab2 = signed_in_socket(&served, &cookie).await;
    let actions = served.auth.actions();
    let principal = served.principal(&key).await;
    actions
        .grant(&principal, Some(&key), "role", "admin")
        .await
        .expect("granted");
    for tab in [&mut tab1, &mut tab2] {
        let frame = next_frame(tab).await;
        assert_eq!(frame["type"], "update");
        assert_eq!(frame["regions"]["admin"], "SECRET admin content");
        assert_eq!(frame["regions"]["claims"], "role=admin");
    }
    let principal = served.principal(&key).await;
    actions
        .revoke_claim(&principal, Some(&key), "role")
        .await
        .expect("revoked");
    for tab in [&mut tab1, &mut tab2] {
        let frame = next_frame(tab).await;
        assert_eq!(frame["regions"]["admin"], "admin content hidden");
        assert!(!frame.to_string().contains("SECRET"), "{frame}");
    }
}

/// Hundreds of grants and revokes, from two sessions of the user at once
/// (so events can be published in another order than the store was
/// written): whatever frames a tab skips, the last one it shows is the
/// store's final state.
pub async fn a_storm_of_grants_and_revokes_ends_in_the_last_state<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    let (_, other) = served.sign_in("local:ada").await;
    let mut tab = signed_in_socket(&served, &cookie).await;
    // One session ends on a grant, the other on a revoke: which lands last
    // is up to the scheduler, and only the store knows.
    let storm = |served_auth: auth_http::LiveAuth, key: auth_core::SessionKey, offset: usize| async move {
        for round in offset..150 + offset {
            let principal = served_auth
                .sessions()
                .load(&key)
                .await
                .expect("backend works")
                .expect("session exists")
                .record
                .principal;
            let actions = served_auth.actions();
            if round % 2 == 0 {
                actions.grant(&principal, Some(&key), "role", "admin").await
            } else {
                actions.revoke_claim(&principal, Some(&key), "role").await
            }
            .expect("the writer works");
        }
    };
    let first = tokio::spawn(storm(served.auth.clone(), key.clone(), 0));
    let second = tokio::spawn(storm(served.auth.clone(), other, 1));
    first.await.expect("storm ran");
    second.await.expect("storm ran");
    let stored = served
        .auth
        .actions()
        .store()
        .get_user("local:ada")
        .await
        .expect("store works")
        .expect("user exists");
    let admin = stored
        .claims
        .iter()
        .any(|c| c.kind == "role" && c.value == "admin");

    // The tab shows its first state until a frame says otherwise; when the
    // storm ends where it began, no frame is owed.
    let mut last = serde_json::json!({
        "regions": {"admin": "admin content hidden", "claims": ""}
    });
    while let Some(frame) = frame_within(&mut tab, Duration::from_millis(1500)).await {
        last = frame;
    }
    let (region, claims) = if admin {
        ("SECRET admin content", "role=admin")
    } else {
        ("admin content hidden", "")
    };
    assert_eq!(
        last["regions"]["admin"], region,
        "store admin={admin}: {last}"
    );
    assert_eq!(
        last["regions"]["claims"], claims,
        "store admin={admin}: {last}"
    );
}

/// Revoking a session navigates only its tabs.
pub async fn revoking_a_session_navigates_only_its_tabs<A: Adapter>() {
    let served = Served::start::<A>();
    let (mine_cookie, key) = served.sign_in("local:ada").await;
    let (other_cookie, _) = served.sign_in("local:ada").await;
    let mut mine = signed_in_socket(&served, &mine_cookie).await;
    let mut other = signed_in_socket(&served, &other_cookie).await;
    let principal = served.principal(&key).await;
    served
        .auth
        .actions()
        .revoke_session(&principal, &key)
        .await
        .expect("revoked");
    let frame = next_frame(&mut mine).await;
    assert_eq!(frame["type"], "navigate");
    assert_eq!(frame["to"], "/login_local");
    assert_eq!(
        frame_within(&mut other, Duration::from_millis(500)).await,
        None
    );
    assert_eq!(whoami(&served, &other_cookie).await, "name of local:ada");

    served
        .auth
        .actions()
        .revoke_all_sessions(&principal)
        .await
        .expect("revoked");
    let frame = next_frame(&mut other).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert_eq!(whoami(&served, &other_cookie).await, "anonymous");
}

/// A session ended without an event (expired in the backend) is noticed by
/// the periodic check.
pub async fn a_session_ended_without_an_event_is_noticed_by_the_periodic_check<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tab = signed_in_socket(&served, &cookie).await;
    // Deleted behind the channel's back.
    served
        .auth
        .sessions()
        .sign_out(&key)
        .await
        .expect("signed out");
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
}

/// A resync from the channel always sends the state, and navigates a tab
/// whose session ended while events were lost.
pub async fn a_resync_from_the_channel_always_sends_the_state<A: Adapter>() {
    // No periodic check within the test: only the resync can tell the tab.
    let auth =
        live_auth_with(|builder| builder.with_session_check_interval(Duration::from_secs(3600)))
            .expect("valid settings");
    let served = Served::serve::<A>(auth);
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tab = signed_in_socket(&served, &cookie).await;
    let channel = served.auth.actions().channel().clone();

    // Nothing changed, yet the tab gets the whole state to re-render from.
    channel
        .publish("local:ada", AuthEvent::Resync)
        .await
        .expect("published");
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "update", "{frame}");
    assert_eq!(frame["authenticated"], true, "{frame}");
    assert_eq!(frame["regions"]["admin"], "admin content hidden", "{frame}");

    served
        .auth
        .sessions()
        .sign_out(&key)
        .await
        .expect("signed out");
    assert_eq!(
        frame_within(&mut tab, Duration::from_millis(300)).await,
        None,
        "a silent sign-out sends nothing by itself"
    );
    channel
        .publish("local:ada", AuthEvent::Resync)
        .await
        .expect("published");
    assert_eq!(next_frame(&mut tab).await["type"], "navigate");
}

/// The client can ask for the state again; garbage from it is ignored.
pub async fn the_client_can_ask_for_the_state_again<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let mut tab = signed_in_socket(&served, &cookie).await;
    tab.send(Message::text("resync")).await.expect("sent");
    assert_eq!(next_frame(&mut tab).await["type"], "update");
    tab.send(Message::text("{not json")).await.expect("sent");
    tab.send(Message::binary(vec![0, 1, 2]))
        .await
        .expect("sent");
    tab.send(Message::text("resync")).await.expect("sent");
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "update", "{frame}");
    assert_eq!(frame["authenticated"], true, "{frame}");
}

/// Users in the thousand-connection case. 100 users × 10 tabs is 1,000
/// sockets, 2,000 descriptors in the test process (both ends are here):
/// under the usual `ulimit -n` of 4,096 (20,000 where it was written), with
/// room for the other cases running at the same time.
const USERS: usize = 100;
/// Tabs per user in the thousand-connection case.
const TABS: usize = 10;

/// One grant among a thousand connections reaches exactly its user's tabs.
pub async fn one_grant_among_a_thousand_connections_reaches_exactly_its_user<A: Adapter>() {
    let served = Served::start::<A>();
    let origin = served.origin();
    let mut tabs = Vec::with_capacity(USERS * TABS);
    for user in 0..USERS {
        let (cookie, _) = served.sign_in(&format!("local:user{user}")).await;
        // One user's tabs open at once, as a browser restoring them would.
        let opened = futures_util::future::join_all((0..TABS).map(|_| async {
            let mut socket = connect(served.addr, Some(&cookie), Some(&origin))
                .await
                .expect("upgrade");
            assert_eq!(next_frame(&mut socket).await["type"], "update");
            socket
        }))
        .await;
        tabs.extend(opened.into_iter().map(|socket| (user, socket)));
    }
    assert_eq!(tabs.len(), USERS * TABS);

    let (_, key) = served.sign_in("local:user42").await;
    let principal = served.principal(&key).await;
    served
        .auth
        .actions()
        .grant(&principal, None, "role", "admin")
        .await
        .expect("granted");

    let mut reached = 0;
    for (user, socket) in &mut tabs {
        if *user == 42 {
            let frame = next_frame(socket).await;
            assert_eq!(frame["regions"]["admin"], "SECRET admin content", "{frame}");
            reached += 1;
        }
    }
    assert_eq!(reached, TABS);
    // Nobody else heard anything: after a pause, no other socket has a
    // frame waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (user, socket) in tabs.iter_mut().filter(|(user, _)| *user != 42) {
        let frame = frame_within(socket, Duration::from_millis(1)).await;
        assert_eq!(frame, None, "user{user} heard another user's grant");
    }
}

/// Oversized socket frames close the socket.
pub async fn oversized_socket_frames_close_the_socket<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let mut socket = signed_in_socket(&served, &cookie).await;
    let huge = "x".repeat(64 * 1024);
    // The server may close before it has read the whole frame.
    let _ = socket.send(Message::text(huge)).await;
    let started = Instant::now();
    assert_eq!(
        frame_within(&mut socket, Duration::from_secs(8)).await,
        None
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the server closed the socket, not the wait: {:?}",
        started.elapsed()
    );
}

/// The size of the region in the large-frame case: far above every socket
/// buffer the adapters configure, and sixteen times the largest message a
/// tab may send.
const LARGE_REGION: usize = 64 * 1024;

/// A frame far larger than the sockets' buffers (a 64 KiB region) reaches
/// the tab whole: as the first state and again after a grant.
pub async fn a_region_larger_than_the_socket_buffers_arrives_whole<A: Adapter>() {
    let auth = live_auth_with(|builder| {
        builder.with_page(LivePage::new("large").with_region(Region::new(
            "large",
            |p: &Principal| {
                let admin = p.claims().iter().any(|c| c.kind == "role");
                let fill = if admin { "a" } else { "x" };
                fill.repeat(LARGE_REGION)
            },
        )))
    })
    .expect("valid settings");
    let served = Served::serve::<A>(auth);
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tab = connect_page(served.addr, "large", Some(&cookie), Some(&served.origin()))
        .await
        .expect("upgrade");
    let first = next_frame(&mut tab).await;
    assert_eq!(first["type"], "update");
    assert_eq!(first["regions"]["large"], "x".repeat(LARGE_REGION));
    let principal = served.principal(&key).await;
    served
        .auth
        .actions()
        .grant(&principal, Some(&key), "role", "admin")
        .await
        .expect("granted");
    let granted = next_frame(&mut tab).await;
    assert_eq!(granted["regions"]["large"], "a".repeat(LARGE_REGION));
    // The socket still works after the large frames: a small one follows.
    tab.send(Message::text("resync")).await.expect("sent");
    assert_eq!(
        next_frame(&mut tab).await["regions"]["large"],
        "a".repeat(LARGE_REGION)
    );
}

/// A change to a user with many tabs open on one page renders the page's
/// regions about once, not once per tab, and every tab gets the same
/// frame. (Tabs handled at the same moment on two threads may each render:
/// the suite's servers run at most two.)
pub async fn a_change_renders_once_for_all_of_a_users_tabs<A: Adapter>() {
    const TABS: usize = 20;
    let renders = Arc::new(AtomicUsize::new(0));
    let counted = renders.clone();
    let auth = live_auth_with(|builder| {
        builder.with_page(LivePage::new("counted").with_region(Region::new(
            "role",
            move |p: &Principal| {
                counted.fetch_add(1, Ordering::SeqCst);
                p.claim("role").unwrap_or("none").to_owned()
            },
        )))
    })
    .expect("valid settings");
    let served = Served::serve::<A>(auth);
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tabs = Vec::new();
    for _ in 0..TABS {
        let mut tab = connect_page(
            served.addr,
            "counted",
            Some(&cookie),
            Some(&served.origin()),
        )
        .await
        .expect("upgrade");
        assert_eq!(next_frame(&mut tab).await["regions"]["role"], "none");
        tabs.push(tab);
    }
    let before = renders.load(Ordering::SeqCst);
    let principal = served.principal(&key).await;
    served
        .auth
        .actions()
        .grant(&principal, Some(&key), "role", "admin")
        .await
        .expect("granted");
    let mut frames = Vec::new();
    for tab in &mut tabs {
        frames.push(next_frame(tab).await);
    }
    assert_eq!(frames[0]["regions"]["role"], "admin");
    assert!(frames.iter().all(|f| *f == frames[0]), "{frames:?}");
    let rendered = renders.load(Ordering::SeqCst) - before;
    assert!(
        (1..=2).contains(&rendered),
        "{TABS} tabs of one principal rendered the region {rendered} times"
    );
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! live_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, live;
            cross_site_and_anonymous_upgrades_are_refused,
            unknown_pages_are_refused,
            a_grant_reaches_every_tab_with_the_region_rendered,
            a_storm_of_grants_and_revokes_ends_in_the_last_state,
            revoking_a_session_navigates_only_its_tabs,
            oversized_socket_frames_close_the_socket,
            a_region_larger_than_the_socket_buffers_arrives_whole,
            a_session_ended_without_an_event_is_noticed_by_the_periodic_check,
            a_resync_from_the_channel_always_sends_the_state,
            the_client_can_ask_for_the_state_again,
            one_grant_among_a_thousand_connections_reaches_exactly_its_user,
            a_change_renders_once_for_all_of_a_users_tabs,
        );
    };
}
