//! The connection both the store and the session backend run on: opening it
//! from a URL, knowing whether to close it, the table names, creating (or
//! checking) the schema once, and writing statements in the dialect of its
//! backend.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, Value,
};
use tokio::sync::OnceCell;

use crate::error::{Error, MAX_ATTEMPTS, backoff};
use crate::schema::{self, Flavor};
use crate::tables::{Schema, TableNames};

/// The URL used when none is given: a SQLite file in the working
/// directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./local-auth.db";

/// The environment variable naming the database URL.
pub const DATABASE_URL_ENV: &str = "LOCAL_AUTH_DB";

/// A connection, whether this crate owns it, the names of its tables, and
/// the schema it has created or checked.
pub(crate) struct Db {
    conn: DatabaseConnection,
    owned: bool,
    tables: TableNames,
    schema: Schema,
    flavor: OnceCell<Flavor>,
    store_schema: OnceCell<()>,
    session_schema: OnceCell<()>,
}

impl fmt::Debug for Db {
    // The URL may hold a password, so only the backend is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .field("owned", &self.owned)
            .field("tables", &self.tables)
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens a pool for `url`; the pool is closed by [`Db::close`].
    pub(crate) async fn open(url: &str) -> Result<Self, Error> {
        Self::open_with(connect_options(url)?).await
    }

    /// Opens a pool with `options`; the pool is closed by [`Db::close`].
    pub(crate) async fn open_with(options: ConnectOptions) -> Result<Self, Error> {
        let conn = sea_orm::Database::connect(options)
            .await
            .map_err(Error::db("connecting to the database"))?;
        Ok(Self::with(conn, true))
    }

    /// Wraps a connection the application owns; [`Db::close`] leaves it open.
    pub(crate) fn shared(conn: DatabaseConnection) -> Self {
        Self::with(conn, false)
    }

    fn with(conn: DatabaseConnection, owned: bool) -> Self {
        Self {
            conn,
            owned,
            tables: TableNames::default(),
            schema: Schema::default(),
            flavor: OnceCell::new(),
            store_schema: OnceCell::new(),
            session_schema: OnceCell::new(),
        }
    }

    /// The same connection with these table names and schema handling.
    pub(crate) fn configured(mut self, tables: TableNames, schema: Schema) -> Self {
        self.tables = tables;
        self.schema = schema;
        self
    }

    pub(crate) fn tables(&self) -> &TableNames {
        &self.tables
    }

    pub(crate) fn schema(&self) -> Schema {
        self.schema
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub(crate) fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    pub(crate) fn owned(&self) -> bool {
        self.owned
    }

    /// Closes the pool if this crate opened it; a shared connection is left
    /// alone.
    pub(crate) async fn close(&self) -> Result<(), Error> {
        if self.owned {
            self.conn
                .close_by_ref()
                .await
                .map_err(Error::db("closing the connection pool"))?;
        }
        Ok(())
    }

    /// The server flavour, asked once.
    pub(crate) async fn flavor(&self) -> Result<Flavor, Error> {
        self.flavor
            .get_or_try_init(|| async {
                schema::flavor(&self.conn)
                    .await
                    .map_err(Error::db("detecting the database server"))
            })
            .await
            .copied()
    }

    /// Creates (or checks) the user tables, the token table, the audit
    /// log and the second-factor tables once per process (a failed attempt is tried again on the next call).
    pub(crate) async fn ensure_store_schema(&self) -> Result<(), Error> {
        if self.schema == Schema::Skip {
            return Ok(());
        }
        self.store_schema
            .get_or_try_init(|| async {
                if self.schema == Schema::Verify {
                    return schema::verify(&self.conn, &schema::store_columns(&self.tables)).await;
                }
                let flavor = self.flavor().await?;
                let mut statements = schema::store_tables(flavor, &self.tables);
                statements.extend(schema::token_tables(flavor, &self.tables));
                statements.extend(schema::audit_tables(flavor, &self.tables));
                statements.extend(schema::factor_tables(flavor, &self.tables));
                schema::create(&self.conn, &statements).await
            })
            .await
            .copied()
    }

    /// Creates (or checks) the session tables once per process.
    pub(crate) async fn ensure_session_schema(&self) -> Result<(), Error> {
        if self.schema == Schema::Skip {
            return Ok(());
        }
        self.session_schema
            .get_or_try_init(|| async {
                if self.schema == Schema::Verify {
                    return schema::verify(&self.conn, &schema::session_columns(&self.tables))
                        .await;
                }
                let flavor = self.flavor().await?;
                schema::create(&self.conn, &schema::session_tables(flavor, &self.tables)).await
            })
            .await
            .copied()
    }

    /// A statement in this backend's dialect: `?` placeholders become `$n`
    /// on PostgreSQL.
    pub(crate) fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        let backend = self.backend();
        let sql = if backend == DatabaseBackend::Postgres {
            numbered_placeholders(sql)
        } else {
            sql.to_owned()
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// `expr` read back as text: how JSON columns are selected, so that a
    /// column of type JSON, JSONB or TEXT reads the same everywhere.
    pub(crate) fn as_text(&self, expr: &str) -> String {
        match self.backend() {
            DatabaseBackend::MySql => format!("CAST({expr} AS CHAR)"),
            _ => format!("CAST({expr} AS TEXT)"),
        }
    }

    /// The placeholder of a JSON parameter bound as text.
    pub(crate) fn json_param(&self) -> &'static str {
        match self.backend() {
            DatabaseBackend::Postgres => "CAST(? AS json)",
            _ => "?",
        }
    }

    /// The suffix that locks the selected rows until the transaction ends
    /// (nothing on SQLite, where the transaction already holds the write
    /// lock).
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend() {
            DatabaseBackend::Sqlite => "",
            _ => " FOR UPDATE",
        }
    }

    /// Starts a transaction that will write: on SQLite `BEGIN IMMEDIATE`,
    /// so it takes the write lock up front (waiting on the busy timeout)
    /// instead of failing when a read transaction tries to upgrade.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            sqlite_transaction_mode: (self.backend() == DatabaseBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        self.conn.begin_with_options(options).await
    }
}

/// Runs `attempt` until it succeeds, fails for good, or has failed
/// transiently [`MAX_ATTEMPTS`] times. Each attempt is one whole
/// transaction on one pooled connection.
pub(crate) async fn retry<T, E, F, Fut>(
    is_transient: fn(&E) -> bool,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(error) if is_transient(&error) && tries + 1 < MAX_ATTEMPTS => {
                tracing::debug!(attempt = tries, "transient database error, retrying");
                tokio::time::sleep(backoff(tries)).await;
                tries += 1;
            }
            result => return result,
        }
    }
}

/// Ends a transaction: commits it when `result` is `Ok`, rolls it back
/// otherwise (a failed rollback is only logged: the pool rolls back a
/// connection that comes back mid-transaction anyway).
pub(crate) async fn finish<T, E>(
    tx: DatabaseTransaction,
    result: Result<T, E>,
    commit_error: impl FnOnce(DbErr) -> E,
) -> Result<T, E> {
    match result {
        Ok(value) => {
            tx.commit().await.map_err(commit_error)?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::debug!(error = %rollback, "rolling back failed");
            }
            Err(error)
        }
    }
}

fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

/// The pool settings [`SeaOrmAuthStore::connect`](crate::SeaOrmAuthStore::connect)
/// uses for `url`, to adjust and pass to
/// [`connect_with`](crate::SeaOrmAuthStore::connect_with):
///
/// - every database: no statement logging, a 5 s connect and 10 s acquire
///   timeout;
/// - PostgreSQL, MySQL/MariaDB: up to 10 connections, each pinged before it
///   is handed out (a restarted server is used again at once);
/// - a SQLite file: created if missing, WAL mode, `synchronous = NORMAL`, a
///   10 s busy timeout, up to 4 connections;
/// - SQLite in memory: exactly one connection, never closed while the pool
///   lives (the database lives as long as it).
///
/// ```
/// use auth_store_seaorm::{SeaOrmAuthStore, connect_options};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_store_seaorm::Error> {
/// let mut options = connect_options("sqlite::memory:")?;
/// options.acquire_timeout(std::time::Duration::from_secs(3));
/// let store = SeaOrmAuthStore::connect_with(options).await?;
/// assert!(store.owns_connection());
/// # Ok(()) }
/// ```
pub fn connect_options(url: &str) -> Result<ConnectOptions, Error> {
    // Parsed here first because the driver's own message for a malformed
    // URL quotes the whole URL, password included.
    url::Url::parse(url).map_err(Error::InvalidUrl)?;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if !cfg!(feature = "sqlite") {
            return Err(Error::UnsupportedUrl);
        }
        sqlite_options(url, &mut options);
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        if !cfg!(feature = "postgres") {
            return Err(Error::UnsupportedUrl);
        }
        options.max_connections(10);
    } else if url.starts_with("mysql:") {
        if !cfg!(feature = "mysql") {
            return Err(Error::UnsupportedUrl);
        }
        options.max_connections(10);
    } else {
        return Err(Error::UnsupportedUrl);
    }
    Ok(options)
}

#[cfg(feature = "sqlite")]
fn sqlite_options(url: &str, options: &mut ConnectOptions) {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};

    // A SQLite connection is a handle on a local file, not a socket a
    // server can drop: pinging it before every call buys nothing.
    options.test_before_acquire(false);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if in_memory {
        // One connection that never closes: an in-memory database lives
        // exactly as long as its last connection.
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        options.map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::from_secs(10)));
    } else {
        // Writers queue on SQLite's single write lock, readers run beside
        // them in WAL mode.
        options.max_connections(4);
        options.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
        });
    }
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_options(_url: &str, _options: &mut ConnectOptions) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2"
        );
        assert_eq!(numbered_placeholders("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn unknown_schemes_and_malformed_urls_are_refused() {
        for url in ["redis://127.0.0.1", "file:///x.db", "mssql://h/db"] {
            assert!(
                matches!(connect_options(url), Err(Error::UnsupportedUrl)),
                "{url}"
            );
        }
        for url in [
            "",
            "sqlite",
            "local-auth.db",
            "postgres://u:secret@host:port/db",
        ] {
            let error = connect_options(url).unwrap_err();
            assert!(matches!(error, Error::InvalidUrl(_)), "{url}: {error}");
            assert!(!format!("{error} {error:?}").contains("secret"));
        }
    }
}
