//! [`SecondFactorStore`] for [`SeaOrmAuthStore`]: a TOTP row per user and
//! a row per unused recovery code, each tied to its user by a foreign key
//! that deletes it with the user.
//!
//! The writes that must happen once are single conditional statements, so
//! every database decides the race: a step is used by an `UPDATE` that only
//! matches while the stored step is earlier, a code by a `DELETE` of its
//! row; only the caller whose statement changed a row wins. Enrolment and
//! replacing the codes lock the user row first, as a token save does, so
//! they never outlive a concurrent account deletion.

use async_trait::async_trait;
use auth_core::{
    RecoveryCodeHash, SealedSecret, SecondFactorStore, StoreError, TotpRecord, unix_now,
    validate_recovery_codes, validate_step, validate_user_id,
};
use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::SeaOrmAuthStore;
use crate::db::{finish, retry};
use crate::error::{store_db, store_error_is_transient};

/// Unix seconds or a step as the `BIGINT` columns hold them (callers
/// checked steps with [`validate_step`]; times saturate).
fn stored(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn unsigned(value: Option<i64>, what: &'static str) -> Result<Option<u64>, StoreError> {
    value
        .map(|v| u64::try_from(v).map_err(|e| StoreError::corrupt(what, e)))
        .transpose()
}

fn totp_from_row(row: &QueryResult) -> Result<TotpRecord, StoreError> {
    let column = |e| StoreError::corrupt("a TOTP row", e);
    let secret: String = row.try_get_by_index(0).map_err(column)?;
    let confirmed_at: Option<i64> = row.try_get_by_index(1).map_err(column)?;
    let last_step: Option<i64> = row.try_get_by_index(2).map_err(column)?;
    let secret =
        SealedSecret::new(secret).map_err(|e| StoreError::corrupt("a sealed TOTP secret", e))?;
    Ok(TotpRecord::new(
        secret,
        unsigned(confirmed_at, "a TOTP confirmation time")?,
        unsigned(last_step, "a TOTP step")?,
    ))
}

impl SeaOrmAuthStore {
    /// Runs one statement and says how many rows it changed.
    async fn changed(
        &self,
        sql: &str,
        values: Vec<Value>,
        what: &'static str,
    ) -> Result<u64, StoreError> {
        let done = self
            .db
            .conn()
            .execute_raw(self.db.stmt(sql, values))
            .await
            .map_err(store_db(what))?;
        Ok(done.rows_affected())
    }

    async fn begin_totp_once(
        &self,
        user_id: &str,
        secret: &SealedSecret,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            if !self.user_exists(&tx, user_id, true).await? {
                return Err(StoreError::NotFound);
            }
            let table = self.db.tables().totp_secrets();
            let select = format!("SELECT confirmed_at FROM {table} WHERE user_id = ?");
            let existing = tx
                .query_one_raw(self.db.stmt(&select, vec![user_id.into()]))
                .await
                .map_err(store_db("reading a TOTP secret"))?;
            let now = stored(unix_now());
            let (sql, values) = match existing {
                Some(row) => {
                    let confirmed: Option<i64> = row
                        .try_get_by_index(0)
                        .map_err(|e| StoreError::corrupt("a TOTP row", e))?;
                    if confirmed.is_some() {
                        return Err(StoreError::Conflict { what: "totp" });
                    }
                    (
                        format!(
                            "UPDATE {table} SET secret = ?, confirmed_at = NULL, last_step = NULL, \
                             created_at = ? WHERE user_id = ?"
                        ),
                        vec![secret.as_str().into(), now.into(), user_id.into()],
                    )
                }
                None => (
                    format!(
                        "INSERT INTO {table} (user_id, secret, confirmed_at, last_step, created_at) \
                         VALUES (?, ?, NULL, NULL, ?)"
                    ),
                    vec![user_id.into(), secret.as_str().into(), now.into()],
                ),
            };
            tx.execute_raw(self.db.stmt(&sql, values))
                .await
                .map_err(store_db("storing a TOTP secret"))?;
            Ok(())
        }
        .await;
        finish(tx, result, store_db("committing a TOTP secret")).await
    }

    async fn replace_codes_once(
        &self,
        user_id: &str,
        codes: &[RecoveryCodeHash],
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            if !self.user_exists(&tx, user_id, true).await? {
                return Err(StoreError::NotFound);
            }
            let table = self.db.tables().recovery_codes();
            let delete = format!("DELETE FROM {table} WHERE user_id = ?");
            tx.execute_raw(self.db.stmt(&delete, vec![user_id.into()]))
                .await
                .map_err(store_db("deleting recovery codes"))?;
            if codes.is_empty() {
                return Ok(());
            }
            let now = stored(unix_now());
            let rows = vec!["(?, ?, ?)"; codes.len()].join(", ");
            let insert =
                format!("INSERT INTO {table} (user_id, code_hash, created_at) VALUES {rows}");
            let values = codes
                .iter()
                .flat_map(|code| [user_id.into(), code.as_str().into(), now.into()])
                .collect();
            tx.execute_raw(self.db.stmt(&insert, values))
                .await
                .map_err(store_db("storing recovery codes"))?;
            Ok(())
        }
        .await;
        finish(tx, result, store_db("committing recovery codes")).await
    }
}

#[async_trait]
impl SecondFactorStore for SeaOrmAuthStore {
    #[tracing::instrument(skip_all)]
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let table = self.db.tables().totp_secrets();
        let sql = format!("SELECT secret, confirmed_at, last_step FROM {table} WHERE user_id = ?");
        let row = self
            .db
            .conn()
            .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(store_db("reading a TOTP secret"))?;
        row.as_ref().map(totp_from_row).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn begin_totp(&self, user_id: &str, secret: &SealedSecret) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.begin_totp_once(user_id, secret)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn confirm_totp(&self, user_id: &str, step: u64) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        validate_step(step)?;
        self.ready().await?;
        let table = self.db.tables().totp_secrets();
        let sql = format!(
            "UPDATE {table} SET confirmed_at = ?, last_step = ? \
             WHERE user_id = ? AND confirmed_at IS NULL"
        );
        let values = || {
            vec![
                stored(unix_now()).into(),
                stored(step).into(),
                user_id.into(),
            ]
        };
        let changed = retry(store_error_is_transient, || {
            self.changed(&sql, values(), "confirming a TOTP secret")
        })
        .await?;
        Ok(changed == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn use_totp_step(&self, user_id: &str, step: u64) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        validate_step(step)?;
        self.ready().await?;
        let table = self.db.tables().totp_secrets();
        let sql = format!(
            "UPDATE {table} SET last_step = ? WHERE user_id = ? \
             AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?)"
        );
        let values = || vec![stored(step).into(), user_id.into(), stored(step).into()];
        let changed = retry(store_error_is_transient, || {
            self.changed(&sql, values(), "using a TOTP step")
        })
        .await?;
        Ok(changed == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn delete_totp(&self, user_id: &str) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let table = self.db.tables().totp_secrets();
        let sql = format!("DELETE FROM {table} WHERE user_id = ?");
        let changed = retry(store_error_is_transient, || {
            self.changed(&sql, vec![user_id.into()], "deleting a TOTP secret")
        })
        .await?;
        Ok(changed > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[RecoveryCodeHash],
    ) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        validate_recovery_codes(codes)?;
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.replace_codes_once(user_id, codes)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn use_recovery_code(
        &self,
        user_id: &str,
        code: &RecoveryCodeHash,
    ) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let table = self.db.tables().recovery_codes();
        let sql = format!("DELETE FROM {table} WHERE user_id = ? AND code_hash = ?");
        let changed = retry(store_error_is_transient, || {
            self.changed(
                &sql,
                vec![user_id.into(), code.as_str().into()],
                "using a recovery code",
            )
        })
        .await?;
        Ok(changed == 1)
    }

    #[tracing::instrument(skip_all)]
    async fn recovery_codes_left(&self, user_id: &str) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let table = self.db.tables().recovery_codes();
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE user_id = ?");
        let row = self
            .db
            .conn()
            .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(store_db("counting recovery codes"))?;
        let count: i64 = match row {
            Some(row) => row
                .try_get_by_index(0)
                .map_err(|e| StoreError::corrupt("a recovery code count", e))?,
            None => 0,
        };
        usize::try_from(count).map_err(|e| StoreError::corrupt("a recovery code count", e))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_recovery_codes(&self, user_id: &str) -> Result<usize, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let table = self.db.tables().recovery_codes();
        let sql = format!("DELETE FROM {table} WHERE user_id = ?");
        let changed = retry(store_error_is_transient, || {
            self.changed(&sql, vec![user_id.into()], "deleting recovery codes")
        })
        .await?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }
}
