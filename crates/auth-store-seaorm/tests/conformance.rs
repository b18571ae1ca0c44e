//! The core conformance kit, run against every database for real.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use auth_core::testkit::{session_conformance, store_conformance};
use auth_store_seaorm::{SeaOrmAuthStore, SeaOrmSessionBackend};
use common::Db;

async fn store_suite(db: Db) {
    let Some(url) = common::url(db) else { return };
    let store = SeaOrmAuthStore::connect(&url).await.expect("connect");
    store_conformance(&store).await;
    store.close().await.expect("close");
    common::remove_sqlite_file(&url);
}

async fn session_suite(db: Db) {
    let Some(url) = common::url(db) else { return };
    let sessions = SeaOrmSessionBackend::connect(&url).await.expect("connect");
    session_conformance(&sessions).await;
    sessions.close().await.expect("close");
    common::remove_sqlite_file(&url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_conformance_sqlite_file() {
    store_suite(Db::SqliteFile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_conformance_sqlite_memory() {
    store_suite(Db::SqliteMemory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_conformance_postgres() {
    store_suite(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_conformance_mysql() {
    store_suite(Db::Mysql).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_conformance_sqlite_file() {
    session_suite(Db::SqliteFile).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_conformance_sqlite_memory() {
    session_suite(Db::SqliteMemory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_conformance_postgres() {
    session_suite(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_conformance_mysql() {
    session_suite(Db::Mysql).await;
}

/// The store and a session backend sharing one connection both pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_connection_runs_both_suites() {
    let store = SeaOrmAuthStore::connect("sqlite::memory:")
        .await
        .expect("connect");
    let sessions = store.session_backend();
    futures_util::future::join(store_conformance(&store), session_conformance(&sessions)).await;
}
