//! The stack builder against real services: a SQLite file, PostgreSQL and
//! Redis (`AUTH_TEST_POSTGRES_URL`, `AUTH_TEST_REDIS_URL`, else the local
//! defaults; see `auth_core::testkit::services`).
#![cfg(all(feature = "sqlite", feature = "local-idp"))]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use live_auth::Stack;
use live_auth::auth_core::SessionToken;
use live_auth::auth_local_idp::{LocalIdpError, Registration};

const SECRET: &str = "a session secret of at least 32 bytes";
const OTHER_SECRET: &str = "another session secret of 32+ bytes";

/// A service URL: `AUTH_TEST_POSTGRES_URL` / `AUTH_TEST_REDIS_URL` or the
/// local default; an unreachable server fails the test, and
/// `AUTH_TEST_SERVICES` may leave it out (with a SKIPPED line).
#[cfg(feature = "postgres")]
fn service(var: &str) -> Option<String> {
    use auth_core::testkit::services;
    match var {
        "AUTH_TEST_POSTGRES_URL" => services::postgres_url(),
        "AUTH_TEST_REDIS_URL" => services::redis_url(),
        other => panic!("no test service is read from {other}"),
    }
}

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}-{}-{nanos}", std::process::id())
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("live-auth-stack"));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Registers `email` and signs in through `stack`'s provider and sessions.
async fn sign_in(stack: &Stack, email: &str) -> SessionToken {
    let idp = stack.local_idp();
    idp.create_user(Registration::new(email, "correct horse battery staple"))
        .await
        .unwrap();
    let principal = idp
        .verify_credentials(email, "correct horse battery staple")
        .await
        .unwrap();
    let auth = stack.live_auth().build().unwrap();
    let (token, _) = auth.sessions().sign_in(None, principal).await.unwrap();
    token
}

#[tokio::test]
async fn sqlite_sessions_outlive_a_restart_only_under_the_same_secret() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/auth.db", dir.0.display());
    let first = Stack::builder(&url)
        .with_session_secret(SECRET)
        .build()
        .await
        .unwrap();
    assert!(!first.uses_redis());
    let token = sign_in(&first, "ada@example.com").await;
    drop(first);

    let again = Stack::builder(&url)
        .with_session_secret(SECRET)
        .build()
        .await
        .unwrap();
    let auth = again.live_auth().build().unwrap();
    let session = auth.sessions().load_token(&token).await.unwrap();
    let session = session.expect("the session is in the database");
    assert!(session.principal().is_authenticated());

    let rekeyed = Stack::builder(&url)
        .with_session_secret(OTHER_SECRET)
        .build()
        .await
        .unwrap();
    let auth = rekeyed.live_auth().build().unwrap();
    assert!(auth.sessions().load_token(&token).await.unwrap().is_none());
}

#[tokio::test]
async fn memory_throttles_without_redis() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/auth.db", dir.0.display());
    let one = Stack::builder(&url).build().await.unwrap();
    let two = Stack::builder(&url).build().await.unwrap();
    one.local_idp()
        .create_user(Registration::new(
            "bob@example.com",
            "correct horse battery staple",
        ))
        .await
        .unwrap();
    // Each process counts on its own: ten failures on one leave the other
    // untouched.
    for _ in 0..live_auth::auth_local_idp::DEFAULT_EMAIL_LIMIT {
        let _ = one
            .local_idp()
            .verify_credentials("bob@example.com", "wrong")
            .await;
    }
    let refused = one
        .local_idp()
        .verify_credentials("bob@example.com", "wrong")
        .await;
    assert!(
        matches!(refused, Err(LocalIdpError::Throttled { .. })),
        "{refused:?}"
    );
    let other = two
        .local_idp()
        .verify_credentials("bob@example.com", "correct horse battery staple")
        .await;
    assert!(other.is_ok(), "{other:?}");
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_wrong_database_password_is_refused_without_showing_it() {
    use live_auth::StackError;

    let Some(url) = service("AUTH_TEST_POSTGRES_URL") else {
        return;
    };
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let wrong = format!("{scheme}://nobody:hunter2@{host}");
    let error = Stack::builder(&wrong).build().await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, StackError::Database { .. }), "{message}");
    assert!(message.starts_with("opening the database at"), "{message}");
    assert!(message.contains("nobody:***@"), "{message}");
    assert!(!format!("{error:?}").contains("hunter2"));
}

#[cfg(all(feature = "postgres", feature = "redis"))]
mod workers {
    use std::time::{Duration, Instant};

    use futures_util::StreamExt;
    use live_auth::StackError;
    use live_auth::auth_core::{AuthEvent, Principal};

    use super::*;

    async fn worker(database: &str, redis: &str, prefix: &str) -> Stack {
        Stack::builder(database)
            .with_redis_url(redis)
            .with_redis_prefix(prefix)
            .with_session_secret(SECRET)
            .with_idp_secret("an identity provider key of 32+ bytes")
            .build()
            .await
            .unwrap()
    }

    /// Two workers over one PostgreSQL and one Redis: a session made on
    /// one loads on the other, an event published on one reaches a tab on
    /// the other, and a login throttle counts both workers' attempts.
    #[tokio::test]
    async fn two_workers_share_sessions_events_and_throttles() {
        let (Some(database), Some(redis)) = (
            service("AUTH_TEST_POSTGRES_URL"),
            service("AUTH_TEST_REDIS_URL"),
        ) else {
            return;
        };
        let prefix = unique("facade");
        let one = worker(&database, &redis, &prefix).await;
        let two = worker(&database, &redis, &prefix).await;
        assert!(one.uses_redis() && two.uses_redis());

        let email = format!("{}@example.com", unique("carol"));
        let token = sign_in(&one, &email).await;
        let auth_two = two.live_auth().build().unwrap();
        let session = auth_two.sessions().load_token(&token).await.unwrap();
        let user_id = session
            .expect("the session is in Redis")
            .principal()
            .user_id()
            .unwrap()
            .to_owned();

        let mut tab = two.channel().subscribe(&user_id).await.unwrap();
        let principal = Principal::authenticated(&user_id, "Carol", vec![]);
        one.channel()
            .publish(&user_id, AuthEvent::update(principal))
            .await
            .unwrap();
        let event = tokio::time::timeout(Duration::from_secs(5), tab.next()).await;
        assert!(
            matches!(event, Ok(Some(AuthEvent::Update { .. }))),
            "{event:?}"
        );

        let limit = live_auth::auth_local_idp::DEFAULT_EMAIL_LIMIT;
        for attempt in 0..limit {
            let worker = if attempt % 2 == 0 { &one } else { &two };
            let _ = worker.local_idp().verify_credentials(&email, "wrong").await;
        }
        let refused = two
            .local_idp()
            .verify_credentials(&email, "correct horse battery staple")
            .await;
        assert!(
            matches!(refused, Err(LocalIdpError::Throttled { .. })),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_redis_fails_the_build_quickly() {
        let Some(database) = service("AUTH_TEST_POSTGRES_URL") else {
            return;
        };
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let started = Instant::now();
        let result = Stack::builder(&database)
            .with_redis_url(format!("redis://127.0.0.1:{port}"))
            .build()
            .await;
        assert!(
            matches!(
                result,
                Err(StackError::RedisSessions(_) | StackError::RedisChannel(_))
            ),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
