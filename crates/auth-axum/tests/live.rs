//! The live WebSocket, against a real server on a loopback port.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{TestApp, app, serve, sign_in};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(
    addr: SocketAddr,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Socket, WsError> {
    let mut request = format!("ws://{addr}/auth/live?page=live")
        .into_client_request()
        .unwrap();
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).expect("JSON frame");
        }
    }
}

async fn no_frame(socket: &mut Socket, wait: Duration) {
    if let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(wait, socket.next()).await {
        panic!("unexpected frame: {text}");
    }
}

fn refused_status(result: Result<Socket, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, the upgrade succeeded"),
    }
}

async fn signed_in_socket(
    app: &TestApp,
    addr: SocketAddr,
    user: &str,
) -> (Socket, auth_core::SessionKey) {
    let (cookie, key) = sign_in(app, user).await;
    let origin = format!("http://{addr}");
    let mut socket = connect(addr, Some(&cookie), Some(&origin))
        .await
        .expect("upgrade");
    let first = next_frame(&mut socket).await;
    assert_eq!(first["type"], "update", "{first}");
    (socket, key)
}

#[tokio::test]
async fn cross_site_and_anonymous_upgrades_are_refused() {
    let app = app();
    let addr = serve(&app).await;
    let (cookie, _) = sign_in(&app, "local:ada").await;
    assert_eq!(
        refused_status(connect(addr, Some(&cookie), Some("http://evil.example")).await),
        403
    );
    assert_eq!(
        refused_status(connect(addr, Some(&cookie), Some("null")).await),
        403
    );
    assert_eq!(
        refused_status(connect(addr, None, Some(&format!("http://{addr}"))).await),
        401
    );
    assert_eq!(
        refused_status(connect(addr, Some("live_auth=garbage"), None).await),
        401
    );
}

#[tokio::test]
async fn unknown_pages_are_refused() {
    let app = app();
    let addr = serve(&app).await;
    let (cookie, _) = sign_in(&app, "local:ada").await;
    let mut request = format!("ws://{addr}/auth/live?page=nope")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    assert_eq!(
        refused_status(
            tokio_tungstenite::connect_async(request)
                .await
                .map(|(s, _)| s)
        ),
        404
    );
}

#[tokio::test]
async fn a_grant_reaches_every_tab_with_the_region_rendered() {
    let app = app();
    let addr = serve(&app).await;
    let (mut tab1, key) = signed_in_socket(&app, addr, "local:ada").await;
    let (mut tab2, _) = signed_in_socket(&app, addr, "local:ada").await;

    let principal = app
        .auth
        .sessions()
        .load(&key)
        .await
        .unwrap()
        .unwrap()
        .record
        .principal;
    app.auth
        .actions()
        .grant(&principal, Some(&key), "role", "admin")
        .await
        .unwrap();
    for tab in [&mut tab1, &mut tab2] {
        let frame = next_frame(tab).await;
        assert_eq!(frame["type"], "update");
        assert_eq!(frame["regions"]["admin"], "SECRET admin content");
        assert_eq!(frame["regions"]["claims"], "role=admin");
    }

    let principal = app
        .auth
        .sessions()
        .load(&key)
        .await
        .unwrap()
        .unwrap()
        .record
        .principal;
    app.auth
        .actions()
        .revoke_claim(&principal, Some(&key), "role")
        .await
        .unwrap();
    for tab in [&mut tab1, &mut tab2] {
        let frame = next_frame(tab).await;
        assert_eq!(frame["regions"]["admin"], "admin content hidden");
        assert!(!frame.to_string().contains("SECRET"), "{frame}");
    }
}

#[tokio::test]
async fn revoking_a_session_navigates_only_its_tabs() {
    let app = app();
    let addr = serve(&app).await;
    let (mut mine, key) = signed_in_socket(&app, addr, "local:ada").await;
    let (mut other, _) = signed_in_socket(&app, addr, "local:ada").await;

    let principal = app
        .auth
        .sessions()
        .load(&key)
        .await
        .unwrap()
        .unwrap()
        .record
        .principal;
    app.auth
        .actions()
        .revoke_session(&principal, &key)
        .await
        .unwrap();
    let frame = next_frame(&mut mine).await;
    assert_eq!(frame["type"], "navigate");
    assert_eq!(frame["to"], "/login_local");
    no_frame(&mut other, Duration::from_millis(500)).await;

    app.auth
        .actions()
        .revoke_all_sessions(&principal)
        .await
        .unwrap();
    let frame = next_frame(&mut other).await;
    assert_eq!(frame["type"], "navigate");
}

#[tokio::test]
async fn a_session_ended_without_an_event_is_noticed_by_the_periodic_check() {
    let app = app();
    let addr = serve(&app).await;
    let (mut tab, key) = signed_in_socket(&app, addr, "local:ada").await;
    // Deleted behind the channel's back (e.g. expired in the backend).
    app.auth.sessions().sign_out(&key).await.unwrap();
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "navigate");
}

#[tokio::test]
async fn a_resync_from_the_channel_always_sends_the_state() {
    let app = app();
    let addr = serve(&app).await;
    let (mut tab, key) = signed_in_socket(&app, addr, "local:ada").await;
    let channel = app.auth.actions().channel().clone();

    // Nothing changed, yet the tab gets the whole state to re-render from.
    channel
        .publish("local:ada", auth_core::AuthEvent::Resync)
        .await
        .unwrap();
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "update", "{frame}");
    assert_eq!(frame["authenticated"], true, "{frame}");
    assert_eq!(frame["regions"]["admin"], "admin content hidden", "{frame}");

    // A session that ended while events were lost: the resync navigates.
    app.auth.sessions().sign_out(&key).await.unwrap();
    channel
        .publish("local:ada", auth_core::AuthEvent::Resync)
        .await
        .unwrap();
    assert_eq!(next_frame(&mut tab).await["type"], "navigate");
}

#[tokio::test]
async fn the_client_can_ask_for_the_state_again() {
    let app = app();
    let addr = serve(&app).await;
    let (mut tab, _) = signed_in_socket(&app, addr, "local:ada").await;
    tab.send(Message::Text("resync".into())).await.unwrap();
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "update");
    // Garbage from the client is ignored, not fatal.
    tab.send(Message::Text("{not json".into())).await.unwrap();
    tab.send(Message::Binary(vec![0, 1, 2].into()))
        .await
        .unwrap();
    tab.send(Message::Text("resync".into())).await.unwrap();
    assert_eq!(next_frame(&mut tab).await["type"], "update");
}

#[tokio::test]
async fn one_grant_among_a_thousand_connections_reaches_exactly_its_user() {
    let app = app();
    let addr = serve(&app).await;
    let origin = format!("http://{addr}");
    let mut tabs = Vec::new();
    for user in 0..100 {
        let user_id = format!("local:user{user}");
        let (cookie, _) = sign_in(&app, &user_id).await;
        for _ in 0..10 {
            let mut socket = connect(addr, Some(&cookie), Some(&origin))
                .await
                .expect("upgrade");
            assert_eq!(next_frame(&mut socket).await["type"], "update");
            tabs.push((user, socket));
        }
    }
    assert_eq!(tabs.len(), 1000);

    let (_, key) = sign_in(&app, "local:user42").await;
    let principal = app
        .auth
        .sessions()
        .load(&key)
        .await
        .unwrap()
        .unwrap()
        .record
        .principal;
    app.auth
        .actions()
        .grant(&principal, None, "role", "admin")
        .await
        .unwrap();

    let mut reached = 0;
    for (user, socket) in &mut tabs {
        if *user == 42 {
            let frame = next_frame(socket).await;
            assert_eq!(frame["regions"]["admin"], "SECRET admin content");
            reached += 1;
        }
    }
    assert_eq!(reached, 10);
    // Nobody else heard anything: after a pause, no other socket has a
    // frame waiting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (_, socket) in tabs.iter_mut().filter(|(user, _)| *user != 42) {
        no_frame(socket, Duration::from_millis(1)).await;
    }
}
