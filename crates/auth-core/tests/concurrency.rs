//! Concurrent claim changes through the writer: none is lost, in the store
//! or in any session.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{Claim, SessionBackend, SessionError, SessionKey, SessionRecord};
use support::Stack;
use tokio::sync::Notify;

fn perm(i: usize) -> Claim {
    Claim::new(format!("perm-{i:02}"), format!("v{i}"))
}

/// 50 grants of different claim types, from 50 tasks on two threads, all
/// through one session: every one is in the store, in that session and in
/// another session of the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_grants_all_survive() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;

    let grants: Vec<_> = (0..50)
        .map(|i| {
            let (actions, principal) = (stack.actions.clone(), current.principal().clone());
            let key = current.key.clone();
            tokio::spawn(async move {
                let claim = perm(i);
                actions
                    .grant(&principal, Some(&key), &claim.kind, &claim.value)
                    .await
            })
        })
        .collect();
    for grant in grants {
        grant.await.unwrap().unwrap();
    }

    let stored = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    for session in [&current, &other] {
        let principal = stack.principal_of(session).await;
        for i in 0..50 {
            assert!(stored.claims.contains(&perm(i)), "store lost perm-{i:02}");
            let claim = perm(i);
            assert!(
                principal.has_claim(&claim.kind, Some(&claim.value)),
                "a session lost perm-{i:02}"
            );
        }
        assert_eq!(
            principal.claims().len(),
            51,
            "50 grants plus the first claim"
        );
    }
}

/// A memory session backend whose first `bump_user_stamp` waits until a
/// second one has finished: two concurrent changes bump in the opposite
/// order of their store writes.
struct SwappedBumps {
    inner: MemorySessionBackend,
    first_taken: AtomicBool,
    second_done: Notify,
}

#[async_trait]
impl SessionBackend for SwappedBumps {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, SessionError> {
        self.inner.load(key).await
    }
    async fn save(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        self.inner.save(key, record, ttl).await
    }
    async fn update(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, SessionError> {
        self.inner.update(key, record, ttl).await
    }
    async fn delete(&self, key: &SessionKey) -> Result<bool, SessionError> {
        self.inner.delete(key).await
    }
    async fn sessions_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, SessionError> {
        self.inner.sessions_of(user_id).await
    }
    async fn delete_sessions_of(&self, user_id: &str) -> Result<usize, SessionError> {
        self.inner.delete_sessions_of(user_id).await
    }
    async fn user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        self.inner.user_stamp(user_id).await
    }
    async fn bump_user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        if self.first_taken.swap(true, Ordering::SeqCst) {
            let stamp = self.inner.bump_user_stamp(user_id).await;
            self.second_done.notify_one();
            stamp
        } else {
            self.second_done.notified().await;
            self.inner.bump_user_stamp(user_id).await
        }
    }
}

/// Change A writes the store, change B writes the store (so B's row holds
/// both claims), B bumps, then A bumps and writes its older snapshot last.
/// The session must not keep A's snapshot as current: it misses B's claim.
#[tokio::test]
async fn bumps_racing_store_writes_never_leave_a_session_stale() {
    let backend = Arc::new(SwappedBumps {
        inner: MemorySessionBackend::new(),
        first_taken: AtomicBool::new(false),
        second_done: Notify::new(),
    });
    let stack = Stack::with_backend(
        Arc::new(MemoryStore::new()),
        backend,
        Arc::new(MemoryChannel::new()),
    );
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;
    let principal = session.principal();

    let (a, b) = tokio::join!(
        stack.actions.grant(principal, Some(&session.key), "a", "1"),
        stack.actions.grant(principal, Some(&session.key), "b", "2"),
    );
    a.unwrap();
    b.unwrap();

    let stored = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    assert!(stored.claims.contains(&Claim::new("a", "1")));
    assert!(stored.claims.contains(&Claim::new("b", "2")));
    for session in [&session, &other] {
        let loaded = stack.principal_of(session).await;
        assert!(loaded.has_claim("a", Some("1")), "{:?}", loaded.claims());
        assert!(loaded.has_claim("b", Some("2")), "{:?}", loaded.claims());
    }
}
