//! The three-layer writer's order (store, then sessions, then channel) and
//! its failure rules: a store failure writes nothing, a channel failure
//! loses nothing.

mod support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth_channel_memory::MemoryChannel;
use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{
    AuthChannel, AuthError, AuthEvent, AuthStore, ChannelError, Claim, EventStream, SessionBackend,
    SessionError, SessionKey, SessionRecord, StoreError,
};
use support::{DownChannel, Stack, Wrapped, assert_quiet, next_event};

/// A live tab that, the moment it receives the event, reads the store and
/// makes a request with its session: both already hold the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_reading_at_once_finds_store_and_session_written() {
    let stack = Arc::new(Stack::memory());
    let user = stack.user().await;
    let (_, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();

    let reader = {
        let stack = stack.clone();
        let (user_id, other) = (user.user_id.clone(), other.clone());
        tokio::spawn(async move {
            let event = next_event(&mut tab).await;
            let stored = stack.store.get_user(&user_id).await.unwrap().unwrap();
            let session = stack.principal_of(&other).await;
            (event, stored.claims, session)
        })
    };
    let granted = stack
        .actions
        .grant(current.principal(), Some(&current.key), "role", "admin")
        .await
        .unwrap();

    let (event, stored, session) = reader.await.unwrap();
    assert_eq!(event, AuthEvent::update(granted));
    assert!(stored.contains(&Claim::new("role", "admin")));
    assert!(session.has_claim("role", Some("admin")));
}

/// The store's claims, and the watched session's snapshot and stamp.
type AtPublish = (Vec<Claim>, Option<SessionRecord>, u64);

/// What each layer saw of the others when it was written.
#[derive(Default)]
struct Seen {
    /// The store's claims when the change stamp was bumped.
    at_bump: Mutex<Vec<Vec<Claim>>>,
    /// At publish: the store's claims, and the snapshot and stamp of the
    /// watched session.
    at_publish: Mutex<Vec<AtPublish>>,
}

/// A memory session backend that notes what the store held at each bump.
struct WatchedBackend {
    inner: MemorySessionBackend,
    store: Arc<MemoryStore>,
    seen: Arc<Seen>,
}

#[async_trait]
impl SessionBackend for WatchedBackend {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, SessionError> {
        self.inner.load(key).await
    }
    async fn save(
        &self,
        k: &SessionKey,
        r: &SessionRecord,
        t: Duration,
    ) -> Result<(), SessionError> {
        self.inner.save(k, r, t).await
    }
    async fn update(
        &self,
        k: &SessionKey,
        r: &SessionRecord,
        t: Duration,
    ) -> Result<bool, SessionError> {
        self.inner.update(k, r, t).await
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
        let user = self
            .store
            .get_user(user_id)
            .await?
            .expect("the user exists");
        self.seen.at_bump.lock().expect("lock").push(user.claims);
        self.inner.bump_user_stamp(user_id).await
    }
}

/// An in-process channel that notes what store and session held at each
/// publish.
struct WatchedChannel {
    inner: MemoryChannel,
    store: Arc<MemoryStore>,
    backend: Arc<WatchedBackend>,
    session: Mutex<Option<SessionKey>>,
    seen: Arc<Seen>,
}

#[async_trait]
impl AuthChannel for WatchedChannel {
    async fn publish(&self, user_id: &str, event: AuthEvent) -> Result<(), ChannelError> {
        let claims = self
            .store
            .get_user(user_id)
            .await
            .expect("get_user")
            .expect("the user")
            .claims;
        let key = self
            .session
            .lock()
            .expect("lock")
            .clone()
            .expect("a watched session");
        let snapshot = self.backend.load(&key).await.expect("load");
        let stamp = self.backend.user_stamp(user_id).await.expect("user_stamp");
        self.seen
            .at_publish
            .lock()
            .expect("lock")
            .push((claims, snapshot, stamp));
        self.inner.publish(user_id, event).await
    }
    async fn subscribe(&self, user_id: &str) -> Result<EventStream, ChannelError> {
        self.inner.subscribe(user_id).await
    }
}

/// Store before the stamp (else a request between them would refresh from
/// the old row under the new stamp and stay stale), and store and session
/// before the event.
#[tokio::test]
async fn each_layer_is_written_before_the_next() {
    let seen = Arc::new(Seen::default());
    let store = Arc::new(MemoryStore::new());
    let backend = Arc::new(WatchedBackend {
        inner: MemorySessionBackend::new(),
        store: store.clone(),
        seen: seen.clone(),
    });
    let channel = Arc::new(WatchedChannel {
        inner: MemoryChannel::new(),
        store: store.clone(),
        backend: backend.clone(),
        session: Mutex::default(),
        seen: seen.clone(),
    });
    let stack = Stack::with_backend(store, backend, channel.clone());
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    *channel.session.lock().unwrap() = Some(session.key.clone());

    let granted = stack
        .actions
        .grant(session.principal(), Some(&session.key), "role", "admin")
        .await
        .unwrap();

    let admin = Claim::new("role", "admin");
    let at_bump = seen.at_bump.lock().unwrap().clone();
    assert_eq!(at_bump.len(), 1);
    assert!(
        at_bump[0].contains(&admin),
        "the store was written before the bump"
    );
    let at_publish = seen.at_publish.lock().unwrap().clone();
    assert_eq!(at_publish.len(), 1);
    let (claims, snapshot, stamp) = &at_publish[0];
    assert!(
        claims.contains(&admin),
        "the store was written before the event"
    );
    let snapshot = snapshot.as_ref().expect("the session is live");
    assert_eq!(
        &snapshot.principal, &granted,
        "the session was written before the event"
    );
    assert!(*stamp >= 1, "the stamp was bumped before the event");
}

/// The store fails: the call fails, and no session, stamp or event moves.
#[tokio::test]
async fn a_failing_store_changes_no_session_stamp_or_tab() {
    let store = Arc::new(Wrapped::default());
    let stack = Stack::with(store.clone(), Arc::new(MemoryChannel::new()));
    let user = stack.user().await;
    let (_, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();
    let stamp_before = stack.backend.user_stamp(&user.user_id).await.unwrap();
    let current_before = stack.backend.load(&current.key).await.unwrap();
    let other_before = stack.backend.load(&other.key).await.unwrap();

    store.fail_claim_changes.store(true, Ordering::SeqCst);
    let result = stack
        .actions
        .grant(current.principal(), Some(&current.key), "role", "admin")
        .await;
    assert!(
        matches!(result, Err(AuthError::Store(StoreError::Backend { .. }))),
        "{result:?}"
    );
    let source = std::error::Error::source(&result.unwrap_err()).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("injected"), "the cause is kept");

    let stamp_after = stack.backend.user_stamp(&user.user_id).await.unwrap();
    assert_eq!(stamp_after, stamp_before, "no stamp bump");
    assert_eq!(
        stack.backend.load(&current.key).await.unwrap(),
        current_before
    );
    assert_eq!(stack.backend.load(&other.key).await.unwrap(), other_before);
    assert_quiet(&mut tab).await;
    let stored = store.inner.get_user(&user.user_id).await.unwrap().unwrap();
    assert_eq!(stored.claims, user.claims);
}

/// The channel is down: every call still succeeds, and store and sessions
/// hold the change.
#[tokio::test]
async fn a_failing_channel_loses_nothing() {
    let stack = Stack::with(Arc::new(MemoryStore::new()), Arc::new(DownChannel));
    let user = stack.user().await;
    let (_, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;
    let (_, last) = stack.sign_in(&user.user_id).await;

    let granted = stack
        .actions
        .grant(current.principal(), Some(&current.key), "role", "admin")
        .await
        .expect("a channel failure is not the writer's failure");
    assert!(granted.has_claim("role", Some("admin")));
    let stored = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    assert!(stored.claims.contains(&Claim::new("role", "admin")));
    for session in [&current, &other] {
        assert!(
            stack
                .principal_of(session)
                .await
                .has_claim("role", Some("admin"))
        );
    }

    stack
        .actions
        .revoke_session(current.principal(), &current.key)
        .await
        .unwrap();
    assert!(stack.sessions.load(&current.key).await.unwrap().is_none());
    let removed = stack
        .actions
        .revoke_all_sessions(other.principal())
        .await
        .unwrap();
    assert_eq!(removed, 2);
    assert!(stack.sessions.load(&last.key).await.unwrap().is_none());
}
