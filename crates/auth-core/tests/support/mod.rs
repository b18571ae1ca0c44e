//! What the core tests share: a full stack over the memory backends and the
//! in-process channel, fresh users, and thin wrappers that count calls or
//! inject one failure around the real memory implementations.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{
    ActiveSession, AuthActions, AuthChannel, AuthEvent, AuthStore, ChannelError, ClaimChange,
    EventStream, NewUser, PasswordHash, Principal, ProviderLink, SessionBackend, SessionConfig,
    SessionToken, Sessions, StoreError, UserRecord, UserUpdate,
};
use futures_util::StreamExt;

/// How long an event may take to arrive.
pub const DELIVERY: Duration = Duration::from_secs(5);
/// How long a subscriber that must receive nothing is watched.
pub const QUIET: Duration = Duration::from_millis(200);

/// The three layers and the writer over them.
pub struct Stack {
    pub store: Arc<dyn AuthStore>,
    pub backend: Arc<dyn SessionBackend>,
    pub sessions: Sessions,
    pub channel: Arc<dyn AuthChannel>,
    pub actions: AuthActions,
}

impl Stack {
    /// Memory store, memory sessions, in-process channel.
    pub fn memory() -> Self {
        Self::with(Arc::new(MemoryStore::new()), Arc::new(MemoryChannel::new()))
    }

    /// Memory sessions over `store`, publishing to `channel`.
    pub fn with(store: Arc<dyn AuthStore>, channel: Arc<dyn AuthChannel>) -> Self {
        Self::with_backend(store, Arc::new(MemorySessionBackend::new()), channel)
    }

    /// The writer over the three given layers, with default timeouts.
    pub fn with_backend(
        store: Arc<dyn AuthStore>,
        backend: Arc<dyn SessionBackend>,
        channel: Arc<dyn AuthChannel>,
    ) -> Self {
        let sessions = Sessions::new(backend.clone(), store.clone(), SessionConfig::new())
            .expect("the default config is valid");
        let actions = AuthActions::new(store.clone(), sessions.clone(), channel.clone());
        Self {
            store,
            backend,
            sessions,
            channel,
            actions,
        }
    }

    /// A new user with a unique id and one claim.
    pub async fn user(&self) -> UserRecord {
        let id = format!("local:{}", uuid::Uuid::new_v4());
        let new = NewUser::new(&id)
            .with_name("Ada")
            .with_email(format!("{}@example.com", &id[6..]))
            .with_claims(vec![auth_core::Claim::new("role", "user")]);
        self.store.create_user(new).await.expect("create_user")
    }

    /// Signs `user` in from the store, as a login would.
    pub async fn sign_in(&self, user_id: &str) -> (SessionToken, ActiveSession) {
        let user = self
            .store
            .get_user(user_id)
            .await
            .expect("get_user")
            .expect("the user exists");
        self.sessions
            .sign_in(None, Principal::for_user(&user))
            .await
            .expect("sign_in")
    }

    /// The session's principal on its next request.
    pub async fn principal_of(&self, session: &ActiveSession) -> Principal {
        self.sessions
            .load(&session.key)
            .await
            .expect("load")
            .expect("the session is live")
            .record
            .principal
    }
}

/// The next event of `stream`, or a panic after [`DELIVERY`].
pub async fn next_event(stream: &mut EventStream) -> AuthEvent {
    tokio::time::timeout(DELIVERY, stream.next())
        .await
        .expect("an event within the delivery timeout")
        .expect("the stream is open")
}

/// Panics if `stream` yields an event within [`QUIET`].
pub async fn assert_quiet(stream: &mut EventStream) {
    if let Ok(event) = tokio::time::timeout(QUIET, stream.next()).await {
        panic!("expected no event, got {event:?}");
    }
}

/// A [`MemoryStore`] that counts `get_user` calls and can be told to fail
/// `update_claims`.
#[derive(Default)]
pub struct Wrapped {
    pub inner: MemoryStore,
    pub gets: AtomicUsize,
    pub fail_claim_changes: std::sync::atomic::AtomicBool,
}

impl Wrapped {
    /// How many `get_user` calls so far.
    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl AuthStore for Wrapped {
    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
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
        self.inner.create_user(user).await
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
        if self.fail_claim_changes.load(Ordering::SeqCst) {
            let cause = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected");
            return Err(StoreError::backend("update_claims", cause));
        }
        self.inner.update_claims(user_id, change).await
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
        self.inner.unlink_provider(user_id, provider, subject).await
    }
    async fn password_hash(&self, user_id: &str) -> Result<Option<PasswordHash>, StoreError> {
        self.inner.password_hash(user_id).await
    }
    async fn set_password_hash(&self, user_id: &str, hash: PasswordHash) -> Result<(), StoreError> {
        self.inner.set_password_hash(user_id, hash).await
    }
    async fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        self.inner.delete_user(user_id).await
    }
}

/// A channel whose transport is down: every call fails.
pub struct DownChannel;

#[async_trait]
impl AuthChannel for DownChannel {
    async fn publish(&self, _user_id: &str, _event: AuthEvent) -> Result<(), ChannelError> {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "injected");
        Err(ChannelError::backend("publish", cause))
    }
    async fn subscribe(&self, _user_id: &str) -> Result<EventStream, ChannelError> {
        Err(ChannelError::Closed)
    }
}
