//! The live WebSocket: actix-ws's upgrade and socket, driving
//! [`auth_http::LiveConnection`].

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};
use auth_http::{Incoming, LiveAuth, LiveConnection, MAX_MESSAGE_BYTES, Outgoing};
use futures_util::{StreamExt, sink};

use crate::convert::{into_actix, neutral};

/// `GET {prefix}/live?page=<id>`: the web layer decides (same origin,
/// signed in, known page, guard, sockets per session), then actix-ws
/// upgrades and the connection runs on this worker.
pub(crate) async fn upgrade(
    auth: LiveAuth,
    request: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let connection = match auth.live_upgrade(&neutral(&auth, &request)).await {
        Ok(connection) => connection,
        Err(refusal) => return into_actix(refusal),
    };
    let (response, session, stream) = match actix_ws::handle(&request, body) {
        Ok(upgraded) => upgraded,
        Err(error) => return error.error_response(),
    };
    let stream = stream
        .max_frame_size(MAX_MESSAGE_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE_BYTES);
    actix_web::rt::spawn(run(connection, session, stream));
    response
}

async fn run(connection: LiveConnection, session: Session, stream: AggregatedMessageStream) {
    let pongs = session.clone();
    let incoming = Box::pin(stream.then(move |message| {
        let mut pongs = pongs.clone();
        async move {
            match message {
                Ok(AggregatedMessage::Text(text)) => Incoming::Text(text.to_string()),
                Ok(AggregatedMessage::Ping(bytes)) => {
                    let _ = pongs.pong(&bytes).await;
                    Incoming::Other
                }
                Ok(AggregatedMessage::Close(_)) | Err(_) => Incoming::Closed,
                Ok(_) => Incoming::Other,
            }
        }
    }));
    let outgoing = Box::pin(sink::unfold(
        Some(session),
        |session, out: Outgoing| async move {
            let Some(mut session) = session else {
                return Err(actix_ws::Closed);
            };
            match out {
                Outgoing::Text(text) => session.text(text).await.map(|()| Some(session)),
                Outgoing::Close(code) => {
                    let reason = CloseReason {
                        code: CloseCode::from(code),
                        description: None,
                    };
                    session.close(Some(reason)).await.map(|()| None)
                }
                // A kind this adapter does not know yet: close normally.
                _ => session.close(None).await.map(|()| None),
            }
        },
    ));
    connection.run(incoming, outgoing).await;
}
