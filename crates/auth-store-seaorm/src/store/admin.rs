//! [`AuditLog`] and [`UserDirectory`] for [`SeaOrmAuthStore`]: the audit
//! log in its own table, newest first by its growing `id`, and the users
//! table listed in byte order of the ids.

use async_trait::async_trait;
use auth_core::{
    AuditAction, AuditEntry, AuditLog, MAX_PAGE_SIZE, Page, StoreError, UserDirectory, UserRecord,
    validate_user_id,
};
use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult};

use super::SeaOrmAuthStore;
use super::rows::user_from_row;
use crate::db::retry;
use crate::error::{store_db, store_error_is_transient};

/// Unix seconds as the `BIGINT` column holds them.
fn stored_secs(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// A count for `LIMIT` or `OFFSET`.
fn stored_count(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl SeaOrmAuthStore {
    /// `column` compared and sorted byte by byte: PostgreSQL sorts by the
    /// database's collation otherwise (often linguistic); SQLite's default
    /// and this crate's MySQL and MariaDB columns are binary already.
    fn binary(&self, column: &str) -> String {
        match self.db.backend() {
            DatabaseBackend::Postgres => format!("{column} COLLATE \"C\""),
            _ => column.to_owned(),
        }
    }

    async fn record_once(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let audit = self.db.tables().audit_log();
        let sql = format!(
            "INSERT INTO {audit} (at, actor, source, action, target_user_id, detail) \
             VALUES (?, ?, ?, ?, ?, ?)"
        );
        let values = vec![
            stored_secs(entry.at).into(),
            entry.actor.as_str().into(),
            entry.source.as_str().into(),
            entry.action.as_str().into(),
            entry.target_user_id.as_str().into(),
            entry.detail.as_str().into(),
        ];
        self.db
            .conn()
            .execute_raw(self.db.stmt(&sql, values))
            .await
            .map_err(store_db("recording an audit entry"))?;
        Ok(())
    }
}

fn entry_from_row(row: &QueryResult) -> Result<AuditEntry, StoreError> {
    let column = |e| StoreError::corrupt("an audit log row", e);
    let at: i64 = row.try_get_by_index(0).map_err(column)?;
    let actor: String = row.try_get_by_index(1).map_err(column)?;
    let source: String = row.try_get_by_index(2).map_err(column)?;
    let action: String = row.try_get_by_index(3).map_err(column)?;
    let target: String = row.try_get_by_index(4).map_err(column)?;
    let detail: String = row.try_get_by_index(5).map_err(column)?;
    let action = AuditAction::parse(&action).ok_or_else(|| {
        StoreError::corrupt(
            "the action of an audit entry",
            format!("unknown action `{action}`"),
        )
    })?;
    let actor = auth_core::Actor::new(actor, source);
    let mut entry = AuditEntry::new(&actor, action, target, detail);
    entry.at =
        u64::try_from(at).map_err(|e| StoreError::corrupt("the time of an audit entry", e))?;
    Ok(entry)
}

#[async_trait]
impl AuditLog for SeaOrmAuthStore {
    #[tracing::instrument(skip_all)]
    async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        entry.validate()?;
        self.ready().await?;
        retry(store_error_is_transient, || self.record_once(entry)).await
    }

    #[tracing::instrument(skip_all)]
    async fn entries(
        &self,
        user_id: Option<&str>,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if let Some(user_id) = user_id {
            validate_user_id(user_id)?;
        }
        if page.limit() == 0 {
            return Ok(Vec::new());
        }
        self.ready().await?;
        let audit = self.db.tables().audit_log();
        let mut values = Vec::new();
        let filter = match user_id {
            Some(user_id) => {
                values.push(user_id.into());
                "WHERE target_user_id = ? "
            }
            None => "",
        };
        values.push(stored_count(page.limit() as u64).into());
        values.push(stored_count(page.offset()).into());
        let sql = format!(
            "SELECT at, actor, source, action, target_user_id, detail FROM {audit} \
             {filter}ORDER BY id DESC LIMIT ? OFFSET ?"
        );
        let rows = self
            .db
            .conn()
            .query_all_raw(self.db.stmt(&sql, values))
            .await
            .map_err(store_db("reading the audit log"))?;
        rows.iter().map(entry_from_row).collect()
    }
}

#[async_trait]
impl UserDirectory for SeaOrmAuthStore {
    #[tracing::instrument(skip_all)]
    async fn list_users(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<UserRecord>, StoreError> {
        if let Some(after) = after {
            validate_user_id(after)?;
        }
        let limit = limit.min(MAX_PAGE_SIZE);
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.ready().await?;
        let users = self.db.tables().users();
        let id = self.binary("user_id");
        let mut values = Vec::new();
        let filter = match after {
            Some(after) => {
                values.push(after.into());
                format!("WHERE {id} > ? ")
            }
            None => String::new(),
        };
        values.push(stored_count(limit as u64).into());
        let sql = format!(
            "SELECT {} FROM {users} {filter}ORDER BY {id} LIMIT ?",
            self.user_columns("")
        );
        let rows = self
            .db
            .conn()
            .query_all_raw(self.db.stmt(&sql, values))
            .await
            .map_err(store_db("listing users"))?;
        rows.iter().map(user_from_row).collect()
    }
}
