//! The live connection of one open tab, without a transport.
//!
//! Inputs are the tab's messages, the user's channel events and timer
//! ticks; each gives a [`Step`]: nothing, an update frame to send, or a
//! navigate frame and a close. [`LiveConnection::run`] drives it over any
//! socket an adapter can present as a stream of [`Incoming`] and a sink of
//! [`Outgoing`], so the loop is written once for every framework.

use std::collections::BTreeMap;

use auth_core::{AuthEvent, EventStream, Page, Principal, SessionKey, validate_user_id};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use http::StatusCode;

use crate::admin::ADMIN_AUDIT_PER_PAGE;
use crate::config::LiveAuth;
use crate::csrf::same_origin;
use crate::guard::GuardOutcome;
use crate::live::frame::Frame;
use crate::live::limits::{MessageBudget, SocketSlot};
use crate::live::page::LivePage;
use crate::request::AuthRequest;
use crate::response::{Response, text};

/// Largest message and frame a tab may send, in bytes; adapters configure
/// their WebSocket with it. The protocol's only client message is
/// `resync`.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// How long a connection that has sent its close frame goes on reading,
/// for the tab's close reply. Closing the socket with the tab's messages
/// still unread resets the TCP connection, and the tab can lose the close
/// frame (and its code) that was already on its way.
const CLOSE_REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Reads and drops the tab's messages until its close reply (or the end of
/// the socket), for at most [`CLOSE_REPLY_WAIT`].
async fn await_close_reply<I>(incoming: &mut I)
where
    I: Stream<Item = Incoming> + Unpin,
{
    let replied = async {
        while let Some(message) = incoming.next().await {
            if message == Incoming::Closed {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, replied).await;
}

/// A message from the tab, as the adapter's socket delivers it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// A text message (`resync` asks for the state again).
    Text(String),
    /// Anything else that keeps the socket open (binary, ping, pong).
    Other,
    /// The tab closed the socket, or the socket failed.
    Closed,
}

/// What the adapter sends on the socket.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outgoing {
    /// A JSON frame.
    Text(String),
    /// A close frame with this code; nothing follows it.
    Close(u16),
}

/// What a connection does after an input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Nothing to send.
    Quiet,
    /// Send this update frame.
    Send(String),
    /// Send these and stop (the last is a close).
    Finish(Vec<Outgoing>),
    /// Stop without sending (the tab is gone).
    Stop,
}

/// One open tab's live connection: its page, its session and the principal
/// it last showed. Made by [`LiveAuth::live_upgrade`].
pub struct LiveConnection {
    auth: LiveAuth,
    page: LivePage,
    key: SessionKey,
    principal: Principal,
    /// When the session ends unless something keeps it alive (Unix
    /// seconds), as of the last reload.
    expires_at: u64,
    budget: MessageBudget,
    /// The user an admin page watches (boxed: most tabs watch nobody).
    target: Option<Box<Target>>,
    _slot: SocketSlot,
}

/// The user an admin page's tab watches, and its target regions as last
/// sent.
struct Target {
    user_id: String,
    regions: BTreeMap<String, String>,
}

/// The next event of the watched user's stream; never, without one.
async fn next_watched(watched: &mut Option<EventStream>) -> Option<AuthEvent> {
    match watched {
        Some(events) => events.next().await,
        None => std::future::pending().await,
    }
}

impl std::fmt::Debug for LiveConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConnection")
            .field("page", &self.page.id())
            .finish_non_exhaustive()
    }
}

impl LiveAuth {
    /// Decides an upgrade request to `GET {prefix}/live?page=<id>`:
    /// refuses cross-site (403) and anonymous (401) upgrades, unknown pages
    /// (404), principals the page's guard refuses (403) and sessions that
    /// hold their most sockets already (429, see
    /// [`LiveAuthBuilder::with_max_sockets_per_session`](crate::LiveAuthBuilder::with_max_sockets_per_session));
    /// a session backend failure is 503. Otherwise the connection to run
    /// once the adapter has upgraded the socket; it holds its place in the
    /// session's count until dropped.
    pub async fn live_upgrade(&self, request: &AuthRequest) -> Result<LiveConnection, Response> {
        if !same_origin(&request.headers) {
            return Err(text(StatusCode::FORBIDDEN, "forbidden"));
        }
        let (principal, key) = request.session.load().await.map_err(|error| {
            tracing::error!(%error, "live socket: session could not be loaded");
            text(StatusCode::SERVICE_UNAVAILABLE, "service unavailable")
        })?;
        let (Some(key), true) = (key, principal.is_authenticated()) else {
            return Err(text(StatusCode::UNAUTHORIZED, "unauthorized"));
        };
        let Some(page) = request.query("page").and_then(|id| self.page(&id).cloned()) else {
            return Err(text(StatusCode::NOT_FOUND, "not found"));
        };
        if page.guard().decide(self, &principal) != GuardOutcome::Allow {
            return Err(text(StatusCode::FORBIDDEN, "forbidden"));
        }
        let target = self.watched_target(&page, request, &principal).await?;
        let Some(slot) = self.inner.live_sockets.reserve(&key) else {
            tracing::warn!("live socket refused: the session holds its most sockets");
            return Err(text(
                StatusCode::TOO_MANY_REQUESTS,
                "too many live connections",
            ));
        };
        Ok(LiveConnection {
            auth: self.clone(),
            page,
            key,
            principal,
            expires_at: 0,
            budget: MessageBudget::new(),
            target,
            _slot: slot,
        })
    }

    /// The target of an admin page's socket (`?target=<user id>`): refused
    /// with 400 when the page has target regions and the query names no
    /// well-formed user id (or names one for a page without them), 403
    /// unless the principal passes the admin policy, 404 for a user that
    /// does not exist. A socket watches at most this one user.
    async fn watched_target(
        &self,
        page: &LivePage,
        request: &AuthRequest,
        principal: &Principal,
    ) -> Result<Option<Box<Target>>, Response> {
        let user_id = match (page.watches_target(), request.query("target")) {
            (false, None) => return Ok(None),
            (true, Some(id)) if validate_user_id(&id).is_ok() => id,
            _ => return Err(text(StatusCode::BAD_REQUEST, "bad request")),
        };
        if !self.is_admin(principal) {
            return Err(text(StatusCode::FORBIDDEN, "forbidden"));
        }
        match self.actions().store().get_user(&user_id).await {
            Ok(Some(_)) => Ok(Some(Box::new(Target {
                user_id,
                regions: BTreeMap::new(),
            }))),
            Ok(None) => Err(text(StatusCode::NOT_FOUND, "not found")),
            Err(error) => {
                tracing::error!(%error, "live socket: the watched user could not be loaded");
                Err(text(StatusCode::SERVICE_UNAVAILABLE, "service unavailable"))
            }
        }
    }
}

impl LiveConnection {
    /// Subscribes to the user's events. `None` (logged) when the channel
    /// refuses: close the socket with 1011.
    pub async fn subscribe(&self) -> Option<EventStream> {
        let user_id = self.principal.user_id()?;
        match self.auth.channel().subscribe(user_id).await {
            Ok(events) => Some(events),
            Err(error) => {
                tracing::warn!(%error, "live socket: subscribe failed");
                None
            }
        }
    }

    /// Subscribes to the watched user's events, when the page watches one:
    /// `Err` (logged) when the channel refuses (close with 1011).
    async fn subscribe_target(&self) -> Result<Option<EventStream>, ()> {
        let Some(target) = &self.target else {
            return Ok(None);
        };
        match self.auth.channel().subscribe(&target.user_id).await {
            Ok(events) => Ok(Some(events)),
            Err(error) => {
                tracing::warn!(%error, "live socket: subscribing to the watched user failed");
                Err(())
            }
        }
    }

    /// An event of the watched user (`None`: the channel ended, close with
    /// 1012): the target regions are read again and sent when they changed.
    pub async fn on_target_event(&mut self, event: Option<AuthEvent>) -> Step {
        if event.is_none() {
            return Step::Finish(vec![Outgoing::Close(1012)]);
        }
        if self.refresh_target().await {
            self.update()
        } else {
            Step::Quiet
        }
    }

    /// The first step of every connection: the current state, reloaded, so
    /// a tab that reconnects after a drop catches up on what it missed.
    pub async fn start(&mut self) -> Step {
        self.state().await
    }

    /// A channel event (`None`: the channel ended, close with 1012).
    pub async fn on_event(&mut self, event: Option<AuthEvent>) -> Step {
        let Some(event) = event else {
            return Step::Finish(vec![Outgoing::Close(1012)]);
        };
        match event {
            // Events may have been lost (the channel's transport reconnected,
            // or this subscriber fell behind): reload and send the state even
            // when it looks unchanged, so the tab re-renders from the
            // authority.
            AuthEvent::Resync => self.state().await,
            AuthEvent::Revoke { .. } => match event.apply(&self.principal, Some(&self.key)) {
                None => Self::leave(self.auth.login_path()),
                Some(_) => Step::Quiet,
            },
            // A change: the event says that, not what the principal is now.
            // Two writers can publish in the other order than they wrote
            // the store, so the principal an event carries may already be
            // stale; the session (refreshed from the store when the user's
            // change stamp moved) is the authority, and the reload after
            // the last event of a burst reads the last write.
            _ => self.reload().await,
        }
    }

    /// A message from the tab: `resync` sends the state again; a close
    /// stops. A tab that sends more than [`MAX_MESSAGE_BURST`](crate::MAX_MESSAGE_BURST)
    /// messages, then more than one per [`MESSAGE_REFILL`](crate::MESSAGE_REFILL),
    /// is closed with 1008 (policy violation).
    pub async fn on_message(&mut self, message: Incoming) -> Step {
        if message != Incoming::Closed && !self.budget.spend() {
            tracing::warn!("live socket closed: the tab sends too many messages");
            return Step::Finish(vec![Outgoing::Close(1008)]);
        }
        match message {
            Incoming::Text(text) if text == "resync" => self.state().await,
            Incoming::Text(_) | Incoming::Other => Step::Quiet,
            Incoming::Closed => Step::Stop,
        }
    }

    /// The periodic check, and the moment the session would expire:
    /// catches an expiry or revocation no event told of.
    pub async fn on_tick(&mut self) -> Step {
        match self.reload().await {
            // A watched user's new sessions publish no event: the check
            // picks them up.
            Step::Quiet if self.refresh_target().await => self.update(),
            other => other,
        }
    }

    /// How long until the session expires unless another request keeps it
    /// alive: the driver checks again then, so a tab whose session ended
    /// is sent away within a second, not at the next periodic check.
    pub fn until_expiry(&self) -> std::time::Duration {
        let left = self.expires_at.saturating_sub(auth_core::unix_now());
        std::time::Duration::from_secs(left.max(1))
    }

    /// Runs the connection over a socket until either side ends it:
    /// `incoming` yields the tab's messages (its end counts as a close),
    /// `outgoing` sends frames. Every adapter calls this once per socket.
    pub async fn run<I, O>(mut self, mut incoming: I, mut outgoing: O)
    where
        I: Stream<Item = Incoming> + Unpin,
        O: Sink<Outgoing> + Unpin,
    {
        let Some(mut events) = self.subscribe().await else {
            let _ = outgoing.send(Outgoing::Close(1011)).await;
            return;
        };
        let Ok(mut watched) = self.subscribe_target().await else {
            let _ = outgoing.send(Outgoing::Close(1011)).await;
            return;
        };
        let mut check = tokio::time::interval(self.auth.session_check_interval());
        check.tick().await;
        let mut step = Box::pin(self.start()).await;
        let expiry = tokio::time::sleep(self.until_expiry());
        tokio::pin!(expiry);
        loop {
            match step {
                Step::Quiet => {}
                Step::Send(frame) => {
                    if outgoing.send(Outgoing::Text(frame)).await.is_err() {
                        return;
                    }
                }
                Step::Finish(frames) => {
                    for frame in frames {
                        if outgoing.send(frame).await.is_err() {
                            return;
                        }
                    }
                    // The session's place is given back now, not after the
                    // tab's close reply.
                    drop(self);
                    await_close_reply(&mut incoming).await;
                    return;
                }
                Step::Stop => return,
            }
            expiry
                .as_mut()
                .reset(tokio::time::Instant::now() + self.until_expiry());
            // The handlers run boxed: an idle socket waits here for as long
            // as it is open, and an inline handler (a session reload and a
            // render) would make every waiting socket's task as large as
            // the largest of them; a box lives only while a handler runs.
            step = tokio::select! {
                event = events.next() => Box::pin(self.on_event(event)).await,
                event = next_watched(&mut watched) => Box::pin(self.on_target_event(event)).await,
                message = incoming.next() => {
                    Box::pin(self.on_message(message.unwrap_or(Incoming::Closed))).await
                }
                _ = check.tick() => Box::pin(self.on_tick()).await,
                () = &mut expiry => Box::pin(self.on_tick()).await,
            };
        }
    }

    /// Reloads the session and sends the state even when it did not change
    /// (a new connection, or the client asked).
    async fn state(&mut self) -> Step {
        match self.reload().await {
            Step::Quiet => {
                self.refresh_target().await;
                self.update()
            }
            other => other,
        }
    }

    /// Reads the watched user again and renders the target regions;
    /// whether they changed. A read that fails (or finds the user gone)
    /// keeps what the tab shows.
    async fn refresh_target(&mut self) -> bool {
        let Some(target) = self.target.as_deref_mut() else {
            return false;
        };
        let page = Page::first(ADMIN_AUDIT_PER_PAGE);
        match self.auth.admin_user(&target.user_id, page).await {
            Ok(Some(detail)) => {
                let regions = self.page.render_target_regions(&detail);
                let changed = regions != target.regions;
                target.regions = regions;
                changed
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(%error, "live socket: the watched user could not be read");
                false
            }
        }
    }

    /// Reloads the session (the authority for this tab): gone or expired
    /// means leave; a changed principal means send.
    async fn reload(&mut self) -> Step {
        match self.auth.sessions().peek(&self.key).await {
            Ok(Some(active)) => {
                let config = self.auth.sessions().config();
                self.expires_at = (active.record.last_seen + config.idle_timeout.as_secs())
                    .min(active.record.created_at + config.absolute_lifetime.as_secs());
                self.adopt(active.record.principal)
            }
            Ok(None) => Self::leave(self.auth.login_path()),
            Err(error) => {
                tracing::warn!(%error, "live socket: session reload failed; keeping state");
                Step::Quiet
            }
        }
    }

    fn adopt(&mut self, principal: Principal) -> Step {
        let changed = principal != self.principal;
        self.principal = principal;
        // A tab watching another user stays only while its principal is
        // an admin.
        let admin_lost = self.target.is_some() && !self.auth.is_admin(&self.principal);
        match self.page.guard().decide(&self.auth, &self.principal) {
            GuardOutcome::Allow if admin_lost => {
                Self::leave(self.page.guard().navigate_to(&self.auth))
            }
            GuardOutcome::Allow if changed => self.update(),
            GuardOutcome::Allow => Step::Quiet,
            GuardOutcome::Redirect(_) | GuardOutcome::Forbidden => {
                Self::leave(self.page.guard().navigate_to(&self.auth))
            }
        }
    }

    fn update(&self) -> Step {
        let Some(target) = &self.target else {
            // The same frame for every tab of this principal on this page.
            return self
                .page
                .update_frame(&self.auth, &self.principal)
                .map_or(Step::Quiet, |frame| Step::Send(frame.to_string()));
        };
        let mut regions = self.page.render_regions(&self.auth, &self.principal);
        regions.extend(target.regions.clone());
        match Frame::update(&self.principal, regions).to_text() {
            Some(frame) => Step::Send(frame),
            None => Step::Quiet,
        }
    }

    fn leave(to: &str) -> Step {
        let mut frames: Vec<Outgoing> = Frame::Navigate { to }
            .to_text()
            .map(Outgoing::Text)
            .into_iter()
            .collect();
        frames.push(Outgoing::Close(1000));
        Step::Finish(frames)
    }
}
