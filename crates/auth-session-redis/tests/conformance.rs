//! The core conformance kit (one test per check), and this backend's own
//! guarantees, against a real Redis (`AUTH_TEST_REDIS_URL`, else the local
//! default; see `auth_core::testkit::services`).

use std::sync::Arc;
use std::time::Duration;

use auth_core::testkit::services::{redis_url, unique_prefix};
use auth_core::testkit::session_conformance;
use auth_core::{
    Claim, Principal, SessionBackend, SessionError, SessionKey, SessionRecord, SessionToken,
};
use auth_session_redis::fred::interfaces::{HashesInterface, KeysInterface, SetsInterface};
use auth_session_redis::{RedisSessionBackend, RedisSessionError, RedisSettings};
use futures_util::future::join_all;

/// A backend under a fresh prefix, or `None` when skipped.
async fn backend() -> Option<RedisSessionBackend> {
    let url = redis_url()?;
    let settings = RedisSettings::new(url).with_prefix(unique_prefix("test"));
    let connected = RedisSessionBackend::connect(&settings).await;
    Some(connected.unwrap_or_else(|e| panic!("connecting to Redis: {e}")))
}

fn record_of(user_id: &str) -> SessionRecord {
    SessionRecord::new(
        Principal::authenticated(user_id, "Ada", vec![Claim::new("role", "admin")]),
        3,
    )
}

const LONG: Duration = Duration::from_secs(600);

/// The kit, one test per check: `kit::round_trip` and so on.
mod kit {
    auth_core::session_conformance_tests!(super::backend().await);
}

#[tokio::test]
async fn passes_the_kit_twice_at_once_on_one_prefix() {
    let Some(backend) = backend().await else {
        return;
    };
    let other = backend.clone();
    tokio::join!(session_conformance(&backend), session_conformance(&other));
}

#[tokio::test]
async fn the_index_lives_as_long_as_its_longest_session() {
    let Some(backend) = backend().await else {
        return;
    };
    let user = "local:index-ttl";
    let (short, long) = (
        SessionToken::generate().key(),
        SessionToken::generate().key(),
    );
    backend.save(&long, &record_of(user), LONG).await.unwrap();
    backend
        .save(&short, &record_of(user), Duration::from_secs(5))
        .await
        .unwrap();
    let index = format!("{}:user-sessions:{user}", backend.prefix());
    let ttl: i64 = backend.pool().pttl(&index).await.unwrap();
    assert!(ttl > 590_000, "the index TTL fell to {ttl} ms");
    let session_ttl: i64 = backend
        .pool()
        .pttl(format!("{}:session:{}", backend.prefix(), short.as_str()))
        .await
        .unwrap();
    assert!((1..=5_000).contains(&session_ttl), "{session_ttl}");
}

#[tokio::test]
async fn expired_members_are_pruned_from_the_index() {
    let Some(backend) = backend().await else {
        return;
    };
    let user = "local:prune";
    let key = SessionToken::generate().key();
    backend.save(&key, &record_of(user), LONG).await.unwrap();
    // Expire the session behind the backend's back.
    let _: i64 = backend
        .pool()
        .del(format!("{}:session:{}", backend.prefix(), key.as_str()))
        .await
        .unwrap();
    assert!(backend.sessions_of(user).await.unwrap().is_empty());
    let index = format!("{}:user-sessions:{user}", backend.prefix());
    let members: Vec<String> = backend.pool().smembers(&index).await.unwrap();
    assert!(members.is_empty(), "{members:?}");
}

#[tokio::test]
async fn corrupt_data_is_a_typed_error_never_a_panic() {
    let Some(backend) = backend().await else {
        return;
    };
    let key = SessionToken::generate().key();
    let session = format!("{}:session:{}", backend.prefix(), key.as_str());
    let _: i64 = backend
        .pool()
        .hset(&session, ("record", "{not json"))
        .await
        .unwrap();
    assert!(matches!(
        backend.load(&key).await,
        Err(SessionError::Corrupt(_))
    ));

    let user = "local:corrupt";
    let _: () = backend
        .pool()
        .set(
            format!("{}:user-stamp:{user}", backend.prefix()),
            "NaN",
            None,
            None,
            false,
        )
        .await
        .unwrap();
    assert!(matches!(
        backend.user_stamp(user).await,
        Err(SessionError::Corrupt(_))
    ));
    assert!(matches!(
        backend.bump_user_stamp(user).await,
        Err(SessionError::Backend { .. })
    ));

    // A key of the wrong type is a backend error too.
    let wrong = SessionToken::generate().key();
    let _: () = backend
        .pool()
        .set(
            format!("{}:session:{}", backend.prefix(), wrong.as_str()),
            "a string",
            None,
            None,
            false,
        )
        .await
        .unwrap();
    assert!(matches!(
        backend.load(&wrong).await,
        Err(SessionError::Backend { .. })
    ));
}

#[tokio::test]
async fn concurrent_saves_and_a_sign_out_everywhere_leave_no_live_session() {
    let Some(backend) = backend().await else {
        return;
    };
    let backend = Arc::new(backend);
    let user = "local:race";
    let keys: Vec<SessionKey> = (0..40).map(|_| SessionToken::generate().key()).collect();
    for key in &keys[..20] {
        backend.save(key, &record_of(user), LONG).await.unwrap();
    }
    // Updates of the first 20 race a sign-out everywhere: none may survive
    // it by being written back after it.
    let updates = keys[..20].iter().map(|key| {
        let backend = Arc::clone(&backend);
        let key = key.clone();
        async move { backend.update(&key, &record_of(user), LONG).await.unwrap() }
    });
    let (_, removed) = tokio::join!(join_all(updates), backend.delete_sessions_of(user));
    assert_eq!(removed.unwrap(), 20);
    for key in &keys[..20] {
        assert_eq!(backend.load(key).await.unwrap(), None);
    }
    // Concurrent fresh saves are all indexed.
    let record = record_of(user);
    join_all(
        keys[20..]
            .iter()
            .map(|key| backend.save(key, &record, LONG)),
    )
    .await;
    assert_eq!(backend.sessions_of(user).await.unwrap().len(), 20);
}

#[tokio::test]
async fn hostile_user_ids_stay_in_their_own_keys() {
    let Some(backend) = backend().await else {
        return;
    };
    // Glob and separator characters are data, not structure.
    let users = [
        "local:*",
        "local:?",
        "local:[a]",
        "local:a:user-sessions:b",
        "ünï 👩🏽‍💻",
    ];
    for user in users {
        backend
            .save(&SessionToken::generate().key(), &record_of(user), LONG)
            .await
            .unwrap();
    }
    for user in users {
        let listed = backend.sessions_of(user).await.unwrap();
        assert_eq!(listed.len(), 1, "{user}");
        assert_eq!(listed[0].1.user_id(), Some(user));
    }
    assert_eq!(backend.delete_sessions_of("local:*").await.unwrap(), 1);
    assert_eq!(backend.sessions_of("local:?").await.unwrap().len(), 1);
}

#[tokio::test]
async fn refuses_bad_settings_and_an_unreachable_server() {
    let Some(url) = redis_url() else { return };
    for prefix in ["has space", ""] {
        let settings = RedisSettings::new(&url).with_prefix(prefix);
        assert!(matches!(
            RedisSessionBackend::connect(&settings).await,
            Err(RedisSessionError::Settings(_))
        ));
        let pool = RedisSettings::new(&url).build_pool().unwrap();
        assert!(matches!(
            RedisSessionBackend::from_pool(pool, &settings),
            Err(RedisSessionError::Settings(_))
        ));
    }
    let not_a_url = RedisSettings::new("not a url").with_prefix("p");
    let refused = RedisSessionBackend::connect(&not_a_url).await;
    assert!(matches!(refused, Err(RedisSessionError::Settings(_))));
    // Mapped into the core's error, it is a backend error that names the
    // step and keeps the reason.
    let core: SessionError = refused.unwrap_err().into();
    assert!(matches!(core, SessionError::Backend { .. }), "{core:?}");

    // A closed port: a typed error, quickly.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = std::time::Instant::now();
    let settings = RedisSettings::new(format!("redis://127.0.0.1:{closed}")).with_prefix("p");
    let result = RedisSessionBackend::connect(&settings).await;
    assert!(
        matches!(result, Err(RedisSessionError::Connect(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn debug_shows_no_session_key() {
    let Some(backend) = backend().await else {
        return;
    };
    let debug = format!("{backend:?}");
    assert!(debug.contains(backend.prefix()), "{debug}");
    assert!(!debug.contains("redis://"), "{debug}");
}
