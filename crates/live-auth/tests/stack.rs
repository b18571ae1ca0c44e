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

    /// Account mail requests count against one Redis throttle for every
    /// worker: the limit spread over two workers refuses the next one.
    #[tokio::test]
    async fn two_workers_share_the_mail_throttles() {
        use live_auth::auth_http::http::{HeaderMap, HeaderValue, Method, header};
        use live_auth::auth_http::{AuthRequest, RequestBody, Route};

        let (Some(database), Some(redis)) = (
            service("AUTH_TEST_POSTGRES_URL"),
            service("AUTH_TEST_REDIS_URL"),
        ) else {
            return;
        };
        let prefix = unique("mail");
        let stack = |_: u8| async {
            Stack::builder(database.as_str())
                .with_redis_url(redis.as_str())
                .with_redis_prefix(prefix.as_str())
                .with_session_secret(SECRET)
                .with_public_url("https://app.example")
                .build()
                .await
                .unwrap()
        };
        let workers = [
            stack(1).await.live_auth().build().unwrap(),
            stack(2).await.live_auth().build().unwrap(),
        ];
        let email = format!("{}@example.com", unique("dora"));
        let ask = |n: u32| {
            let auth = &workers[n as usize % 2];
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            let body = format!("email={}", email.replace('@', "%40"));
            let request = AuthRequest::new(
                auth,
                Method::POST,
                "/auth/local/forgot-password".parse().unwrap(),
                headers,
            )
            .with_body(RequestBody::Bytes(body.into()));
            auth.handle(Route::ForgotPassword, request)
        };
        for n in 0..live_auth::auth_http::DEFAULT_MAIL_LIMIT {
            let answer = ask(n).await;
            let location = answer.headers()[header::LOCATION].to_str().unwrap();
            assert_eq!(location, "/", "request {n}");
        }
        let refused = ask(1).await;
        let location = refused.headers()[header::LOCATION].to_str().unwrap();
        assert!(location.ends_with("error=throttled"), "{location}");
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
        assert!(matches!(result, Err(StackError::Redis(_))), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

/// One worker's Redis connections, counted by a TCP proxy in front of the
/// test Redis: the sessions, the login throttles and the channel's
/// publisher share one pool, and the channel adds its subscriber.
#[cfg(feature = "redis")]
mod shared_pool {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures_util::StreamExt;
    use live_auth::auth_core::{AuthEvent, Claim};
    use live_auth::auth_redis::RedisSettings;
    use live_auth::auth_redis::fred::interfaces::{ClientInterface, ClientLike};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// Forwards connections on a fresh loopback port to `target`, counting
    /// them; returns the port and the count.
    async fn counting_proxy(target: String) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        (port, accepted)
    }

    /// `redis` through a [`counting_proxy`]: the URL to use and the count.
    async fn proxied(redis: &str) -> (String, Arc<AtomicUsize>) {
        let rest = redis.split_once("://").unwrap().1;
        let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        let host_port = host_port.split('/').next().unwrap().to_owned();
        let (port, accepted) = counting_proxy(host_port.clone()).await;
        let via = redis.replacen(&host_port, &format!("127.0.0.1:{port}"), 1);
        (via, accepted)
    }

    /// The builder's Redis tuning reaches the shared pool: four pool
    /// connections and the subscriber, and a refused setting fails the
    /// build before anything connects.
    #[tokio::test]
    async fn the_redis_settings_size_the_shared_pool() {
        let Some(redis) = auth_core::testkit::services::redis_url() else {
            return;
        };
        let (via, accepted) = proxied(&redis).await;
        let dir = TempDir::new();
        let tuned = RedisSettings::new("redis://not-this-one")
            .with_prefix("not-this-prefix")
            .with_command_timeout(Duration::from_secs(1))
            .with_pool_size(4);
        let builder = Stack::builder(format!("sqlite://{}/auth.db", dir.0.display()))
            .with_redis_url(via)
            .with_redis_prefix(unique("tuned-pool"))
            .with_session_secret(SECRET);
        let refused = builder
            .clone()
            .with_redis_settings(tuned.clone().with_pool_size(0))
            .build()
            .await;
        assert!(
            matches!(
                refused,
                Err(live_auth::StackError::Config(
                    live_auth::ConfigError::RedisSettings(_)
                ))
            ),
            "{refused:?}"
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            0,
            "refused before connecting"
        );

        let stack = builder.with_redis_settings(tuned).build().await.unwrap();
        let email = format!("{}@example.com", unique("tuned"));
        sign_in(&stack, &email).await;
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            5,
            "four pooled and the subscriber"
        );
    }

    #[tokio::test]
    async fn a_worker_holds_one_shared_pool_and_one_subscriber() {
        let Some(redis) = auth_core::testkit::services::redis_url() else {
            return;
        };
        let (via, accepted) = proxied(&redis).await;

        let dir = TempDir::new();
        let prefix = unique("shared-pool");
        let stack = Stack::builder(format!("sqlite://{}/auth.db", dir.0.display()))
            .with_redis_url(via)
            .with_redis_prefix(&prefix)
            .with_session_secret(SECRET)
            .build()
            .await
            .unwrap();
        assert!(stack.uses_redis());

        // A session (sessions), a login (throttles) and an event through
        // Redis (the channel's publisher and subscriber).
        let email = format!("{}@example.com", unique("dora"));
        let token = sign_in(&stack, &email).await;
        let auth = stack.live_auth().build().unwrap();
        let session = auth.sessions().load_token(&token).await.unwrap();
        let user_id = session.unwrap().principal().user_id().unwrap().to_owned();
        let mut tab = stack.channel().subscribe(&user_id).await.unwrap();
        let event = AuthEvent::update_claims(vec![Claim::new("role", "admin")]);
        stack
            .channel()
            .publish(&user_id, event.clone())
            .await
            .unwrap();
        let heard = tokio::time::timeout(Duration::from_secs(5), tab.next()).await;
        assert_eq!(heard.ok().flatten(), Some(event));

        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "one pool connection and the channel's subscriber"
        );
        let raw = RedisSettings::new(&redis).connect_pool().await.unwrap();
        let list: String = raw.client_list::<String, String>(None, None).await.unwrap();
        let named = |name: String| {
            list.lines()
                .filter(|line| line.split(' ').any(|f| f == format!("name={name}")))
                .count()
        };
        assert_eq!(named(format!("{prefix}:subscriber")), 1);
        assert_eq!(
            named(format!("{prefix}:publisher")),
            0,
            "no pool of its own"
        );
        raw.quit().await.unwrap();
    }
}
