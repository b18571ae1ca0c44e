//! The audit log table: created by a migration of its own on every
//! database, hostile text stored as it is, and a database migrated before
//! it existed gets it from the fourth migration.

#![allow(clippy::unwrap_used)]

mod common;

use auth_core::{Actor, AuditAction, AuditEntry, AuditLog, Page};
use auth_store_seaorm::migration::{Migrator, MigratorTrait};
use auth_store_seaorm::sea_orm::Database;
use auth_store_seaorm::{Error, Schema, SeaOrmAuthStore};
use common::Db;

async fn hostile_text_round_trips(db: Db) {
    let Some(store) = common::store(db).await else {
        return;
    };
    let target = format!("local:audit-{}", common::fresh());
    let hostile = "'; DROP TABLE pywire_auth_audit_log; -- \u{e9}\u{1f600} \\ \" `";
    let actor = Actor::new(format!("cli:{hostile}"), hostile);
    let entry = AuditEntry::new(&actor, AuditAction::Grant, &target, hostile);
    store.record(&entry).await.unwrap();
    let read = store.entries(Some(&target), Page::first(5)).await.unwrap();
    assert_eq!(read, vec![entry], "{db:?}");
    store.close().await.unwrap();
}

#[tokio::test]
async fn hostile_text_round_trips_sqlite() {
    hostile_text_round_trips(Db::SqliteFile).await;
}

#[tokio::test]
async fn hostile_text_round_trips_postgres() {
    hostile_text_round_trips(Db::Postgres).await;
}

#[tokio::test]
async fn hostile_text_round_trips_mysql() {
    hostile_text_round_trips(Db::Mysql).await;
}

/// A database migrated before the audit log existed: a verifying store
/// names the missing table, and the next `Migrator::up` adds it.
#[tokio::test]
async fn an_older_migrated_database_gets_the_audit_log_from_the_fourth_migration() {
    let options = auth_store_seaorm::connect_options("sqlite::memory:").unwrap();
    let conn = Database::connect(options).await.unwrap();
    Migrator::up(&conn, Some(3)).await.unwrap();
    let store = SeaOrmAuthStore::builder(conn.clone())
        .with_schema(Schema::Verify)
        .build()
        .await
        .unwrap();
    match store.init_schema().await {
        Err(Error::MissingTable { table }) => assert_eq!(table, "pywire_auth_audit_log"),
        other => panic!("expected MissingTable, got {other:?}"),
    }
    Migrator::up(&conn, None).await.unwrap();
    store.init_schema().await.unwrap();
    let entry = AuditEntry::new(&Actor::cli("ops"), AuditAction::Enable, "local:x", "");
    store.record(&entry).await.unwrap();
    assert_eq!(
        store.entries(None, Page::first(5)).await.unwrap(),
        vec![entry]
    );
}
