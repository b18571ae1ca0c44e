//! The live endpoint: one WebSocket per open tab, fed by the user's channel
//! events.

use auth_core::{AuthEvent, Principal, SessionKey};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use crate::config::LiveAuth;
use crate::csrf::same_origin;
use crate::guard::GuardOutcome;
use crate::live::page::LivePage;

/// The query of the upgrade request.
#[derive(Debug, Deserialize)]
pub(crate) struct LiveQuery {
    page: String,
}

/// A frame sent to the browser.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Frame<'a> {
    /// The principal changed (or the connection is new): here is the state.
    Update {
        authenticated: bool,
        name: Option<&'a str>,
        claims: &'a [auth_core::Claim],
        regions: std::collections::BTreeMap<String, String>,
    },
    /// Leave the page.
    Navigate { to: &'a str },
}

/// `GET {prefix}/live?page=<id>`: refuses cross-site (403) and anonymous
/// (401) upgrades, unknown pages (404) and principals the page's guard
/// refuses (403); otherwise upgrades.
pub(crate) async fn live_socket(
    State(auth): State<LiveAuth>,
    headers: HeaderMap,
    Query(query): Query<LiveQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    let found = match auth.request_auth(&headers).await {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "live socket: session could not be loaded");
            return (StatusCode::SERVICE_UNAVAILABLE, "service unavailable").into_response();
        }
    };
    let (Some(key), true) = (found.session.clone(), found.principal.is_authenticated()) else {
        return (StatusCode::UNAUTHORIZED, "unauthorized").into_response();
    };
    let Some(page) = auth.page(&query.page).cloned() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    if page.guard().decide(&auth, &found.principal) != GuardOutcome::Allow {
        return (StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    let principal = found.principal;
    upgrade.max_message_size(4096).on_upgrade(move |socket| {
        Connection {
            auth,
            page,
            key,
            principal,
        }
        .run(socket)
    })
}

struct Connection {
    auth: LiveAuth,
    page: LivePage,
    key: SessionKey,
    principal: Principal,
}

/// What to do after an event or a check.
enum Next {
    Send,
    Quiet,
    Leave(String),
}

impl Connection {
    async fn run(mut self, socket: WebSocket) {
        let Some(user_id) = self.principal.user_id().map(str::to_owned) else {
            return;
        };
        let (mut sink, mut incoming) = socket.split();
        let mut events = match self.auth.inner.channel.subscribe(&user_id).await {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(%error, "live socket: subscribe failed");
                let _ = sink.send(close(1011)).await;
                return;
            }
        };
        let mut check = tokio::time::interval(self.auth.inner.session_check_every);
        check.tick().await;

        // Every connection starts with the current state, so a tab that
        // reconnects after a drop catches up on what it missed.
        let mut next = self.state().await;
        loop {
            let frame = match next {
                Next::Send => self.update_frame(),
                Next::Quiet => None,
                Next::Leave(to) => {
                    let frame = serde_json::to_string(&Frame::Navigate { to: &to }).ok();
                    if let Some(text) = frame {
                        let _ = sink.send(Message::Text(text.into())).await;
                    }
                    let _ = sink.send(close(1000)).await;
                    return;
                }
            };
            if let Some(text) = frame
                && sink.send(Message::Text(text.into())).await.is_err()
            {
                return;
            }
            next = tokio::select! {
                event = events.next() => {
                    let Some(event) = event else {
                        let _ = sink.send(close(1012)).await;
                        return;
                    };
                    self.on_event(event).await
                }
                message = incoming.next() => match message {
                    Some(Ok(Message::Text(text))) if text.as_str() == "resync" => self.state().await,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => Next::Quiet,
                },
                _ = check.tick() => self.reload().await,
            };
        }
    }

    /// Applies a channel event to this connection.
    async fn on_event(&mut self, event: AuthEvent) -> Next {
        // Events may have been lost (the channel's transport reconnected, or
        // this subscriber fell behind): reload and send the state even when
        // it looks unchanged, so the tab re-renders from the authority.
        if matches!(event, AuthEvent::Resync) {
            return self.state().await;
        }
        match event.apply(&self.principal, Some(&self.key)) {
            None => Next::Leave(self.auth.login_path().to_owned()),
            Some(principal) => self.adopt(principal),
        }
    }

    /// Reloads the session and sends the state even when it did not change
    /// (a new connection, or the client asked).
    async fn state(&mut self) -> Next {
        match self.reload().await {
            Next::Quiet => Next::Send,
            other => other,
        }
    }

    /// Reloads the session (the authority for this tab): gone or expired
    /// means leave; a changed principal means send.
    async fn reload(&mut self) -> Next {
        match self.auth.sessions().peek(&self.key).await {
            Ok(Some(active)) => self.adopt(active.record.principal),
            Ok(None) => Next::Leave(self.auth.login_path().to_owned()),
            Err(error) => {
                tracing::warn!(%error, "live socket: session reload failed; keeping state");
                Next::Quiet
            }
        }
    }

    fn adopt(&mut self, principal: Principal) -> Next {
        let changed = principal != self.principal;
        self.principal = principal;
        match self.page.guard().decide(&self.auth, &self.principal) {
            GuardOutcome::Allow if changed => Next::Send,
            GuardOutcome::Allow => Next::Quiet,
            GuardOutcome::Redirect(_) | GuardOutcome::Forbidden => {
                Next::Leave(self.page.guard().navigate_to(&self.auth).to_owned())
            }
        }
    }

    fn update_frame(&self) -> Option<String> {
        let frame = Frame::Update {
            authenticated: self.principal.is_authenticated(),
            name: self.principal.display_name(),
            claims: self.principal.claims(),
            regions: self.page.render_regions(&self.auth, &self.principal),
        };
        serde_json::to_string(&frame).ok()
    }
}

fn close(code: u16) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: "".into(),
    }))
}
