//! The core of the live-auth stack: principals and claims, the four traits
//! every backend implements, policies, sessions, and the three-layer writer
//! that keeps a user's store row, sessions and live tabs in step.
//!
//! | piece | what it is |
//! |---|---|
//! | [`Principal`], [`Claim`] | who is asking, and what they may do |
//! | [`AuthStore`] | the permanent user record (users, credentials, provider links) |
//! | [`SessionBackend`], [`Sessions`] | per-login sessions with a TTL, and the logic over them |
//! | [`AuthChannel`], [`AuthEvent`] | live events fanned out to a user's open tabs |
//! | [`IdentityProvider`] | a proof (a password, an authorization code) in, a principal out |
//! | [`OneTimeTokenStore`], [`OneTimeToken`] | single-use, expiring links for the account flows (verify an email, reset a password) |
//! | [`SecondFactorStore`], [`Factor`] | TOTP secrets (sealed), the last TOTP step used, and hashed recovery codes |
//! | [`Policy`], [`Policies`] | named predicates over a principal |
//! | [`AuthActions`] | grant, revoke, sign out: store, then session, then channel; for the principal itself, or for an [`Actor`] on any user (disable and enable too) |
//! | [`AuditLog`], [`AuditEntry`] | who changed which user, how, when and from where |
//! | [`UserDirectory`] | every user, page by page, for administrators |
//! | [`throttle::Throttle`] | at most N attempts per key per window, for logins and other guessable steps |
//!
//! Features: `memory` (default) adds [`memory::MemoryStore`] (also a
//! [`OneTimeTokenStore`] for its users), [`memory::MemorySessionBackend`],
//! [`memory::MemoryTokenStore`] and `throttle::MemoryThrottle`; `testkit`
//! adds conformance suites that any backend runs against itself.
//!
//! # Implementing a custom store
//!
//! A store is one `impl AuthStore`. This one keeps users in a map and
//! delegates the rest to the memory store; a SQL store does the same with
//! queries, keeping each method atomic.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//!
//! use async_trait::async_trait;
//! use auth_core::memory::MemoryStore;
//! use auth_core::{
//!     AuthStore, ClaimChange, NewUser, PasswordHash, ProviderLink, StoreError, UserRecord,
//!     UserUpdate,
//! };
//!
//! /// Counts reads, stores through the memory store.
//! #[derive(Default)]
//! struct CountingStore {
//!     inner: MemoryStore,
//!     reads: Mutex<HashMap<String, u64>>,
//! }
//!
//! #[async_trait]
//! impl AuthStore for CountingStore {
//!     async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
//!         *self.reads.lock().unwrap().entry(user_id.to_owned()).or_default() += 1;
//!         self.inner.get_user(user_id).await
//!     }
//!     async fn find_by_provider(&self, provider: &str, subject: &str) -> Result<Option<UserRecord>, StoreError> {
//!         self.inner.find_by_provider(provider, subject).await
//!     }
//!     async fn links_of(&self, user_id: &str) -> Result<Vec<ProviderLink>, StoreError> {
//!         self.inner.links_of(user_id).await
//!     }
//!     async fn create_user(&self, user: NewUser) -> Result<UserRecord, StoreError> {
//!         self.inner.create_user(user).await
//!     }
//!     async fn update_user(&self, user_id: &str, update: UserUpdate) -> Result<UserRecord, StoreError> {
//!         self.inner.update_user(user_id, update).await
//!     }
//!     async fn update_claims(&self, user_id: &str, change: ClaimChange) -> Result<UserRecord, StoreError> {
//!         self.inner.update_claims(user_id, change).await
//!     }
//!     async fn link_provider(&self, link: ProviderLink) -> Result<(), StoreError> {
//!         self.inner.link_provider(link).await
//!     }
//!     async fn unlink_provider(&self, user_id: &str, provider: &str, subject: &str) -> Result<bool, StoreError> {
//!         self.inner.unlink_provider(user_id, provider, subject).await
//!     }
//!     async fn password_hash(&self, user_id: &str) -> Result<Option<PasswordHash>, StoreError> {
//!         self.inner.password_hash(user_id).await
//!     }
//!     async fn set_password_hash(&self, user_id: &str, hash: PasswordHash) -> Result<(), StoreError> {
//!         self.inner.set_password_hash(user_id, hash).await
//!     }
//!     async fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
//!         self.inner.delete_user(user_id).await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), StoreError> {
//! let store = CountingStore::default();
//! store.create_user(NewUser::new("local:1").with_name("Ada")).await?;
//! assert_eq!(store.get_user("local:1").await?.and_then(|u| u.name).as_deref(), Some("Ada"));
//! assert_eq!(store.reads.lock().unwrap()["local:1"], 1);
//! # Ok(()) }
//! ```

mod actions;
mod audit;
mod channel;
mod error;
mod idp;
mod mail;
mod one_time;
mod policy;
mod principal;
mod second_factor;
mod session;
mod store;
pub mod throttle;
mod user;

#[cfg(feature = "memory")]
pub mod memory;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use actions::AuthActions;
pub use audit::{
    Actor, AuditAction, AuditEntry, AuditLog, MAX_ACTOR_LEN, MAX_AUDIT_DETAIL_LEN, MAX_PAGE_SIZE,
    Page,
};
pub use channel::{AuthChannel, AuthEvent, EventStream};
pub use error::{
    AuthError, BoxError, ChannelError, DuplicatePolicy, IdpError, InvalidInput, PolicyError,
    SessionError, StoreError,
};
pub use idp::{Authenticated, AuthorizationCode, IdentityProvider, Proof};
pub use mail::{Email, LogMailer, MAX_SUBJECT_LEN, MailError, Mailer};
pub use one_time::{
    OneTimeToken, OneTimeTokenStore, TokenHash, TokenPurpose, TokenRecord, state_binding,
};
pub use policy::{Policies, Policy};
pub use principal::{
    Claim, MAX_CLAIM_TYPE_LEN, MAX_CLAIM_VALUE_LEN, Principal, validate_claim_type,
};
pub use second_factor::{
    Factor, MAX_RECOVERY_CODES, MAX_SEALED_SECRET_LEN, RECOVERY_CODE_COUNT, RecoveryCodeHash,
    SealedSecret, SecondFactorStore, TotpRecord, validate_recovery_codes, validate_step,
};
pub use session::{
    ActiveSession, FactorProof, PendingSignIn, SessionBackend, SessionConfig, SessionKey,
    SessionRecord, SessionToken, Sessions, unix_now,
};
pub use store::{AuthStore, UserDirectory};
pub use user::{
    ClaimChange, DISABLED_CLAIM, Extras, MAX_USER_ID_LEN, NewUser, PasswordHash, ProviderLink,
    Secret, UserRecord, UserUpdate, is_reserved_claim, validate_claims, validate_link_key,
    validate_user_id,
};

/// The crates this one's public API exposes, re-exported so users get the
/// matching versions.
pub use async_trait::async_trait;

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
