//! The permanent user store.

use async_trait::async_trait;

use crate::error::StoreError;
use crate::user::{ClaimChange, NewUser, PasswordHash, ProviderLink, UserRecord, UserUpdate};

/// Where users, their credentials and their provider links live for good.
///
/// The store is the authority: sessions and channel events are copies of it.
/// Every method validates its input first and answers
/// [`StoreError::Invalid`] without touching the backend; a backend failure is
/// always [`StoreError::Backend`], never a silent `None`.
///
/// User ids, providers and subjects are compared exactly, byte for byte
/// (`local:Ada` and `local:ada` are two users), so a SQL backend needs a
/// case-sensitive (binary) collation on those columns.
///
/// Run [`testkit::store_conformance`](crate::testkit) (feature `testkit`)
/// against an implementation to hold it to this contract.
#[async_trait]
pub trait AuthStore: Send + Sync + 'static {
    /// The user with this id; `Ok(None)` when there is none.
    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError>;

    /// The user that (`provider`, `subject`) is linked to; `Ok(None)` when
    /// the pair is not linked.
    async fn find_by_provider(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, StoreError>;

    /// Every provider link of a user (empty when the user has none or does
    /// not exist).
    async fn links_of(&self, user_id: &str) -> Result<Vec<ProviderLink>, StoreError>;

    /// Writes the user, its credentials and its links in one atomic step.
    ///
    /// [`StoreError::Conflict`] when the user id or any (provider, subject)
    /// is taken; then nothing is written. Of many concurrent calls with the
    /// same link, exactly one succeeds.
    async fn create_user(&self, user: NewUser) -> Result<UserRecord, StoreError>;

    /// Changes the fields set in `update`; returns the new record.
    /// [`StoreError::NotFound`] when the user does not exist.
    async fn update_user(
        &self,
        user_id: &str,
        update: UserUpdate,
    ) -> Result<UserRecord, StoreError>;

    /// Applies one claim change atomically; returns the new record.
    ///
    /// Concurrent changes of different claim types all survive.
    /// [`StoreError::NotFound`] when the user does not exist.
    async fn update_claims(
        &self,
        user_id: &str,
        change: ClaimChange,
    ) -> Result<UserRecord, StoreError>;

    /// Links (`provider`, `subject`) to `link.user_id`. Linking a pair again
    /// to the same user replaces its claims; linking it to another user is
    /// [`StoreError::Conflict`]; an unknown user is [`StoreError::NotFound`].
    async fn link_provider(&self, link: ProviderLink) -> Result<(), StoreError>;

    /// Removes the link (`provider`, `subject`) from `user_id`; `Ok(true)` when it was there.
    /// A pair linked to another user is left alone and answers `Ok(false)`.
    /// [`StoreError::NotFound`] when the user does not exist. Invalid input is `StoreError::Invalid`.
    ///
    /// A pair the user does not have answers `Ok(false)` too, so a repeat
    /// call is `Ok(false)` and writes nothing. Once removed, the pair is
    /// free to [`link_provider`](Self::link_provider) to any user. Whether
    /// the last way to sign in may be removed is a policy of the layers
    /// above, not of the store.
    async fn unlink_provider(
        &self,
        user_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<bool, StoreError>;

    /// The user's password hash; `Ok(None)` when the user has no password or
    /// does not exist.
    async fn password_hash(&self, user_id: &str) -> Result<Option<PasswordHash>, StoreError>;

    /// Sets (or replaces) the user's password hash. [`StoreError::NotFound`]
    /// when the user does not exist.
    async fn set_password_hash(&self, user_id: &str, hash: PasswordHash) -> Result<(), StoreError>;

    /// Deletes the user with everything the store keeps of it (claims,
    /// credentials, provider links) in one atomic step: afterwards
    /// [`get_user`](Self::get_user) and [`password_hash`](Self::password_hash)
    /// answer `None`, [`links_of`](Self::links_of) is empty and each of its
    /// (provider, subject) pairs is free to link again.
    /// [`StoreError::NotFound`] when the user does not exist (so a repeat
    /// call is `NotFound`, and writes nothing).
    ///
    /// Sessions are not the store's: [`AuthActions::delete_user`](crate::AuthActions::delete_user)
    /// deletes the user here, then ends the sessions and live tabs.
    async fn delete_user(&self, user_id: &str) -> Result<(), StoreError>;
}

/// Every user of a store, page by page: what an administrator lists.
///
/// Users come in byte order of their ids (as Rust compares `str`), whatever
/// the collation of a SQL column, so paging by the last id seen visits
/// every user exactly once even while others register.
///
/// Run [`testkit::admin_conformance`](crate::testkit) (feature `testkit`)
/// against an implementation to hold it to this contract.
#[async_trait]
pub trait UserDirectory: Send + Sync + 'static {
    /// Up to `limit` users (lowered to [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE))
    /// whose ids come after `after` (from the first user when `None`), in
    /// byte order of their ids. An empty list once past the last user.
    /// [`StoreError::Invalid`] for a malformed `after`.
    async fn list_users(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError>;
}
