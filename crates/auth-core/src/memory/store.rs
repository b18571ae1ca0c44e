//! The in-memory user store.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::one_time::{self, Tokens};
use crate::audit::{AuditEntry, AuditLog, MAX_PAGE_SIZE, Page};
use crate::error::StoreError;
use crate::one_time::{OneTimeTokenStore, TokenHash, TokenPurpose, TokenRecord};
use crate::second_factor::{
    FactorTables, RecoveryCodeHash, SealedSecret, SecondFactorStore, TotpRecord,
    validate_recovery_codes, validate_step,
};
use crate::store::{AuthStore, UserDirectory};
use crate::user::{
    ClaimChange, NewUser, PasswordHash, ProviderLink, UserRecord, UserUpdate, validate_claims,
    validate_link_key, validate_user_id,
};

#[derive(Default)]
struct Tables {
    users: HashMap<String, UserRecord>,
    credentials: HashMap<String, PasswordHash>,
    links: HashMap<(String, String), ProviderLink>,
    tokens: Tokens,
    factors: FactorTables,
    /// Oldest first; at most [`MEMORY_AUDIT_LIMIT`] entries.
    audit: std::collections::VecDeque<AuditEntry>,
}

/// The most audit entries a [`MemoryStore`] keeps: past it, the oldest
/// entry is dropped for each new one.
pub const MEMORY_AUDIT_LIMIT: usize = 10_000;

/// An [`AuthStore`] in a map behind one lock: every call is atomic.
///
/// It is a [`OneTimeTokenStore`] too, whose tokens belong to its users as
/// in the SQL store: a token for an unknown user is
/// [`StoreError::NotFound`], and [`delete_user`](AuthStore::delete_user)
/// deletes the user's tokens with it. It is also an [`AuditLog`] (of at
/// most [`MEMORY_AUDIT_LIMIT`] entries, the oldest dropped first) and a
/// [`UserDirectory`], and the [`SecondFactorStore`] of its users (deleted
/// with them).
///
/// ```
/// use auth_core::{AuthStore, NewUser};
/// use auth_core::memory::MemoryStore;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::StoreError> {
/// let store = MemoryStore::new();
/// store.create_user(NewUser::new("local:1").with_link("local", "ada@example.com")).await?;
/// let found = store.find_by_provider("local", "ada@example.com").await?;
/// assert_eq!(found.map(|u| u.user_id), Some("local:1".to_owned()));
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half write: every
        // mutation below is checked before anything is inserted.
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl AuthStore for MemoryStore {
    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        validate_user_id(user_id)?;
        Ok(self.tables().users.get(user_id).cloned())
    }

    async fn find_by_provider(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        validate_link_key(provider, subject)?;
        let tables = self.tables();
        let key = (provider.to_owned(), subject.to_owned());
        Ok(tables
            .links
            .get(&key)
            .and_then(|link| tables.users.get(&link.user_id))
            .cloned())
    }

    async fn links_of(&self, user_id: &str) -> Result<Vec<ProviderLink>, StoreError> {
        validate_user_id(user_id)?;
        let tables = self.tables();
        let mut links: Vec<ProviderLink> = tables
            .links
            .values()
            .filter(|link| link.user_id == user_id)
            .cloned()
            .collect();
        links.sort_by(|a, b| (&a.provider, &a.subject).cmp(&(&b.provider, &b.subject)));
        Ok(links)
    }

    async fn create_user(&self, user: NewUser) -> Result<UserRecord, StoreError> {
        user.validate()?;
        let mut tables = self.tables();
        if tables.users.contains_key(&user.record.user_id) {
            return Err(StoreError::Conflict { what: "user id" });
        }
        let mut keys = Vec::with_capacity(user.links.len());
        for link in &user.links {
            let key = (link.provider.clone(), link.subject.clone());
            if tables.links.contains_key(&key) || keys.contains(&key) {
                return Err(StoreError::Conflict {
                    what: "provider link",
                });
            }
            keys.push(key);
        }
        let user_id = user.record.user_id.clone();
        for (key, link) in keys.into_iter().zip(user.links) {
            tables.links.insert(key, link);
        }
        if let Some(hash) = user.password_hash {
            tables.credentials.insert(user_id.clone(), hash);
        }
        tables.users.insert(user_id, user.record.clone());
        Ok(user.record)
    }

    async fn update_user(
        &self,
        user_id: &str,
        update: UserUpdate,
    ) -> Result<UserRecord, StoreError> {
        validate_user_id(user_id)?;
        let mut tables = self.tables();
        let user = tables.users.get_mut(user_id).ok_or(StoreError::NotFound)?;
        if let Some(email) = update.email {
            user.email = email;
        }
        if let Some(name) = update.name {
            user.name = name;
        }
        if let Some(extras) = update.extras {
            user.extras = extras;
        }
        Ok(user.clone())
    }

    async fn update_claims(
        &self,
        user_id: &str,
        change: ClaimChange,
    ) -> Result<UserRecord, StoreError> {
        validate_user_id(user_id)?;
        change.validate()?;
        let mut tables = self.tables();
        let user = tables.users.get_mut(user_id).ok_or(StoreError::NotFound)?;
        change.apply(&mut user.claims);
        Ok(user.clone())
    }

    async fn link_provider(&self, link: ProviderLink) -> Result<(), StoreError> {
        validate_link_key(&link.provider, &link.subject)?;
        validate_user_id(&link.user_id)?;
        validate_claims(&link.claims)?;
        let mut tables = self.tables();
        if !tables.users.contains_key(&link.user_id) {
            return Err(StoreError::NotFound);
        }
        let key = (link.provider.clone(), link.subject.clone());
        match tables.links.get(&key) {
            Some(existing) if existing.user_id != link.user_id => Err(StoreError::Conflict {
                what: "provider link",
            }),
            _ => {
                tables.links.insert(key, link);
                Ok(())
            }
        }
    }

    async fn unlink_provider(
        &self,
        user_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        validate_link_key(provider, subject)?;
        let mut tables = self.tables();
        if !tables.users.contains_key(user_id) {
            return Err(StoreError::NotFound);
        }
        let key = (provider.to_owned(), subject.to_owned());
        if tables
            .links
            .get(&key)
            .is_none_or(|link| link.user_id != user_id)
        {
            return Ok(false);
        }
        tables.links.remove(&key);
        Ok(true)
    }

    async fn password_hash(&self, user_id: &str) -> Result<Option<PasswordHash>, StoreError> {
        validate_user_id(user_id)?;
        Ok(self.tables().credentials.get(user_id).cloned())
    }

    async fn set_password_hash(&self, user_id: &str, hash: PasswordHash) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        let mut tables = self.tables();
        if !tables.users.contains_key(user_id) {
            return Err(StoreError::NotFound);
        }
        tables.credentials.insert(user_id.to_owned(), hash);
        Ok(())
    }

    async fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        let mut tables = self.tables();
        if tables.users.remove(user_id).is_none() {
            return Err(StoreError::NotFound);
        }
        tables.credentials.remove(user_id);
        tables.links.retain(|_, link| link.user_id != user_id);
        one_time::delete_of(&mut tables.tokens, user_id, None);
        tables.factors.remove_user(user_id);
        Ok(())
    }
}

#[async_trait]
impl OneTimeTokenStore for MemoryStore {
    async fn save_token(&self, hash: &TokenHash, record: &TokenRecord) -> Result<(), StoreError> {
        record.validate()?;
        let mut tables = self.tables();
        if !tables.users.contains_key(&record.user_id) {
            return Err(StoreError::NotFound);
        }
        one_time::save(&mut tables.tokens, hash, record)
    }

    async fn take_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError> {
        Ok(one_time::take(&mut self.tables().tokens, hash, purpose))
    }

    async fn delete_tokens_of(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        Ok(one_time::delete_of(
            &mut self.tables().tokens,
            user_id,
            purpose,
        ))
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        entry.validate()?;
        let mut tables = self.tables();
        if tables.audit.len() >= MEMORY_AUDIT_LIMIT {
            tables.audit.pop_front();
        }
        tables.audit.push_back(entry.clone());
        Ok(())
    }

    async fn entries(
        &self,
        user_id: Option<&str>,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if let Some(user_id) = user_id {
            validate_user_id(user_id)?;
        }
        let tables = self.tables();
        let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        Ok(tables
            .audit
            .iter()
            .rev()
            .filter(|entry| user_id.is_none_or(|id| entry.target_user_id == id))
            .skip(skip)
            .take(page.limit())
            .cloned()
            .collect())
    }
}

#[async_trait]
impl UserDirectory for MemoryStore {
    async fn list_users(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        if let Some(after) = after {
            validate_user_id(after)?;
        }
        let tables = self.tables();
        let mut users: Vec<&UserRecord> = tables
            .users
            .values()
            .filter(|user| after.is_none_or(|after| user.user_id.as_str() > after))
            .collect();
        users.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok(users
            .into_iter()
            .take(limit.min(MAX_PAGE_SIZE))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl SecondFactorStore for MemoryStore {
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, StoreError> {
        validate_user_id(user_id)?;
        Ok(self.tables().factors.totp.get(user_id).cloned())
    }

    async fn begin_totp(&self, user_id: &str, secret: &SealedSecret) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        let mut tables = self.tables();
        if !tables.users.contains_key(user_id) {
            return Err(StoreError::NotFound);
        }
        tables.factors.begin(user_id, secret)
    }

    async fn confirm_totp(&self, user_id: &str, step: u64) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        validate_step(step)?;
        Ok(self.tables().factors.confirm(user_id, step))
    }

    async fn use_totp_step(&self, user_id: &str, step: u64) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        validate_step(step)?;
        Ok(self.tables().factors.use_step(user_id, step))
    }

    async fn delete_totp(&self, user_id: &str) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        Ok(self.tables().factors.totp.remove(user_id).is_some())
    }

    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[RecoveryCodeHash],
    ) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        validate_recovery_codes(codes)?;
        let mut tables = self.tables();
        if !tables.users.contains_key(user_id) {
            return Err(StoreError::NotFound);
        }
        tables.factors.replace_codes(user_id, codes);
        Ok(())
    }

    async fn use_recovery_code(
        &self,
        user_id: &str,
        code: &RecoveryCodeHash,
    ) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        Ok(self.tables().factors.use_code(user_id, code))
    }

    async fn recovery_codes_left(&self, user_id: &str) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        Ok(self.tables().factors.codes_left(user_id))
    }

    async fn delete_recovery_codes(&self, user_id: &str) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        let removed = self.tables().factors.recovery.remove(user_id);
        Ok(removed.map_or(0, |codes| codes.len()))
    }
}
