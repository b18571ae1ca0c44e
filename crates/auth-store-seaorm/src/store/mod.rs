//! [`SeaOrmAuthStore`]: users, credentials and provider links in SQL.
//!
//! This file holds the type and the trait; `tx` the queries and
//! transactions behind it, `rows` row decoding and this store's input rules,
//! `tokens` the [`OneTimeTokenStore`](auth_core::OneTimeTokenStore) of its
//! users, `admin` the [`AuditLog`](auth_core::AuditLog) and the
//! [`UserDirectory`](auth_core::UserDirectory).

mod admin;
mod factors;
mod rows;
mod tokens;
mod tx;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AuthStore, ClaimChange, NewUser, PasswordHash, ProviderLink, StoreError, UserRecord,
    UserUpdate, validate_claims, validate_link_key, validate_user_id,
};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection};

use crate::builder::{DatabaseSource, SeaOrmAuthStoreBuilder};
use crate::codec::{encode_claims, encode_extras};
use crate::db::{DATABASE_URL_ENV, DEFAULT_DATABASE_URL, Db, retry};
use crate::error::{Error, store_db, store_error_is_transient};
use crate::session::SeaOrmSessionBackend;
use crate::tables::{Schema, TableNames};
use rows::{link_from_row, user_from_row, validate_link_text, validate_profile};
use tx::link_error_is_retryable;

/// Longest email accepted, in bytes (the column is `VARCHAR(320)`).
pub const MAX_EMAIL_LEN: usize = 320;

/// An [`AuthStore`] over SeaORM: SQLite, PostgreSQL, MySQL or MariaDB, the
/// [`OneTimeTokenStore`](auth_core::OneTimeTokenStore) of its users, their
/// [`AuditLog`](auth_core::AuditLog) (in `pywire_auth_audit_log`) and a
/// [`UserDirectory`](auth_core::UserDirectory).
///
/// The tables are by default those of the Python original
/// (`pywire_auth_users`, `pywire_auth_credentials`,
/// `pywire_auth_provider_links`) and `pywire_auth_one_time_tokens`, created
/// on the first call if missing;
/// [`builder`](Self::builder) picks other [`TableNames`] and whether they
/// are created, only checked, or trusted ([`Schema`]). Every write is one transaction on one pooled
/// connection; a call never waits for a second connection while holding
/// one. Transactions that lose a lock race (SQLite busy, a deadlock) are run
/// again a bounded number of times.
///
/// Besides the core contract, this store refuses as
/// [`StoreError::Invalid`] an email longer than [`MAX_EMAIL_LEN`] bytes and
/// a NUL character in an email, name, provider or subject (PostgreSQL
/// cannot store it).
///
/// ```
/// use auth_core::{AuthStore, Claim, ClaimChange, NewUser};
/// use auth_store_seaorm::SeaOrmAuthStore;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = SeaOrmAuthStore::connect("sqlite::memory:").await?;
/// store.create_user(NewUser::new("local:1").with_email("ada@example.com").with_link("local", "ada@example.com")).await?;
/// let ada = store.update_claims("local:1", ClaimChange::Set(Claim::new("role", "admin"))).await?;
/// assert_eq!(ada.claims, vec![Claim::new("role", "admin")]);
///
/// // A user's one-time tokens go with the user.
/// use auth_core::{OneTimeToken, OneTimeTokenStore, TokenPurpose, TokenRecord};
/// let token = OneTimeToken::generate();
/// let record = TokenRecord::new(TokenPurpose::VerifyEmail, "local:1", "ada@example.com", std::time::Duration::from_secs(60));
/// store.save_token(&token.hash(), &record).await?;
/// store.delete_user("local:1").await?;
/// assert_eq!(store.take_token(&token.hash(), TokenPurpose::VerifyEmail).await?, None);
/// store.close().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SeaOrmAuthStore {
    db: Arc<Db>,
}

impl fmt::Debug for SeaOrmAuthStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeaOrmAuthStore")
            .field("db", &self.db)
            .finish()
    }
}

impl SeaOrmAuthStore {
    /// Opens a pool for `url` (`sqlite://path`, `sqlite::memory:`,
    /// `postgres://...`, `mysql://...`); the store owns it and
    /// [`close`](Self::close) closes it. A SQLite file is created if
    /// missing. The tables are created on the first call.
    #[tracing::instrument(skip_all)]
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Ok(Self {
            db: Arc::new(Db::open(url).await?),
        })
    }

    /// Opens a pool with `options` (start from
    /// [`connect_options`](crate::connect_options) to keep this crate's
    /// SQLite settings); the store owns it and [`close`](Self::close) closes
    /// it.
    pub async fn connect_with(options: ConnectOptions) -> Result<Self, Error> {
        Ok(Self {
            db: Arc::new(Db::open_with(options).await?),
        })
    }

    /// Opens the database named by the `LOCAL_AUTH_DB` environment
    /// variable, else [`DEFAULT_DATABASE_URL`] (`sqlite://./local-auth.db`).
    pub async fn connect_from_env() -> Result<Self, Error> {
        let url =
            std::env::var(DATABASE_URL_ENV).unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
        Self::connect(&url).await
    }

    /// A store on a connection the application already has. The
    /// application keeps ownership: [`close`](Self::close) leaves it open.
    pub fn new(conn: DatabaseConnection) -> Self {
        Self::on(Arc::new(Db::shared(conn)))
    }

    /// A builder for a store with other table names or schema handling, on
    /// a URL, [`ConnectOptions`] or a [`DatabaseConnection`]; see
    /// [`SeaOrmAuthStoreBuilder`].
    pub fn builder(source: impl Into<DatabaseSource>) -> SeaOrmAuthStoreBuilder {
        SeaOrmAuthStoreBuilder::new(source.into())
    }

    pub(crate) fn on(db: Arc<Db>) -> Self {
        Self { db }
    }

    /// The names of the tables the store (and its session backends) use.
    pub fn tables(&self) -> &TableNames {
        self.db.tables()
    }

    /// Whether the store creates, checks or trusts its tables.
    pub fn schema(&self) -> Schema {
        self.db.schema()
    }

    /// The connection the store runs on.
    pub fn connection(&self) -> &DatabaseConnection {
        self.db.conn()
    }

    /// Whether [`close`](Self::close) closes the connection (it was opened
    /// by [`connect`](Self::connect)).
    pub fn owns_connection(&self) -> bool {
        self.db.owned()
    }

    /// Creates the five tables (users, credentials, provider links,
    /// one-time tokens, audit log) now instead of on the first call.
    /// Idempotent, and safe when several processes do it at once. With
    /// [`Schema::Verify`] it checks them instead and fails with
    /// [`Error::MissingTable`] or [`Error::TableMismatch`]; with
    /// [`Schema::Skip`] it does nothing.
    pub async fn init_schema(&self) -> Result<(), Error> {
        self.db.ensure_store_schema().await
    }

    /// A session backend on the same connection (its own tables), with the
    /// store's table names and schema handling.
    pub fn session_backend(&self) -> SeaOrmSessionBackend {
        SeaOrmSessionBackend::on(Arc::clone(&self.db))
    }

    /// Closes the pool if the store opened it ([`connect`](Self::connect));
    /// a connection given to [`new`](Self::new) stays open. Session
    /// backends made by [`session_backend`](Self::session_backend) share the
    /// pool and stop working once it is closed.
    pub async fn close(self) -> Result<(), Error> {
        self.db.close().await
    }

    async fn ready(&self) -> Result<(), StoreError> {
        Ok(self.db.ensure_store_schema().await?)
    }
}

#[async_trait]
impl AuthStore for SeaOrmAuthStore {
    #[tracing::instrument(skip_all)]
    async fn get_user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        self.select_user(self.db.conn(), user_id, false).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_by_provider(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        validate_link_key(provider, subject)?;
        validate_link_text(provider, subject)?;
        self.ready().await?;
        let users = self.db.tables().users();
        let links = self.db.tables().provider_links();
        let sql = format!(
            "SELECT {} FROM {links} l JOIN {users} u ON u.user_id = l.user_id \
             WHERE l.provider = ? AND l.subject = ?",
            self.user_columns("u.")
        );
        let row = self
            .db
            .conn()
            .query_one_raw(self.db.stmt(&sql, vec![provider.into(), subject.into()]))
            .await
            .map_err(store_db("finding a user by provider"))?;
        row.map(|row| user_from_row(&row)).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn links_of(&self, user_id: &str) -> Result<Vec<ProviderLink>, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let links = self.db.tables().provider_links();
        let sql = format!(
            "SELECT provider, subject, user_id, {} FROM {links} WHERE user_id = ?",
            self.db.as_text("claims")
        );
        let rows = self
            .db
            .conn()
            .query_all_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(store_db("listing provider links"))?;
        let mut links = rows
            .iter()
            .map(link_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        // Sorted here, not in SQL: byte order whatever the collation.
        links.sort_by(|a, b| (&a.provider, &a.subject).cmp(&(&b.provider, &b.subject)));
        Ok(links)
    }

    #[tracing::instrument(skip_all)]
    async fn create_user(&self, user: NewUser) -> Result<UserRecord, StoreError> {
        user.validate()?;
        validate_profile(user.record.email.as_deref(), user.record.name.as_deref())?;
        for link in &user.links {
            validate_link_text(&link.provider, &link.subject)?;
        }
        self.ready().await?;
        let claims = encode_claims(&user.record.claims);
        let extras = encode_extras(&user.record.extras);
        let link_claims: Vec<String> = user
            .links
            .iter()
            .map(|l| encode_claims(&l.claims))
            .collect();
        retry(store_error_is_transient, || {
            self.create_once(&user, &claims, &extras, &link_claims)
        })
        .await?;
        Ok(user.record)
    }

    #[tracing::instrument(skip_all)]
    async fn update_user(
        &self,
        user_id: &str,
        update: UserUpdate,
    ) -> Result<UserRecord, StoreError> {
        validate_user_id(user_id)?;
        let email = update.email.as_ref().and_then(Option::as_deref);
        let name = update.name.as_ref().and_then(Option::as_deref);
        validate_profile(email, name)?;
        self.ready().await?;
        let extras = update.extras.as_ref().map(encode_extras);
        retry(store_error_is_transient, || {
            self.update_once(user_id, &update, extras.as_deref())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn update_claims(
        &self,
        user_id: &str,
        change: ClaimChange,
    ) -> Result<UserRecord, StoreError> {
        validate_user_id(user_id)?;
        change.validate()?;
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.claims_once(user_id, &change)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn link_provider(&self, link: ProviderLink) -> Result<(), StoreError> {
        validate_link_key(&link.provider, &link.subject)?;
        validate_link_text(&link.provider, &link.subject)?;
        validate_user_id(&link.user_id)?;
        validate_claims(&link.claims)?;
        self.ready().await?;
        let claims = encode_claims(&link.claims);
        retry(link_error_is_retryable, || self.link_once(&link, &claims)).await
    }

    #[tracing::instrument(skip_all)]
    async fn unlink_provider(
        &self,
        user_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<bool, StoreError> {
        validate_user_id(user_id)?;
        validate_link_key(provider, subject)?;
        validate_link_text(provider, subject)?;
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.unlink_once(user_id, provider, subject)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn password_hash(&self, user_id: &str) -> Result<Option<PasswordHash>, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let credentials = self.db.tables().credentials();
        let sql = format!("SELECT pw_hash FROM {credentials} WHERE user_id = ?");
        let row = self
            .db
            .conn()
            .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(store_db("reading a password hash"))?;
        let hash: Option<String> = row
            .map(|row| row.try_get_by_index::<Option<String>>(0))
            .transpose()
            .map_err(|e| StoreError::corrupt("a credentials row", e))?
            .flatten();
        // An empty hash is no password, as in the original.
        Ok(hash.filter(|h| !h.is_empty()).map(PasswordHash::new))
    }

    #[tracing::instrument(skip_all)]
    async fn set_password_hash(&self, user_id: &str, hash: PasswordHash) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        retry(store_error_is_transient, || {
            self.set_hash_once(user_id, &hash)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        retry(store_error_is_transient, || self.delete_once(user_id)).await
    }
}
