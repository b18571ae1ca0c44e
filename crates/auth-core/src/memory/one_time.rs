//! [`OneTimeTokenStore`] in memory: the map logic both memory token
//! stores share, and [`MemoryTokenStore`], which keeps no users.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::error::StoreError;
use crate::one_time::{OneTimeTokenStore, TokenHash, TokenPurpose, TokenRecord};
use crate::session::unix_now;
use crate::user::validate_user_id;

/// One-time tokens in a map behind one lock, on their own. At most one
/// token per user and purpose is kept, so its size is bounded by the users,
/// not by how often links are asked for.
///
/// This store keeps no users: it takes a token for any well-formed user id,
/// and a deleted user's tokens stay until they are replaced, taken, expire
/// or go with [`delete_tokens_of`](OneTimeTokenStore::delete_tokens_of).
/// [`MemoryStore`](super::MemoryStore) is a token store too, whose tokens
/// belong to its users as in the SQL store: an unknown user is
/// [`StoreError::NotFound`] and deleting a user deletes its tokens.
///
/// ```
/// use std::time::Duration;
/// use auth_core::memory::MemoryTokenStore;
/// use auth_core::{OneTimeToken, OneTimeTokenStore, TokenPurpose, TokenRecord};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::StoreError> {
/// let tokens = MemoryTokenStore::new();
/// let token = OneTimeToken::generate();
/// let record = TokenRecord::new(TokenPurpose::ResetPassword, "local:1", "state", Duration::from_secs(3600));
/// tokens.save_token(&token.hash(), &record).await?;
/// let taken = tokens.take_token(&token.hash(), TokenPurpose::ResetPassword).await?;
/// assert_eq!(taken, Some(record));
/// assert_eq!(tokens.take_token(&token.hash(), TokenPurpose::ResetPassword).await?, None);
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Tokens>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tokens are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no token is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Tokens> {
        // Every change is one map operation: a poisoned lock holds whole data.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl OneTimeTokenStore for MemoryTokenStore {
    async fn save_token(&self, hash: &TokenHash, record: &TokenRecord) -> Result<(), StoreError> {
        record.validate()?;
        save(&mut self.lock(), hash, record)
    }

    async fn take_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError> {
        Ok(take(&mut self.lock(), hash, purpose))
    }

    async fn delete_tokens_of(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        Ok(delete_of(&mut self.lock(), user_id, purpose))
    }
}

/// Tokens by hash: the map both memory token stores keep.
pub(super) type Tokens = HashMap<TokenHash, TokenRecord>;

/// Stores a validated `record` under `hash`, dropping the user's other
/// tokens of that purpose and every expired token; a stored hash is a
/// conflict and changes nothing.
pub(super) fn save(
    tokens: &mut Tokens,
    hash: &TokenHash,
    record: &TokenRecord,
) -> Result<(), StoreError> {
    if tokens.contains_key(hash) {
        return Err(StoreError::Conflict { what: "token" });
    }
    let now = unix_now();
    let replaced =
        |kept: &TokenRecord| kept.user_id == record.user_id && kept.purpose == record.purpose;
    tokens.retain(|_, kept| !(kept.expired_at(now) || replaced(kept)));
    tokens.insert(hash.clone(), record.clone());
    Ok(())
}

/// Removes and returns the live token `hash` of `purpose`; a token of
/// another purpose stays, an expired one is removed and not returned.
pub(super) fn take(
    tokens: &mut Tokens,
    hash: &TokenHash,
    purpose: TokenPurpose,
) -> Option<TokenRecord> {
    if tokens
        .get(hash)
        .is_none_or(|record| record.purpose != purpose)
    {
        return None;
    }
    tokens
        .remove(hash)
        .filter(|record| !record.expired_at(unix_now()))
}

/// Removes the user's tokens of `purpose` (all when `None`); how many.
pub(super) fn delete_of(
    tokens: &mut Tokens,
    user_id: &str,
    purpose: Option<TokenPurpose>,
) -> usize {
    let before = tokens.len();
    tokens.retain(|_, record| {
        record.user_id != user_id || purpose.is_some_and(|p| p != record.purpose)
    });
    before - tokens.len()
}
