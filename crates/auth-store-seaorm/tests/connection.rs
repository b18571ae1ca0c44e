//! Connections and failures: a shared connection is never closed, an owned
//! one is; a SQLite file is created on first use and survives a restart;
//! bad URLs, unreachable servers, malformed columns and hostile input are
//! typed errors; connections killed by the server are replaced; the
//! exported migrations build a schema the store works on.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use auth_core::{
    AuthStore, Claim, NewUser, PasswordHash, Principal, SessionBackend, SessionError,
    SessionRecord, SessionToken, StoreError, UserUpdate,
};
use auth_store_seaorm::migration::{Migrator, MigratorTrait};
use auth_store_seaorm::sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use auth_store_seaorm::{
    DEFAULT_DATABASE_URL, Error, MAX_EMAIL_LEN, SeaOrmAuthStore, SeaOrmSessionBackend,
};
use common::Db;

fn user(tag: &str) -> (String, NewUser) {
    let id = format!("local:{tag}-{}", common::fresh());
    let email = format!("{}@example.com", id.replace(':', "-"));
    let new = NewUser::new(&id)
        .with_email(&email)
        .with_claims(vec![Claim::new("role", "admin")])
        .with_password_hash(PasswordHash::new(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        ))
        .with_link("local", &email);
    (id, new)
}

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
async fn calls_on_a_closed_pool_are_backend_errors() {
    let conn = Database::connect("sqlite::memory:").await.unwrap();
    let store = SeaOrmAuthStore::new(conn.clone());
    let sessions = SeaOrmSessionBackend::new(conn.clone());
    store.init_schema().await.unwrap();
    sessions.init_schema().await.unwrap();
    conn.close().await.unwrap();

    let (id, new) = user("closed");
    let error = store.create_user(new).await.unwrap_err();
    assert!(matches!(error, StoreError::Backend { .. }), "{error}");
    let error = store.get_user(&id).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Backend {
                context: "reading a user",
                ..
            }
        ),
        "{error}"
    );
    let error = sessions.bump_user_stamp(&id).await.unwrap_err();
    assert!(matches!(error, SessionError::Backend { .. }), "{error}");
    let key = SessionToken::generate().key();
    let error = sessions.load(&key).await.unwrap_err();
    assert!(matches!(error, SessionError::Backend { .. }), "{error}");
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
    for url in [
        "",
        "redis://127.0.0.1:6379",
        "mssql://h/db",
        "local-auth.db",
    ] {
        let error = SeaOrmAuthStore::connect(url).await.unwrap_err();
        assert!(matches!(error, Error::UnsupportedUrl), "{url}: {error}");
    }
    // Nothing listens on port 1.
    for url in [
        "postgres://postgres@127.0.0.1:1/test",
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

/// Writes a row behind the store's back.
async fn raw(store: &SeaOrmAuthStore, sql: &str) {
    store.connection().execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn malformed_json_columns_are_corrupt_not_panics_sqlite() {
    let store = SeaOrmAuthStore::connect("sqlite::memory:").await.unwrap();
    store.init_schema().await.unwrap();
    let sessions = store.session_backend();
    sessions.init_schema().await.unwrap();
    let cases = [
        ("not-json", "'{\"role\": '", "'{}'"),
        ("claims-number", "'42'", "'{}'"),
        ("extras-array", "'[]'", "'[1, 2]'"),
        ("claims-items", "'[{\"value\": \"no type\"}]'", "'{}'"),
    ];
    for (tag, claims, extras) in cases {
        let id = format!("corrupt-{tag}");
        raw(
            &store,
            &format!(
                "INSERT INTO pywire_auth_users (user_id, email, name, claims, extras) \
                 VALUES ('{id}', NULL, NULL, {claims}, {extras})"
            ),
        )
        .await;
        raw(
            &store,
            &format!(
                "INSERT INTO pywire_auth_provider_links (provider, subject, user_id, claims) \
                 VALUES ('local', '{id}', '{id}', {claims})"
            ),
        )
        .await;
        let error = store.get_user(&id).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{tag}: {error}"
        );
        let error = store.find_by_provider("local", &id).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{tag}: {error}"
        );
        let error = store
            .update_claims(&id, auth_core::ClaimChange::Remove("x".to_owned()))
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{tag}: {error}"
        );
    }
    let error = store.links_of("corrupt-not-json").await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    // The other columns of the row are still usable.
    store
        .set_password_hash("corrupt-not-json", PasswordHash::new("$argon2id$x"))
        .await
        .unwrap();

    let key = SessionToken::generate().key();
    raw(
        &store,
        &format!(
            "INSERT INTO auth_sessions (session_key, user_id, record, expires_at) \
             VALUES ('{key}', 'corrupt-session', 'garbage', 99999999999999)"
        ),
    )
    .await;
    let error = sessions.load(&key).await.unwrap_err();
    assert!(matches!(error, SessionError::Corrupt(_)), "{error}");
    let error = sessions.sessions_of("corrupt-session").await.unwrap_err();
    assert!(matches!(error, SessionError::Corrupt(_)), "{error}");
    assert!(
        sessions.delete(&key).await.unwrap(),
        "a corrupt session can be deleted"
    );
}

async fn misshapen_json_is_corrupt(db: Db) {
    // PostgreSQL and MariaDB refuse invalid JSON in their JSON columns, so
    // only valid JSON of the wrong shape can be stored there.
    let Some(store) = common::store(db).await else {
        return;
    };
    store.init_schema().await.unwrap();
    let id = format!("corrupt-{}", common::fresh());
    raw(
        &store,
        &format!(
            "INSERT INTO pywire_auth_users (user_id, claims, extras) VALUES ('{id}', '42', '[1]')"
        ),
    )
    .await;
    let error = store.get_user(&id).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Corrupt { .. }),
        "{db:?}: {error}"
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn misshapen_json_is_corrupt_postgres() {
    misshapen_json_is_corrupt(Db::Postgres).await;
}

#[tokio::test]
async fn misshapen_json_is_corrupt_mysql() {
    misshapen_json_is_corrupt(Db::Mysql).await;
}

fn invalid<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Invalid(_)))
}

async fn hostile_text_is_invalid(db: Db) {
    let Some(store) = common::store(db).await else {
        return;
    };
    let (id, _) = user("hostile");
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_name("nul\0name"))
            .await
    ));
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_email("nul\0@x"))
            .await
    ));
    let long_email = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN));
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_email(long_email))
            .await
    ));
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_link("local", "a\0b"))
            .await
    ));
    assert!(invalid(&store.find_by_provider("lo\0cal", "x").await));
    assert_eq!(
        store.get_user(&id).await.unwrap(),
        None,
        "nothing was written"
    );

    store.create_user(NewUser::new(&id)).await.unwrap();
    let update = UserUpdate::new().name(Some("bad\0".to_owned()));
    assert!(invalid(&store.update_user(&id, update).await));
    // A NUL inside a claim is JSON-escaped, so it is stored as it is.
    let claim = Claim::new("k", "v\0v");
    let user = store
        .update_claims(&id, auth_core::ClaimChange::Set(claim.clone()))
        .await
        .unwrap();
    assert_eq!(user.claims, vec![claim.clone()]);
    assert_eq!(
        store.get_user(&id).await.unwrap().unwrap().claims,
        vec![claim]
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn hostile_text_is_invalid_sqlite() {
    hostile_text_is_invalid(Db::SqliteMemory).await;
}

#[tokio::test]
async fn hostile_text_is_invalid_postgres() {
    hostile_text_is_invalid(Db::Postgres).await;
}

#[tokio::test]
async fn hostile_text_is_invalid_mysql() {
    hostile_text_is_invalid(Db::Mysql).await;
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
        2
    );
    let store = SeaOrmAuthStore::new(conn.clone());
    // The store's own creation finds everything in place.
    store.init_schema().await.unwrap();
    auth_core::testkit::store_conformance(&store).await;
    auth_core::testkit::session_conformance(&store.session_backend()).await;
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
