//! The conformance kit is only worth running if it fails on a broken
//! backend: each test here breaks one rule of a contract, with a thin fault
//! wrapper around a real memory implementation, and expects the kit to fail
//! naming that rule.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::testkit::{channel_conformance, session_conformance, store_conformance};
use auth_core::{
    AuthChannel, AuthEvent, AuthStore, ChannelError, ClaimChange, EventStream, NewUser,
    PasswordHash, ProviderLink, SessionBackend, SessionError, SessionKey, SessionRecord,
    StoreError, UserRecord, UserUpdate, validate_user_id,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum StoreFault {
    /// `update_claims` reads, yields, then writes the whole list back.
    RacyClaims,
    /// A create that conflicts on the user id still writes its password.
    HalfWriteOnConflict,
    /// `delete_user` removes the user row but keeps its provider links.
    DeleteKeepsLinks,
}

struct FaultyStore {
    inner: MemoryStore,
    fault: StoreFault,
}

#[async_trait]
impl AuthStore for FaultyStore {
    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.inner.get_user(user_id).await
    }
    async fn find_by_provider(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.inner.find_by_provider(provider, subject).await
    }
    async fn links_of(&self, user_id: &str) -> Result<Vec<ProviderLink>, StoreError> {
        self.inner.links_of(user_id).await
    }
    async fn create_user(&self, user: NewUser) -> Result<UserRecord, StoreError> {
        let result = self.inner.create_user(user.clone()).await;
        if self.fault == StoreFault::HalfWriteOnConflict
            && matches!(result, Err(StoreError::Conflict { .. }))
            && let Some(hash) = user.password_hash
        {
            let _ = self
                .inner
                .set_password_hash(&user.record.user_id, hash)
                .await;
        }
        result
    }
    async fn update_user(
        &self,
        user_id: &str,
        update: UserUpdate,
    ) -> Result<UserRecord, StoreError> {
        self.inner.update_user(user_id, update).await
    }
    async fn update_claims(
        &self,
        user_id: &str,
        change: ClaimChange,
    ) -> Result<UserRecord, StoreError> {
        if self.fault != StoreFault::RacyClaims {
            return self.inner.update_claims(user_id, change).await;
        }
        change.validate()?;
        let mut claims = self
            .inner
            .get_user(user_id)
            .await?
            .ok_or(StoreError::NotFound)?
            .claims;
        tokio::task::yield_now().await;
        change.apply(&mut claims);
        self.inner
            .update_claims(user_id, ClaimChange::Replace(claims))
            .await
    }
    async fn link_provider(&self, link: ProviderLink) -> Result<(), StoreError> {
        self.inner.link_provider(link).await
    }
    async fn password_hash(&self, user_id: &str) -> Result<Option<PasswordHash>, StoreError> {
        self.inner.password_hash(user_id).await
    }
    async fn set_password_hash(&self, user_id: &str, hash: PasswordHash) -> Result<(), StoreError> {
        self.inner.set_password_hash(user_id, hash).await
    }
    async fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        let links = self.inner.links_of(user_id).await?;
        self.inner.delete_user(user_id).await?;
        if self.fault == StoreFault::DeleteKeepsLinks {
            // Put the links back under a ghost user that has no row.
            let ghost = format!("{user_id}-ghost");
            self.inner.create_user(NewUser::new(ghost.clone())).await?;
            for link in links {
                self.inner
                    .link_provider(ProviderLink::new(
                        link.provider,
                        link.subject,
                        ghost.clone(),
                    ))
                    .await?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SessionFault {
    /// Every session lives ten minutes, whatever its TTL.
    IgnoresTtl,
    /// `update` writes even when the session is gone.
    UpdateRevives,
    /// `bump_user_stamp` reads, yields, then writes.
    RacyStamps,
}

struct FaultySessions {
    inner: MemorySessionBackend,
    fault: SessionFault,
    stamps: Mutex<HashMap<String, u64>>,
}

impl FaultySessions {
    fn new(fault: SessionFault) -> Self {
        Self {
            inner: MemorySessionBackend::new(),
            fault,
            stamps: Mutex::default(),
        }
    }
}

#[async_trait]
impl SessionBackend for FaultySessions {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, SessionError> {
        self.inner.load(key).await
    }
    async fn save(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        let ttl = match self.fault {
            SessionFault::IgnoresTtl => Duration::from_secs(600),
            _ => ttl,
        };
        self.inner.save(key, record, ttl).await
    }
    async fn update(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, SessionError> {
        if self.fault == SessionFault::UpdateRevives {
            self.inner.save(key, record, ttl).await?;
            return Ok(true);
        }
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
        if self.fault != SessionFault::RacyStamps {
            return self.inner.user_stamp(user_id).await;
        }
        validate_user_id(user_id)?;
        Ok(self
            .stamps
            .lock()
            .expect("the stamps lock")
            .get(user_id)
            .copied()
            .unwrap_or(0))
    }
    async fn bump_user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        if self.fault != SessionFault::RacyStamps {
            return self.inner.bump_user_stamp(user_id).await;
        }
        let next = self.user_stamp(user_id).await? + 1;
        tokio::task::yield_now().await;
        self.stamps
            .lock()
            .expect("the stamps lock")
            .insert(user_id.to_owned(), next);
        Ok(next)
    }
}

/// A channel that accepts everything and delivers nothing.
struct SilentChannel;

#[async_trait]
impl AuthChannel for SilentChannel {
    async fn publish(&self, _user_id: &str, _event: AuthEvent) -> Result<(), ChannelError> {
        Ok(())
    }
    async fn subscribe(&self, _user_id: &str) -> Result<EventStream, ChannelError> {
        Ok(Box::pin(futures_util::stream::pending()))
    }
}

#[tokio::test]
#[should_panic(expected = "store conformance failed at \"50 concurrent claim changes")]
async fn kit_catches_lost_concurrent_claim_changes() {
    let store = FaultyStore {
        inner: MemoryStore::new(),
        fault: StoreFault::RacyClaims,
    };
    store_conformance(&store).await;
}

#[tokio::test]
#[should_panic(
    expected = "store conformance failed at \"create conflict on a taken user id writes nothing\""
)]
async fn kit_catches_a_half_write_on_conflict() {
    let store = FaultyStore {
        inner: MemoryStore::new(),
        fault: StoreFault::HalfWriteOnConflict,
    };
    store_conformance(&store).await;
}

#[tokio::test]
#[should_panic(
    expected = "store conformance failed at \"delete_user removes the user, credentials and links, and nothing else\""
)]
async fn kit_catches_a_delete_that_keeps_links() {
    let store = FaultyStore {
        inner: MemoryStore::new(),
        fault: StoreFault::DeleteKeepsLinks,
    };
    store_conformance(&store).await;
}

#[tokio::test]
#[should_panic(expected = "session conformance failed at \"sessions expire after their TTL")]
async fn kit_catches_sessions_that_never_expire() {
    session_conformance(&FaultySessions::new(SessionFault::IgnoresTtl)).await;
}

#[tokio::test]
#[should_panic(expected = "session conformance failed at \"update writes only a live session\"")]
async fn kit_catches_an_update_that_revives_a_session() {
    session_conformance(&FaultySessions::new(SessionFault::UpdateRevives)).await;
}

#[tokio::test]
#[should_panic(expected = "session conformance failed at \"50 concurrent bumps")]
async fn kit_catches_racy_stamps() {
    session_conformance(&FaultySessions::new(SessionFault::RacyStamps)).await;
}

#[tokio::test]
#[should_panic(expected = "nothing arrived within")]
async fn kit_catches_a_channel_that_delivers_nothing_without_hanging() {
    channel_conformance(&SilentChannel).await;
}
