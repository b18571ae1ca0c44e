//! One-time tokens as rows, on every database: what the table holds (the
//! hash, never the token), that a take of another purpose leaves the row
//! and an expired take removes it, that the foreign key is the database's
//! own (a bare `DELETE` of the user takes its tokens, a row for no user is
//! refused), races over several pools, a database migrated before the
//! table existed, and a SQLite connection with foreign keys off.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use auth_core::{
    AuthStore, NewUser, OneTimeToken, OneTimeTokenStore, StoreError, TokenHash, TokenPurpose,
    TokenRecord,
};
use auth_store_seaorm::entity::one_time_token;
use auth_store_seaorm::migration::{Migrator, MigratorTrait};
use auth_store_seaorm::sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DbBackend, EntityTrait, QueryFilter, Statement,
};
use auth_store_seaorm::{Error, Schema, SeaOrmAuthStore};
use common::{Db, pools};
use futures_util::future::join_all;

const HOUR: Duration = Duration::from_secs(3600);

/// The URL of `db` for one test: a SQLite file of its own, or the server.
fn url(db: Db) -> Option<String> {
    match db {
        Db::SqliteFile => Some(common::test_db_url()),
        _ => common::url(db),
    }
}

/// A registered user with a fresh id.
async fn user(store: &SeaOrmAuthStore, tag: &str) -> String {
    let id = format!("local:{tag}-{}", common::fresh());
    store.create_user(NewUser::new(&id)).await.unwrap();
    id
}

/// The user's token rows, read through the exported entity.
async fn rows_of(store: &SeaOrmAuthStore, user_id: &str) -> Vec<one_time_token::Model> {
    one_time_token::Entity::find()
        .filter(one_time_token::Column::UserId.eq(user_id))
        .all(store.connection())
        .await
        .unwrap()
}

async fn row(store: &SeaOrmAuthStore, hash: &TokenHash) -> Option<one_time_token::Model> {
    one_time_token::Entity::find_by_id(hash.as_str())
        .one(store.connection())
        .await
        .unwrap()
}

/// `sql` with `?` placeholders in the store's dialect.
fn stmt(store: &SeaOrmAuthStore, sql: &str, values: Vec<&str>) -> Statement {
    let backend = store.connection().get_database_backend();
    let mut n = 0;
    let sql = if backend == DbBackend::Postgres {
        sql.chars()
            .map(|ch| {
                if ch == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    ch.to_string()
                }
            })
            .collect()
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values.into_iter().map(Into::into))
}

async fn rows_in_sql(db: Db) {
    let Some(url) = url(db) else { return };
    let store = SeaOrmAuthStore::connect(&url).await.unwrap();
    let id = user(&store, "rows").await;

    // The row holds the hash, the record and when it was saved.
    let issued = OneTimeToken::generate();
    let hostile = "'; DROP TABLE pywire_auth_one_time_tokens; -- \u{e9}\u{1f600}";
    let record = TokenRecord::new(TokenPurpose::ChangeEmail, &id, hostile, HOUR)
        .with_data("new\"@example.com");
    store.save_token(&issued.hash(), &record).await.unwrap();
    let saved = row(&store, &issued.hash()).await.expect("the row");
    assert_eq!(saved.token_hash, issued.hash().as_str(), "{db:?}");
    assert_eq!(saved.purpose, "change-email");
    assert_eq!(saved.user_id, id);
    assert_eq!(saved.binding, hostile);
    assert_eq!(saved.data.as_deref(), Some("new\"@example.com"));
    assert_eq!(saved.expires_at, i64::try_from(record.expires_at).unwrap());
    let now = i64::try_from(auth_core::unix_now()).unwrap();
    assert!((now - 5..=now).contains(&saved.created_at), "{db:?}");
    assert!(
        !format!("{saved:?}").contains(issued.as_str()),
        "the token itself never reaches the table"
    );

    // A take of another purpose leaves the row; its own purpose removes it.
    let taken = store
        .take_token(&issued.hash(), TokenPurpose::ResetPassword)
        .await
        .unwrap();
    assert_eq!(taken, None);
    assert!(row(&store, &issued.hash()).await.is_some(), "{db:?}");
    let taken = store
        .take_token(&issued.hash(), TokenPurpose::ChangeEmail)
        .await
        .unwrap();
    assert_eq!(taken, Some(record));
    assert!(row(&store, &issued.hash()).await.is_none(), "{db:?}");

    // An expired take answers None and removes the row.
    let expired = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &id, "s", Duration::ZERO);
    store.save_token(&expired.hash(), &record).await.unwrap();
    assert!(row(&store, &expired.hash()).await.is_some());
    let taken = store
        .take_token(&expired.hash(), TokenPurpose::ResetPassword)
        .await
        .unwrap();
    assert_eq!(taken, None);
    assert!(row(&store, &expired.hash()).await.is_none(), "{db:?}");

    // A far expiry is kept as the largest the column holds.
    let far = OneTimeToken::generate();
    let mut record = TokenRecord::new(TokenPurpose::VerifyEmail, &id, "s", HOUR);
    record.expires_at = u64::MAX;
    store.save_token(&far.hash(), &record).await.unwrap();
    assert_eq!(row(&store, &far.hash()).await.unwrap().expires_at, i64::MAX);

    // Saving replaces the user's token of the kind, and its expired ones.
    let old_expired = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &id, "s", Duration::ZERO);
    store
        .save_token(&old_expired.hash(), &record)
        .await
        .unwrap();
    let next = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ChangeEmail, &id, "s", HOUR);
    store.save_token(&next.hash(), &record).await.unwrap();
    let mut hashes: Vec<String> = rows_of(&store, &id)
        .await
        .into_iter()
        .map(|row| row.token_hash)
        .collect();
    hashes.sort();
    let mut expected = vec![
        far.hash().as_str().to_owned(),
        next.hash().as_str().to_owned(),
    ];
    expected.sort();
    assert_eq!(hashes, expected, "{db:?}: the rows after the saves");

    // An unknown user gets no row.
    let ghost = format!("local:ghost-{}", common::fresh());
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &ghost, "s", HOUR);
    let refused = store
        .save_token(&OneTimeToken::generate().hash(), &record)
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    assert!(rows_of(&store, &ghost).await.is_empty());

    // delete_user removes the rows.
    store.delete_user(&id).await.unwrap();
    assert!(rows_of(&store, &id).await.is_empty(), "{db:?}");
    store.close().await.unwrap();
    common::remove_sqlite_file(&url);
}

/// The foreign key is the database's: a token row for no user is refused,
/// and deleting the user row by hand takes its tokens with it.
async fn foreign_key_in_sql(db: Db) {
    let Some(url) = url(db) else { return };
    let store = SeaOrmAuthStore::connect(&url).await.unwrap();
    store.init_schema().await.unwrap();
    let insert = "INSERT INTO pywire_auth_one_time_tokens \
                  (token_hash, purpose, user_id, binding, expires_at, created_at) \
                  VALUES (?, 'reset-password', ?, 's', 0, 0)";
    let ghost = format!("local:ghost-{}", common::fresh());
    let hash = OneTimeToken::generate().hash();
    let orphan = stmt(&store, insert, vec![hash.as_str(), &ghost]);
    let error = store.connection().execute_raw(orphan).await.unwrap_err();
    assert!(
        matches!(
            error.sql_err(),
            Some(auth_store_seaorm::sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "{db:?}: {error}"
    );

    let id = user(&store, "cascade").await;
    for purpose in [TokenPurpose::ResetPassword, TokenPurpose::VerifyEmail] {
        let record = TokenRecord::new(purpose, &id, "s", HOUR);
        store
            .save_token(&OneTimeToken::generate().hash(), &record)
            .await
            .unwrap();
    }
    assert_eq!(rows_of(&store, &id).await.len(), 2);
    let delete = stmt(
        &store,
        "DELETE FROM pywire_auth_users WHERE user_id = ?",
        vec![&id],
    );
    store.connection().execute_raw(delete).await.unwrap();
    assert!(rows_of(&store, &id).await.is_empty(), "{db:?}: cascaded");
    store.close().await.unwrap();
    common::remove_sqlite_file(&url);
}

/// Takes and saves racing over three pools, as three processes would.
async fn races_across_pools(db: Db) {
    let Some(url) = url(db) else { return };
    let stores = pools(&url, 3).await;
    let id = user(&stores[0], "race").await;

    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &id, "s", HOUR);
    stores[0].save_token(&issued.hash(), &record).await.unwrap();
    let hash = issued.hash();
    let takes = (0..30).map(|i| stores[i % 3].take_token(&hash, TokenPurpose::ResetPassword));
    let won = join_all(takes)
        .await
        .into_iter()
        .filter_map(|result| result.unwrap_or_else(|e| panic!("{db:?}: {}", common::chain(&e))))
        .count();
    assert_eq!(won, 1, "{db:?}: takes that got the token");

    let hashes: Vec<TokenHash> = (0..30).map(|_| OneTimeToken::generate().hash()).collect();
    let record = TokenRecord::new(TokenPurpose::VerifyEmail, &id, "s", HOUR);
    let saves = hashes
        .iter()
        .enumerate()
        .map(|(i, hash)| stores[i % 3].save_token(hash, &record));
    for result in join_all(saves).await {
        result.unwrap_or_else(|e| panic!("{db:?}: {}", common::chain(&e)));
    }
    let rows = rows_of(&stores[0], &id).await;
    assert_eq!(rows.len(), 1, "{db:?}: rows left of 30 racing saves");
    assert!(
        hashes
            .iter()
            .any(|hash| hash.as_str() == rows[0].token_hash)
    );

    // A delete racing saves leaves no token of the deleted user.
    let record = &TokenRecord::new(TokenPurpose::ChangeEmail, &id, "s", HOUR);
    let racing = &stores;
    let saves = (0..10).map(|i| async move {
        racing[i % 3]
            .save_token(&OneTimeToken::generate().hash(), record)
            .await
    });
    let (outcomes, deleted) = futures_util::join!(join_all(saves), stores[1].delete_user(&id));
    deleted.unwrap();
    for result in outcomes {
        assert!(
            matches!(result, Ok(()) | Err(StoreError::NotFound)),
            "{db:?}: {result:?}"
        );
    }
    assert!(rows_of(&stores[0], &id).await.is_empty(), "{db:?}");
    for store in stores {
        store.close().await.unwrap();
    }
    common::remove_sqlite_file(&url);
}

macro_rules! on_every_database {
    ($scenario:ident: $($name:ident => $db:expr),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $scenario($db).await;
            }
        )*
    };
}

on_every_database!(rows_in_sql:
    token_rows_sqlite_file => Db::SqliteFile,
    token_rows_postgres => Db::Postgres,
    token_rows_mysql => Db::Mysql,
);

on_every_database!(foreign_key_in_sql:
    the_foreign_key_is_the_databases_sqlite_file => Db::SqliteFile,
    the_foreign_key_is_the_databases_postgres => Db::Postgres,
    the_foreign_key_is_the_databases_mysql => Db::Mysql,
);

on_every_database!(races_across_pools:
    token_races_across_pools_sqlite_file => Db::SqliteFile,
    token_races_across_pools_postgres => Db::Postgres,
    token_races_across_pools_mysql => Db::Mysql,
);

/// A database migrated before the token table existed: a verifying store
/// names the missing table, and the next `Migrator::up` adds it.
#[tokio::test]
async fn an_older_migrated_database_gets_the_table_from_the_third_migration() {
    let options = auth_store_seaorm::connect_options("sqlite::memory:").unwrap();
    let conn = Database::connect(options).await.unwrap();
    Migrator::up(&conn, Some(2)).await.unwrap();
    let store = SeaOrmAuthStore::builder(conn.clone())
        .with_schema(Schema::Verify)
        .build()
        .await
        .unwrap();
    match store.init_schema().await {
        Err(Error::MissingTable { table }) => assert_eq!(table, "pywire_auth_one_time_tokens"),
        other => panic!("expected MissingTable, got {other:?}"),
    }
    Migrator::up(&conn, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&conn).await.unwrap().len(),
        5
    );
    store.init_schema().await.unwrap();
    let id = user(&store, "migrated").await;
    let issued = OneTimeToken::generate();
    let record = TokenRecord::new(TokenPurpose::VerifyEmail, &id, "s", HOUR);
    store.save_token(&issued.hash(), &record).await.unwrap();
    store.delete_user(&id).await.unwrap();
    assert!(rows_of(&store, &id).await.is_empty());
    // Down again, the fifth (second factors), the fourth (the audit log)
    // and then the third migration drop their tables.
    Migrator::down(&conn, Some(3)).await.unwrap();
    let missing = store.delete_tokens_of(&id, None).await.unwrap_err();
    assert!(matches!(missing, StoreError::Backend { .. }), "{missing:?}");
}

/// A SQLite connection the application built with foreign keys off keeps
/// the contract: the store checks the user itself and deletes the tokens
/// with it.
#[tokio::test]
async fn a_sqlite_connection_without_foreign_keys_keeps_the_contract() {
    let url = common::test_db_url();
    let mut options = auth_store_seaorm::connect_options(&url).unwrap();
    // This replaces the crate's SQLite settings: the file is created here.
    options.map_sqlx_sqlite_opts(|o| o.create_if_missing(true).foreign_keys(false));
    let conn = Database::connect(options).await.unwrap();
    let store = SeaOrmAuthStore::new(conn.clone());
    let ghost = format!("local:ghost-{}", common::fresh());
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &ghost, "s", HOUR);
    let refused = store
        .save_token(&OneTimeToken::generate().hash(), &record)
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
    let id = user(&store, "no-fk").await;
    let record = TokenRecord::new(TokenPurpose::ResetPassword, &id, "s", HOUR);
    store
        .save_token(&OneTimeToken::generate().hash(), &record)
        .await
        .unwrap();
    store.delete_user(&id).await.unwrap();
    assert!(rows_of(&store, &id).await.is_empty());
    conn.close().await.unwrap();
    common::remove_sqlite_file(&url);
}

/// `purge_expired_tokens` removes expired rows only.
#[tokio::test]
async fn purge_removes_expired_tokens_only() {
    let url = common::test_db_url();
    let store = SeaOrmAuthStore::connect(&url).await.unwrap();
    let (a, b) = (user(&store, "purge-a").await, user(&store, "purge-b").await);
    let live = OneTimeToken::generate();
    for (id, purpose, lifetime, hash) in [
        (
            &a,
            TokenPurpose::ResetPassword,
            Duration::ZERO,
            OneTimeToken::generate().hash(),
        ),
        // The live one first: a save drops the user's expired tokens.
        (&b, TokenPurpose::ChangeEmail, HOUR, live.hash()),
        (
            &b,
            TokenPurpose::VerifyEmail,
            Duration::ZERO,
            OneTimeToken::generate().hash(),
        ),
    ] {
        let record = TokenRecord::new(purpose, id, "s", lifetime);
        store.save_token(&hash, &record).await.unwrap();
    }
    assert_eq!(store.purge_expired_tokens().await.unwrap(), 2);
    assert!(rows_of(&store, &a).await.is_empty());
    let left = rows_of(&store, &b).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].token_hash, live.hash().as_str());
    store.close().await.unwrap();
    common::remove_sqlite_file(&url);
}
