//! The channel: a publisher connection, a subscriber connection, and a
//! [`MemoryChannel`] for the local fan-out.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use auth_channel_memory::MemoryChannel;
use auth_core::{AuthChannel, AuthEvent, ChannelError, EventStream};
use auth_redis::RedisSettings;
use fred::clients::{Client, Pool};
use fred::interfaces::{ClientInterface, ClientLike, EventInterface, PubsubInterface};
use fred::types::config::Options;
use tokio::task::JoinHandle;

use crate::config::{Names, RedisChannelBuilder};
use crate::error::RedisChannelError;
use crate::listener::{Listener, name_on_reconnect};
use crate::wire;

/// An [`AuthChannel`] over Redis pub/sub, for apps that run several worker
/// processes. See the [crate docs](crate) for the design.
///
/// Cloning gives another handle to the same channel (the same
/// connections). When the last handle is dropped, the background tasks stop,
/// the connections the channel opened close (a publisher pool given with
/// [`from_pool`](Self::from_pool) stays open for its other users), and
/// local streams end.
#[derive(Clone)]
pub struct RedisAuthChannel {
    shared: Arc<Shared>,
}

struct Shared {
    local: MemoryChannel,
    publisher: Pool,
    /// Whether the channel opened the publisher pool (and so names and
    /// closes it).
    owns_publisher: bool,
    publish_options: Options,
    subscriber: Client,
    names: Names,
    prefix: String,
    origin: String,
    stats: Arc<Stats>,
    tasks: Vec<JoinHandle<()>>,
}

/// Counters shared with the listener.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) resyncs: AtomicU64,
    pub(crate) dropped: AtomicU64,
}

impl Drop for Shared {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.local.shutdown();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let publisher = self.owns_publisher.then(|| self.publisher.clone());
            let subscriber = self.subscriber.clone();
            runtime.spawn(async move {
                if let Some(publisher) = publisher {
                    let _ = publisher.quit().await;
                }
                let _ = subscriber.quit().await;
            });
        }
    }
}

impl RedisAuthChannel {
    /// Connects with `settings`: a subscriber connection and a publisher
    /// pool of the channel's own (of the settings' pool size). Fails on bad
    /// settings or when Redis is unreachable now; later outages are retried
    /// in the background.
    pub async fn connect(settings: &RedisSettings) -> Result<Self, RedisChannelError> {
        RedisChannelBuilder::new(settings).connect().await
    }

    /// Connects a subscriber connection of its own with `settings`, and
    /// publishes through `publisher`, a pool the app already connected
    /// (usually [`RedisSettings::connect_pool`], shared with the sessions
    /// and throttles). The subscriber cannot be shared: a connection in
    /// subscribe mode runs no other command.
    pub async fn from_pool(
        publisher: Pool,
        settings: &RedisSettings,
    ) -> Result<Self, RedisChannelError> {
        RedisChannelBuilder::new(settings)
            .with_publisher_pool(publisher)
            .connect()
            .await
    }

    /// A builder for the channel's own settings (publish timeout, message
    /// buffer) over `settings`.
    pub fn builder(settings: &RedisSettings) -> RedisChannelBuilder {
        RedisChannelBuilder::new(settings)
    }

    pub(crate) async fn start(builder: RedisChannelBuilder) -> Result<Self, RedisChannelError> {
        let settings = &builder.settings;
        let names = Names::new(settings.prefix());
        let (publisher, owns_publisher) = match builder.publisher {
            Some(pool) => (pool, false),
            None => (settings.build_pool()?, true),
        };
        let subscriber = {
            let mut client = settings.fred_builder()?;
            let buffer = builder.buffer;
            client.with_performance_config(|performance| {
                performance.broadcast_channel_capacity = buffer;
            });
            client.build().map_err(RedisChannelError::Connect)?
        };
        // Subscribe to the notifications before connecting, so none is
        // missed.
        let messages = subscriber.message_rx();
        let mut reconnects = subscriber.reconnect_rx();
        let publisher_reconnects: Vec<_> = if owns_publisher {
            let clients = publisher.clients().iter();
            clients.map(|c| (c.clone(), c.reconnect_rx())).collect()
        } else {
            Vec::new()
        };

        let started = subscribe(&subscriber, &publisher, owns_publisher, &names).await;
        if let Err(error) = started {
            // Nothing may keep reconnecting behind a failed start.
            if owns_publisher {
                let _ = publisher.quit().await;
            }
            let _ = subscriber.quit().await;
            return Err(error);
        }
        // The first connection was announced as a "reconnect": it needs no
        // resubscribe and no resync.
        while reconnects.try_recv().is_ok() {}

        let local = MemoryChannel::new();
        let origin = uuid::Uuid::new_v4().simple().to_string();
        let stats = Arc::new(Stats::default());
        let listener = Listener {
            subscriber: subscriber.clone(),
            local: local.clone(),
            names: names.clone(),
            origin: origin.clone(),
            stats: Arc::clone(&stats),
        };
        let mut tasks = vec![tokio::spawn(listener.run(messages, reconnects))];
        for (client, reconnected) in publisher_reconnects {
            tasks.push(tokio::spawn(name_on_reconnect(
                client,
                names.publisher_name.clone(),
                reconnected,
            )));
        }
        tracing::info!(
            url = %settings.redacted_url(),
            prefix = %settings.prefix(),
            shared_publisher = !owns_publisher,
            "Redis auth channel connected"
        );
        let publish_timeout = builder
            .publish_timeout
            .unwrap_or_else(|| settings.command_timeout());
        Ok(Self {
            shared: Arc::new(Shared {
                local,
                publisher,
                owns_publisher,
                publish_options: Options {
                    timeout: Some(publish_timeout),
                    ..Options::default()
                },
                subscriber,
                names,
                prefix: settings.prefix().to_owned(),
                origin,
                stats,
                tasks,
            }),
        })
    }

    /// The local fan-out stage: its
    /// [`subscriber_count`](MemoryChannel::subscriber_count) and
    /// [`user_count`](MemoryChannel::user_count) describe this process's
    /// subscribers.
    pub fn local(&self) -> &MemoryChannel {
        &self.shared.local
    }

    /// The channel-name prefix.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }

    /// The `CLIENT SETNAME` of the subscriber connection
    /// (`<prefix>:subscriber`), so operators can find it in `CLIENT LIST`.
    pub fn subscriber_name(&self) -> &str {
        &self.shared.names.subscriber_name
    }

    /// The `CLIENT SETNAME` of the publisher pool's connections
    /// (`<prefix>:publisher`) when the channel opened them; `None` when it
    /// publishes through a pool given with [`from_pool`](Self::from_pool),
    /// whose connections it leaves as they are.
    pub fn publisher_name(&self) -> Option<&str> {
        self.shared
            .owns_publisher
            .then_some(self.shared.names.publisher_name.as_str())
    }

    /// How many Redis connections the channel opened, however many local
    /// subscribers it has: its subscriber, plus its publisher pool's (1 by
    /// default) unless the pool was given with [`from_pool`](Self::from_pool).
    pub fn redis_connections(&self) -> usize {
        let publishers = if self.shared.owns_publisher {
            self.shared.publisher.size()
        } else {
            0
        };
        1 + publishers
    }

    /// How many times the local subscribers were told to resync: after each
    /// reconnect of the subscriber connection, and each time the local
    /// fan-out fell behind.
    pub fn resyncs(&self) -> u64 {
        self.shared.stats.resyncs.load(Ordering::Relaxed)
    }

    /// How many received messages were dropped as garbage, of an unknown
    /// version, or for lack of buffer.
    pub fn dropped_messages(&self) -> u64 {
        self.shared.stats.dropped.load(Ordering::Relaxed)
    }

    /// Whether the subscriber connection and every publisher connection
    /// are up now.
    pub fn is_connected(&self) -> bool {
        let publisher = &self.shared.publisher;
        self.shared.subscriber.is_connected()
            && publisher.clients().iter().all(Client::is_connected)
    }
}

/// Connects the subscriber (and the publisher pool when the channel owns
/// it), names the channel's connections and subscribes to the pattern.
async fn subscribe(
    subscriber: &Client,
    publisher: &Pool,
    owns_publisher: bool,
    names: &Names,
) -> Result<(), RedisChannelError> {
    if owns_publisher {
        publisher.init().await.map_err(RedisChannelError::Connect)?;
        for client in publisher.clients() {
            client
                .client_setname(names.publisher_name.as_str())
                .await
                .map_err(RedisChannelError::Connect)?;
        }
    }
    subscriber
        .init()
        .await
        .map_err(RedisChannelError::Connect)?;
    subscriber
        .client_setname(names.subscriber_name.as_str())
        .await
        .map_err(RedisChannelError::Connect)?;
    subscriber
        .psubscribe(names.pattern.as_str())
        .await
        .map_err(RedisChannelError::Connect)
}

impl fmt::Debug for RedisAuthChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisAuthChannel")
            .field("prefix", &self.shared.prefix)
            .field("local_users", &self.shared.local.user_count())
            .field("connected", &self.is_connected())
            .field("resyncs", &self.resyncs())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AuthChannel for RedisAuthChannel {
    /// Delivers `event` to this process's subscribers of `user_id` at once,
    /// then publishes it to Redis for the other processes (this process
    /// skips its own echo, so nobody receives it twice). When Redis is
    /// unreachable or does not answer within the publish timeout, the local
    /// subscribers have it and the call fails with
    /// [`ChannelError::Backend`]; writes made before the publish stand.
    #[tracing::instrument(skip_all)]
    async fn publish(&self, user_id: &str, event: AuthEvent) -> Result<(), ChannelError> {
        let shared = &self.shared;
        let text = wire::encode(&event, &shared.origin).map_err(RedisChannelError::Encode)?;
        shared.local.publish(user_id, event).await?;
        shared
            .publisher
            .next_connected()
            .with_options(&shared.publish_options)
            .publish::<(), _, _>(shared.names.channel(user_id), text)
            .await
            .map_err(RedisChannelError::Publish)?;
        Ok(())
    }

    /// Subscribes locally; the one pattern subscription of the process
    /// already covers every user, so this costs Redis nothing.
    async fn subscribe(&self, user_id: &str) -> Result<EventStream, ChannelError> {
        self.shared.local.subscribe(user_id).await
    }
}
