//! Pools built from settings against a real Redis (`AUTH_TEST_REDIS_URL`,
//! else the local default; see `auth_core::testkit::services`): every
//! connection up, the database and the command timeout applied, and a
//! failed connect a typed error that never shows the password.

use std::error::Error as _;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use auth_core::testkit::services::{redis_url, unique_prefix};
use auth_redis::fred::interfaces::{ClientLike, KeysInterface};
use auth_redis::fred::types::{CustomCommand, Value};
use auth_redis::{RedisConnectError, RedisSettings};

/// `url` with `user:password@` put in front of its host.
fn with_credentials(url: &str, credentials: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{credentials}@{host}")
}

/// `url` pointing at database `db`.
fn with_db(url: &str, db: u8) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}/{db}")
}

#[tokio::test]
async fn a_pool_connects_every_connection_it_was_asked_for() {
    let Some(url) = redis_url() else { return };
    let pool = RedisSettings::new(&url)
        .with_pool_size(3)
        .connect_pool()
        .await
        .unwrap();
    assert_eq!(pool.size(), 3);
    let mut ids = Vec::new();
    for client in pool.clients() {
        assert!(client.is_connected());
        let id: i64 = client
            .custom(
                CustomCommand::new_static("CLIENT ID", None, false),
                Vec::<Value>::new(),
            )
            .await
            .unwrap();
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "three distinct connections");
    let pong: String = pool.ping(None).await.unwrap();
    assert_eq!(pong, "PONG");
    pool.quit().await.unwrap();
}

#[tokio::test]
async fn the_database_of_the_url_is_selected() {
    let Some(url) = redis_url() else { return };
    let key = unique_prefix("auth-redis-db");
    let in_db_3 = RedisSettings::new(with_db(&url, 3))
        .connect_pool()
        .await
        .unwrap();
    let in_db_0 = RedisSettings::new(with_db(&url, 0))
        .connect_pool()
        .await
        .unwrap();
    let _: () = in_db_3.set(&key, "here", None, None, false).await.unwrap();
    let seen_in_3: Option<String> = in_db_3.get(&key).await.unwrap();
    let seen_in_0: Option<String> = in_db_0.get(&key).await.unwrap();
    assert_eq!(seen_in_3.as_deref(), Some("here"));
    assert_eq!(seen_in_0, None);
    let _: i64 = in_db_3.del(&key).await.unwrap();
}

#[tokio::test]
async fn a_command_that_waits_past_the_command_timeout_fails() {
    let Some(url) = redis_url() else { return };
    let pool = RedisSettings::new(&url)
        .with_command_timeout(Duration::from_millis(300))
        .connect_pool()
        .await
        .unwrap();
    let key = unique_prefix("auth-redis-empty");
    let started = Instant::now();
    // Blocks for 5 s on the server; the client gives up first.
    let blpop = CustomCommand::new_static("BLPOP", None, true);
    let result: Result<Value, _> = pool.custom(blpop, vec![key.as_str(), "5"]).await;
    assert!(result.is_err(), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn wrong_credentials_are_a_typed_error_without_the_password() {
    let Some(url) = redis_url() else { return };
    let wrong = with_credentials(&url, "nobody:hunter2");
    let started = Instant::now();
    let error = RedisSettings::new(&wrong)
        .connect_pool()
        .await
        .expect_err("Redis accepted an unknown user");
    assert!(
        matches!(error, RedisConnectError::Connect { .. }),
        "{error:?}"
    );
    let mut said = format!("{error} {error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(said, " {cause} {cause:?}");
        source = cause.source();
    }
    assert!(!said.contains("hunter2"), "{said}");
    assert!(said.contains("nobody:***@"), "{said}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn an_unreachable_server_fails_within_the_connect_timeout() {
    // Make sure the services are there (or explicitly left out), so a
    // missing server cannot pass this test by accident.
    if redis_url().is_none() {
        return;
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let started = Instant::now();
    let result = RedisSettings::new(format!("redis://127.0.0.1:{port}"))
        .with_connect_timeout(Duration::from_millis(500))
        .connect_pool()
        .await;
    assert!(
        matches!(result, Err(RedisConnectError::Connect { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // Refused settings never reach the network.
    let refused = RedisSettings::new("rediss://127.0.0.1:6379")
        .connect_pool()
        .await;
    assert!(
        matches!(refused, Err(RedisConnectError::Settings(_))),
        "{refused:?}"
    );
}
