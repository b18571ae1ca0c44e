//! [`SeaOrmAuthStore`]: users, credentials and provider links in SQL.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AuthStore, ClaimChange, InvalidInput, NewUser, PasswordHash, ProviderLink, StoreError,
    UserRecord, UserUpdate, validate_claims, validate_link_key, validate_user_id,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, Value};

use crate::codec::{decode_claims, decode_extras, encode_claims, encode_extras};
use crate::db::{DATABASE_URL_ENV, DEFAULT_DATABASE_URL, Db, finish, retry};
use crate::error::{Error, is_unique_violation, store_db, store_error_is_transient};
use crate::schema::{CREDENTIALS_TABLE, PROVIDER_LINKS_TABLE, USERS_TABLE};
use crate::session::SeaOrmSessionBackend;

/// Longest email accepted, in bytes (the column is `VARCHAR(320)`).
pub const MAX_EMAIL_LEN: usize = 320;

/// An [`AuthStore`] over SeaORM: SQLite, PostgreSQL, MySQL or MariaDB.
///
/// The tables are those of the Python original (`pywire_auth_users`,
/// `pywire_auth_credentials`, `pywire_auth_provider_links`), created on the
/// first call if missing. Every write is one transaction on one pooled
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
        Self {
            db: Arc::new(Db::shared(conn)),
        }
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

    /// Creates the three tables now instead of on the first call.
    /// Idempotent, and safe when several processes do it at once.
    pub async fn init_schema(&self) -> Result<(), Error> {
        self.db.ensure_store_schema().await
    }

    /// A session backend on the same connection (its own tables).
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

    fn user_columns(&self, alias: &str) -> String {
        format!(
            "{alias}user_id, {alias}email, {alias}name, {}, {}",
            self.db.as_text(&format!("{alias}claims")),
            self.db.as_text(&format!("{alias}extras"))
        )
    }

    /// The user row, locked until the transaction ends when `lock` is set.
    async fn select_user<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: &str,
        lock: bool,
    ) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {USERS_TABLE} WHERE user_id = ?{}",
            self.user_columns(""),
            if lock { self.db.for_update() } else { "" }
        );
        let row = conn
            .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(store_db("reading a user"))?;
        row.map(|row| user_from_row(&row)).transpose()
    }

    /// Whether the user exists (without reading its JSON columns), its row
    /// locked until the transaction ends when `lock` is set.
    async fn user_exists<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: &str,
        lock: bool,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT user_id FROM {USERS_TABLE} WHERE user_id = ?{}",
            if lock { self.db.for_update() } else { "" }
        );
        let row = conn
            .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(store_db("looking a user up"))?;
        Ok(row.is_some())
    }

    async fn create_once(
        &self,
        user: &NewUser,
        claims: &str,
        extras: &str,
        link_claims: &[String],
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            // Links first: a registration that loses the race on its
            // (provider, subject) stops before writing anything else.
            let insert_link = format!(
                "INSERT INTO {PROVIDER_LINKS_TABLE} (provider, subject, user_id, claims) VALUES (?, ?, ?, {})",
                self.db.json_param()
            );
            for (link, claims) in user.links.iter().zip(link_claims) {
                let values = vec![
                    link.provider.as_str().into(),
                    link.subject.as_str().into(),
                    user.record.user_id.as_str().into(),
                    claims.as_str().into(),
                ];
                tx.execute_raw(self.db.stmt(&insert_link, values))
                    .await
                    .map_err(conflict_or("provider link", "inserting a provider link"))?;
            }
            let insert_user = format!(
                "INSERT INTO {USERS_TABLE} (user_id, email, name, claims, extras) VALUES (?, ?, ?, {0}, {0})",
                self.db.json_param()
            );
            let values = vec![
                user.record.user_id.as_str().into(),
                user.record.email.clone().into(),
                user.record.name.clone().into(),
                claims.into(),
                extras.into(),
            ];
            tx.execute_raw(self.db.stmt(&insert_user, values))
                .await
                .map_err(conflict_or("user id", "inserting a user"))?;
            if let Some(hash) = &user.password_hash {
                self.upsert_hash(&tx, &user.record.user_id, hash).await?;
            }
            Ok(())
        }
        .await;
        finish(tx, result, store_db("committing a new user")).await
    }

    /// Inserts or replaces the credentials row (a stale row left without
    /// its user is replaced too).
    async fn upsert_hash<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: &str,
        hash: &PasswordHash,
    ) -> Result<(), StoreError> {
        let sql = match self.db.backend() {
            sea_orm::DatabaseBackend::MySql => format!(
                "INSERT INTO {CREDENTIALS_TABLE} (user_id, pw_hash) VALUES (?, ?) \
                 ON DUPLICATE KEY UPDATE pw_hash = VALUES(pw_hash)"
            ),
            _ => format!(
                "INSERT INTO {CREDENTIALS_TABLE} (user_id, pw_hash) VALUES (?, ?) \
                 ON CONFLICT (user_id) DO UPDATE SET pw_hash = excluded.pw_hash"
            ),
        };
        conn.execute_raw(
            self.db
                .stmt(&sql, vec![user_id.into(), hash.as_str().into()]),
        )
        .await
        .map_err(store_db("writing a password hash"))?;
        Ok(())
    }

    async fn update_once(
        &self,
        user_id: &str,
        update: &UserUpdate,
        extras: Option<&str>,
    ) -> Result<UserRecord, StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            let mut user = self
                .select_user(&tx, user_id, true)
                .await?
                .ok_or(StoreError::NotFound)?;
            let mut sets = Vec::new();
            let mut values: Vec<Value> = Vec::new();
            if let Some(email) = &update.email {
                sets.push("email = ?".to_owned());
                values.push(email.clone().into());
                user.email.clone_from(email);
            }
            if let Some(name) = &update.name {
                sets.push("name = ?".to_owned());
                values.push(name.clone().into());
                user.name.clone_from(name);
            }
            if let (Some(new), Some(text)) = (&update.extras, extras) {
                sets.push(format!("extras = {}", self.db.json_param()));
                values.push(text.into());
                user.extras.clone_from(new);
            }
            if !sets.is_empty() {
                let sql = format!(
                    "UPDATE {USERS_TABLE} SET {} WHERE user_id = ?",
                    sets.join(", ")
                );
                values.push(user_id.into());
                tx.execute_raw(self.db.stmt(&sql, values))
                    .await
                    .map_err(store_db("updating a user"))?;
            }
            Ok(user)
        }
        .await;
        finish(tx, result, store_db("committing a user update")).await
    }

    async fn claims_once(
        &self,
        user_id: &str,
        change: &ClaimChange,
    ) -> Result<UserRecord, StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            // The row stays locked (FOR UPDATE, or SQLite's write lock) from
            // this read to the commit, so no concurrent change is lost.
            let mut user = self
                .select_user(&tx, user_id, true)
                .await?
                .ok_or(StoreError::NotFound)?;
            change.apply(&mut user.claims);
            let sql = format!(
                "UPDATE {USERS_TABLE} SET claims = {} WHERE user_id = ?",
                self.db.json_param()
            );
            let values = vec![encode_claims(&user.claims).into(), user_id.into()];
            tx.execute_raw(self.db.stmt(&sql, values))
                .await
                .map_err(store_db("updating claims"))?;
            Ok(user)
        }
        .await;
        finish(tx, result, store_db("committing a claim change")).await
    }

    async fn link_once(&self, link: &ProviderLink, claims: &str) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            if !self.user_exists(&tx, &link.user_id, false).await? {
                return Err(StoreError::NotFound);
            }
            let sql = format!(
                "SELECT user_id FROM {PROVIDER_LINKS_TABLE} WHERE provider = ? AND subject = ?{}",
                self.db.for_update()
            );
            let values = vec![link.provider.as_str().into(), link.subject.as_str().into()];
            let existing = tx
                .query_one_raw(self.db.stmt(&sql, values))
                .await
                .map_err(store_db("reading a provider link"))?;
            let owner = existing
                .map(|row| row.try_get_by_index::<Option<String>>(0))
                .transpose()
                .map_err(|e| StoreError::corrupt("a provider link row", e))?;
            match owner {
                Some(owner) if owner.as_deref() != Some(link.user_id.as_str()) => {
                    Err(StoreError::Conflict {
                        what: "provider link",
                    })
                }
                Some(_) => {
                    let sql = format!(
                        "UPDATE {PROVIDER_LINKS_TABLE} SET claims = {} WHERE provider = ? AND subject = ?",
                        self.db.json_param()
                    );
                    let values = vec![
                        claims.into(),
                        link.provider.as_str().into(),
                        link.subject.as_str().into(),
                    ];
                    tx.execute_raw(self.db.stmt(&sql, values))
                        .await
                        .map_err(store_db("updating a provider link"))?;
                    Ok(())
                }
                None => {
                    let sql = format!(
                        "INSERT INTO {PROVIDER_LINKS_TABLE} (provider, subject, user_id, claims) VALUES (?, ?, ?, {})",
                        self.db.json_param()
                    );
                    let values = vec![
                        link.provider.as_str().into(),
                        link.subject.as_str().into(),
                        link.user_id.as_str().into(),
                        claims.into(),
                    ];
                    // A concurrent insert of the same pair makes this a
                    // duplicate; the retry then sees that row and decides.
                    tx.execute_raw(self.db.stmt(&sql, values))
                        .await
                        .map_err(store_db("inserting a provider link"))?;
                    Ok(())
                }
            }
        }
        .await;
        finish(tx, result, store_db("committing a provider link")).await
    }

    async fn set_hash_once(&self, user_id: &str, hash: &PasswordHash) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            if !self.user_exists(&tx, user_id, true).await? {
                return Err(StoreError::NotFound);
            }
            self.upsert_hash(&tx, user_id, hash).await
        }
        .await;
        finish(tx, result, store_db("committing a password hash")).await
    }
}

/// A duplicate key becomes [`StoreError::Conflict`] naming `what`; any
/// other error a backend failure while doing `context`.
fn conflict_or(what: &'static str, context: &'static str) -> impl FnOnce(DbErr) -> StoreError {
    move |error| {
        if is_unique_violation(&error) {
            StoreError::Conflict { what }
        } else {
            StoreError::backend(context, error)
        }
    }
}

/// A link insert that lost a race to a concurrent one is worth running
/// again, as is anything transient.
fn link_error_is_retryable(error: &StoreError) -> bool {
    store_error_is_transient(error)
        || matches!(error, StoreError::Backend { source, .. }
            if source.downcast_ref::<DbErr>().is_some_and(is_unique_violation))
}

fn user_from_row(row: &QueryResult) -> Result<UserRecord, StoreError> {
    let column = |e| StoreError::corrupt("a user row", e);
    let user_id: String = row.try_get_by_index(0).map_err(column)?;
    let email: Option<String> = row.try_get_by_index(1).map_err(column)?;
    let name: Option<String> = row.try_get_by_index(2).map_err(column)?;
    let claims: Option<String> = row.try_get_by_index(3).map_err(column)?;
    let extras: Option<String> = row.try_get_by_index(4).map_err(column)?;
    let mut user = UserRecord::new(user_id);
    user.email = email;
    user.name = name;
    user.claims = decode_claims(claims.as_deref(), "the claims of a user")?;
    user.extras = decode_extras(extras.as_deref(), "the extras of a user")?;
    Ok(user)
}

fn link_from_row(row: &QueryResult) -> Result<ProviderLink, StoreError> {
    let column = |e| StoreError::corrupt("a provider link row", e);
    let provider: String = row.try_get_by_index(0).map_err(column)?;
    let subject: String = row.try_get_by_index(1).map_err(column)?;
    let user_id: Option<String> = row.try_get_by_index(2).map_err(column)?;
    let claims: Option<String> = row.try_get_by_index(3).map_err(column)?;
    let claims = decode_claims(claims.as_deref(), "the claims of a provider link")?;
    Ok(ProviderLink::new(provider, subject, user_id.unwrap_or_default()).with_claims(claims))
}

fn no_nul(value: &str, what: &'static str) -> Result<(), InvalidInput> {
    if value.contains('\0') {
        return Err(InvalidInput::new(what));
    }
    Ok(())
}

/// The rules of this store beyond the core's: what SQL columns can hold.
fn validate_profile(email: Option<&str>, name: Option<&str>) -> Result<(), InvalidInput> {
    if let Some(email) = email {
        if email.len() > MAX_EMAIL_LEN {
            return Err(InvalidInput::new("email is too long"));
        }
        no_nul(email, "email has a NUL character")?;
    }
    if let Some(name) = name {
        no_nul(name, "name has a NUL character")?;
    }
    Ok(())
}

fn validate_link_text(provider: &str, subject: &str) -> Result<(), InvalidInput> {
    no_nul(provider, "provider has a NUL character")?;
    no_nul(subject, "subject has a NUL character")
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
        let sql = format!(
            "SELECT {} FROM {PROVIDER_LINKS_TABLE} l JOIN {USERS_TABLE} u ON u.user_id = l.user_id \
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
        let sql = format!(
            "SELECT provider, subject, user_id, {} FROM {PROVIDER_LINKS_TABLE} WHERE user_id = ?",
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
    async fn password_hash(&self, user_id: &str) -> Result<Option<PasswordHash>, StoreError> {
        validate_user_id(user_id)?;
        self.ready().await?;
        let sql = format!("SELECT pw_hash FROM {CREDENTIALS_TABLE} WHERE user_id = ?");
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
}
