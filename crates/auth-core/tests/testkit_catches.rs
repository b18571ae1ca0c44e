//! The conformance kit is only worth running if it fails on a broken
//! backend: each test here breaks one rule of a contract, with a thin fault
//! wrapper around a real memory implementation, and expects the kit to fail
//! naming that rule.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::memory::{MemorySessionBackend, MemoryStore, MemoryTokenStore};
use auth_core::testkit::{
    channel_conformance, one_time_token_conformance, session_conformance,
    standalone_token_conformance, store_conformance,
};
use auth_core::{
    AuthChannel, AuthEvent, AuthStore, ChannelError, ClaimChange, EventStream, NewUser,
    OneTimeTokenStore, PasswordHash, ProviderLink, SessionBackend, SessionError, SessionKey,
    SessionRecord, StoreError, TokenHash, TokenPurpose, TokenRecord, UserRecord, UserUpdate,
    unix_now, validate_user_id,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum StoreFault {
    /// `update_claims` reads, yields, then writes the whole list back.
    RacyClaims,
    /// A create that conflicts on the user id still writes its password.
    HalfWriteOnConflict,
    /// `delete_user` removes the user row but keeps its provider links.
    DeleteKeepsLinks,
    /// `unlink_provider` removes the pair from whichever user has it.
    UnlinkIgnoresUser,
    /// Tokens live beside the users, saved whether the user exists or not.
    TokensForUnknownUsers,
    /// Tokens live beside the users: `delete_user` leaves them.
    TokensOutliveUser,
}

/// A real memory store with one fault; tokens go to `side` under the
/// token faults.
struct FaultyStore {
    inner: MemoryStore,
    side: MemoryTokenStore,
    fault: StoreFault,
}

impl FaultyStore {
    fn new(fault: StoreFault) -> Self {
        Self {
            inner: MemoryStore::new(),
            side: MemoryTokenStore::new(),
            fault,
        }
    }

    fn tokens_beside(&self) -> bool {
        matches!(
            self.fault,
            StoreFault::TokensForUnknownUsers | StoreFault::TokensOutliveUser
        )
    }
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
    async fn unlink_provider(
        &self,
        user_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<bool, StoreError> {
        if self.fault != StoreFault::UnlinkIgnoresUser {
            return self.inner.unlink_provider(user_id, provider, subject).await;
        }
        // Checks the user, then removes the pair from its owner, whoever.
        self.inner
            .get_user(user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        match self.inner.find_by_provider(provider, subject).await? {
            Some(owner) => {
                self.inner
                    .unlink_provider(&owner.user_id, provider, subject)
                    .await
            }
            None => Ok(false),
        }
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

#[async_trait]
impl OneTimeTokenStore for FaultyStore {
    async fn save_token(&self, hash: &TokenHash, record: &TokenRecord) -> Result<(), StoreError> {
        if !self.tokens_beside() {
            return self.inner.save_token(hash, record).await;
        }
        if self.fault == StoreFault::TokensOutliveUser {
            record.validate()?;
            self.inner
                .get_user(&record.user_id)
                .await?
                .ok_or(StoreError::NotFound)?;
        }
        self.side.save_token(hash, record).await
    }
    async fn take_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError> {
        if self.tokens_beside() {
            return self.side.take_token(hash, purpose).await;
        }
        self.inner.take_token(hash, purpose).await
    }
    async fn delete_tokens_of(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError> {
        if self.tokens_beside() {
            return self.side.delete_tokens_of(user_id, purpose).await;
        }
        self.inner.delete_tokens_of(user_id, purpose).await
    }
}

/// A token store whose take reads, yields, then removes: two takers can
/// both read the token before either removes it.
#[derive(Default)]
struct RacyTokens {
    tokens: Mutex<HashMap<TokenHash, TokenRecord>>,
}

#[async_trait]
impl OneTimeTokenStore for RacyTokens {
    async fn save_token(&self, hash: &TokenHash, record: &TokenRecord) -> Result<(), StoreError> {
        record.validate()?;
        let mut tokens = self.tokens.lock().expect("the tokens lock");
        if tokens.contains_key(hash) {
            return Err(StoreError::Conflict { what: "token" });
        }
        tokens.retain(|_, kept| kept.user_id != record.user_id || kept.purpose != record.purpose);
        tokens.insert(hash.clone(), record.clone());
        Ok(())
    }
    async fn take_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let read = self
            .tokens
            .lock()
            .expect("the tokens lock")
            .get(hash)
            .filter(|record| record.purpose == purpose)
            .cloned();
        let Some(record) = read else {
            return Ok(None);
        };
        tokio::task::yield_now().await;
        self.tokens.lock().expect("the tokens lock").remove(hash);
        Ok(Some(record).filter(|record| !record.expired_at(unix_now())))
    }
    async fn delete_tokens_of(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        let mut tokens = self.tokens.lock().expect("the tokens lock");
        let before = tokens.len();
        tokens.retain(|_, record| {
            record.user_id != user_id || purpose.is_some_and(|p| p != record.purpose)
        });
        Ok(before - tokens.len())
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
    let store = FaultyStore::new(StoreFault::RacyClaims);
    store_conformance(&store).await;
}

#[tokio::test]
#[should_panic(
    expected = "store conformance failed at \"create conflict on a taken user id writes nothing\""
)]
async fn kit_catches_a_half_write_on_conflict() {
    let store = FaultyStore::new(StoreFault::HalfWriteOnConflict);
    store_conformance(&store).await;
}

#[tokio::test]
#[should_panic(
    expected = "store conformance failed at \"delete_user removes the user, credentials and links, and nothing else\""
)]
async fn kit_catches_a_delete_that_keeps_links() {
    let store = FaultyStore::new(StoreFault::DeleteKeepsLinks);
    store_conformance(&store).await;
}

#[tokio::test]
#[should_panic(
    expected = "store conformance failed at \"unlinking another user's pair is false and leaves it\""
)]
async fn kit_catches_an_unlink_that_ignores_the_user() {
    store_conformance(&FaultyStore::new(StoreFault::UnlinkIgnoresUser)).await;
}

#[tokio::test]
#[should_panic(
    expected = "one-time token conformance failed at \"a token for an unknown user is NotFound and stores nothing\""
)]
async fn kit_catches_tokens_saved_for_unknown_users() {
    one_time_token_conformance(&FaultyStore::new(StoreFault::TokensForUnknownUsers)).await;
}

#[tokio::test]
#[should_panic(
    expected = "one-time token conformance failed at \"deleting a user deletes its tokens and no one else's\""
)]
async fn kit_catches_tokens_that_outlive_their_user() {
    one_time_token_conformance(&FaultyStore::new(StoreFault::TokensOutliveUser)).await;
}

#[tokio::test]
#[should_panic(
    expected = "one-time token conformance failed at \"of 20 concurrent takes exactly one gets the token\""
)]
async fn kit_catches_a_take_that_is_not_atomic() {
    standalone_token_conformance(&RacyTokens::default()).await;
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
