//! The session side of a second factor: a sign-in waiting for it is
//! anonymous, ends after its timeout, and completing it rotates the id and
//! records the factor; a step-up records it on the live session.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{AuthStore, Factor, NewUser, Principal, SessionConfig, Sessions};

async fn sessions(timeout: Duration) -> (Sessions, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    store.create_user(NewUser::new("local:ada")).await.unwrap();
    let config = SessionConfig::new().with_second_factor_timeout(timeout);
    let sessions = Sessions::new(Arc::new(MemorySessionBackend::new()), store.clone(), config);
    (sessions.unwrap(), store)
}

#[tokio::test]
async fn a_waiting_sign_in_is_anonymous_and_completing_it_rotates_the_id() {
    let (sessions, store) = sessions(Duration::from_secs(300)).await;
    let (_, waiting) = sessions
        .begin_second_factor(None, "local:ada")
        .await
        .unwrap();
    let loaded = sessions.load(&waiting.key).await.unwrap().unwrap();
    assert!(!loaded.principal().is_authenticated());
    assert_eq!(loaded.record.pending.as_ref().unwrap().user_id, "local:ada");
    assert!(sessions.sessions_of("local:ada").await.unwrap().is_empty());

    let user = store.get_user("local:ada").await.unwrap().unwrap();
    let (_, done) = sessions
        .sign_in_with_factor(Some(&waiting.key), Principal::for_user(&user), Factor::Totp)
        .await
        .unwrap();
    assert_ne!(done.key, waiting.key);
    assert!(sessions.load(&waiting.key).await.unwrap().is_none());
    let loaded = sessions.load(&done.key).await.unwrap().unwrap();
    assert_eq!(loaded.principal().user_id(), Some("local:ada"));
    assert_eq!(loaded.record.pending, None);
    let proof = loaded.record.second_factor.unwrap();
    assert_eq!(proof.factor, Factor::Totp);
    assert!(proof.is_fresh(Duration::from_secs(60), auth_core::unix_now()));
    assert!(!proof.is_fresh(Duration::from_secs(60), proof.at + 60));
}

#[tokio::test]
async fn a_waiting_sign_in_ends_after_its_timeout() {
    let (sessions, _) = sessions(Duration::from_secs(1)).await;
    let (_, waiting) = sessions
        .begin_second_factor(None, "local:ada")
        .await
        .unwrap();
    assert!(sessions.load(&waiting.key).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(sessions.load(&waiting.key).await.unwrap().is_none());
}

#[tokio::test]
async fn a_step_up_records_the_factor_on_a_signed_in_session_only() {
    let (sessions, store) = sessions(Duration::from_secs(300)).await;
    let user = store.get_user("local:ada").await.unwrap().unwrap();
    let (_, active) = sessions
        .sign_in(None, Principal::for_user(&user))
        .await
        .unwrap();
    assert_eq!(active.record.second_factor, None);
    assert!(
        sessions
            .record_second_factor(&active.key, Factor::RecoveryCode)
            .await
            .unwrap()
    );
    let loaded = sessions.load(&active.key).await.unwrap().unwrap();
    assert_eq!(
        loaded.record.second_factor.unwrap().factor,
        Factor::RecoveryCode
    );

    let (_, waiting) = sessions
        .begin_second_factor(None, "local:ada")
        .await
        .unwrap();
    assert!(
        !sessions
            .record_second_factor(&waiting.key, Factor::Totp)
            .await
            .unwrap()
    );
    assert!(sessions.begin_second_factor(None, "").await.is_err());
}
