//! [`OneTimeTokenStore`] in memory.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::error::StoreError;
use crate::one_time::{OneTimeTokenStore, TokenHash, TokenPurpose, TokenRecord};
use crate::session::unix_now;
use crate::user::validate_user_id;

/// One-time tokens in a map behind one lock. At most one token per user
/// and purpose is kept, so its size is bounded by the users, not by how
/// often links are asked for.
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
    tokens: Mutex<HashMap<TokenHash, TokenRecord>>,
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

    fn lock(&self) -> MutexGuard<'_, HashMap<TokenHash, TokenRecord>> {
        // Every change is one map operation: a poisoned lock holds whole data.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl OneTimeTokenStore for MemoryTokenStore {
    async fn save_token(&self, hash: &TokenHash, record: &TokenRecord) -> Result<(), StoreError> {
        record.validate()?;
        let mut tokens = self.lock();
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

    async fn take_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let mut tokens = self.lock();
        if tokens
            .get(hash)
            .is_none_or(|record| record.purpose != purpose)
        {
            return Ok(None);
        }
        Ok(tokens
            .remove(hash)
            .filter(|record| !record.expired_at(unix_now())))
    }

    async fn delete_tokens_of(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        let mut tokens = self.lock();
        let before = tokens.len();
        tokens.retain(|_, record| {
            record.user_id != user_id || purpose.is_some_and(|p| p != record.purpose)
        });
        Ok(before - tokens.len())
    }
}
