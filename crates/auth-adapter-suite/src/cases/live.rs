//! The live socket: refusals, updates to every tab, ordering, limits.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use super::{signed_in_socket, whoami};
use crate::client::{connect, frame_within, next_frame, refused_status};
use crate::{Adapter, Served};

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

/// Many grants and revokes in a row, from two tasks at once: whatever
/// frames a tab skips, the last one it shows is the session's final state.
pub async fn a_storm_of_grants_and_revokes_ends_in_the_last_state<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, key) = served.sign_in("local:ada").await;
    let mut tab = signed_in_socket(&served, &cookie).await;
    let storm = |served_auth: auth_http::LiveAuth, key: auth_core::SessionKey| async move {
        for round in 0..100 {
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
    let first = tokio::spawn(storm(served.auth.clone(), key.clone()));
    let second = tokio::spawn(storm(served.auth.clone(), key.clone()));
    first.await.expect("storm ran");
    second.await.expect("storm ran");
    let principal = served.principal(&key).await;
    served
        .auth
        .actions()
        .grant(&principal, Some(&key), "role", "admin")
        .await
        .expect("granted");

    let mut last = None;
    while let Some(frame) = frame_within(&mut tab, Duration::from_millis(1500)).await {
        last = Some(frame);
    }
    let last = last.expect("the tab heard the storm");
    assert_eq!(last["regions"]["admin"], "SECRET admin content", "{last}");
    assert_eq!(last["regions"]["claims"], "role=admin", "{last}");
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

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! live_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, live;
            cross_site_and_anonymous_upgrades_are_refused,
            a_grant_reaches_every_tab_with_the_region_rendered,
            a_storm_of_grants_and_revokes_ends_in_the_last_state,
            revoking_a_session_navigates_only_its_tabs,
            oversized_socket_frames_close_the_socket,
        );
    };
}
