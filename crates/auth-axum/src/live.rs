//! The live WebSocket: axum's upgrade and socket, driving
//! [`auth_http::LiveConnection`].

use auth_http::{Incoming, LiveAuth, LiveConnection, MAX_MESSAGE_BYTES, Outgoing};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};

use crate::router::{into_axum, neutral};

/// `GET {prefix}/live?page=<id>`: the web layer decides (same origin,
/// signed in, known page, guard), then axum upgrades.
pub(crate) async fn upgrade(auth: LiveAuth, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &()).await;
    let connection = match auth.live_upgrade(&neutral(&auth, parts)).await {
        Ok(connection) => connection,
        Err(refusal) => return into_axum(refusal),
    };
    match upgrade {
        Ok(upgrade) => upgrade
            .max_message_size(MAX_MESSAGE_BYTES)
            .max_frame_size(MAX_MESSAGE_BYTES)
            .on_upgrade(move |socket| run(connection, socket)),
        Err(rejection) => rejection.into_response(),
    }
}

async fn run(connection: LiveConnection, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let incoming = stream.map(|message| match message {
        Ok(Message::Text(text)) => Incoming::Text(text.as_str().to_owned()),
        Ok(Message::Close(_)) | Err(_) => Incoming::Closed,
        Ok(_) => Incoming::Other,
    });
    let outgoing = sink.with(|out: Outgoing| future::ready(Ok::<_, axum::Error>(message(out))));
    connection.run(incoming, Box::pin(outgoing)).await;
}

fn message(out: Outgoing) -> Message {
    match out {
        Outgoing::Text(text) => Message::Text(text.into()),
        Outgoing::Close(code) => Message::Close(Some(CloseFrame {
            code,
            reason: "".into(),
        })),
        // A kind this adapter does not know yet: close normally.
        _ => Message::Close(None),
    }
}
