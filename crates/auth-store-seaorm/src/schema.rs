//! The schema: the three tables of the Python original plus the two session
//! tables, as idempotent DDL per database, shared by the automatic creation
//! on first use and by the exported migrations.

use std::fmt::Write as _;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

use crate::error::Error;

/// Users: one row per account.
pub const USERS_TABLE: &str = "pywire_auth_users";
/// Password hashes, one per user that has a password.
pub const CREDENTIALS_TABLE: &str = "pywire_auth_credentials";
/// (provider, subject) links to users.
pub const PROVIDER_LINKS_TABLE: &str = "pywire_auth_provider_links";
/// Sessions of the SQL session backend.
pub const SESSIONS_TABLE: &str = "auth_sessions";
/// Per-user change stamps of the SQL session backend.
pub const USER_STAMPS_TABLE: &str = "auth_user_stamps";

/// The server behind a connection: the DDL differs between MySQL and
/// MariaDB (collation names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Sqlite,
    Postgres,
    /// MySQL 8 or later.
    MySql,
    /// MySQL before 8.
    MySqlLegacy,
    MariaDb,
}

/// Asks the server which flavour it is.
pub(crate) async fn flavor<C: ConnectionTrait>(conn: &C) -> Result<Flavor, DbErr> {
    match conn.get_database_backend() {
        DatabaseBackend::Postgres => Ok(Flavor::Postgres),
        DatabaseBackend::MySql => {
            let stmt = Statement::from_string(DatabaseBackend::MySql, "SELECT VERSION()");
            let version: String = match conn.query_one_raw(stmt).await? {
                Some(row) => row.try_get_by_index(0)?,
                None => String::new(),
            };
            Ok(if version.contains("MariaDB") {
                Flavor::MariaDb
            } else if version.starts_with("5.") {
                Flavor::MySqlLegacy
            } else {
                Flavor::MySql
            })
        }
        // SQLite, and backends this crate does not speak (reached only
        // through a connection the application built): SQLite's DDL is the
        // most portable guess.
        _ => Ok(Flavor::Sqlite),
    }
}

/// Column types per flavour.
struct Types {
    /// An id or key compared exactly: user ids, providers, subjects.
    key: &'static str,
    email: &'static str,
    text: &'static str,
    json: &'static str,
    /// Table options after the closing parenthesis.
    table: &'static str,
    /// Whether secondary indexes go inside `CREATE TABLE` (MySQL and
    /// MariaDB, which lack `CREATE INDEX IF NOT EXISTS` on MySQL).
    inline_index: bool,
}

fn types(flavor: Flavor) -> Types {
    // On MySQL and MariaDB, keys use a binary collation without padding, so
    // that ids and subjects compare exactly (case and trailing spaces
    // included), as on the other databases.
    const MYSQL_TEXT: &str = "MEDIUMTEXT";
    match flavor {
        Flavor::Sqlite => Types {
            key: "TEXT",
            email: "TEXT",
            text: "TEXT",
            json: "TEXT",
            table: "",
            inline_index: false,
        },
        Flavor::Postgres => Types {
            key: "VARCHAR(255)",
            email: "VARCHAR(320)",
            text: "TEXT",
            json: "JSON",
            table: "",
            inline_index: false,
        },
        Flavor::MySql => Types {
            key: "VARCHAR(255)",
            email: "VARCHAR(320)",
            text: MYSQL_TEXT,
            json: "JSON",
            table: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin",
            inline_index: true,
        },
        Flavor::MySqlLegacy => Types {
            key: "VARCHAR(255)",
            email: "VARCHAR(320)",
            text: MYSQL_TEXT,
            json: "JSON",
            table: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            inline_index: true,
        },
        Flavor::MariaDb => Types {
            key: "VARCHAR(255)",
            email: "VARCHAR(320)",
            text: MYSQL_TEXT,
            json: "JSON",
            table: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin",
            inline_index: true,
        },
    }
}

/// One `CREATE TABLE IF NOT EXISTS` with its secondary indexes.
fn table(t: &Types, name: &str, columns: &[String], indexes: &[(&str, &str)]) -> Vec<String> {
    let mut body = columns.join(", ");
    if t.inline_index {
        for (index, column) in indexes {
            let _ = write!(body, ", INDEX {index} ({column})");
        }
    }
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {name} ({body}){}",
        t.table
    )];
    if !t.inline_index {
        for (index, column) in indexes {
            out.push(format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {name} ({column})"
            ));
        }
    }
    out
}

/// The DDL of the three user tables. Index names are the ones the Python
/// original creates, so running this on its database changes nothing.
pub(crate) fn store_tables(flavor: Flavor) -> Vec<String> {
    let t = types(flavor);
    let mut out = table(
        &t,
        USERS_TABLE,
        &[
            format!("user_id {} NOT NULL PRIMARY KEY", t.key),
            format!("email {}", t.email),
            format!("name {}", t.text),
            format!("claims {}", t.json),
            format!("extras {}", t.json),
        ],
        &[("ix_pywire_auth_users_email", "email")],
    );
    out.extend(table(
        &t,
        CREDENTIALS_TABLE,
        &[
            format!("user_id {} NOT NULL PRIMARY KEY", t.key),
            format!("pw_hash {}", t.text),
        ],
        &[],
    ));
    out.extend(table(
        &t,
        PROVIDER_LINKS_TABLE,
        &[
            format!("provider {} NOT NULL", t.key),
            format!("subject {} NOT NULL", t.key),
            format!("user_id {}", t.key),
            format!("claims {}", t.json),
            "PRIMARY KEY (provider, subject)".to_owned(),
        ],
        &[("ix_pywire_auth_provider_links_user_id", "user_id")],
    ));
    out
}

/// The DDL of the two session tables.
pub(crate) fn session_tables(flavor: Flavor) -> Vec<String> {
    let t = types(flavor);
    let mut out = table(
        &t,
        SESSIONS_TABLE,
        &[
            format!(
                "session_key {} NOT NULL PRIMARY KEY",
                if flavor == Flavor::Sqlite {
                    "TEXT"
                } else {
                    "VARCHAR(64)"
                }
            ),
            format!("user_id {}", t.key),
            format!("record {}", t.json),
            "expires_at BIGINT NOT NULL".to_owned(),
        ],
        &[
            ("ix_auth_sessions_user_id", "user_id"),
            ("ix_auth_sessions_expires_at", "expires_at"),
        ],
    );
    out.extend(table(
        &t,
        USER_STAMPS_TABLE,
        &[
            format!("user_id {} NOT NULL PRIMARY KEY", t.key),
            "stamp BIGINT NOT NULL".to_owned(),
        ],
        &[],
    ));
    out
}

/// The DDL that drops what [`store_tables`] and [`session_tables`] create.
#[cfg(feature = "migration")]
pub(crate) fn drop_tables(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| format!("DROP TABLE IF EXISTS {name}"))
        .collect()
}

/// Runs idempotent DDL, tolerating a concurrent creator: several processes
/// starting at once may race on `CREATE ... IF NOT EXISTS` (PostgreSQL can
/// then report a duplicate in its catalog); the statements are simply run
/// again, and the second pass finds everything in place.
pub(crate) async fn create<C: ConnectionTrait>(
    conn: &C,
    statements: &[String],
) -> Result<(), Error> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 0;
    loop {
        match run_all(conn, statements).await {
            Ok(()) => return Ok(()),
            Err(error) if attempt + 1 < ATTEMPTS => {
                tracing::debug!(%error, attempt, "creating the schema failed, trying again");
                tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt + 1))).await;
                attempt += 1;
            }
            Err(error) => return Err(Error::db("creating the schema")(error)),
        }
    }
}

async fn run_all<C: ConnectionTrait>(conn: &C, statements: &[String]) -> Result<(), DbErr> {
    for sql in statements {
        conn.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_inline_only_on_mysql() {
        let sqlite = store_tables(Flavor::Sqlite);
        assert!(sqlite.iter().any(|s| s.starts_with(
            "CREATE INDEX IF NOT EXISTS ix_pywire_auth_users_email ON pywire_auth_users"
        )));
        let maria = store_tables(Flavor::MariaDb);
        assert_eq!(maria.len(), 3);
        assert!(maria[0].contains("INDEX ix_pywire_auth_users_email (email)"));
        assert!(maria[0].ends_with("COLLATE=utf8mb4_nopad_bin"));
    }

    #[test]
    fn every_statement_is_idempotent() {
        for flavor in [
            Flavor::Sqlite,
            Flavor::Postgres,
            Flavor::MySql,
            Flavor::MySqlLegacy,
            Flavor::MariaDb,
        ] {
            for sql in store_tables(flavor).iter().chain(&session_tables(flavor)) {
                assert!(sql.contains("IF NOT EXISTS"), "{sql}");
            }
        }
    }
}
