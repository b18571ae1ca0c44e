//! From settings to `fred` clients: a configured builder, a pool, a
//! connected pool.

use std::time::Duration;

use fred::clients::Pool;
use fred::interfaces::ClientLike;
use fred::types::Builder;
use fred::types::config::ReconnectPolicy;
use socket2::TcpKeepalive;

use crate::error::{RedisConnectError, RedisSettingsError};
use crate::settings::RedisSettings;

impl RedisSettings {
    /// A `fred` builder with these settings: the parsed URL, the connect and
    /// command timeouts, `TCP_NODELAY`, the keepalive and the reconnect
    /// backoff. For a client of your own (the channel builds its subscriber
    /// connection this way); the stack's crates take a [`Pool`].
    pub fn fred_builder(&self) -> Result<Builder, RedisSettingsError> {
        let config = self.parsed_url()?;
        let connect_timeout = self.connect_timeout();
        let command_timeout = self.command_timeout();
        let keepalive = self.tcp_keepalive();
        let (min, max) = self.reconnect_backoff();
        let mut builder = Builder::from_config(config);
        builder
            .with_connection_config(|connection| {
                connection.connection_timeout = connect_timeout;
                // `AUTH`, `SELECT` and the like, right after connecting.
                connection.internal_command_timeout = command_timeout;
                // Small commands: send each at once.
                connection.tcp.nodelay = Some(true);
                connection.tcp.keepalive = keepalive.map(|(idle, interval)| {
                    TcpKeepalive::new().with_time(idle).with_interval(interval)
                });
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = command_timeout;
            })
            // Retry forever: the stack must come back whenever Redis does.
            .set_policy(ReconnectPolicy::new_exponential(
                0,
                millis(min),
                millis(max),
                2,
            ));
        Ok(builder)
    }

    /// A pool of [`pool_size`](Self::pool_size) connections, not yet
    /// connected. Nothing touches the network until `init` (or use
    /// [`connect_pool`](Self::connect_pool)).
    pub fn build_pool(&self) -> Result<Pool, RedisSettingsError> {
        self.fred_builder()?
            .build_pool(self.pool_size())
            .map_err(RedisSettingsError::Client)
    }

    /// A pool, connected: every connection is up when this returns, and
    /// each reconnects by itself after an outage. Fails when Redis is
    /// unreachable now, refuses the credentials, or does not answer within
    /// the connect timeout.
    ///
    /// Hand it (cloned: a clone shares the connections) to the sessions'
    /// and throttles' `from_pool`, and to the channel's as its publisher,
    /// and a worker holds this pool plus the channel's one subscriber
    /// connection, whatever it serves.
    pub async fn connect_pool(&self) -> Result<Pool, RedisConnectError> {
        let pool = self.build_pool()?;
        pool.init()
            .await
            .map_err(|source| RedisConnectError::Connect {
                url: self.redacted_url(),
                source,
            })?;
        tracing::info!(
            url = %self.redacted_url(),
            connections = self.pool_size(),
            "Redis pool connected"
        );
        Ok(pool)
    }
}

/// `duration` in whole milliseconds, saturating.
fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}
