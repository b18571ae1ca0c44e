//! The background task of the subscriber connection: decode, skip our own
//! echo, fan out locally; resubscribe and resync after a reconnect.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use auth_channel_memory::MemoryChannel;
use auth_core::{AuthChannel, AuthEvent};
use fred::clients::Client;
use fred::interfaces::{ClientInterface, PubsubInterface};
use fred::types::Message;
use fred::types::config::Server;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use crate::channel::Stats;
use crate::config::Names;
use crate::wire;

pub(crate) struct Listener {
    pub(crate) subscriber: Client,
    pub(crate) local: MemoryChannel,
    pub(crate) names: Names,
    pub(crate) origin: String,
    pub(crate) stats: Arc<Stats>,
}

impl Listener {
    /// Runs until the client's notification channels close (the channel was
    /// dropped and the task aborted, in practice).
    pub(crate) async fn run(
        self,
        mut messages: Receiver<Message>,
        mut reconnects: Receiver<Server>,
    ) {
        loop {
            tokio::select! {
                message = messages.recv() => match message {
                    Ok(message) => self.deliver(&message).await,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "Redis channel: local fan-out fell behind; resyncing local subscribers");
                        self.stats.dropped.fetch_add(missed, Ordering::Relaxed);
                        self.resync();
                    }
                    Err(RecvError::Closed) => return,
                },
                reconnected = reconnects.recv() => match reconnected {
                    Ok(_) | Err(RecvError::Lagged(_)) => self.resubscribe().await,
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }

    async fn deliver(&self, message: &Message) {
        let Some(user_id) = self.names.user_of(&message.channel) else {
            return;
        };
        let Some(bytes) = message.value.as_bytes() else {
            self.drop_message("the payload is not a string");
            return;
        };
        match wire::decode(bytes) {
            Ok(decoded) if decoded.origin.as_deref() == Some(self.origin.as_str()) => {}
            Ok(decoded) => {
                if let Err(error) = self.local.publish(user_id, decoded.event).await {
                    tracing::debug!(%error, "Redis channel: local fan-out closed");
                }
            }
            Err(error) => {
                tracing::warn!(%error, "Redis channel: dropped a message it cannot read");
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn drop_message(&self, why: &'static str) {
        tracing::warn!(why, "Redis channel: dropped a message it cannot read");
        self.stats.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// A fresh connection has no name and no subscription: give it both,
    /// then tell local subscribers to refetch what they may have missed.
    /// The resync goes out after the subscription, so nothing published
    /// after the refetch can be missed.
    async fn resubscribe(&self) {
        if let Err(error) = self
            .subscriber
            .client_setname(self.names.subscriber_name.as_str())
            .await
        {
            tracing::debug!(%error, "Redis channel: naming the subscriber connection failed");
        }
        match self
            .subscriber
            .psubscribe(self.names.pattern.as_str())
            .await
        {
            Ok(()) => {
                tracing::info!(
                    "Redis channel: reconnected and resubscribed; resyncing local subscribers"
                );
                self.resync();
            }
            Err(error) => {
                // The connection dropped again; its next reconnect retries.
                tracing::warn!(%error, "Redis channel: resubscribing failed; waiting for the next reconnect");
            }
        }
    }

    fn resync(&self) {
        self.stats.resyncs.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = self.local.publish_all(&AuthEvent::Resync) {
            tracing::debug!(%error, "Redis channel: local fan-out closed");
        }
    }
}

/// Names every new connection of the publisher, so operators (and tests)
/// find it in `CLIENT LIST`.
pub(crate) async fn name_on_reconnect(
    client: Client,
    name: String,
    mut reconnects: Receiver<Server>,
) {
    // The first connection was named by `connect`.
    while reconnects.try_recv().is_ok() {}
    loop {
        match reconnects.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {
                if let Err(error) = client.client_setname(name.as_str()).await {
                    tracing::debug!(%error, "Redis channel: naming the publisher connection failed");
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}
