//! What every test file shares: where Redis is and fresh prefixes (both
//! from `auth_core::testkit::services`), a raw client, connection killing by name, and a TCP proxy that
//! plays a Redis outage for one channel without touching the shared server.

#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_channel_redis::fred::clients::Client;
use auth_channel_redis::fred::interfaces::{ClientInterface, ClientLike};
use auth_channel_redis::fred::types::Builder;
use auth_channel_redis::fred::types::client::ClientKillFilter;
use auth_channel_redis::fred::types::config::Config;
use auth_channel_redis::{RedisAuthChannel, RedisSettings};
use auth_core::{AuthEvent, EventStream};
use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub use auth_core::testkit::services::redis_url;

/// A prefix no other test run uses.
pub fn fresh_prefix() -> String {
    auth_core::testkit::services::unique_prefix("test")
}

/// Settings for `url` under `prefix`, with quick timeouts for tests.
pub fn settings(url: &str, prefix: &str) -> RedisSettings {
    RedisSettings::new(url)
        .with_prefix(prefix)
        .with_connect_timeout(Duration::from_millis(500))
        .with_command_timeout(Duration::from_millis(500))
        .with_reconnect_backoff(Duration::from_millis(50), Duration::from_millis(400))
}

/// A channel on `url` under `prefix`, with quick timeouts for tests.
pub async fn channel(url: &str, prefix: &str) -> RedisAuthChannel {
    RedisAuthChannel::connect(&settings(url, prefix))
        .await
        .unwrap_or_else(|e| panic!("connecting the channel: {e}"))
}

/// A plain client, for raw commands.
pub async fn raw_client(url: &str) -> Client {
    let config = Config::from_url(url).unwrap_or_else(|e| panic!("{e}"));
    let client = Builder::from_config(config)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .init()
        .await
        .unwrap_or_else(|e| panic!("connecting: {e}"));
    client
}

/// The ids of the connections named `name`.
pub async fn connections_named(client: &Client, name: &str) -> Vec<String> {
    let list: String = client
        .client_list::<String, String>(None, None)
        .await
        .unwrap_or_else(|e| panic!("CLIENT LIST: {e}"));
    list.lines()
        .filter(|line| line.split(' ').any(|field| field == format!("name={name}")))
        .filter_map(|line| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("id=").map(str::to_owned))
        })
        .collect()
}

/// Kills every connection named `name`; returns how many.
pub async fn kill_named(client: &Client, name: &str) -> usize {
    let ids = connections_named(client, name).await;
    for id in &ids {
        let _: i64 = client
            .client_kill(vec![ClientKillFilter::ID(id.clone())])
            .await
            .unwrap_or_else(|e| panic!("CLIENT KILL: {e}"));
    }
    ids.len()
}

/// The next event within `wait`, or `None` on a timeout.
pub async fn next_within(stream: &mut EventStream, wait: Duration) -> Option<AuthEvent> {
    tokio::time::timeout(wait, stream.next())
        .await
        .ok()
        .flatten()
}

/// `host:port` of a `redis://[user[:password]@]host:port[/db]` URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// `url` with its host and port replaced by `127.0.0.1:<port>`.
pub fn url_via(url: &str, port: u16) -> String {
    url.replacen(&host_port(url), &format!("127.0.0.1:{port}"), 1)
}

/// A TCP proxy in front of Redis. `down` closes its listener and every
/// connection through it (to the channel, Redis is gone); `up` listens on
/// the same port again.
pub struct Proxy {
    port: u16,
    target: String,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Proxy {
    /// A running proxy to the Redis of `url`.
    pub async fn start(url: &str) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let proxy = Arc::new(Self {
            port,
            target: host_port(url),
            task: Mutex::new(None),
        });
        proxy.serve(listener);
        proxy
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target.clone();
        let task = tokio::spawn(async move {
            // Dropped (and so aborted) with this task.
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let target = target.clone();
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        *self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
    }

    /// Redis is "down": no listener, every proxied connection closed.
    pub async fn down(&self) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Redis is back, on the same port.
    pub async fn up(&self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(listener) => break listener,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("rebinding the proxy port: {e}"),
            }
        };
        self.serve(listener);
    }
}
