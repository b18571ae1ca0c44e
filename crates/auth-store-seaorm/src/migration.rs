//! The schema as SeaORM migrations, for applications that run their own
//! migrator instead of letting the store create its tables.
//!
//! Run [`Migrator`] alone, or add its migrations to yours:
//!
//! ```
//! use auth_store_seaorm::migration::{Migrator, MigratorTrait};
//! use auth_store_seaorm::sea_orm::Database;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Database::connect("sqlite::memory:").await?;
//! Migrator::up(&db, None).await?;
//! assert_eq!(Migrator::get_applied_migrations(&db).await?.len(), 2);
//! # Ok(()) }
//! ```
//!
//! In the application's own migrator, ours come first:
//!
//! ```
//! use auth_store_seaorm::migration::sea_orm_migration::async_trait::async_trait;
//! use auth_store_seaorm::migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
//! use auth_store_seaorm::sea_orm::{ConnectionTrait, Database, DbErr};
//!
//! struct CreatePosts;
//!
//! impl MigrationName for CreatePosts {
//!     fn name(&self) -> &str {
//!         "m20260101_000001_create_posts"
//!     }
//! }
//!
//! #[async_trait]
//! impl MigrationTrait for CreatePosts {
//!     async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
//!         let sql = "CREATE TABLE posts (id INTEGER PRIMARY KEY, author TEXT REFERENCES pywire_auth_users (user_id))";
//!         manager.get_connection().execute_unprepared(sql).await.map(|_| ())
//!     }
//! }
//!
//! struct AppMigrator;
//!
//! impl MigratorTrait for AppMigrator {
//!     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
//!         let mut all = auth_store_seaorm::migration::Migrator::migrations();
//!         all.push(Box::new(CreatePosts));
//!         all
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Database::connect("sqlite::memory:").await?;
//! AppMigrator::up(&db, None).await?;
//! assert_eq!(AppMigrator::get_applied_migrations(&db).await?.len(), 3);
//! # Ok(()) }
//! ```
//!
//! The migrations create exactly what the store creates on first use
//! (`CREATE TABLE IF NOT EXISTS`), so a database that the store already
//! created migrates without error, and the store never alters a migrated
//! one.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::sea_orm::DbErr;
pub use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

/// The SeaORM migration crate these migrations are built with, so an
/// application's own migrations use the matching version.
pub use sea_orm_migration;

use crate::schema::{
    self, CREDENTIALS_TABLE, PROVIDER_LINKS_TABLE, SESSIONS_TABLE, USER_STAMPS_TABLE, USERS_TABLE,
};

/// Every migration of this crate, in order.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateUserTables), Box::new(CreateSessionTables)]
    }
}

/// `pywire_auth_users`, `pywire_auth_credentials` and
/// `pywire_auth_provider_links`, with their indexes.
#[derive(Debug)]
pub struct CreateUserTables;

impl MigrationName for CreateUserTables {
    fn name(&self) -> &'static str {
        "m20261123_000001_auth_store_user_tables"
    }
}

#[async_trait]
impl MigrationTrait for CreateUserTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flavor = schema::flavor(manager.get_connection()).await?;
        run(manager, &schema::store_tables(flavor)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            &schema::drop_tables(&[PROVIDER_LINKS_TABLE, CREDENTIALS_TABLE, USERS_TABLE]),
        )
        .await
    }
}

/// `auth_sessions` and `auth_user_stamps`, for the SQL session backend.
#[derive(Debug)]
pub struct CreateSessionTables;

impl MigrationName for CreateSessionTables {
    fn name(&self) -> &'static str {
        "m20261123_000002_auth_store_session_tables"
    }
}

#[async_trait]
impl MigrationTrait for CreateSessionTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flavor = schema::flavor(manager.get_connection()).await?;
        run(manager, &schema::session_tables(flavor)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            &schema::drop_tables(&[SESSIONS_TABLE, USER_STAMPS_TABLE]),
        )
        .await
    }
}

async fn run(manager: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
