//! A keep-alive HTTP/1.1 client connection over a real loopback socket.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpSocket;

use crate::BoxError;

/// How long one request may take before it counts as failed.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A reply with its body read to the end (so the connection can be reused).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    /// The `name=value` part of the `Set-Cookie` header.
    pub(crate) cookie: Option<String>,
    pub(crate) body: Bytes,
}

/// One client connection, kept alive between requests.
pub(crate) struct Http {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Http {
    /// Connects to `server` from the loopback address `from` (port chosen
    /// by the system), so that the server sees `from` as the client.
    pub(crate) async fn connect(server: SocketAddr, from: IpAddr) -> Result<Self, BoxError> {
        if !server.ip().is_loopback() || !from.is_loopback() {
            return Err("the load driver only talks over loopback".into());
        }
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, socket.connect(server)).await??;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        // Drives the connection; ends when the sender is dropped or the
        // server closes.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: server.to_string(),
        })
    }

    /// `GET path`, with the session cookie when given.
    pub(crate) async fn get(
        &mut self,
        path: &str,
        cookie: Option<&str>,
    ) -> Result<Reply, BoxError> {
        self.send(Method::GET, path, cookie, None).await
    }

    /// `POST path` with a form body and a same-site `Origin`, as a browser
    /// posts a form.
    pub(crate) async fn post_form(
        &mut self,
        path: &str,
        cookie: Option<&str>,
        form: &str,
    ) -> Result<Reply, BoxError> {
        self.send(Method::POST, path, cookie, Some(form.to_owned()))
            .await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        form: Option<String>,
    ) -> Result<Reply, BoxError> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, &self.host);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let body = match form {
            Some(form) => {
                request = request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(ORIGIN, format!("http://{}", self.host));
                Full::new(Bytes::from(form))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body)?;
        let exchange = async {
            self.sender.ready().await?;
            let response = self.sender.send_request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, BoxError>((parts, body))
        };
        let (parts, body) = tokio::time::timeout(REQUEST_TIMEOUT, exchange).await??;
        let text = |name| {
            parts
                .headers
                .get(name)
                .and_then(|value: &hyper::header::HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Reply {
            status: parts.status,
            location: text(LOCATION),
            cookie: text(SET_COOKIE).and_then(|set| set.split(';').next().map(str::to_owned)),
            body,
        })
    }
}

/// `application/x-www-form-urlencoded` for the few characters the driver's
/// values use.
pub(crate) fn form_value(value: &str) -> String {
    value.replace('@', "%40").replace(' ', "+")
}
