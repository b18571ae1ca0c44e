//! The live WebSocket: axum's upgrade and socket, driving
//! [`auth_http::LiveConnection`].

use auth_http::{Incoming, LiveAuth, LiveConnection, MAX_MESSAGE_BYTES, Outgoing};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt, future};

use crate::router::{into_axum, neutral};

/// The socket's read buffer, in bytes. tungstenite zeroes the whole buffer
/// before its first read, so its default (128 KiB) was most of what an idle
/// tab cost the server. A tab only sends `resync` (and its browser the odd
/// ping), which fits many times over; a longer message, up to
/// [`MAX_MESSAGE_BYTES`], grows the buffer for as long as it is read.
const READ_BUFFER_BYTES: usize = 512;

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
        // Frames go out as soon as they are sent (the connection flushes
        // each one anyway), so no write buffer builds up; its staging
        // vector keeps the capacity of the largest frame sent. The write
        // buffer's ceiling stays unbounded: the connection awaits each
        // frame before the next, so at most one frame (and one pong) waits,
        // and a frame is as large as the page's regions make it.
        Ok(upgrade) => upgrade
            .max_message_size(MAX_MESSAGE_BYTES)
            .max_frame_size(MAX_MESSAGE_BYTES)
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(0)
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
