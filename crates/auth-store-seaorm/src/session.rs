//! [`SeaOrmSessionBackend`]: sessions and per-user change stamps in SQL.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use auth_core::{SessionBackend, SessionError, SessionKey, SessionRecord, validate_user_id};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection, QueryResult};

use crate::builder::{DatabaseSource, SeaOrmSessionBackendBuilder};
use crate::db::{Db, finish, retry};
use crate::error::{Error, session_db, session_error_is_transient};
use crate::tables::{Schema, TableNames};

/// Expired sessions are purged after this many saves, by default.
pub const DEFAULT_PURGE_EVERY: u64 = 256;

/// A [`SessionBackend`] over SeaORM, so sessions survive restarts with
/// nothing but a SQLite file.
///
/// Two tables, created on the first call if missing (other names and
/// schema handling through [`builder`](Self::builder); these are the
/// defaults):
///
/// - `auth_sessions`: `session_key` (the [`SessionKey`], a hash of the
///   cookie token, never the token) PK | `user_id` (indexed: the per-user
///   index) | `record` (the [`SessionRecord`] as JSON) | `expires_at` (Unix
///   milliseconds, indexed);
/// - `auth_user_stamps`: `user_id` PK | `stamp` (raised atomically).
///
/// Expired rows are never returned; they are deleted when a load meets one,
/// every [`DEFAULT_PURGE_EVERY`] saves (see
/// [`with_purge_every`](Self::with_purge_every)), and by
/// [`purge_expired`](Self::purge_expired).
///
/// ```
/// use std::time::Duration;
/// use auth_core::{Principal, SessionBackend, SessionRecord, SessionToken};
/// use auth_store_seaorm::SeaOrmSessionBackend;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sessions = SeaOrmSessionBackend::connect("sqlite::memory:").await?;
/// let key = SessionToken::generate().key();
/// let record = SessionRecord::new(Principal::authenticated("local:1", "Ada", vec![]), 0);
/// sessions.save(&key, &record, Duration::from_secs(1800)).await?;
/// assert_eq!(sessions.load(&key).await?, Some(record));
/// assert_eq!(sessions.sessions_of("local:1").await?.len(), 1);
/// # Ok(()) }
/// ```
pub struct SeaOrmSessionBackend {
    db: Arc<Db>,
    saves: AtomicU64,
    purge_every: u64,
}

impl fmt::Debug for SeaOrmSessionBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeaOrmSessionBackend")
            .field("db", &self.db)
            .field("purge_every", &self.purge_every)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn expiry(ttl: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
}

fn encode(record: &SessionRecord) -> Result<String, SessionError> {
    serde_json::to_string(record).map_err(|e| SessionError::Corrupt(Box::new(Error::Json(e))))
}

fn decode(text: Option<&str>) -> Result<SessionRecord, SessionError> {
    let text = text.ok_or_else(|| {
        SessionError::Corrupt(Box::new(Error::Shape {
            expected: "a session record, not NULL",
        }))
    })?;
    serde_json::from_str(text).map_err(|e| SessionError::Corrupt(Box::new(Error::Json(e))))
}

fn column<T: sea_orm::TryGetable>(row: &QueryResult, index: usize) -> Result<T, SessionError> {
    row.try_get_by_index(index)
        .map_err(|e| SessionError::Corrupt(Box::new(e)))
}

impl SeaOrmSessionBackend {
    /// Opens a pool for `url` (as [`SeaOrmAuthStore::connect`](crate::SeaOrmAuthStore::connect));
    /// [`close`](Self::close) closes it.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Ok(Self::on(Arc::new(Db::open(url).await?)))
    }

    /// Opens a pool with `options` (see [`connect_options`](crate::connect_options));
    /// [`close`](Self::close) closes it.
    pub async fn connect_with(options: ConnectOptions) -> Result<Self, Error> {
        Ok(Self::on(Arc::new(Db::open_with(options).await?)))
    }

    /// A backend on a connection the application already has;
    /// [`close`](Self::close) leaves it open.
    pub fn new(conn: DatabaseConnection) -> Self {
        Self::on(Arc::new(Db::shared(conn)))
    }

    /// A builder for a backend with other table names or schema handling;
    /// see [`SeaOrmSessionBackendBuilder`].
    pub fn builder(source: impl Into<DatabaseSource>) -> SeaOrmSessionBackendBuilder {
        SeaOrmSessionBackendBuilder::new(source.into())
    }

    /// The table names in use (only the session and stamp names matter
    /// here).
    pub fn tables(&self) -> &TableNames {
        self.db.tables()
    }

    /// Whether the backend creates, checks or trusts its tables.
    pub fn schema(&self) -> Schema {
        self.db.schema()
    }

    pub(crate) fn on(db: Arc<Db>) -> Self {
        Self {
            db,
            saves: AtomicU64::new(0),
            purge_every: DEFAULT_PURGE_EVERY,
        }
    }

    /// Purges expired sessions every `saves` saves instead of every
    /// [`DEFAULT_PURGE_EVERY`]; `0` turns the automatic purge off (call
    /// [`purge_expired`](Self::purge_expired) from a timer then).
    #[must_use]
    pub fn with_purge_every(mut self, saves: u64) -> Self {
        self.purge_every = saves;
        self
    }

    /// The connection the backend runs on.
    pub fn connection(&self) -> &DatabaseConnection {
        self.db.conn()
    }

    /// Creates the two session tables now instead of on the first call
    /// (checks them with [`Schema::Verify`], nothing with [`Schema::Skip`]).
    pub async fn init_schema(&self) -> Result<(), Error> {
        self.db.ensure_session_schema().await
    }

    /// Deletes every expired session; returns how many.
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        self.db.ensure_session_schema().await?;
        let sessions = self.db.tables().sessions();
        let sql = format!("DELETE FROM {sessions} WHERE expires_at <= ?");
        let done = self
            .db
            .conn()
            .execute_raw(self.db.stmt(&sql, vec![now_ms().into()]))
            .await
            .map_err(Error::db("purging expired sessions"))?;
        Ok(done.rows_affected())
    }

    /// Closes the pool if this backend opened it
    /// ([`connect`](Self::connect)); a shared connection stays open.
    pub async fn close(self) -> Result<(), Error> {
        self.db.close().await
    }

    async fn ready(&self) -> Result<(), SessionError> {
        Ok(self.db.ensure_session_schema().await?)
    }

    fn record_user(record: &SessionRecord) -> Result<Option<String>, SessionError> {
        match record.user_id() {
            Some(user_id) => {
                validate_user_id(user_id)?;
                Ok(Some(user_id.to_owned()))
            }
            None => Ok(None),
        }
    }

    async fn maybe_purge(&self) {
        if self.purge_every == 0 {
            return;
        }
        let saves = self.saves.fetch_add(1, Ordering::Relaxed) + 1;
        if saves.is_multiple_of(self.purge_every) {
            match self.purge_expired().await {
                Ok(purged) => tracing::debug!(purged, "purged expired sessions"),
                Err(error) => tracing::warn!(%error, "purging expired sessions failed"),
            }
        }
    }

    async fn bump_once(&self, user_id: &str) -> Result<u64, SessionError> {
        let stamps = self.db.tables().user_stamps();
        let stamp: i64 = if self.db.backend() == DatabaseBackend::MySql {
            // No RETURNING with an upsert here: raise and read back in one
            // transaction, which holds the row lock in between.
            let tx = self
                .db
                .begin_write()
                .await
                .map_err(session_db("starting a transaction"))?;
            let result = async {
                let sql = format!(
                    "INSERT INTO {stamps} (user_id, stamp) VALUES (?, 1) \
                     ON DUPLICATE KEY UPDATE stamp = stamp + 1"
                );
                tx.execute_raw(self.db.stmt(&sql, vec![user_id.into()]))
                    .await
                    .map_err(session_db("raising a change stamp"))?;
                let sql = format!("SELECT stamp FROM {stamps} WHERE user_id = ?");
                let row = tx
                    .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
                    .await
                    .map_err(session_db("reading a change stamp"))?;
                match row {
                    Some(row) => column::<i64>(&row, 0),
                    None => Err(SessionError::Corrupt(Box::new(Error::Shape {
                        expected: "the change stamp just written",
                    }))),
                }
            }
            .await;
            finish(tx, result, session_db("committing a change stamp")).await?
        } else {
            let sql = format!(
                "INSERT INTO {stamps} (user_id, stamp) VALUES (?, 1) \
                 ON CONFLICT (user_id) DO UPDATE SET stamp = {stamps}.stamp + 1 \
                 RETURNING stamp"
            );
            let row = self
                .db
                .conn()
                .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
                .await
                .map_err(session_db("raising a change stamp"))?;
            match row {
                Some(row) => column::<i64>(&row, 0)?,
                None => {
                    return Err(SessionError::Corrupt(Box::new(Error::Shape {
                        expected: "the change stamp just written",
                    })));
                }
            }
        };
        Ok(u64::try_from(stamp).unwrap_or(0))
    }
}

#[async_trait]
impl SessionBackend for SeaOrmSessionBackend {
    #[tracing::instrument(skip_all)]
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, SessionError> {
        self.ready().await?;
        let sessions = self.db.tables().sessions();
        let sql = format!(
            "SELECT {}, expires_at FROM {sessions} WHERE session_key = ?",
            self.db.as_text("record")
        );
        let row = self
            .db
            .conn()
            .query_one_raw(self.db.stmt(&sql, vec![key.as_str().into()]))
            .await
            .map_err(session_db("loading a session"))?;
        let Some(row) = row else { return Ok(None) };
        let expires_at: i64 = column(&row, 1)?;
        let now = now_ms();
        if expires_at <= now {
            let sessions = self.db.tables().sessions();
            let sql = format!("DELETE FROM {sessions} WHERE session_key = ? AND expires_at <= ?");
            self.db
                .conn()
                .execute_raw(self.db.stmt(&sql, vec![key.as_str().into(), now.into()]))
                .await
                .map_err(session_db("deleting an expired session"))?;
            return Ok(None);
        }
        let text: Option<String> = column(&row, 0)?;
        decode(text.as_deref()).map(Some)
    }

    #[tracing::instrument(skip_all)]
    async fn save(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        let user_id = Self::record_user(record)?;
        let text = encode(record)?;
        self.ready().await?;
        let json = self.db.json_param();
        let sessions = self.db.tables().sessions();
        let sql = if self.db.backend() == DatabaseBackend::MySql {
            format!(
                "INSERT INTO {sessions} (session_key, user_id, record, expires_at) VALUES (?, ?, {json}, ?) \
                 ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), record = VALUES(record), expires_at = VALUES(expires_at)"
            )
        } else {
            format!(
                "INSERT INTO {sessions} (session_key, user_id, record, expires_at) VALUES (?, ?, {json}, ?) \
                 ON CONFLICT (session_key) DO UPDATE SET user_id = excluded.user_id, record = excluded.record, \
                 expires_at = excluded.expires_at"
            )
        };
        let values = vec![
            key.as_str().into(),
            user_id.into(),
            text.into(),
            expiry(ttl).into(),
        ];
        let stmt = self.db.stmt(&sql, values);
        retry(session_error_is_transient, || async {
            self.db
                .conn()
                .execute_raw(stmt.clone())
                .await
                .map_err(session_db("saving a session"))
        })
        .await?;
        self.maybe_purge().await;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn update(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, SessionError> {
        let user_id = Self::record_user(record)?;
        let text = encode(record)?;
        self.ready().await?;
        let sessions = self.db.tables().sessions();
        let sql = format!(
            "UPDATE {sessions} SET user_id = ?, record = {}, expires_at = ? \
             WHERE session_key = ? AND expires_at > ?",
            self.db.json_param()
        );
        let values = vec![
            user_id.into(),
            text.into(),
            expiry(ttl).into(),
            key.as_str().into(),
            now_ms().into(),
        ];
        let stmt = self.db.stmt(&sql, values);
        // Rows matched, not rows changed: the MySQL driver asks for found
        // rows, so an identical write still counts.
        let done = retry(session_error_is_transient, || async {
            self.db
                .conn()
                .execute_raw(stmt.clone())
                .await
                .map_err(session_db("updating a session"))
        })
        .await?;
        Ok(done.rows_affected() > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, key: &SessionKey) -> Result<bool, SessionError> {
        self.ready().await?;
        let sessions = self.db.tables().sessions();
        let sql = format!("DELETE FROM {sessions} WHERE session_key = ?");
        let stmt = self.db.stmt(&sql, vec![key.as_str().into()]);
        let done = retry(session_error_is_transient, || async {
            self.db
                .conn()
                .execute_raw(stmt.clone())
                .await
                .map_err(session_db("deleting a session"))
        })
        .await?;
        Ok(done.rows_affected() > 0)
    }

    #[tracing::instrument(skip_all)]
    async fn sessions_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, SessionError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let sessions = self.db.tables().sessions();
        let sql = format!(
            "SELECT session_key, {} FROM {sessions} WHERE user_id = ? AND expires_at > ?",
            self.db.as_text("record")
        );
        let rows = self
            .db
            .conn()
            .query_all_raw(self.db.stmt(&sql, vec![user_id.into(), now_ms().into()]))
            .await
            .map_err(session_db("listing the sessions of a user"))?;
        rows.iter()
            .map(|row| {
                let key: String = column(row, 0)?;
                let key =
                    SessionKey::parse(&key).map_err(|e| SessionError::Corrupt(Box::new(e)))?;
                let text: Option<String> = column(row, 1)?;
                Ok((key, decode(text.as_deref())?))
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn delete_sessions_of(&self, user_id: &str) -> Result<usize, SessionError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let sessions = self.db.tables().sessions();
        let live = format!("DELETE FROM {sessions} WHERE user_id = ? AND expires_at > ?");
        let live = self.db.stmt(&live, vec![user_id.into(), now_ms().into()]);
        let done = retry(session_error_is_transient, || async {
            self.db
                .conn()
                .execute_raw(live.clone())
                .await
                .map_err(session_db("deleting the sessions of a user"))
        })
        .await?;
        // The user's expired rows go too; they were not counted.
        let rest = format!("DELETE FROM {sessions} WHERE user_id = ?");
        self.db
            .conn()
            .execute_raw(self.db.stmt(&rest, vec![user_id.into()]))
            .await
            .map_err(session_db("deleting the expired sessions of a user"))?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }

    #[tracing::instrument(skip_all)]
    async fn user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let stamps = self.db.tables().user_stamps();
        let sql = format!("SELECT stamp FROM {stamps} WHERE user_id = ?");
        let row = self
            .db
            .conn()
            .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(session_db("reading a change stamp"))?;
        let stamp = match row {
            Some(row) => column::<i64>(&row, 0)?,
            None => 0,
        };
        Ok(u64::try_from(stamp).unwrap_or(0))
    }

    #[tracing::instrument(skip_all)]
    async fn bump_user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        retry(session_error_is_transient, || self.bump_once(user_id)).await
    }
}
