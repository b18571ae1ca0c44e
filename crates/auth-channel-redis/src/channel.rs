//! The channel: a publisher connection, a subscriber connection, and a
//! [`MemoryChannel`] for the local fan-out.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_channel_memory::MemoryChannel;
use auth_core::{AuthChannel, AuthEvent, ChannelError, EventStream};
use fred::clients::Client;
use fred::interfaces::{ClientInterface, ClientLike, EventInterface, PubsubInterface};
use fred::types::Builder;
use fred::types::config::{Config, ReconnectPolicy};
use socket2::TcpKeepalive;
use tokio::task::JoinHandle;

use crate::config::{Names, RedisChannelBuilder, redact_url};
use crate::error::RedisChannelError;
use crate::listener::{Listener, name_on_reconnect};
use crate::wire;

/// An [`AuthChannel`] over Redis pub/sub, for apps that run several worker
/// processes. See the [crate docs](crate) for the design.
///
/// Cloning gives another handle to the same channel (the same two
/// connections). When the last handle is dropped, the background tasks stop,
/// the connections close, and local streams end.
#[derive(Clone)]
pub struct RedisAuthChannel {
    shared: Arc<Shared>,
}

struct Shared {
    local: MemoryChannel,
    publisher: Client,
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
            let (publisher, subscriber) = (self.publisher.clone(), self.subscriber.clone());
            runtime.spawn(async move {
                let _ = publisher.quit().await;
                let _ = subscriber.quit().await;
            });
        }
    }
}

impl RedisAuthChannel {
    /// A builder for the Redis server at `url`.
    pub fn builder(url: impl Into<String>) -> RedisChannelBuilder {
        RedisChannelBuilder::new(url)
    }

    pub(crate) async fn connect(settings: RedisChannelBuilder) -> Result<Self, RedisChannelError> {
        let names = Names::new(&settings.prefix);
        let publisher = client(&settings)?;
        let subscriber = client(&settings)?;
        // Subscribe to the notifications before connecting, so none is
        // missed.
        let messages = subscriber.message_rx();
        let mut reconnects = subscriber.reconnect_rx();
        let publisher_reconnects = publisher.reconnect_rx();

        for (client, name) in [
            (&publisher, &names.publisher_name),
            (&subscriber, &names.subscriber_name),
        ] {
            client.init().await.map_err(RedisChannelError::Connect)?;
            client
                .client_setname(name.as_str())
                .await
                .map_err(RedisChannelError::Connect)?;
        }
        subscriber
            .psubscribe(names.pattern.as_str())
            .await
            .map_err(RedisChannelError::Connect)?;
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
        let tasks = vec![
            tokio::spawn(listener.run(messages, reconnects)),
            tokio::spawn(name_on_reconnect(
                publisher.clone(),
                names.publisher_name.clone(),
                publisher_reconnects,
            )),
        ];
        tracing::info!(
            url = %redact_url(&settings.url),
            prefix = %settings.prefix,
            "Redis auth channel connected"
        );
        Ok(Self {
            shared: Arc::new(Shared {
                local,
                publisher,
                subscriber,
                names,
                prefix: settings.prefix,
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
    /// (`<prefix>:subscriber`) and of the publisher connection
    /// (`<prefix>:publisher`), so operators can find them in `CLIENT LIST`.
    pub fn connection_names(&self) -> [&str; 2] {
        [
            &self.shared.names.subscriber_name,
            &self.shared.names.publisher_name,
        ]
    }

    /// How many Redis connections this channel holds: always 2 (one
    /// subscriber, one publisher), however many local subscribers it has.
    pub fn redis_connections(&self) -> usize {
        2
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

    /// Whether both connections are up now.
    pub fn is_connected(&self) -> bool {
        self.shared.publisher.is_connected() && self.shared.subscriber.is_connected()
    }
}

/// A client with this crate's timeouts and reconnect policy.
fn client(settings: &RedisChannelBuilder) -> Result<Client, RedisChannelError> {
    let config = Config::from_url(&settings.url).map_err(RedisChannelError::Url)?;
    let min = millis(settings.reconnect_min);
    let max = millis(settings.reconnect_max);
    let timeout = settings.publish_timeout;
    let buffer = settings.buffer;
    Builder::from_config(config)
        .with_connection_config(|connection| {
            connection.connection_timeout = timeout;
            connection.internal_command_timeout = timeout;
            // Small messages: send each at once.
            connection.tcp.nodelay = Some(true);
            // The subscriber connection is quiet for long stretches; let the
            // OS notice one that died without a FIN (a network partition),
            // so it is reconnected and the tabs resynced.
            connection.tcp.keepalive = Some(
                TcpKeepalive::new()
                    .with_time(KEEPALIVE_IDLE)
                    .with_interval(KEEPALIVE_INTERVAL),
            );
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = timeout;
            performance.broadcast_channel_capacity = buffer;
        })
        // Retry forever: the channel must come back whenever Redis does.
        .set_policy(ReconnectPolicy::new_exponential(0, min, max, 2))
        .build()
        .map_err(RedisChannelError::Connect)
}

/// Idle time before the first TCP keepalive probe.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// Time between unanswered keepalive probes.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
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
