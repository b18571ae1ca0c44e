//! The schema: the three tables of the Python original, the one-time token
//! table, the audit log and the two session tables, as idempotent DDL per database, shared by the automatic creation
//! on first use and by the exported migrations, and the check that
//! [`Schema::Verify`](crate::Schema::Verify) runs instead.

use std::fmt::Write as _;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement};

use crate::error::{Error, Undefined, undefined};
use crate::tables::TableNames;

/// The default name of the users table: one row per account.
pub const USERS_TABLE: &str = "pywire_auth_users";
/// The default name of the password hash table, one row per user that has
/// a password.
pub const CREDENTIALS_TABLE: &str = "pywire_auth_credentials";
/// The default name of the table of (provider, subject) links to users.
pub const PROVIDER_LINKS_TABLE: &str = "pywire_auth_provider_links";
/// The default name of the session table of the SQL session backend.
pub const SESSIONS_TABLE: &str = "auth_sessions";
/// The default name of the per-user change stamp table of the SQL session
/// backend.
pub const USER_STAMPS_TABLE: &str = "auth_user_stamps";
/// The default name of the one-time token table: at most one row per user
/// and purpose, deleted with its user.
pub const ONE_TIME_TOKENS_TABLE: &str = "pywire_auth_one_time_tokens";
/// The default name of the audit log table: one row per change made to a
/// user for an actor, kept when the user is deleted.
pub const AUDIT_LOG_TABLE: &str = "pywire_auth_audit_log";
/// The default name of the TOTP table: at most one sealed secret per user,
/// with the last time step used, deleted with its user.
pub const TOTP_SECRETS_TABLE: &str = "pywire_auth_totp_secrets";
/// The default name of the recovery code table: the keyed hashes of a
/// user's unused recovery codes, deleted with their user.
pub const RECOVERY_CODES_TABLE: &str = "pywire_auth_recovery_codes";

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

/// One `CREATE TABLE IF NOT EXISTS` with its secondary indexes, each on a
/// column or a list of columns (`"user_id, purpose"`). Index names are
/// derived from the table name and the columns (see [`TableNames::index`]).
fn table(t: &Types, name: &str, columns: &[String], indexed_columns: &[&str]) -> Vec<String> {
    let indexes: Vec<(String, &str)> = indexed_columns
        .iter()
        .map(|column| (TableNames::index(name, &column.replace(", ", "_")), *column))
        .collect();
    let mut body = columns.join(", ");
    if t.inline_index {
        for (index, column) in &indexes {
            let _ = write!(body, ", INDEX {index} ({column})");
        }
    }
    let mut out = vec![format!(
        "CREATE TABLE IF NOT EXISTS {name} ({body}){}",
        t.table
    )];
    if !t.inline_index {
        for (index, column) in &indexes {
            out.push(format!(
                "CREATE INDEX IF NOT EXISTS {index} ON {name} ({column})"
            ));
        }
    }
    out
}

/// The DDL of the three user tables. With the default names, index names
/// are the ones the Python original creates, so running this on its
/// database changes nothing.
pub(crate) fn store_tables(flavor: Flavor, names: &TableNames) -> Vec<String> {
    let t = types(flavor);
    let mut out = table(
        &t,
        names.users(),
        &[
            format!("user_id {} NOT NULL PRIMARY KEY", t.key),
            format!("email {}", t.email),
            format!("name {}", t.text),
            format!("claims {}", t.json),
            format!("extras {}", t.json),
        ],
        &["email"],
    );
    out.extend(table(
        &t,
        names.credentials(),
        &[
            format!("user_id {} NOT NULL PRIMARY KEY", t.key),
            format!("pw_hash {}", t.text),
        ],
        &[],
    ));
    out.extend(table(
        &t,
        names.provider_links(),
        &[
            format!("provider {} NOT NULL", t.key),
            format!("subject {} NOT NULL", t.key),
            format!("user_id {}", t.key),
            format!("claims {}", t.json),
            "PRIMARY KEY (provider, subject)".to_owned(),
        ],
        &["user_id"],
    ));
    out
}

/// The DDL of the one-time token table. It refers to the users table, so
/// it runs after [`store_tables`]: `user_id` has the users' id type (and,
/// on MySQL and MariaDB, the same binary collation) and a foreign key that
/// deletes a user's tokens with the user.
pub(crate) fn token_tables(flavor: Flavor, names: &TableNames) -> Vec<String> {
    let t = types(flavor);
    let varchar = |size: u32| {
        if flavor == Flavor::Sqlite {
            "TEXT".to_owned()
        } else {
            format!("VARCHAR({size})")
        }
    };
    table(
        &t,
        names.one_time_tokens(),
        &[
            format!("token_hash {} NOT NULL PRIMARY KEY", varchar(64)),
            format!("purpose {} NOT NULL", varchar(32)),
            format!("user_id {} NOT NULL", t.key),
            format!("binding {} NOT NULL", varchar(255)),
            format!("data {}", varchar(255)),
            "expires_at BIGINT NOT NULL".to_owned(),
            "created_at BIGINT NOT NULL".to_owned(),
            format!(
                "FOREIGN KEY (user_id) REFERENCES {} (user_id) ON DELETE CASCADE",
                names.users()
            ),
        ],
        &["user_id, purpose"],
    )
}

/// The DDL of the two second-factor tables. They refer to the users table,
/// so they run after [`store_tables`], with a foreign key that deletes a
/// user's factors with the user.
pub(crate) fn factor_tables(flavor: Flavor, names: &TableNames) -> Vec<String> {
    let t = types(flavor);
    let varchar = |size: u32| {
        if flavor == Flavor::Sqlite {
            "TEXT".to_owned()
        } else {
            format!("VARCHAR({size})")
        }
    };
    let owner = format!(
        "FOREIGN KEY (user_id) REFERENCES {} (user_id) ON DELETE CASCADE",
        names.users()
    );
    let mut out = table(
        &t,
        names.totp_secrets(),
        &[
            format!("user_id {} NOT NULL PRIMARY KEY", t.key),
            format!("secret {} NOT NULL", varchar(255)),
            "confirmed_at BIGINT".to_owned(),
            "last_step BIGINT".to_owned(),
            "created_at BIGINT NOT NULL".to_owned(),
            owner.clone(),
        ],
        &[],
    );
    out.extend(table(
        &t,
        names.recovery_codes(),
        &[
            format!("user_id {} NOT NULL", t.key),
            format!("code_hash {} NOT NULL", varchar(64)),
            "created_at BIGINT NOT NULL".to_owned(),
            "PRIMARY KEY (user_id, code_hash)".to_owned(),
            owner,
        ],
        &[],
    ));
    out
}

/// The DDL of the audit log. No foreign key: entries outlive their user.
/// `id` grows with every entry, so it orders them newest first.
pub(crate) fn audit_tables(flavor: Flavor, names: &TableNames) -> Vec<String> {
    let t = types(flavor);
    let (id, action) = match flavor {
        // The rowid: it only grows, since no entry is ever deleted.
        Flavor::Sqlite => ("id INTEGER PRIMARY KEY", "TEXT"),
        Flavor::Postgres => ("id BIGSERIAL PRIMARY KEY", "VARCHAR(32)"),
        Flavor::MySql | Flavor::MySqlLegacy | Flavor::MariaDb => (
            "id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            "VARCHAR(32)",
        ),
    };
    table(
        &t,
        names.audit_log(),
        &[
            id.to_owned(),
            "at BIGINT NOT NULL".to_owned(),
            format!("actor {} NOT NULL", t.key),
            format!("source {} NOT NULL", t.key),
            format!("action {action} NOT NULL"),
            format!("target_user_id {} NOT NULL", t.key),
            format!("detail {} NOT NULL", t.text),
        ],
        &["target_user_id"],
    )
}

/// The DDL of the two session tables.
pub(crate) fn session_tables(flavor: Flavor, names: &TableNames) -> Vec<String> {
    let t = types(flavor);
    let mut out = table(
        &t,
        names.sessions(),
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
        &["user_id", "expires_at"],
    );
    out.extend(table(
        &t,
        names.user_stamps(),
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

/// The user tables, the token table and the audit log with the columns the
/// store reads and writes.
pub(crate) fn store_columns(names: &TableNames) -> [(&str, &'static str); 7] {
    [
        (names.users(), "user_id, email, name, claims, extras"),
        (names.credentials(), "user_id, pw_hash"),
        (names.provider_links(), "provider, subject, user_id, claims"),
        (
            names.one_time_tokens(),
            "token_hash, purpose, user_id, binding, data, expires_at, created_at",
        ),
        (
            names.audit_log(),
            "id, at, actor, source, action, target_user_id, detail",
        ),
        (
            names.totp_secrets(),
            "user_id, secret, confirmed_at, last_step, created_at",
        ),
        (names.recovery_codes(), "user_id, code_hash, created_at"),
    ]
}

/// The session tables with the columns the backend reads and writes.
pub(crate) fn session_columns(names: &TableNames) -> [(&str, &'static str); 2] {
    [
        (names.sessions(), "session_key, user_id, record, expires_at"),
        (names.user_stamps(), "user_id, stamp"),
    ]
}

/// Checks, creating nothing, that each table exists with its columns: a
/// query that reads no row names them all, so the server resolves them as
/// the store's own queries will (case folding included).
pub(crate) async fn verify<C: ConnectionTrait>(
    conn: &C,
    tables: &[(&str, &str)],
) -> Result<(), Error> {
    for (table, columns) in tables {
        let sql = format!("SELECT {columns} FROM {table} WHERE 1 = 0");
        let stmt = Statement::from_string(conn.get_database_backend(), sql);
        if let Err(source) = conn.query_all_raw(stmt).await {
            return Err(match undefined(&source) {
                Some(Undefined::Table) => Error::MissingTable {
                    table: (*table).to_owned(),
                },
                Some(Undefined::Column) => Error::TableMismatch {
                    table: (*table).to_owned(),
                    source,
                },
                None => Error::db("verifying the schema")(source),
            });
        }
    }
    Ok(())
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
        let sqlite = store_tables(Flavor::Sqlite, &TableNames::default());
        assert!(sqlite.iter().any(|s| s.starts_with(
            "CREATE INDEX IF NOT EXISTS ix_pywire_auth_users_email ON pywire_auth_users"
        )));
        let maria = store_tables(Flavor::MariaDb, &TableNames::default());
        assert_eq!(maria.len(), 3);
        assert!(maria[0].contains("INDEX ix_pywire_auth_users_email (email)"));
        assert!(maria[0].ends_with("COLLATE=utf8mb4_nopad_bin"));
    }

    #[test]
    fn the_token_table_refers_to_the_users_and_indexes_user_and_purpose() {
        let names = TableNames::default();
        let sqlite = token_tables(Flavor::Sqlite, &names);
        assert_eq!(sqlite.len(), 2);
        assert!(sqlite[0].contains("token_hash TEXT NOT NULL PRIMARY KEY"));
        assert!(sqlite[0].contains(
            "FOREIGN KEY (user_id) REFERENCES pywire_auth_users (user_id) ON DELETE CASCADE"
        ));
        assert_eq!(
            sqlite[1],
            "CREATE INDEX IF NOT EXISTS ix_pywire_auth_one_time_tokens_user_id_purpose \
             ON pywire_auth_one_time_tokens (user_id, purpose)"
        );
        let maria = token_tables(Flavor::MariaDb, &names);
        assert_eq!(maria.len(), 1);
        for part in [
            "token_hash VARCHAR(64) NOT NULL PRIMARY KEY",
            "user_id VARCHAR(255) NOT NULL",
            "binding VARCHAR(255) NOT NULL",
            "data VARCHAR(255),",
            "INDEX ix_pywire_auth_one_time_tokens_user_id_purpose (user_id, purpose)",
        ] {
            assert!(maria[0].contains(part), "{part}: {}", maria[0]);
        }
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
            let names = TableNames::default();
            for sql in store_tables(flavor, &names)
                .iter()
                .chain(&token_tables(flavor, &names))
                .chain(&audit_tables(flavor, &names))
                .chain(&factor_tables(flavor, &names))
                .chain(&session_tables(flavor, &names))
            {
                assert!(sql.contains("IF NOT EXISTS"), "{sql}");
            }
        }
    }

    #[test]
    fn custom_names_reach_tables_and_indexes() {
        let names = TableNames::prefixed("app_").unwrap();
        for flavor in [Flavor::Sqlite, Flavor::Postgres, Flavor::MariaDb] {
            let ddl = store_tables(flavor, &names)
                .into_iter()
                .chain(token_tables(flavor, &names))
                .chain(audit_tables(flavor, &names))
                .chain(factor_tables(flavor, &names))
                .chain(session_tables(flavor, &names))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(!ddl.contains("pywire"), "{ddl}");
            assert!(!ddl.contains("auth_"), "{ddl}");
            for part in [
                "EXISTS app_users (",
                "EXISTS app_credentials (",
                "EXISTS app_provider_links (",
                "EXISTS app_sessions (",
                "EXISTS app_user_stamps (",
                "EXISTS app_one_time_tokens (",
                "EXISTS app_audit_log (",
                "EXISTS app_totp_secrets (",
                "EXISTS app_recovery_codes (",
                "ix_app_audit_log_target_user_id",
                "REFERENCES app_users (user_id) ON DELETE CASCADE",
                "ix_app_one_time_tokens_user_id_purpose",
                "ix_app_users_email",
                "ix_app_provider_links_user_id",
                "ix_app_sessions_user_id",
                "ix_app_sessions_expires_at",
            ] {
                assert!(ddl.contains(part), "{flavor:?} lacks {part}: {ddl}");
            }
        }
    }
}
