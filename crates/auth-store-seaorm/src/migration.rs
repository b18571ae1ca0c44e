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
//! assert_eq!(Migrator::get_applied_migrations(&db).await?.len(), 5);
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
//! assert_eq!(AppMigrator::get_applied_migrations(&db).await?.len(), 6);
//! # Ok(()) }
//! ```
//!
//! For other table names, list [`Migrator::migrations_for`] instead.
//!
//! The migrations create exactly what the store creates on first use
//! (`CREATE TABLE IF NOT EXISTS`), so a database that the store already
//! created migrates without error, and the store never alters a migrated
//! one. A database migrated before the one-time token table existed gets it
//! from the third migration on the next `Migrator::up`, and one migrated
//! before the audit log existed gets it from the fourth, and one migrated
//! before the second-factor tables existed gets them from the fifth; until
//! then a store on [`Schema::Verify`](crate::Schema::Verify) names the
//! table as missing.

use sea_orm_migration::async_trait::async_trait;
use sea_orm_migration::sea_orm::DbErr;
pub use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};

/// The SeaORM migration crate these migrations are built with, so an
/// application's own migrations use the matching version.
pub use sea_orm_migration;

use crate::schema;
use crate::tables::TableNames;

/// Every migration of this crate, in order, for the default table names.
#[derive(Debug)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateUserTables),
            Box::new(CreateSessionTables),
            Box::new(CreateOneTimeTokens),
            Box::new(CreateAuditLog),
            Box::new(CreateSecondFactors),
        ]
    }
}

impl Migrator {
    /// The same migrations for other table names, to list in the
    /// application's own migrator (the store then runs with
    /// [`Schema::Verify`](crate::Schema::Verify) or
    /// [`Schema::Skip`](crate::Schema::Skip) and the same names). The
    /// migration names are the same as for the defaults.
    ///
    /// ```
    /// use auth_store_seaorm::migration::{MigrationTrait, Migrator, MigratorTrait};
    /// use auth_store_seaorm::sea_orm::Database;
    /// use auth_store_seaorm::{Schema, SeaOrmAuthStore, TableNames};
    ///
    /// struct AppMigrator;
    ///
    /// impl MigratorTrait for AppMigrator {
    ///     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    ///         Migrator::migrations_for(&TableNames::prefixed("myapp_").expect("valid names"))
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = Database::connect("sqlite::memory:").await?;
    /// AppMigrator::up(&db, None).await?;
    /// let store = SeaOrmAuthStore::builder(db)
    ///     .with_tables(TableNames::prefixed("myapp_")?)
    ///     .with_schema(Schema::Verify)
    ///     .build()
    ///     .await?;
    /// store.init_schema().await?; // the migrated tables are there
    /// # Ok(()) }
    /// ```
    pub fn migrations_for(tables: &TableNames) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(UserTables(tables.clone())),
            Box::new(SessionTables(tables.clone())),
            Box::new(TokenTables(tables.clone())),
            Box::new(AuditTables(tables.clone())),
            Box::new(FactorTables(tables.clone())),
        ]
    }
}

const USER_TABLES: &str = "m20261123_000001_auth_store_user_tables";
const SESSION_TABLES: &str = "m20261123_000002_auth_store_session_tables";
const TOKEN_TABLES: &str = "m20261123_000003_auth_store_one_time_tokens";
const AUDIT_TABLES: &str = "m20261201_000004_auth_store_audit_log";
const FACTOR_TABLES: &str = "m20261207_000005_auth_store_second_factors";

/// `pywire_auth_users`, `pywire_auth_credentials` and
/// `pywire_auth_provider_links`, with their indexes.
#[derive(Debug)]
pub struct CreateUserTables;

impl MigrationName for CreateUserTables {
    fn name(&self) -> &'static str {
        USER_TABLES
    }
}

#[async_trait]
impl MigrationTrait for CreateUserTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        UserTables(TableNames::default()).up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        UserTables(TableNames::default()).down(manager).await
    }
}

/// `auth_sessions` and `auth_user_stamps`, for the SQL session backend.
#[derive(Debug)]
pub struct CreateSessionTables;

impl MigrationName for CreateSessionTables {
    fn name(&self) -> &'static str {
        SESSION_TABLES
    }
}

#[async_trait]
impl MigrationTrait for CreateSessionTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        SessionTables(TableNames::default()).up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        SessionTables(TableNames::default()).down(manager).await
    }
}

/// `pywire_auth_one_time_tokens`, with its index and its foreign key to
/// `pywire_auth_users` (so it comes after [`CreateUserTables`]).
#[derive(Debug)]
pub struct CreateOneTimeTokens;

impl MigrationName for CreateOneTimeTokens {
    fn name(&self) -> &'static str {
        TOKEN_TABLES
    }
}

#[async_trait]
impl MigrationTrait for CreateOneTimeTokens {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TokenTables(TableNames::default()).up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        TokenTables(TableNames::default()).down(manager).await
    }
}

/// [`CreateUserTables`] for any names.
#[derive(Debug)]
struct UserTables(TableNames);

impl MigrationName for UserTables {
    fn name(&self) -> &'static str {
        USER_TABLES
    }
}

#[async_trait]
impl MigrationTrait for UserTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flavor = schema::flavor(manager.get_connection()).await?;
        run(manager, &schema::store_tables(flavor, &self.0)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let names = [
            self.0.provider_links(),
            self.0.credentials(),
            self.0.users(),
        ];
        run(manager, &schema::drop_tables(&names)).await
    }
}

/// [`CreateSessionTables`] for any names.
#[derive(Debug)]
struct SessionTables(TableNames);

impl MigrationName for SessionTables {
    fn name(&self) -> &'static str {
        SESSION_TABLES
    }
}

#[async_trait]
impl MigrationTrait for SessionTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flavor = schema::flavor(manager.get_connection()).await?;
        run(manager, &schema::session_tables(flavor, &self.0)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let names = [self.0.sessions(), self.0.user_stamps()];
        run(manager, &schema::drop_tables(&names)).await
    }
}

/// [`CreateOneTimeTokens`] for any names.
#[derive(Debug)]
struct TokenTables(TableNames);

impl MigrationName for TokenTables {
    fn name(&self) -> &'static str {
        TOKEN_TABLES
    }
}

#[async_trait]
impl MigrationTrait for TokenTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flavor = schema::flavor(manager.get_connection()).await?;
        run(manager, &schema::token_tables(flavor, &self.0)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &schema::drop_tables(&[self.0.one_time_tokens()])).await
    }
}

/// `pywire_auth_audit_log`, with its index on the target user (no foreign
/// key: entries outlive their user).
#[derive(Debug)]
pub struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &'static str {
        AUDIT_TABLES
    }
}

#[async_trait]
impl MigrationTrait for CreateAuditLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        AuditTables(TableNames::default()).up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        AuditTables(TableNames::default()).down(manager).await
    }
}

/// [`CreateAuditLog`] for any names.
#[derive(Debug)]
struct AuditTables(TableNames);

impl MigrationName for AuditTables {
    fn name(&self) -> &'static str {
        AUDIT_TABLES
    }
}

#[async_trait]
impl MigrationTrait for AuditTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flavor = schema::flavor(manager.get_connection()).await?;
        run(manager, &schema::audit_tables(flavor, &self.0)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &schema::drop_tables(&[self.0.audit_log()])).await
    }
}

/// `pywire_auth_totp_secrets` and `pywire_auth_recovery_codes`, with
/// their foreign keys to `pywire_auth_users` (so they come after
/// [`CreateUserTables`]).
#[derive(Debug)]
pub struct CreateSecondFactors;

impl MigrationName for CreateSecondFactors {
    fn name(&self) -> &'static str {
        FACTOR_TABLES
    }
}

#[async_trait]
impl MigrationTrait for CreateSecondFactors {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        FactorTables(TableNames::default()).up(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        FactorTables(TableNames::default()).down(manager).await
    }
}

/// [`CreateSecondFactors`] for any names.
#[derive(Debug)]
struct FactorTables(TableNames);

impl MigrationName for FactorTables {
    fn name(&self) -> &'static str {
        FACTOR_TABLES
    }
}

#[async_trait]
impl MigrationTrait for FactorTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flavor = schema::flavor(manager.get_connection()).await?;
        run(manager, &schema::factor_tables(flavor, &self.0)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let names = [self.0.recovery_codes(), self.0.totp_secrets()];
        run(manager, &schema::drop_tables(&names)).await
    }
}

async fn run(manager: &SchemaManager<'_>, statements: &[String]) -> Result<(), DbErr> {
    use sea_orm::ConnectionTrait;
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
