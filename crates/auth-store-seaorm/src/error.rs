//! The crate's error, how driver errors are classified, and how both map
//! into the core errors.

use std::time::Duration;

use auth_core::{SessionError, StoreError};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
use sea_orm::RuntimeErr;
use sea_orm::{DbErr, SqlErr};

/// What went wrong in this crate outside the trait methods (connecting,
/// creating the schema, purging), and the `source` kept inside the core
/// errors when a stored value cannot be read back.
///
/// The trait methods answer with [`StoreError`] and [`SessionError`]: a
/// driver failure is their `Backend` variant with the [`DbErr`] as source,
/// a malformed column their `Corrupt` variant with an [`Error`] as source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL names no database this build supports: the scheme is not
    /// `sqlite:`, `postgres:`/`postgresql:` or `mysql:`, or its cargo
    /// feature is off.
    #[error(
        "unsupported database URL: expected sqlite:, postgres: or mysql: with its cargo feature enabled"
    )]
    UnsupportedUrl,
    /// The URL does not parse. The URL itself is left out of the message:
    /// it may hold a password.
    #[error("the database URL is malformed")]
    InvalidUrl(#[source] url::ParseError),
    /// The database failed while the crate was doing `context`.
    #[error("database error while {context}")]
    Database {
        /// What the crate was doing.
        context: &'static str,
        /// The driver's error.
        #[source]
        source: DbErr,
    },
    /// A stored JSON column is not valid JSON.
    #[error("stored JSON is malformed")]
    Json(#[source] serde_json::Error),
    /// A stored JSON column is valid JSON of the wrong shape.
    #[error("stored JSON has the wrong shape: expected {expected}")]
    Shape {
        /// The shape that was expected.
        expected: &'static str,
    },
    /// A table name was refused by [`TableNames`](crate::TableNames): the
    /// name itself is left out of the message.
    #[error("invalid name for the {table} table: {reason}")]
    InvalidTableName {
        /// Which table: `users`, `credentials`, `provider links`,
        /// `sessions`, `user stamps` or `one-time tokens` (or `indexes`
        /// when two derived index names collide).
        table: &'static str,
        /// What is wrong with the name.
        reason: &'static str,
    },
    /// Two tables were given the same name (ignoring ASCII case).
    #[error("the {first} and {second} tables have the same name")]
    DuplicateTableName {
        /// The first of the two tables.
        first: &'static str,
        /// The second.
        second: &'static str,
    },
    /// [`Schema::Verify`](crate::Schema::Verify) found no table of this
    /// name.
    #[error(
        "table {table} does not exist (the schema is verified, not created: run the migrations)"
    )]
    MissingTable {
        /// The missing table.
        table: String,
    },
    /// [`Schema::Verify`](crate::Schema::Verify) found the table without a
    /// column the store uses.
    #[error("table {table} lacks a column this store uses")]
    TableMismatch {
        /// The table.
        table: String,
        /// The driver's error for the probing query.
        #[source]
        source: DbErr,
    },
}

impl Error {
    pub(crate) fn db(context: &'static str) -> impl FnOnce(DbErr) -> Self {
        move |source| Self::Database { context, source }
    }
}

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        match error {
            Error::Database { context, source } => StoreError::backend(context, source),
            Error::UnsupportedUrl | Error::InvalidUrl(_) => {
                StoreError::backend("opening the database", error)
            }
            Error::Json(_) | Error::Shape { .. } => StoreError::corrupt("a stored column", error),
            Error::MissingTable { .. } | Error::TableMismatch { .. } => {
                StoreError::backend("verifying the schema", error)
            }
            Error::InvalidTableName { .. } | Error::DuplicateTableName { .. } => {
                StoreError::backend("configuring the store", error)
            }
        }
    }
}

impl From<Error> for SessionError {
    fn from(error: Error) -> Self {
        match error {
            Error::Database { context, source } => SessionError::backend(context, source),
            Error::UnsupportedUrl | Error::InvalidUrl(_) => {
                SessionError::backend("opening the database", error)
            }
            Error::Json(_) | Error::Shape { .. } => SessionError::Corrupt(Box::new(error)),
            Error::MissingTable { .. } | Error::TableMismatch { .. } => {
                SessionError::backend("verifying the schema", error)
            }
            Error::InvalidTableName { .. } | Error::DuplicateTableName { .. } => {
                SessionError::backend("configuring the session backend", error)
            }
        }
    }
}

/// Maps a driver error met while doing `context` into a store error.
pub(crate) fn store_db(context: &'static str) -> impl FnOnce(DbErr) -> StoreError {
    move |source| StoreError::backend(context, source)
}

/// Maps a driver error met while doing `context` into a session error.
pub(crate) fn session_db(context: &'static str) -> impl FnOnce(DbErr) -> SessionError {
    move |source| SessionError::backend(context, source)
}

/// Whether the error is a duplicate primary or unique key.
pub(crate) fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether a transaction that failed with this error should simply run
/// again: SQLite busy or locked, a PostgreSQL serialization failure or
/// deadlock, a MySQL/MariaDB deadlock or lock wait timeout.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) fn is_transient(error: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Conn(RuntimeErr::SqlxError(sqlx_error))) = error
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db_error) = sqlx_error.as_ref() else {
        return false;
    };
    if let Some(code) = db_error.code() {
        // SQLite (primary and extended result codes of BUSY and LOCKED),
        // then the SQLSTATEs of PostgreSQL and of MySQL/MariaDB deadlocks.
        if matches!(
            code.as_ref(),
            "5" | "6" | "261" | "262" | "517" | "40001" | "40P01"
        ) {
            return true;
        }
    }
    // MySQL's lock wait timeout (1205) has the catch-all SQLSTATE HY000.
    let message = db_error.message();
    message.contains("Lock wait timeout exceeded")
        || message.contains("Deadlock found")
        || message.contains("database is locked")
}

/// What a failed query says is missing from the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Undefined {
    Table,
    Column,
}

/// Whether the error says a table or a column does not exist: SQLite's
/// message, PostgreSQL's SQLSTATE 42P01 / 42703, MySQL's 42S02 / 42S22
/// (error 1146 / 1054).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) fn undefined(error: &DbErr) -> Option<Undefined> {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx_error))) = error
    else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(db_error) = sqlx_error.as_ref() else {
        return None;
    };
    let code = db_error.code();
    let message = db_error.message();
    match code.as_deref() {
        Some("42P01" | "42S02" | "1146") => Some(Undefined::Table),
        Some("42703" | "42S22" | "1054") => Some(Undefined::Column),
        _ if message.starts_with("no such table") => Some(Undefined::Table),
        _ if message.starts_with("no such column") => Some(Undefined::Column),
        _ => None,
    }
}

/// Without a driver there is no error to classify.
#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
pub(crate) fn undefined(_error: &DbErr) -> Option<Undefined> {
    None
}

/// Without a driver there is no error to retry.
#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
pub(crate) fn is_transient(_error: &DbErr) -> bool {
    false
}

/// Whether a failed store call is worth running again.
pub(crate) fn store_error_is_transient(error: &StoreError) -> bool {
    match error {
        StoreError::Backend { source, .. } => {
            source.downcast_ref::<DbErr>().is_some_and(is_transient)
        }
        _ => false,
    }
}

/// Whether a failed session call is worth running again.
pub(crate) fn session_error_is_transient(error: &SessionError) -> bool {
    match error {
        SessionError::Backend { source, .. } => {
            source.downcast_ref::<DbErr>().is_some_and(is_transient)
        }
        _ => false,
    }
}

/// How many times a transaction that keeps failing transiently is tried.
pub(crate) const MAX_ATTEMPTS: u32 = 12;

/// The pause before attempt `attempt + 1`: 2, 4, 8 ... ms, capped at 100 ms,
/// with a little jitter from the clock so that racing callers spread out.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 2u64.saturating_pow(attempt.min(6)).min(100);
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            % 1000,
    );
    Duration::from_millis(base) + Duration::from_micros(jitter)
}
