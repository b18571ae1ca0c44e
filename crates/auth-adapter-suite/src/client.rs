//! A plain HTTP/1.1 and WebSocket client over real TCP, as a browser or an
//! attacker would talk to the server.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any one exchange may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// An answer: status, headers and the body as text.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, lossily decoded.
    pub body: String,
}

impl Answer {
    /// The `Location` header, or `""`.
    pub fn location(&self) -> &str {
        self.header(header::LOCATION.as_str())
    }

    /// A header's value as text, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `name=value` part of the first `Set-Cookie`.
    pub fn cookie(&self) -> String {
        let set = self.header(header::SET_COOKIE.as_str());
        set.split(';').next().unwrap_or("").to_owned()
    }
}

/// Sends one request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(connection);
        let mut request = Request::builder().method(method).uri(path);
        // The server's own address, unless the case sends a `Host` itself.
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("host"))
        {
            request = request.header(header::HOST, addr.to_string());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body.into())).expect("valid request");
        let response = sender.send_request(request).await.expect("an answer");
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    };
    tokio::time::timeout(WAIT, exchange)
        .await
        .expect("the server answered in time")
}

/// `GET path` with an optional `Cookie`.
pub async fn get(addr: SocketAddr, path: &str, cookie: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    send(addr, Method::GET, path, &headers, Bytes::new()).await
}

/// `POST path` with a urlencoded form and extra headers.
pub async fn form(
    addr: SocketAddr,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Answer {
    let body = serde_urlencoded::to_string(fields).expect("encodable form");
    let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    send(addr, Method::POST, path, &all, body).await
}

/// A live socket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the live socket of page `live` with an optional cookie and origin.
pub async fn connect(
    addr: SocketAddr,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Socket, WsError> {
    connect_page(addr, "live", cookie, origin).await
}

/// Opens the live socket of page `page` with an optional cookie and origin.
pub async fn connect_page(
    addr: SocketAddr,
    page: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Socket, WsError> {
    let mut request = format!("ws://{addr}/auth/live?page={page}")
        .into_client_request()
        .expect("valid URL");
    for (name, value) in [("cookie", cookie), ("origin", origin)] {
        if let Some(value) = value {
            request
                .headers_mut()
                .insert(name, value.parse().expect("valid header"));
        }
    }
    tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("the upgrade was answered in time")
        .map(|(socket, _)| socket)
}

/// The HTTP status of a refused upgrade; panics if it was not refused.
pub fn refused_status(result: Result<Socket, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, the upgrade succeeded"),
    }
}

/// The next text frame as JSON, within `wait`; `None` when none came or
/// the socket closed.
pub async fn frame_within(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                return Some(serde_json::from_str(text.as_str()).expect("JSON frame"));
            }
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

/// The next text frame as JSON; panics when none comes within [`WAIT`].
pub async fn next_frame(socket: &mut Socket) -> Value {
    frame_within(socket, WAIT)
        .await
        .expect("a frame within the wait")
}
