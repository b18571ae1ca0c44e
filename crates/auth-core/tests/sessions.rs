//! Sessions: fixation, sign-out, changes reaching other sessions, and the
//! idle and absolute timeouts.

mod support;

use std::sync::Arc;
use std::time::Duration;

use auth_channel_memory::MemoryChannel;
use auth_core::memory::MemorySessionBackend;
use auth_core::{
    Claim, Principal, SessionBackend, SessionConfig, SessionRecord, SessionToken, Sessions,
    unix_now,
};
use support::{Stack, Wrapped};

#[tokio::test]
async fn sign_in_issues_a_new_token_and_deletes_the_previous_session() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (before, visitor) = stack
        .sessions
        .sign_in(None, Principal::anonymous())
        .await
        .unwrap();

    let (after, signed_in) = stack
        .sessions
        .sign_in(Some(&visitor.key), Principal::for_user(&user))
        .await
        .unwrap();
    assert_ne!(after, before);
    assert_ne!(signed_in.key, visitor.key);
    assert!(stack.sessions.load_token(&before).await.unwrap().is_none());
    let loaded = stack.sessions.load_token(&after).await.unwrap().unwrap();
    assert_eq!(loaded.principal().user_id(), Some(user.user_id.as_str()));

    // An attacker plants a token of their choosing: it is never promoted.
    let planted = SessionToken::parse(&"ab".repeat(32)).unwrap();
    let (issued, _) = stack
        .sessions
        .sign_in(Some(&planted.key()), Principal::for_user(&user))
        .await
        .unwrap();
    assert_ne!(issued, planted);
    assert!(stack.sessions.load_token(&planted).await.unwrap().is_none());
}

#[tokio::test]
async fn every_sign_in_gets_a_distinct_token() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let (token, _) = stack.sign_in(&user.user_id).await;
        assert!(seen.insert(token.as_str().to_owned()), "a token repeated");
    }
    let listed = stack.sessions.sessions_of(&user.user_id).await.unwrap();
    assert_eq!(listed.len(), 200);
}

#[tokio::test]
async fn a_signed_out_token_never_loads_again() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (token, session) = stack.sign_in(&user.user_id).await;

    assert!(stack.sessions.sign_out(&session.key).await.unwrap());
    assert!(stack.sessions.load_token(&token).await.unwrap().is_none());
    assert!(!stack.sessions.sign_out(&session.key).await.unwrap());

    // A request that loaded the session before the sign-out cannot write
    // it back.
    let revived = stack
        .sessions
        .replace_principal(&session.key, Principal::for_user(&user), 0)
        .await
        .unwrap();
    assert!(!revived);
    assert!(stack.sessions.load_token(&token).await.unwrap().is_none());

    // Through the writer, twice: both succeed, the token stays dead.
    let (token, session) = stack.sign_in(&user.user_id).await;
    for _ in 0..2 {
        stack
            .actions
            .revoke_session(session.principal(), &session.key)
            .await
            .unwrap();
        assert!(stack.sessions.load_token(&token).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_change_through_one_session_reaches_another_at_one_store_read() {
    let store = Arc::new(Wrapped::default());
    let stack = Stack::with(store.clone(), Arc::new(MemoryChannel::new()));
    let user = stack.user().await;
    let (_, a) = stack.sign_in(&user.user_id).await;
    let (_, b) = stack.sign_in(&user.user_id).await;

    let reads = store.gets();
    stack.principal_of(&b).await;
    stack.principal_of(&b).await;
    assert_eq!(
        store.gets(),
        reads,
        "loads of an unchanged user read no store"
    );

    stack
        .actions
        .grant(a.principal(), Some(&a.key), "role", "admin")
        .await
        .unwrap();
    let reads = store.gets();
    assert!(
        stack
            .principal_of(&b)
            .await
            .has_claim("role", Some("admin"))
    );
    assert_eq!(store.gets(), reads + 1, "the stale session refreshed once");
    assert!(
        stack
            .principal_of(&b)
            .await
            .has_claim("role", Some("admin"))
    );
    assert!(
        stack
            .principal_of(&a)
            .await
            .has_claim("role", Some("admin"))
    );
    assert_eq!(
        store.gets(),
        reads + 1,
        "a refreshed session and the writer's own session read no store"
    );
}

/// The principal a login read from the store goes stale while the password
/// is verified: a claim revoked in that window must not be in the session.
#[tokio::test]
async fn a_claim_revoked_during_sign_in_is_not_in_the_new_session() {
    let stack = Stack::memory();
    let user = stack.user().await;
    stack
        .actions
        .grant(&Principal::for_user(&user), None, "role", "admin")
        .await
        .unwrap();
    let read_by_login = stack.store.get_user(&user.user_id).await.unwrap().unwrap();

    stack
        .actions
        .revoke_claim(&Principal::for_user(&read_by_login), None, "role")
        .await
        .unwrap();
    let (_, session) = stack
        .sessions
        .sign_in(None, Principal::for_user(&read_by_login))
        .await
        .unwrap();

    assert!(!session.principal().has_claim("role", None));
    assert!(!stack.principal_of(&session).await.has_claim("role", None));
    assert_eq!(session.principal().display_name(), Some("Ada"));
}

fn short_config() -> SessionConfig {
    SessionConfig::new()
        .with_idle_timeout(Duration::from_secs(60))
        .with_absolute_lifetime(Duration::from_secs(3_600))
        .with_touch_interval(Duration::from_secs(10))
}

/// A record of `user_id`, created `age` seconds ago and last used `idle`
/// seconds ago.
fn aged(user_id: &str, age: u64, idle: u64) -> SessionRecord {
    let principal = Principal::authenticated(user_id, "Ada", vec![Claim::new("role", "user")]);
    let mut record = SessionRecord::new(principal, 0);
    let now = unix_now();
    record.created_at = now - age;
    record.last_seen = now - idle;
    record
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let stack = Stack::memory();
    let backend = Arc::new(MemorySessionBackend::new());
    let sessions = Sessions::new(backend.clone(), stack.store.clone(), short_config()).unwrap();
    let user = stack.user().await;
    let long = Duration::from_secs(600);
    let save = |record: SessionRecord| {
        let backend = backend.clone();
        async move {
            let key = SessionToken::generate().key();
            backend.save(&key, &record, long).await.unwrap();
            key
        }
    };

    let idle = save(aged(&user.user_id, 100, 61)).await;
    let old = save(aged(&user.user_id, 3_601, 0)).await;
    let fresh = save(aged(&user.user_id, 100, 50)).await;

    assert!(
        sessions.load(&idle).await.unwrap().is_none(),
        "idle past 60 s"
    );
    assert!(
        sessions.load(&old).await.unwrap().is_none(),
        "older than 1 h"
    );
    assert!(
        backend.load(&idle).await.unwrap().is_none(),
        "deleted on load"
    );
    assert!(
        backend.load(&old).await.unwrap().is_none(),
        "deleted on load"
    );

    let loaded = sessions.load(&fresh).await.unwrap().expect("within both");
    assert!(
        loaded.record.last_seen + 2 >= unix_now(),
        "the load touched it"
    );
    let stored = backend.load(&fresh).await.unwrap().unwrap();
    assert_eq!(
        stored.last_seen, loaded.record.last_seen,
        "and wrote it back"
    );

    let expired = save(aged(&user.user_id, 100, 61)).await;
    let listed = sessions.sessions_of(&user.user_id).await.unwrap();
    assert_eq!(listed.len(), 1, "sessions_of hides expired sessions");
    assert_eq!(listed[0].key, fresh);
    let replaced = sessions
        .replace_principal(&expired, Principal::for_user(&user), 0)
        .await
        .unwrap();
    assert!(!replaced, "an expired session is not written");
    assert!(backend.load(&expired).await.unwrap().is_none());
}

#[tokio::test]
async fn peek_is_not_activity_so_the_idle_timeout_keeps_running() {
    let stack = Stack::memory();
    let backend = Arc::new(MemorySessionBackend::new());
    let sessions = Sessions::new(backend.clone(), stack.store.clone(), short_config()).unwrap();
    let user = stack.user().await;
    let key = SessionToken::generate().key();
    let record = aged(&user.user_id, 100, 50);
    let last_seen = record.last_seen;
    backend
        .save(&key, &record, Duration::from_secs(600))
        .await
        .unwrap();

    let peeked = sessions
        .peek(&key)
        .await
        .unwrap()
        .expect("within both timeouts");
    assert_eq!(peeked.record.last_seen, last_seen, "peek does not touch");
    assert_eq!(
        backend.load(&key).await.unwrap().unwrap().last_seen,
        last_seen
    );

    // A change elsewhere still refreshes the snapshot on a peek, without
    // counting as activity.
    stack
        .store
        .update_claims(
            &user.user_id,
            auth_core::ClaimChange::Set(Claim::new("role", "admin")),
        )
        .await
        .unwrap();
    backend.bump_user_stamp(&user.user_id).await.unwrap();
    let peeked = sessions.peek(&key).await.unwrap().expect("still live");
    assert!(peeked.principal().has_claim("role", Some("admin")));
    assert_eq!(
        backend.load(&key).await.unwrap().unwrap().last_seen,
        last_seen
    );

    let loaded = sessions.load(&key).await.unwrap().expect("still live");
    assert!(loaded.record.last_seen > last_seen, "a load is activity");
}

#[tokio::test]
async fn a_session_whose_user_is_gone_ends_on_its_next_load() {
    let stack = Stack::memory();
    let ghost = format!("local:{}", uuid::Uuid::new_v4());
    let key = SessionToken::generate().key();
    let record = SessionRecord::new(Principal::authenticated(&ghost, "Ghost", vec![]), 0);
    stack
        .backend
        .save(&key, &record, Duration::from_secs(600))
        .await
        .unwrap();
    stack.backend.bump_user_stamp(&ghost).await.unwrap();
    assert!(stack.sessions.load(&key).await.unwrap().is_none());
    assert!(stack.backend.load(&key).await.unwrap().is_none());
}

#[tokio::test]
async fn invalid_timeouts_are_refused() {
    let stack = Stack::memory();
    let configs = [
        SessionConfig::new().with_idle_timeout(Duration::ZERO),
        SessionConfig::new().with_absolute_lifetime(Duration::from_millis(500)),
        SessionConfig::new()
            .with_idle_timeout(Duration::from_secs(30))
            .with_touch_interval(Duration::from_secs(30)),
    ];
    for config in configs {
        assert!(config.validate().is_err(), "{config:?}");
        let built = Sessions::new(stack.backend.clone(), stack.store.clone(), config);
        assert!(built.is_err());
    }
}

#[tokio::test]
async fn with_a_secret_a_planted_row_for_a_chosen_token_does_not_sign_in() {
    let stack = Stack::memory();
    let backend = Arc::new(MemorySessionBackend::new());
    let secret = "a session secret of at least thirty-two bytes";
    let config = SessionConfig::new().with_secret(secret);
    let sessions = Sessions::new(backend.clone(), stack.store.clone(), config).unwrap();
    let user = stack.user().await;

    let (token, session) = sessions
        .sign_in(None, Principal::for_user(&user))
        .await
        .unwrap();
    assert_eq!(session.key, token.keyed(secret.as_bytes()));
    assert_ne!(session.key, token.key(), "the key depends on the secret");
    assert!(sessions.load_token(&token).await.unwrap().is_some());

    // Someone who can write the session table picks a token and plants a
    // row under its plain hash: without the secret it does not load.
    let chosen = SessionToken::generate();
    let planted = SessionRecord::new(Principal::for_user(&user), 0);
    backend
        .save(&chosen.key(), &planted, Duration::from_secs(600))
        .await
        .unwrap();
    assert!(sessions.load_token(&chosen).await.unwrap().is_none());

    let short = SessionConfig::new().with_secret("too short");
    assert!(Sessions::new(backend, stack.store.clone(), short).is_err());
}
