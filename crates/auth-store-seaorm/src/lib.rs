//! Users, credentials, provider links, one-time tokens and sessions of the
//! live-auth stack in SQL, through SeaORM: SQLite (the default), PostgreSQL
//! and MySQL/MariaDB.
//!
//! | piece | what it is |
//! |---|---|
//! | [`SeaOrmAuthStore`] | the [`AuthStore`](auth_core::AuthStore): the three tables of the Python original; the [`OneTimeTokenStore`](auth_core::OneTimeTokenStore) of their users, in a fourth; the [`AuditLog`](auth_core::AuditLog) in a fifth, a [`UserDirectory`](auth_core::UserDirectory), and the [`SecondFactorStore`](auth_core::SecondFactorStore) in a sixth and seventh |
//! | [`SeaOrmSessionBackend`] | a [`SessionBackend`](auth_core::SessionBackend): sessions that survive restarts |
//! | [`TableNames`], [`Schema`] | other table names; create, only check, or trust the tables |
//! | [`SeaOrmAuthStoreBuilder`], [`SeaOrmSessionBackendBuilder`] | a store or backend with those settings |
//! | [`migration::Migrator`] | the same schema as SeaORM migrations (feature `migration`) |
//! | [`entity`] | SeaORM entities of the tables |
//! | [`connect_options`] | the pool settings `connect` uses, to tune for `connect_with` |
//! | [`Error`] | what connecting and schema creation can fail with |
//!
//! A URL picks the database: `sqlite://./local-auth.db` (the default,
//! [`DEFAULT_DATABASE_URL`]; the file is created on first use),
//! `sqlite::memory:`, `postgres://user:pw@host/db`, `mysql://user:pw@host/db`
//! (MariaDB too). Each driver is a cargo feature: `sqlite` (default),
//! `postgres`, `mysql`. Or hand over a [`sea_orm::DatabaseConnection`] the
//! application already has; it is then never closed by this crate.
//!
//! The tables are created on the first call (idempotent and safe when
//! several processes start at once), or by the exported migrations. Their
//! names default to the Python original's, so its database opens as it is;
//! a builder sets others, and can turn creation off for teams that run
//! their own migrations:
//!
//! ```
//! use auth_store_seaorm::{Schema, SeaOrmAuthStore, TableNames};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SeaOrmAuthStore::builder("sqlite::memory:")
//!     .with_tables(TableNames::prefixed("myapp_")?) // myapp_users ... myapp_one_time_tokens
//!     .with_schema(Schema::Verify) // create nothing, check the tables exist
//!     .build()
//!     .await?;
//! let missing = store.init_schema().await.unwrap_err();
//! assert_eq!(missing.to_string().split_whitespace().nth(1), Some("myapp_users"));
//! # Ok(()) }
//! ```
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//!
//! use auth_core::{AuthStore, Claim, NewUser, PasswordHash, Principal, SessionBackend};
//! use auth_core::{SessionRecord, SessionToken};
//! use auth_store_seaorm::SeaOrmAuthStore;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A file in a real app: SeaOrmAuthStore::connect("sqlite://./local-auth.db").
//! let store = SeaOrmAuthStore::connect("sqlite::memory:").await?;
//!
//! // Registration: user, credentials and link in one transaction.
//! let ada = NewUser::new("local:7f1c")
//!     .with_email("ada@example.com")
//!     .with_claims(vec![Claim::new("role", "admin")])
//!     .with_password_hash(PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"))
//!     .with_link("local", "ada@example.com");
//! store.create_user(ada).await?;
//! let found = store.find_by_provider("local", "ada@example.com").await?.expect("linked");
//! assert_eq!(found.claims, vec![Claim::new("role", "admin")]);
//!
//! // Sessions on the same connection, in their own tables.
//! let sessions = store.session_backend();
//! let key = SessionToken::generate().key();
//! let record = SessionRecord::new(Principal::for_user(&found), sessions.user_stamp(&found.user_id).await?);
//! sessions.save(&key, &record, Duration::from_secs(1800)).await?;
//! assert_eq!(sessions.load(&key).await?, Some(record));
//!
//! store.close().await?;
//! # Ok(()) }
//! ```

mod builder;
mod codec;
mod db;
mod error;
mod schema;
mod session;
mod store;
mod tables;

pub mod entity;
#[cfg(feature = "migration")]
pub mod migration;

pub use builder::{DatabaseSource, SeaOrmAuthStoreBuilder, SeaOrmSessionBackendBuilder};
pub use db::{DATABASE_URL_ENV, DEFAULT_DATABASE_URL, connect_options};
pub use error::Error;
pub use schema::{
    AUDIT_LOG_TABLE, CREDENTIALS_TABLE, ONE_TIME_TOKENS_TABLE, PROVIDER_LINKS_TABLE,
    RECOVERY_CODES_TABLE, SESSIONS_TABLE, TOTP_SECRETS_TABLE, USER_STAMPS_TABLE, USERS_TABLE,
};
pub use session::{DEFAULT_PURGE_EVERY, SeaOrmSessionBackend};
pub use store::{MAX_EMAIL_LEN, SeaOrmAuthStore};
pub use tables::{MAX_TABLE_NAME_LEN, Schema, TableNames, TableNamesBuilder};

/// The SeaORM this crate is built on, so applications use the matching
/// version.
pub use sea_orm;

/// The README's examples, compiled and run as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
