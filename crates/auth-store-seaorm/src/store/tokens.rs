//! [`OneTimeTokenStore`] for [`SeaOrmAuthStore`]: one-time tokens in their
//! own table, each row tied to its user by a foreign key that deletes it
//! with the user.
//!
//! A save locks the user row, inserts, then deletes the user's other tokens
//! of that purpose (and its expired ones), in one transaction: saves for one
//! user queue on that lock, so at most one token per user and purpose is
//! left. A take reads the row and deletes it in one transaction, and only
//! the caller whose `DELETE` removed the row gets it: of concurrent takes,
//! exactly one wins on every database (`DELETE ... RETURNING` would do it
//! in one statement, but MySQL has none).

use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    OneTimeTokenStore, StoreError, TokenHash, TokenPurpose, TokenRecord, unix_now, validate_user_id,
};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, SqlErr};

use super::SeaOrmAuthStore;
use crate::db::{finish, retry};
use crate::error::{Error, store_db, store_error_is_transient};

/// Unix seconds as the `BIGINT` columns hold them; times past `i64::MAX`
/// (some 292 billion years away) are kept as `i64::MAX`.
fn stored_secs(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

impl SeaOrmAuthStore {
    /// Deletes every expired one-time token now; how many. Tokens need no
    /// timer: at most one per user and purpose is ever kept, an expired one
    /// is deleted when it is taken, and a user's expired tokens go with
    /// its next save. This is for a database that should hold no expired
    /// rows at all.
    pub async fn purge_expired_tokens(&self) -> Result<u64, Error> {
        self.db.ensure_store_schema().await?;
        let tokens = self.db.tables().one_time_tokens();
        let sql = format!("DELETE FROM {tokens} WHERE expires_at <= ?");
        let done = self
            .db
            .conn()
            .execute_raw(self.db.stmt(&sql, vec![stored_secs(unix_now()).into()]))
            .await
            .map_err(Error::db("purging expired one-time tokens"))?;
        Ok(done.rows_affected())
    }

    async fn save_token_once(
        &self,
        hash: &TokenHash,
        record: &TokenRecord,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            // Locked until the commit: saves for one user queue here, and a
            // concurrent delete_user waits or has already removed the user.
            if !self.user_exists(&tx, &record.user_id, true).await? {
                return Err(StoreError::NotFound);
            }
            let tokens = self.db.tables().one_time_tokens();
            let now = stored_secs(unix_now());
            // The insert comes first, so a stored hash is a conflict even
            // when it is the user's own token of this purpose.
            let insert = format!(
                "INSERT INTO {tokens} (token_hash, purpose, user_id, binding, data, expires_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)"
            );
            let values = vec![
                hash.as_str().into(),
                record.purpose.as_str().into(),
                record.user_id.as_str().into(),
                record.binding.as_str().into(),
                record.data.clone().into(),
                stored_secs(record.expires_at).into(),
                now.into(),
            ];
            tx.execute_raw(self.db.stmt(&insert, values))
                .await
                .map_err(insert_error)?;
            let replace = format!(
                "DELETE FROM {tokens} WHERE user_id = ? AND token_hash <> ? \
                 AND (purpose = ? OR expires_at <= ?)"
            );
            let values = vec![
                record.user_id.as_str().into(),
                hash.as_str().into(),
                record.purpose.as_str().into(),
                now.into(),
            ];
            tx.execute_raw(self.db.stmt(&replace, values))
                .await
                .map_err(store_db("replacing a user's one-time tokens"))?;
            Ok(())
        }
        .await;
        finish(tx, result, store_db("committing a one-time token")).await
    }

    async fn take_token_once(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            let tokens = self.db.tables().one_time_tokens();
            let key = || vec![hash.as_str().into(), purpose.as_str().into()];
            let select = format!(
                "SELECT user_id, binding, data, expires_at FROM {tokens} \
                 WHERE token_hash = ? AND purpose = ?"
            );
            let Some(row) = tx
                .query_one_raw(self.db.stmt(&select, key()))
                .await
                .map_err(store_db("reading a one-time token"))?
            else {
                return Ok(None);
            };
            let record = record_from_row(&row, purpose)?;
            let delete = format!("DELETE FROM {tokens} WHERE token_hash = ? AND purpose = ?");
            let done = tx
                .execute_raw(self.db.stmt(&delete, key()))
                .await
                .map_err(store_db("taking a one-time token"))?;
            // None removed: a concurrent take got it first.
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            Ok(Some(record).filter(|record| !record.expired_at(unix_now())))
        }
        .await;
        finish(tx, result, store_db("committing a taken one-time token")).await
    }

    async fn delete_tokens_once(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError> {
        let tokens = self.db.tables().one_time_tokens();
        let (sql, values) = match purpose {
            Some(purpose) => (
                format!("DELETE FROM {tokens} WHERE user_id = ? AND purpose = ?"),
                vec![user_id.into(), purpose.as_str().into()],
            ),
            None => (
                format!("DELETE FROM {tokens} WHERE user_id = ?"),
                vec![user_id.into()],
            ),
        };
        let done = self
            .db
            .conn()
            .execute_raw(self.db.stmt(&sql, values))
            .await
            .map_err(store_db("deleting a user's one-time tokens"))?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }
}

/// A stored hash is a conflict; a user that is gone (a foreign key
/// violation, should the row lock not have kept it) is `NotFound`.
fn insert_error(error: DbErr) -> StoreError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict { what: "token" },
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => StoreError::NotFound,
        _ => StoreError::backend("inserting a one-time token", error),
    }
}

fn record_from_row(row: &QueryResult, purpose: TokenPurpose) -> Result<TokenRecord, StoreError> {
    let column = |e| StoreError::corrupt("a one-time token row", e);
    let user_id: String = row.try_get_by_index(0).map_err(column)?;
    let binding: String = row.try_get_by_index(1).map_err(column)?;
    let data: Option<String> = row.try_get_by_index(2).map_err(column)?;
    let expires_at: i64 = row.try_get_by_index(3).map_err(column)?;
    let mut record = TokenRecord::new(purpose, user_id, binding, Duration::ZERO);
    record.data = data;
    record.expires_at = u64::try_from(expires_at)
        .map_err(|e| StoreError::corrupt("the expiry of a one-time token", e))?;
    Ok(record)
}

#[async_trait]
impl OneTimeTokenStore for SeaOrmAuthStore {
    #[tracing::instrument(skip_all)]
    async fn save_token(&self, hash: &TokenHash, record: &TokenRecord) -> Result<(), StoreError> {
        record.validate()?;
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.save_token_once(hash, record)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn take_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError> {
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.take_token_once(hash, purpose)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_tokens_of(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.delete_tokens_once(user_id, purpose)
        })
        .await
    }
}
