//! Second factors as rows: the table holds the sealed secret and the code
//! hashes it was given, a bare `DELETE` of the user takes its factors (the
//! foreign key is the database's own), a database migrated before the
//! tables existed gets them from the fifth migration, and a SQLite
//! connection with foreign keys off keeps the contract.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use auth_core::{AuthStore, NewUser, RecoveryCodeHash, SealedSecret, SecondFactorStore};
use auth_store_seaorm::entity::{recovery_code, totp_secret};
use auth_store_seaorm::migration::{Migrator, MigratorTrait};
use auth_store_seaorm::sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use auth_store_seaorm::{Error, Schema, SeaOrmAuthStore};

async fn user(store: &SeaOrmAuthStore, tag: &str) -> String {
    let id = format!("local:{tag}-{}", common::fresh());
    store.create_user(NewUser::new(&id)).await.unwrap();
    id
}

fn hashes(count: usize) -> Vec<RecoveryCodeHash> {
    (0..count)
        .map(|n| RecoveryCodeHash::parse(&format!("{n:064x}")).unwrap())
        .collect()
}

async fn rows(store: &SeaOrmAuthStore, id: &str) -> (usize, usize) {
    let secrets = totp_secret::Entity::find()
        .filter(totp_secret::Column::UserId.eq(id))
        .all(store.connection())
        .await
        .unwrap();
    let codes = recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(id))
        .all(store.connection())
        .await
        .unwrap();
    (secrets.len(), codes.len())
}

#[tokio::test]
async fn rows_hold_what_they_were_given_and_go_with_the_user() {
    let store = SeaOrmAuthStore::connect("sqlite::memory:").await.unwrap();
    let id = user(&store, "rows").await;
    let sealed = SealedSecret::new("v1.sealed-text").unwrap();
    store.begin_totp(&id, &sealed).await.unwrap();
    store
        .replace_recovery_codes(&id, &hashes(10))
        .await
        .unwrap();
    let row = totp_secret::Entity::find_by_id(id.clone())
        .one(store.connection())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.secret, "v1.sealed-text");
    assert_eq!((row.confirmed_at, row.last_step), (None, None));
    assert_eq!(rows(&store, &id).await, (1, 10));
    // A bare DELETE of the user row: the foreign keys take the factors.
    let users = auth_store_seaorm::entity::user::Entity::delete_by_id(id.clone());
    users.exec(store.connection()).await.unwrap();
    assert_eq!(rows(&store, &id).await, (0, 0));
}

/// A database migrated before the second-factor tables existed: a
/// verifying store names the missing table, the next `Migrator::up` adds
/// them, and one step down drops them again.
#[tokio::test]
async fn an_older_migrated_database_gets_the_tables_from_the_fifth_migration() {
    let options = auth_store_seaorm::connect_options("sqlite::memory:").unwrap();
    let conn = Database::connect(options).await.unwrap();
    Migrator::up(&conn, Some(4)).await.unwrap();
    let store = SeaOrmAuthStore::builder(conn.clone())
        .with_schema(Schema::Verify)
        .build()
        .await
        .unwrap();
    match store.init_schema().await {
        Err(Error::MissingTable { table }) => assert_eq!(table, "pywire_auth_totp_secrets"),
        other => panic!("expected MissingTable, got {other:?}"),
    }
    Migrator::up(&conn, None).await.unwrap();
    store.init_schema().await.unwrap();
    let id = user(&store, "migrated").await;
    store.replace_recovery_codes(&id, &hashes(3)).await.unwrap();
    assert_eq!(store.recovery_codes_left(&id).await.unwrap(), 3);
    Migrator::down(&conn, Some(1)).await.unwrap();
    assert!(store.recovery_codes_left(&id).await.is_err());
}

/// With foreign keys off the store still deletes the factors with the
/// user, and refuses factors for a user it does not have.
#[tokio::test]
async fn factors_keep_the_contract_without_sqlite_foreign_keys() {
    let url = common::test_db_url();
    let mut options = auth_store_seaorm::connect_options(&url).unwrap();
    options.map_sqlx_sqlite_opts(|o| o.create_if_missing(true).foreign_keys(false));
    let conn = Database::connect(options).await.unwrap();
    let store = SeaOrmAuthStore::new(conn);
    auth_core::testkit::second_factor_conformance(&store).await;
    let id = user(&store, "no-fk").await;
    store
        .begin_totp(&id, &SealedSecret::new("s").unwrap())
        .await
        .unwrap();
    store.replace_recovery_codes(&id, &hashes(2)).await.unwrap();
    store.delete_user(&id).await.unwrap();
    assert_eq!(rows(&store, &id).await, (0, 0));
}
