//! What every test file shares: where the databases are, read at run time.
//!
//! The servers come from `auth_core::testkit::services`:
//! `AUTH_TEST_POSTGRES_URL` and `AUTH_TEST_MYSQL_URL`, else the standard
//! local addresses. An unreachable server fails the test, unless
//! `AUTH_TEST_SERVICES` leaves it out, and then the test reports itself
//! `SKIPPED` on standard error and returns early.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use auth_core::testkit::services;
use auth_core::{Claim, NewUser, PasswordHash};
use auth_store_seaorm::SeaOrmAuthStore;

/// A database a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    SqliteFile,
    SqliteMemory,
    Postgres,
    Mysql,
}

/// The URL of `db`, or `None` when its server is left out by
/// `AUTH_TEST_SERVICES`.
///
/// # Panics
///
/// When the server is required but unreachable.
pub fn url(db: Db) -> Option<String> {
    match db {
        Db::SqliteFile => Some(format!("sqlite://{}", temp_db_path().display())),
        Db::SqliteMemory => Some("sqlite::memory:".to_owned()),
        Db::Postgres => {
            require_driver(cfg!(feature = "postgres"), "postgres");
            services::postgres_url()
        }
        Db::Mysql => {
            require_driver(cfg!(feature = "mysql"), "mysql");
            services::mysql_url()
        }
    }
}

/// Fails a server test built without its driver, instead of a confusing
/// connection error.
fn require_driver(built_in: bool, feature: &str) {
    assert!(
        built_in,
        "this test needs the `{feature}` feature (run with --all-features)"
    );
}

/// `url` (a MySQL URL) pointing at `database` instead.
pub fn mysql_url_for(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{database}{query}", &base[..host_end])
}

/// A fresh SQLite file path under the temp directory.
pub fn temp_db_path() -> PathBuf {
    std::env::temp_dir().join(format!(
        "auth-store-seaorm-test-{}.db",
        uuid::Uuid::new_v4().simple()
    ))
}

/// The SQLite file of the running test, named after it under the target
/// directory and emptied first: one file per test, reused by the next run.
pub fn test_db_url() -> String {
    let current = std::thread::current();
    let name = current
        .name()
        .map_or_else(fresh, |name| name.replace("::", "-"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("auth-store-seaorm");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    let url = format!("sqlite://{}", dir.join(format!("{name}.db")).display());
    remove_sqlite_file(&url);
    url
}

/// A store on `db`, or `None` when it is skipped.
pub async fn store(db: Db) -> Option<SeaOrmAuthStore> {
    let url = url(db)?;
    Some(
        SeaOrmAuthStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {db:?}: {e}")),
    )
}

/// Removes the file of a `sqlite://` URL (and its WAL files); nothing for
/// other URLs.
pub fn remove_sqlite_file(url: &str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
}

/// A fresh id fragment.
pub fn fresh() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The error and its sources, joined by `: `.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

/// A fresh user id and a registration of it: an email, a claim, a password
/// hash and a `local` link.
pub fn user(tag: &str) -> (String, NewUser) {
    let id = format!("local:{tag}-{}", fresh());
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

/// The options of one "process": this crate's, with at most 4 connections
/// (an in-memory database keeps its single one), so that tests running in
/// parallel stay well within the servers' connection limits.
pub fn small_pool(url: &str) -> auth_store_seaorm::sea_orm::ConnectOptions {
    let mut options = auth_store_seaorm::connect_options(url).expect("options");
    if !url.contains(":memory:") {
        options.max_connections(4);
    }
    options
}

/// Several pools on one database, as several processes would have.
pub async fn pools(url: &str, n: usize) -> Vec<SeaOrmAuthStore> {
    let mut stores = Vec::new();
    for _ in 0..n {
        let store = SeaOrmAuthStore::connect_with(small_pool(url)).await;
        stores.push(store.expect("connect"));
    }
    stores
}
