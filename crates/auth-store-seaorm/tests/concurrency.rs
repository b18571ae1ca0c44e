//! Point 3 of the issue on every database: concurrent registrations of one
//! email leave exactly one user and no orphan rows; concurrent grants of
//! different claim types all survive; several processes creating the schema
//! at once do not trip over each other.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use auth_core::{AuthStore, Claim, ClaimChange, NewUser, PasswordHash, SessionBackend, StoreError};
use auth_store_seaorm::entity::{credential, provider_link, user};
use auth_store_seaorm::sea_orm::{
    ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter,
};
use auth_store_seaorm::{SeaOrmAuthStore, SeaOrmSessionBackend};
use common::{Db, pools, small_pool};
use futures_util::future::join_all;

const RACERS: usize = 50;

fn hash() -> PasswordHash {
    PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
}

async fn registrations_of_one_email(db: Db) {
    let Some(url) = common::url(db) else { return };
    // An in-memory database is private to its pool: one pool only.
    let stores = pools(&url, if db == Db::SqliteMemory { 1 } else { 3 }).await;
    let email = format!("race-{}@example.com", common::fresh());
    let ids: Vec<String> = (0..RACERS)
        .map(|_| format!("local:{}", common::fresh()))
        .collect();
    let attempts = ids.iter().enumerate().map(|(i, id)| {
        let store = &stores[i % stores.len()];
        let user = NewUser::new(id)
            .with_email(&email)
            .with_name(format!("racer {i}"))
            .with_claims(vec![Claim::new("email", &email)])
            .with_password_hash(hash())
            .with_link("local", &email);
        store.create_user(user)
    });
    let results = join_all(attempts).await;

    let mut winners = Vec::new();
    for (id, result) in ids.iter().zip(results) {
        match result {
            Ok(user) => winners.push(user.user_id),
            Err(StoreError::Conflict { what }) => assert_eq!(what, "provider link", "{id}"),
            Err(other) => panic!("{db:?}: create_user of {id}: {}", common::chain(&other)),
        }
    }
    assert_eq!(winners.len(), 1, "{db:?}: exactly one registration wins");
    let winner = &winners[0];

    let store = &stores[0];
    let found = store.find_by_provider("local", &email).await.unwrap();
    assert_eq!(found.map(|u| u.user_id).as_ref(), Some(winner));

    // No orphan rows, counted in SQL through the exported entities.
    let conn = store.connection();
    let users = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .count(conn)
        .await
        .unwrap();
    assert_eq!(users, 1, "{db:?}: users with the raced email");
    let credentials = credential::Entity::find()
        .filter(credential::Column::UserId.is_in(ids.iter().map(String::as_str)))
        .count(conn)
        .await
        .unwrap();
    assert_eq!(credentials, 1, "{db:?}: credentials of the racers");
    let links = provider_link::Entity::find()
        .filter(provider_link::Column::UserId.is_in(ids.iter().map(String::as_str)))
        .all(conn)
        .await
        .unwrap();
    assert_eq!(links.len(), 1, "{db:?}: links of the racers");
    assert_eq!(links[0].user_id.as_ref(), Some(winner));
    assert_eq!(links[0].subject, email);

    for store in stores {
        store.close().await.unwrap();
    }
    common::remove_sqlite_file(&url);
}

async fn grants_of_different_types(db: Db) {
    let Some(url) = common::url(db) else { return };
    let stores = pools(&url, if db == Db::SqliteMemory { 1 } else { 3 }).await;
    let id = format!("local:{}", common::fresh());
    let base =
        NewUser::new(&id).with_claims(vec![Claim::new("base", "kept"), Claim::new("doomed", "x")]);
    stores[0].create_user(base).await.unwrap();

    // 50 grants of distinct types, plus one revoke, all at once, spread
    // over separate pools.
    let mut changes: Vec<ClaimChange> = (0..RACERS)
        .map(|i| ClaimChange::Set(Claim::new(format!("perm-{i:02}"), format!("v{i}"))))
        .collect();
    changes.push(ClaimChange::Remove("doomed".to_owned()));
    let calls = changes
        .into_iter()
        .enumerate()
        .map(|(i, change)| stores[i % stores.len()].update_claims(&id, change));
    for result in join_all(calls).await {
        if let Err(error) = result {
            panic!("{db:?}: update_claims: {}", common::chain(&error));
        }
    }

    let user = stores[0].get_user(&id).await.unwrap().expect("the user");
    let mut kinds: Vec<&str> = user.claims.iter().map(|c| c.kind.as_str()).collect();
    kinds.sort_unstable();
    let mut expected: Vec<String> = (0..RACERS).map(|i| format!("perm-{i:02}")).collect();
    expected.push("base".to_owned());
    expected.sort();
    assert_eq!(
        kinds, expected,
        "{db:?}: every grant survived, the revoke too"
    );
    for store in stores {
        store.close().await.unwrap();
    }
    common::remove_sqlite_file(&url);
}

async fn stamps_across_pools(db: Db) {
    let Some(url) = common::url(db) else { return };
    let n = if db == Db::SqliteMemory { 1 } else { 3 };
    let mut backends = Vec::new();
    for _ in 0..n {
        backends.push(
            SeaOrmSessionBackend::connect_with(small_pool(&url))
                .await
                .unwrap(),
        );
    }
    let id = format!("local:{}", common::fresh());
    let bumps = (0..RACERS).map(|i| backends[i % n].bump_user_stamp(&id));
    let mut stamps: Vec<u64> = join_all(bumps)
        .await
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{db:?}: bump: {}", common::chain(&e))))
        .collect();
    stamps.sort_unstable();
    let expected: Vec<u64> = (1..=RACERS as u64).collect();
    assert_eq!(stamps, expected, "{db:?}: 50 bumps, 50 distinct stamps");
    assert_eq!(backends[0].user_stamp(&id).await.unwrap(), RACERS as u64);
    for backend in backends {
        backend.close().await.unwrap();
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

on_every_database!(registrations_of_one_email:
    fifty_registrations_of_one_email_sqlite_file => Db::SqliteFile,
    fifty_registrations_of_one_email_sqlite_memory => Db::SqliteMemory,
    fifty_registrations_of_one_email_postgres => Db::Postgres,
    fifty_registrations_of_one_email_mysql => Db::Mysql,
);

on_every_database!(grants_of_different_types:
    fifty_grants_of_different_types_sqlite_file => Db::SqliteFile,
    fifty_grants_of_different_types_sqlite_memory => Db::SqliteMemory,
    fifty_grants_of_different_types_postgres => Db::Postgres,
    fifty_grants_of_different_types_mysql => Db::Mysql,
);

on_every_database!(stamps_across_pools:
    fifty_stamp_bumps_across_pools_sqlite_file => Db::SqliteFile,
    fifty_stamp_bumps_across_pools_postgres => Db::Postgres,
    fifty_stamp_bumps_across_pools_mysql => Db::Mysql,
);

/// Eight "processes" start on an empty database at once: each creates the
/// schema and registers a user, and all succeed.
async fn schema_race(url: &str) {
    let stores = pools(url, 8).await;
    let calls = stores.iter().enumerate().map(|(i, store)| async move {
        let sessions = store.session_backend();
        let id = format!("local:{}", common::fresh());
        let user = NewUser::new(&id).with_link("local", format!("{id}-{i}@example.com"));
        store.create_user(user).await?;
        sessions
            .bump_user_stamp(&id)
            .await
            .map_err(|e| StoreError::backend("bump", e))?;
        Ok::<_, StoreError>(id)
    });
    for result in join_all(calls).await {
        if let Err(error) = result {
            panic!("a racing first use failed: {}", common::chain(&error));
        }
    }
    for store in stores {
        store.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schema_created_by_racing_processes_sqlite_file() {
    let path = common::temp_db_path();
    schema_race(&format!("sqlite://{}", path.display())).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schema_created_by_racing_processes_postgres() {
    let Some(url) = common::url(Db::Postgres) else {
        return;
    };
    // A fresh schema, made the connection's search path.
    let schema = format!("race_{}", common::fresh());
    let admin = Database::connect(url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    schema_race(&scoped).await;
    let tables: Vec<_> = admin
        .query_all_raw(auth_store_seaorm::sea_orm::Statement::from_string(
            auth_store_seaorm::sea_orm::DatabaseBackend::Postgres,
            format!("SELECT tablename FROM pg_tables WHERE schemaname = '{schema}'"),
        ))
        .await
        .unwrap();
    assert_eq!(tables.len(), 9, "the nine tables, in the fresh schema");
    admin
        .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schema_created_by_racing_processes_mysql() {
    let Some(url) = common::url(Db::Mysql) else {
        return;
    };
    let database = format!("race_{}", common::fresh());
    let admin = Database::connect(url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    let scoped = common::mysql_url_for(&url, &database);
    schema_race(&scoped).await;
    let tables = admin
        .query_all_raw(auth_store_seaorm::sea_orm::Statement::from_string(
            auth_store_seaorm::sea_orm::DatabaseBackend::MySql,
            format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = '{database}'"
            ),
        ))
        .await
        .unwrap();
    assert_eq!(tables.len(), 9, "the nine tables, in the fresh database");
    admin
        .execute_unprepared(&format!("DROP DATABASE {database}"))
        .await
        .unwrap();
}

/// A pool of ONE connection serves 32 concurrent registrations, grants and
/// session writes: no call holds a connection while it waits for another
/// (the Python original's store deadlocks its pool that way).
async fn one_connection_pool(db: Db) {
    let Some(url) = common::url(db) else { return };
    // The application's own connection: for SQLite it asks for the file to
    // be created itself.
    let app_url = if db == Db::SqliteFile {
        format!("{url}?mode=rwc")
    } else {
        url.clone()
    };
    let mut options = auth_store_seaorm::sea_orm::ConnectOptions::new(app_url);
    options
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(20))
        .sqlx_logging(false);
    let conn = Database::connect(options).await.unwrap();
    let store = SeaOrmAuthStore::new(conn.clone());
    let sessions = SeaOrmSessionBackend::new(conn.clone());
    let calls = (0..32).map(|i| {
        let (store, sessions) = (&store, &sessions);
        async move {
            let id = format!("local:{}", common::fresh());
            let email = format!("{}@example.com", common::fresh());
            store
                .create_user(
                    NewUser::new(&id)
                        .with_password_hash(hash())
                        .with_link("local", &email),
                )
                .await?;
            store
                .update_claims(&id, ClaimChange::Set(Claim::new("n", i.to_string())))
                .await?;
            let key = auth_core::SessionToken::generate().key();
            let user = store.get_user(&id).await?.ok_or(StoreError::NotFound)?;
            let record = auth_core::SessionRecord::new(auth_core::Principal::for_user(&user), 0);
            sessions
                .save(&key, &record, std::time::Duration::from_secs(60))
                .await
                .map_err(|e| StoreError::backend("save", e))?;
            sessions
                .bump_user_stamp(&id)
                .await
                .map_err(|e| StoreError::backend("bump", e))?;
            Ok::<_, StoreError>(())
        }
    });
    let started = std::time::Instant::now();
    for result in join_all(calls).await {
        if let Err(error) = result {
            panic!(
                "{db:?}: a call on a one-connection pool failed: {}",
                common::chain(&error)
            );
        }
    }
    // Far below the acquire timeout: nothing waited for a connection held
    // by a waiter.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{db:?}: {:?}",
        started.elapsed()
    );
    conn.close().await.unwrap();
    common::remove_sqlite_file(&url);
}

on_every_database!(one_connection_pool:
    one_connection_pool_serves_concurrent_calls_sqlite_file => Db::SqliteFile,
    one_connection_pool_serves_concurrent_calls_postgres => Db::Postgres,
    one_connection_pool_serves_concurrent_calls_mysql => Db::Mysql,
);
