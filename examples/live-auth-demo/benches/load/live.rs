//! Grant → frame latency over the live WebSocket, for many tabs of one
//! session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use hyper::StatusCode;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::{COOKIE, ORIGIN};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::BoxError;
use crate::client::{Http, REQUEST_TIMEOUT};
use crate::pages::PAGE_CLIENT;
use crate::stats::Run;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a tab's reader runs at most; it stops by itself after that.
const TAB_LIFETIME: Duration = Duration::from_secs(600);

/// How long the driver waits for every tab's frame after one grant.
const ROUND_TIMEOUT: Duration = Duration::from_secs(10);

/// What a tab's reader reports.
enum TabEvent {
    /// An update frame arrived: when, and whether it shows the admin region.
    Frame { at: Instant, visible: bool },
    /// The socket ended or sent something unexpected.
    Gone(String),
}

/// Open tabs: their readers and the events they report.
pub(crate) struct Tabs {
    events: mpsc::UnboundedReceiver<TabEvent>,
    readers: Vec<JoinHandle<()>>,
}

impl Drop for Tabs {
    fn drop(&mut self) {
        // Dropping a reader's socket closes the connection.
        for reader in &self.readers {
            reader.abort();
        }
    }
}

/// `Some(admin region visible)` for an update frame; `None` otherwise.
fn admin_visible(frame: &str) -> Option<bool> {
    frame
        .contains(r#""type":"update""#)
        .then(|| frame.contains("Admin content visible."))
}

/// The driver's own socket buffers: small, so that 10,000 tabs do not
/// cost the client a gigabyte (tungstenite zeroes its whole read buffer,
/// 128 KiB by default, before the first read); frames larger than it
/// still arrive whole.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

/// Opens one tab: the upgrade with the session cookie and a same-site
/// `Origin`, then the first frame (the current state, admin hidden).
async fn open_tab(server: SocketAddr, cookie: Arc<str>) -> Result<Socket, BoxError> {
    let mut request = format!("ws://{server}/auth/live?page=live").into_client_request()?;
    request
        .headers_mut()
        .insert(COOKIE, HeaderValue::from_str(&cookie)?);
    request
        .headers_mut()
        .insert(ORIGIN, HeaderValue::from_str(&format!("http://{server}"))?);
    let (mut socket, _) = tokio::time::timeout(
        REQUEST_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(request, Some(client_config()), true),
    )
    .await??;
    loop {
        match tokio::time::timeout(REQUEST_TIMEOUT, socket.next()).await? {
            Some(Ok(Message::Text(text))) => {
                return match admin_visible(text.as_str()) {
                    Some(false) => Ok(socket),
                    _ => Err(format!("unexpected first frame: {}", text.as_str()).into()),
                };
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
            None => return Err("the socket closed before its first frame".into()),
        }
    }
}

/// Reads a tab's frames until it closes or its lifetime ends.
async fn read_tab(mut socket: Socket, events: mpsc::UnboundedSender<TabEvent>) {
    let end = tokio::time::Instant::now() + TAB_LIFETIME;
    loop {
        let event = match tokio::time::timeout_at(end, socket.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(text)))) => {
                let at = Instant::now();
                match admin_visible(text.as_str()) {
                    Some(visible) => TabEvent::Frame { at, visible },
                    None => TabEvent::Gone(format!("unexpected frame: {}", text.as_str())),
                }
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(error))) => TabEvent::Gone(error.to_string()),
            Ok(None) => TabEvent::Gone("the socket closed".to_owned()),
        };
        let gone = matches!(event, TabEvent::Gone(_));
        if events.send(event).is_err() || gone {
            break;
        }
    }
    let _ = socket.close(None).await;
}

/// Opens `count` tabs, `parallel` upgrades at a time, spread over the
/// sessions `cookies` in turn (a session holds at most
/// `DEFAULT_MAX_SOCKETS_PER_SESSION` sockets); returns them and how long
/// opening took.
pub(crate) async fn open_tabs(
    server: SocketAddr,
    cookies: &[Arc<str>],
    count: usize,
    parallel: usize,
) -> Result<(Tabs, Duration), BoxError> {
    if cookies.is_empty() {
        return Err("no session to open tabs with".into());
    }
    let started = Instant::now();
    let sockets: Vec<Result<Socket, BoxError>> = stream::iter(0..count)
        .map(|index| open_tab(server, cookies[index % cookies.len()].clone()))
        .buffer_unordered(parallel)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let (sender, events) = mpsc::unbounded_channel();
    let mut tabs = Tabs {
        events,
        readers: Vec::with_capacity(count),
    };
    for socket in sockets {
        tabs.readers
            .push(tokio::spawn(read_tab(socket?, sender.clone())));
    }
    Ok((tabs, elapsed))
}

impl Tabs {
    /// How many tabs are open.
    pub(crate) fn len(&self) -> usize {
        self.readers.len()
    }
}

/// Per-grant latencies: the POST's answer, the first tab's frame, the last
/// tab's frame (each from just before the POST).
pub(crate) struct Grants {
    pub(crate) answered: Run,
    pub(crate) first: Run,
    pub(crate) last: Run,
}

/// Makes `rounds` changes through `POST /live/grant-admin` and
/// `POST /live/revoke-admin` alternately (the buttons of the page, from the
/// same session as the tabs), and waits after each until every tab has
/// received the frame with the new state.
pub(crate) async fn grant_rounds(
    server: SocketAddr,
    cookie: &str,
    tabs: &mut Tabs,
    rounds: usize,
) -> Result<Grants, BoxError> {
    let count = tabs.len();
    let mut grants = Grants {
        answered: Run::default(),
        first: Run::default(),
        last: Run::default(),
    };
    let started = Instant::now();
    for round in 0..rounds {
        let visible = round % 2 == 0;
        let path = if visible {
            "/live/grant-admin"
        } else {
            "/live/revoke-admin"
        };
        if let Ok(stale) = tabs.events.try_recv() {
            return Err(match stale {
                TabEvent::Gone(why) => why,
                TabEvent::Frame { .. } => "a frame arrived between grants".to_owned(),
            }
            .into());
        }
        // A connection per grant: a round with many tabs can outlast the
        // server's keep-alive (actix-web closes an idle one after 5 s).
        let mut http = Http::connect(server, PAGE_CLIENT).await?;
        let sent = Instant::now();
        let reply = http.post_form(path, Some(cookie), "").await?;
        if reply.status != StatusCode::SEE_OTHER {
            return Err(format!("{path} answered {}", reply.status).into());
        }
        grants.answered.samples.push(sent.elapsed());
        let deadline = tokio::time::Instant::from_std(sent + ROUND_TIMEOUT);
        let (mut received, mut first, mut last) = (0, Duration::MAX, Duration::ZERO);
        while received < count {
            match tokio::time::timeout_at(deadline, tabs.events.recv()).await {
                Ok(Some(TabEvent::Frame { at, visible: shown })) if shown == visible => {
                    received += 1;
                    let after = at.saturating_duration_since(sent);
                    first = first.min(after);
                    last = last.max(after);
                }
                Ok(Some(TabEvent::Frame { .. })) => {
                    return Err(format!("a tab showed the wrong state after {path}").into());
                }
                Ok(Some(TabEvent::Gone(why))) => return Err(why.into()),
                Ok(None) => return Err("every tab reader ended".into()),
                Err(_) => {
                    let missing = count - received;
                    grants
                        .last
                        .fail(|| format!("{missing} tabs got no frame within 10 s"));
                    break;
                }
            }
        }
        if received == count {
            grants.first.samples.push(first);
            grants.last.samples.push(last);
        }
    }
    let elapsed = started.elapsed();
    grants.answered.elapsed = elapsed;
    grants.first.elapsed = elapsed;
    grants.last.elapsed = elapsed;
    Ok(grants)
}
