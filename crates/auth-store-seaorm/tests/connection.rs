//! Connections: a shared connection is never closed, an owned one is; a
//! SQLite file is created on first use and survives a restart; bad URLs and
//! unreachable servers are typed errors; connections killed by the server
//! are replaced; the exported migrations build a schema the store works on.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use auth_core::{
    AuthStore, Claim, Principal, SessionBackend, SessionRecord, SessionToken, StoreError,
};
use auth_store_seaorm::migration::{Migrator, MigratorTrait};
use auth_store_seaorm::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use auth_store_seaorm::{DEFAULT_DATABASE_URL, Error, SeaOrmAuthStore, SeaOrmSessionBackend};
use common::{Db, user};

async fn byo_connection_survives_close(db: Db) {
    let Some(url) = common::url(db) else { return };
    let conn: DatabaseConnection = Database::connect(url.as_str()).await.unwrap();
    let store = SeaOrmAuthStore::new(conn.clone());
    assert!(!store.owns_connection());
    let (id, new) = user("byo");
    store.create_user(new).await.unwrap();
    let sessions = SeaOrmSessionBackend::new(conn.clone());
    sessions.bump_user_stamp(&id).await.unwrap();

    store.close().await.unwrap();
    sessions.close().await.unwrap();

    conn.ping()
        .await
        .expect("the application's connection is still open");
    let again = SeaOrmAuthStore::new(conn.clone());
    assert!(again.get_user(&id).await.unwrap().is_some(), "{db:?}");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn byo_connection_is_not_closed_sqlite() {
    byo_connection_survives_close(Db::SqliteMemory).await;
}

#[tokio::test]
async fn byo_connection_is_not_closed_postgres() {
    byo_connection_survives_close(Db::Postgres).await;
}

#[tokio::test]
async fn byo_connection_is_not_closed_mysql() {
    byo_connection_survives_close(Db::Mysql).await;
}

#[tokio::test]
async fn owned_connection_is_closed_by_close() {
    let store = SeaOrmAuthStore::connect("sqlite::memory:").await.unwrap();
    assert!(store.owns_connection());
    let conn = store.connection().clone();
    conn.ping().await.unwrap();
    store.close().await.unwrap();
    assert!(conn.ping().await.is_err(), "the pool is closed");
}

#[tokio::test]
async fn sqlite_file_is_created_and_survives_a_restart() {
    assert_eq!(DEFAULT_DATABASE_URL, "sqlite://./local-auth.db");
    let path = common::temp_db_path();
    assert!(!path.exists());
    let url = format!("sqlite://{}", path.display());

    let store = SeaOrmAuthStore::connect(&url).await.unwrap();
    let sessions = store.session_backend();
    let (id, new) = user("restart");
    let created = store.create_user(new).await.unwrap();
    let key = SessionToken::generate().key();
    let record = SessionRecord::new(Principal::for_user(&created), 3);
    sessions
        .save(&key, &record, Duration::from_secs(600))
        .await
        .unwrap();
    drop(sessions);
    store.close().await.unwrap();
    assert!(path.exists(), "the file is created on first use");

    // A new process: everything is still there.
    let store = SeaOrmAuthStore::connect(&url).await.unwrap();
    assert_eq!(store.get_user(&id).await.unwrap(), Some(created));
    let sessions = store.session_backend();
    assert_eq!(sessions.load(&key).await.unwrap(), Some(record));
    assert_eq!(sessions.sessions_of(&id).await.unwrap().len(), 1);
    drop(sessions);
    store.close().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The default URL's form, `sqlite://./file.db`, is relative to the
/// working directory (the crate's directory under `cargo test`).
#[tokio::test]
async fn relative_sqlite_url_is_created_in_the_working_directory() {
    let name = format!("auth-store-seaorm-relative-{}.db", common::fresh());
    assert!(!std::path::Path::new(&name).exists());
    let store = SeaOrmAuthStore::connect(&format!("sqlite://./{name}"))
        .await
        .unwrap();
    let (id, new) = user("relative");
    store.create_user(new).await.unwrap();
    store.close().await.unwrap();
    let created = std::env::current_dir().unwrap().join(&name);
    let exists = created.exists();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", created.display()));
    }
    assert!(exists, "{} was created", created.display());
    assert!(id.starts_with("local:"));
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_typed_errors() {
    for url in ["redis://127.0.0.1:6379", "mssql://h/db"] {
        let error = SeaOrmAuthStore::connect(url).await.unwrap_err();
        assert!(matches!(error, Error::UnsupportedUrl), "{url}: {error}");
    }
    // A malformed URL is refused without quoting it: it may hold a password.
    for url in [
        "",
        "local-auth.db",
        "postgres://ada:s3cr3t@127.0.0.1:port/test",
    ] {
        let error = SeaOrmAuthStore::connect(url).await.unwrap_err();
        assert!(matches!(error, Error::InvalidUrl(_)), "{url}: {error}");
        let shown = format!("{} {error:?}", common::chain(&error));
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
    // Nothing listens on port 1.
    for url in [
        "postgres://postgres@127.0.0.1:1/test",
        "postgresql://postgres@127.0.0.1:1/test",
        "mysql://root@127.0.0.1:1/test",
    ] {
        let error = SeaOrmAuthStore::connect(url).await.unwrap_err();
        assert!(matches!(error, Error::Database { .. }), "{url}: {error}");
        let store_error = StoreError::from(error);
        assert!(matches!(store_error, StoreError::Backend { .. }));
    }
    // A directory that does not exist cannot hold a SQLite file.
    let error = SeaOrmAuthStore::connect("sqlite:///nonexistent-dir-for-auth-tests/x/y.db")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Database { .. }), "{error}");
}

/// Kills the store's server connections from another connection, then
/// checks the store carries on without being rebuilt. `list` selects one
/// id per connection of the store; `kill` is run with `{}` replaced by each.
async fn survives_killed_connections(
    store: &SeaOrmAuthStore,
    admin: &DatabaseConnection,
    list: &str,
    kill: &str,
) {
    let (id, new) = user("reconnect");
    store.create_user(new).await.unwrap();
    let sessions = store.session_backend();
    sessions.bump_user_stamp(&id).await.unwrap();

    let rows = admin
        .query_all_raw(Statement::from_string(admin.get_database_backend(), list))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the store has server connections to kill");
    for row in &rows {
        let victim: i64 = row.try_get_by_index(0).unwrap();
        admin
            .execute_unprepared(&kill.replace("{}", &victim.to_string()))
            .await
            .unwrap();
    }
    // A killed server process may linger for a moment.
    let mut gone = false;
    for _ in 0..50 {
        let after = admin
            .query_all_raw(Statement::from_string(admin.get_database_backend(), list))
            .await
            .unwrap();
        if after.is_empty() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "every connection of the store was killed");

    // The pool tests a connection before handing it out and replaces a
    // dead one, so the very next calls succeed.
    assert!(store.get_user(&id).await.unwrap().is_some());
    assert_eq!(sessions.bump_user_stamp(&id).await.unwrap(), 2);
    store
        .update_claims(
            &id,
            auth_core::ClaimChange::Set(Claim::new("after", "kill")),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn killed_connections_are_replaced_postgres() {
    let Some(url) = common::url(Db::Postgres) else {
        return;
    };
    let name = format!("reconnect_{}", common::fresh());
    let separator = if url.contains('?') { '&' } else { '?' };
    let store = SeaOrmAuthStore::connect(&format!("{url}{separator}application_name={name}"))
        .await
        .unwrap();
    let admin = Database::connect(url.as_str()).await.unwrap();
    let list =
        format!("SELECT pid::bigint FROM pg_stat_activity WHERE application_name = '{name}'");
    survives_killed_connections(&store, &admin, &list, "SELECT pg_terminate_backend({})").await;
    store.close().await.unwrap();
}

#[tokio::test]
async fn killed_connections_are_replaced_mysql() {
    let Some(url) = common::url(Db::Mysql) else {
        return;
    };
    let database = format!("reconnect_{}", common::fresh());
    let admin = Database::connect(url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    let store = SeaOrmAuthStore::connect(&common::mysql_url_for(&url, &database))
        .await
        .unwrap();
    let list = format!("SELECT id FROM information_schema.processlist WHERE db = '{database}'");
    survives_killed_connections(&store, &admin, &list, "KILL {}").await;
    store.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE {database}"))
        .await
        .unwrap();
}

async fn migrations_build_the_schema(conn: &DatabaseConnection) {
    Migrator::up(conn, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(conn).await.unwrap().len(),
        5
    );
    let store = SeaOrmAuthStore::new(conn.clone());
    // The store's own creation finds everything in place.
    store.init_schema().await.unwrap();
    auth_core::testkit::store_conformance(&store).await;
    auth_core::testkit::session_conformance(&store.session_backend()).await;
    auth_core::testkit::one_time_token_conformance(&store).await;
    auth_core::testkit::second_factor_conformance(&store).await;
    auth_core::testkit::admin_conformance(&store).await;
    Migrator::down(conn, None).await.unwrap();
    assert!(
        Migrator::get_applied_migrations(conn)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_build_the_schema_sqlite() {
    let conn = Database::connect("sqlite::memory:").await.unwrap();
    migrations_build_the_schema(&conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_build_the_schema_postgres() {
    let Some(url) = common::url(Db::Postgres) else {
        return;
    };
    let schema = format!("migrate_{}", common::fresh());
    let admin = Database::connect(url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let conn = Database::connect(format!(
        "{url}{separator}options=-c%20search_path%3D{schema}"
    ))
    .await
    .unwrap();
    migrations_build_the_schema(&conn).await;
    conn.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_build_the_schema_mysql() {
    let Some(url) = common::url(Db::Mysql) else {
        return;
    };
    let database = format!("migrate_{}", common::fresh());
    let admin = Database::connect(url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    let conn = Database::connect(common::mysql_url_for(&url, &database))
        .await
        .unwrap();
    migrations_build_the_schema(&conn).await;
    conn.close().await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE {database}"))
        .await
        .unwrap();
}
