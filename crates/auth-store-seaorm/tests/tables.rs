//! Table names and schema handling, on real databases: the conformance kits
//! (store, sessions, one-time tokens) pass on custom names and the catalog
//! holds exactly those tables;
//! `Schema::Verify` names a missing table and creates nothing; `Schema::Skip`
//! issues no DDL; hostile names never get that far.
//!
//! Each run works in a scratch space of its own (a SQLite file, a PostgreSQL
//! schema, a MariaDB database) with a fresh prefix, dropped at the end, so
//! "no other table was made" can be checked and parallel runs do not meet.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use auth_core::testkit::{
    admin_conformance, one_time_token_conformance, second_factor_conformance, session_conformance,
    store_conformance,
};
use auth_core::{AuthStore, SessionBackend, SessionError, SessionToken, StoreError};
use auth_store_seaorm::migration::{Migrator, SchemaManager};
use auth_store_seaorm::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use auth_store_seaorm::{
    Error, MAX_TABLE_NAME_LEN, Schema, SeaOrmAuthStore, SeaOrmSessionBackend, TableNames,
};
use common::Db;

/// A database of one test's own, and how to drop it.
struct Scratch {
    db: Db,
    /// Where the store connects.
    url: String,
    /// A connection on the scratch space, to read its catalog.
    conn: DatabaseConnection,
    /// A connection outside it, to drop it (servers only).
    admin: Option<(DatabaseConnection, String)>,
}

impl Scratch {
    async fn new(db: Db) -> Option<Self> {
        let base = common::url(db)?;
        let space = format!("tables_{}", common::fresh());
        let (url, admin) = match db {
            Db::Postgres => {
                let admin = Database::connect(base.as_str()).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE SCHEMA {space}"))
                    .await
                    .unwrap();
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{separator}options=-c%20search_path%3D{space}");
                (url, Some((admin, format!("DROP SCHEMA {space} CASCADE"))))
            }
            Db::Mysql => {
                let admin = Database::connect(base.as_str()).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {space}"))
                    .await
                    .unwrap();
                let url = common::mysql_url_for(&base, &space);
                (url, Some((admin, format!("DROP DATABASE {space}"))))
            }
            Db::SqliteFile | Db::SqliteMemory => (base, None),
        };
        // The crate's settings: one connection for `sqlite::memory:`, which
        // a store on this connection then shares.
        let conn = Database::connect(auth_store_seaorm::connect_options(&url).unwrap())
            .await
            .unwrap();
        Some(Self {
            db,
            url,
            conn,
            admin,
        })
    }

    /// Every table and index name in the scratch space, sorted (SQLite's
    /// automatic indexes and MySQL's `PRIMARY` left out).
    async fn catalog(&self) -> Vec<String> {
        let sql = match self.db {
            Db::Postgres => {
                "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema() \
                 UNION ALL SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema()"
            }
            Db::Mysql => {
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() \
                 UNION ALL SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY'"
            }
            Db::SqliteFile | Db::SqliteMemory => {
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') \
                 AND name NOT LIKE 'sqlite_%'"
            }
        };
        let stmt = Statement::from_string(self.conn.get_database_backend(), sql);
        let mut names: Vec<String> = self
            .conn
            .query_all_raw(stmt)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect();
        names.sort();
        names
    }

    async fn drop(self) {
        self.conn.close().await.unwrap();
        if let Some((admin, sql)) = self.admin {
            admin.execute_unprepared(&sql).await.unwrap();
            admin.close().await.unwrap();
        }
        common::remove_sqlite_file(&self.url);
    }
}

/// A fresh prefix, so that the names of one run are its own.
fn prefix() -> String {
    format!("t{}_", &common::fresh()[..10])
}

fn all_tables(names: &TableNames) -> Vec<String> {
    let mut all: Vec<String> = [
        names.users(),
        names.credentials(),
        names.provider_links(),
        names.sessions(),
        names.user_stamps(),
        names.one_time_tokens(),
        names.audit_log(),
        names.totp_secrets(),
        names.recovery_codes(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    all.sort();
    all
}

async fn conformance_on_custom_names(db: Db) {
    let Some(scratch) = Scratch::new(db).await else {
        return;
    };
    let prefix = prefix();
    let names = TableNames::prefixed(&prefix).unwrap();
    let store = SeaOrmAuthStore::builder(scratch.url.as_str())
        .with_tables(names.clone())
        .build()
        .await
        .unwrap();
    let sessions = store.session_backend();
    assert_eq!(sessions.tables(), &names, "the backend shares the names");
    store_conformance(&store).await;
    session_conformance(&sessions).await;
    one_time_token_conformance(&store).await;
    admin_conformance(&store).await;
    second_factor_conformance(&store).await;

    let catalog = scratch.catalog().await;
    let mut expected = all_tables(&names);
    expected.extend([
        format!("ix_{prefix}users_email"),
        format!("ix_{prefix}provider_links_user_id"),
        format!("ix_{prefix}sessions_user_id"),
        format!("ix_{prefix}sessions_expires_at"),
        format!("ix_{prefix}one_time_tokens_user_id_purpose"),
        format!("ix_{prefix}audit_log_target_user_id"),
    ]);
    if db == Db::Postgres {
        // Primary keys are indexes named after their table there.
        for table in all_tables(&names) {
            expected.push(format!("{table}_pkey"));
        }
    }
    expected.sort();
    assert_eq!(catalog, expected, "{db:?}");
    assert!(
        catalog
            .iter()
            .all(|name| !name.contains("pywire") && !name.contains("auth_")),
        "{db:?}: {catalog:?}"
    );
    store.close().await.unwrap();
    scratch.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_on_custom_names_sqlite() {
    conformance_on_custom_names(Db::SqliteFile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_on_custom_names_postgres() {
    conformance_on_custom_names(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conformance_on_custom_names_mysql() {
    conformance_on_custom_names(Db::Mysql).await;
}

/// A standalone session backend with its own names passes too, on a
/// connection the test owns.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn standalone_session_backend_on_custom_names() {
    let Some(scratch) = Scratch::new(Db::SqliteMemory).await else {
        return;
    };
    let names = TableNames::builder()
        .with_sessions("web_sessions")
        .with_user_stamps("web_stamps")
        .build()
        .unwrap();
    let sessions = SeaOrmSessionBackend::builder(scratch.conn.clone())
        .with_tables(names)
        .build()
        .await
        .unwrap();
    session_conformance(&sessions).await;
    assert_eq!(
        scratch.catalog().await,
        [
            "ix_web_sessions_expires_at",
            "ix_web_sessions_user_id",
            "web_sessions",
            "web_stamps"
        ]
    );
    scratch.drop().await;
}

async fn verify(db: Db) {
    let Some(scratch) = Scratch::new(db).await else {
        return;
    };
    let prefix = prefix();
    let names = TableNames::prefixed(&prefix).unwrap();
    let verified = SeaOrmAuthStore::builder(scratch.url.as_str())
        .with_tables(names.clone())
        .with_schema(Schema::Verify)
        .build()
        .await
        .unwrap();
    assert_eq!(verified.schema(), Schema::Verify);

    // Nothing there: the first missing table is named, and nothing is made.
    match verified.init_schema().await {
        Err(Error::MissingTable { table }) => assert_eq!(table, names.users(), "{db:?}"),
        other => panic!("{db:?}: expected MissingTable, got {other:?}"),
    }
    let error = verified.get_user("local:1").await.unwrap_err();
    assert!(matches!(error, StoreError::Backend { .. }), "{error:?}");
    assert!(
        common::chain(&error).contains(&format!("table {prefix}users does not exist")),
        "{}",
        common::chain(&error)
    );
    let sessions = verified.session_backend();
    match sessions.init_schema().await {
        Err(Error::MissingTable { table }) => assert_eq!(table, names.sessions(), "{db:?}"),
        other => panic!("{db:?}: expected MissingTable, got {other:?}"),
    }
    let key = SessionToken::generate().key();
    assert!(matches!(
        sessions.load(&key).await,
        Err(SessionError::Backend { .. })
    ));
    assert!(
        scratch.catalog().await.is_empty(),
        "{db:?}: Verify made DDL"
    );

    // Created by a store that may: now the same verifying store works.
    let creator = SeaOrmAuthStore::builder(scratch.url.as_str())
        .with_tables(names.clone())
        .build()
        .await
        .unwrap();
    creator.init_schema().await.unwrap();
    creator.session_backend().init_schema().await.unwrap();
    verified.init_schema().await.unwrap();
    sessions.init_schema().await.unwrap();
    let (id, new) = common::user("verified");
    verified.create_user(new).await.unwrap();
    assert!(verified.get_user(&id).await.unwrap().is_some());
    assert_eq!(sessions.bump_user_stamp(&id).await.unwrap(), 1);

    // A table of that name without the store's columns is named too.
    let odd = format!("{prefix}odd");
    scratch
        .conn
        .execute_unprepared(&format!("CREATE TABLE {odd} (user_id VARCHAR(64))"))
        .await
        .unwrap();
    let mismatched = SeaOrmAuthStore::builder(scratch.url.as_str())
        .with_tables(
            TableNames::builder()
                .with_prefix(&prefix)
                .with_credentials(&odd)
                .build()
                .unwrap(),
        )
        .with_schema(Schema::Verify)
        .build()
        .await
        .unwrap();
    match mismatched.init_schema().await {
        Err(Error::TableMismatch { table, .. }) => assert_eq!(table, odd, "{db:?}"),
        other => panic!("{db:?}: expected TableMismatch, got {other:?}"),
    }

    for store in [verified, creator, mismatched] {
        store.close().await.unwrap();
    }
    scratch.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_names_the_missing_table_sqlite() {
    verify(Db::SqliteFile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_names_the_missing_table_postgres() {
    verify(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_names_the_missing_table_mysql() {
    verify(Db::Mysql).await;
}

async fn skip(db: Db) {
    let Some(scratch) = Scratch::new(db).await else {
        return;
    };
    let names = TableNames::prefixed(&prefix()).unwrap();
    let trusting = SeaOrmAuthStore::builder(scratch.url.as_str())
        .with_tables(names.clone())
        .with_schema(Schema::Skip)
        .build()
        .await
        .unwrap();
    let sessions = trusting.session_backend();
    trusting.init_schema().await.unwrap();
    sessions.init_schema().await.unwrap();

    // No table: each call fails in its own query, and nothing is created.
    let error = trusting.get_user("local:1").await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Backend {
                context: "reading a user",
                ..
            }
        ),
        "{db:?}: {error:?}"
    );
    let (_, new) = common::user("skipped");
    assert!(matches!(
        trusting.create_user(new).await,
        Err(StoreError::Backend { .. })
    ));
    let key = SessionToken::generate().key();
    assert!(matches!(
        sessions.load(&key).await,
        Err(SessionError::Backend {
            context: "loading a session",
            ..
        })
    ));
    assert!(scratch.catalog().await.is_empty(), "{db:?}: Skip made DDL");

    // Once the tables exist (here: migrations for the same names), it works.
    let manager = SchemaManager::new(&scratch.conn);
    for migration in Migrator::migrations_for(&names) {
        migration.up(&manager).await.unwrap();
    }
    let (id, new) = common::user("skipped");
    trusting.create_user(new).await.unwrap();
    assert!(trusting.get_user(&id).await.unwrap().is_some());
    assert_eq!(sessions.user_stamp(&id).await.unwrap(), 0);
    trusting.close().await.unwrap();
    scratch.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn skip_issues_no_ddl_sqlite() {
    skip(Db::SqliteFile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn skip_issues_no_ddl_postgres() {
    skip(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn skip_issues_no_ddl_mysql() {
    skip(Db::Mysql).await;
}

/// Names that are not plain identifiers never become a `TableNames`, so
/// they never reach SQL; the error names the table, not the text.
#[test]
fn hostile_names_are_refused() {
    let long = "a".repeat(MAX_TABLE_NAME_LEN + 1);
    let hostile = [
        "users; DROP TABLE x",
        "x'; DROP TABLE pywire_auth_users; --",
        "\"users\"",
        "`users`",
        "users --",
        "us ers",
        "users\t",
        "üsers",
        "users\u{200b}",
        "",
        "1users",
        "db.users",
        long.as_str(),
    ];
    for name in hostile {
        for (table, built) in [
            ("users", TableNames::builder().with_users(name).build()),
            (
                "credentials",
                TableNames::builder().with_credentials(name).build(),
            ),
            (
                "provider links",
                TableNames::builder().with_provider_links(name).build(),
            ),
            (
                "sessions",
                TableNames::builder().with_sessions(name).build(),
            ),
            (
                "user stamps",
                TableNames::builder().with_user_stamps(name).build(),
            ),
            (
                "one-time tokens",
                TableNames::builder().with_one_time_tokens(name).build(),
            ),
        ] {
            match built {
                Err(error @ Error::InvalidTableName { table: t, .. }) => {
                    assert_eq!(t, table);
                    if name.len() > 3 {
                        assert!(!error.to_string().contains(name), "{error}");
                    }
                }
                other => panic!("{name:?} as {table}: {other:?}"),
            }
        }
        if !name.is_empty() {
            assert!(TableNames::prefixed(name).is_err(), "prefix {name:?}");
        }
    }
    assert!(matches!(
        TableNames::new("a", "b", "c", "d", "B", "f", "g", "h", "i"),
        Err(Error::DuplicateTableName {
            first: "credentials",
            second: "user stamps"
        })
    ));
    assert!(matches!(
        TableNames::new("a", "b", "c", "d", "e", "A", "g", "h", "i"),
        Err(Error::DuplicateTableName {
            first: "users",
            second: "one-time tokens"
        })
    ));
    let longest = "a".repeat(MAX_TABLE_NAME_LEN);
    assert!(TableNames::new(&longest, "b", "c", "d", "e", "f", "g", "h", "i").is_ok());
}

/// The old constructors keep the original's names and create them.
#[tokio::test]
async fn default_constructors_keep_the_original_names() {
    let Some(scratch) = Scratch::new(Db::SqliteMemory).await else {
        return;
    };
    let store = SeaOrmAuthStore::new(scratch.conn.clone());
    assert_eq!(store.tables(), &TableNames::default());
    assert_eq!(store.schema(), Schema::Create);
    store.init_schema().await.unwrap();
    store.session_backend().init_schema().await.unwrap();
    let catalog = scratch.catalog().await;
    for table in [
        "pywire_auth_users",
        "pywire_auth_credentials",
        "pywire_auth_provider_links",
        "auth_sessions",
        "auth_user_stamps",
        "pywire_auth_one_time_tokens",
        "pywire_auth_audit_log",
        "pywire_auth_totp_secrets",
        "pywire_auth_recovery_codes",
        "ix_pywire_auth_audit_log_target_user_id",
        "ix_pywire_auth_users_email",
        "ix_pywire_auth_provider_links_user_id",
        "ix_pywire_auth_one_time_tokens_user_id_purpose",
    ] {
        assert!(catalog.iter().any(|name| name == table), "{catalog:?}");
    }
    scratch.drop().await;
}
