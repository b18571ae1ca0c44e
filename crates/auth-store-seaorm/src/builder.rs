//! Builders for a store or a session backend with other table names or
//! another schema handling than the defaults, on a URL, pool settings or a
//! connection the application already has.

use std::fmt;
use std::sync::Arc;

use sea_orm::{ConnectOptions, DatabaseConnection};

use crate::db::Db;
use crate::error::Error;
use crate::session::SeaOrmSessionBackend;
use crate::store::SeaOrmAuthStore;
use crate::tables::{Schema, TableNames};

/// Where a builder gets its connection: a URL (`&str` or `String`), pool
/// settings ([`ConnectOptions`], see [`connect_options`](crate::connect_options)),
/// or a [`DatabaseConnection`] the application keeps owning.
pub struct DatabaseSource(Source);

enum Source {
    Url(String),
    Options(Box<ConnectOptions>),
    Connection(DatabaseConnection),
}

impl fmt::Debug for DatabaseSource {
    // A URL or connect options may hold a password: only the kind shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            Source::Url(_) => "url",
            Source::Options(_) => "connect options",
            Source::Connection(_) => "connection",
        };
        f.debug_tuple("DatabaseSource").field(&kind).finish()
    }
}

impl From<&str> for DatabaseSource {
    fn from(url: &str) -> Self {
        Self(Source::Url(url.to_owned()))
    }
}

impl From<String> for DatabaseSource {
    fn from(url: String) -> Self {
        Self(Source::Url(url))
    }
}

impl From<ConnectOptions> for DatabaseSource {
    fn from(options: ConnectOptions) -> Self {
        Self(Source::Options(Box::new(options)))
    }
}

impl From<DatabaseConnection> for DatabaseSource {
    fn from(conn: DatabaseConnection) -> Self {
        Self(Source::Connection(conn))
    }
}

/// What both builders hold.
#[derive(Debug)]
struct Settings {
    source: DatabaseSource,
    tables: TableNames,
    schema: Schema,
}

impl Settings {
    fn new(source: DatabaseSource) -> Self {
        Self {
            source,
            tables: TableNames::default(),
            schema: Schema::default(),
        }
    }

    async fn open(self) -> Result<Arc<Db>, Error> {
        let db = match self.source.0 {
            Source::Url(url) => Db::open(&url).await?,
            Source::Options(options) => Db::open_with(*options).await?,
            Source::Connection(conn) => Db::shared(conn),
        };
        Ok(Arc::new(db.configured(self.tables, self.schema)))
    }
}

/// Builds a [`SeaOrmAuthStore`]; start with
/// [`SeaOrmAuthStore::builder`]. A session backend made from the store by
/// [`session_backend`](SeaOrmAuthStore::session_backend) shares its table
/// names and schema handling.
///
/// ```
/// use auth_store_seaorm::{Schema, SeaOrmAuthStore, TableNames};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = SeaOrmAuthStore::builder("sqlite::memory:")
///     .with_tables(TableNames::prefixed("myapp_")?)
///     .with_schema(Schema::Create)
///     .build()
///     .await?;
/// store.init_schema().await?;
/// assert_eq!(store.tables().users(), "myapp_users");
/// assert_eq!(store.session_backend().tables().sessions(), "myapp_sessions");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct SeaOrmAuthStoreBuilder {
    settings: Settings,
}

impl SeaOrmAuthStoreBuilder {
    pub(crate) fn new(source: DatabaseSource) -> Self {
        Self {
            settings: Settings::new(source),
        }
    }

    /// The table names (default: [`TableNames::default`]).
    pub fn with_tables(mut self, tables: TableNames) -> Self {
        self.settings.tables = tables;
        self
    }

    /// Create, check, or trust the tables (default: [`Schema::Create`]).
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.settings.schema = schema;
        self
    }

    /// Opens the pool (a URL or connect options: the store owns it) or
    /// takes the connection (the application keeps it). Nothing is created
    /// or checked yet: that happens on the first call, or in
    /// [`init_schema`](SeaOrmAuthStore::init_schema) to fail at start-up.
    /// Fails as [`SeaOrmAuthStore::connect`] does.
    pub async fn build(self) -> Result<SeaOrmAuthStore, Error> {
        Ok(SeaOrmAuthStore::on(self.settings.open().await?))
    }
}

/// Builds a standalone [`SeaOrmSessionBackend`]; start with
/// [`SeaOrmSessionBackend::builder`].
///
/// ```
/// use auth_store_seaorm::{Schema, SeaOrmSessionBackend, TableNames};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let names = TableNames::builder().with_sessions("web_sessions").build()?;
/// let sessions = SeaOrmSessionBackend::builder("sqlite::memory:")
///     .with_tables(names)
///     .with_schema(Schema::Create)
///     .build()
///     .await?;
/// sessions.init_schema().await?;
/// assert_eq!(sessions.tables().sessions(), "web_sessions");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct SeaOrmSessionBackendBuilder {
    settings: Settings,
}

impl SeaOrmSessionBackendBuilder {
    pub(crate) fn new(source: DatabaseSource) -> Self {
        Self {
            settings: Settings::new(source),
        }
    }

    /// The table names (default: [`TableNames::default`]); only the
    /// session and stamp names are used.
    pub fn with_tables(mut self, tables: TableNames) -> Self {
        self.settings.tables = tables;
        self
    }

    /// Create, check, or trust the tables (default: [`Schema::Create`]).
    pub fn with_schema(mut self, schema: Schema) -> Self {
        self.settings.schema = schema;
        self
    }

    /// Opens the pool or takes the connection, as
    /// [`SeaOrmAuthStoreBuilder::build`].
    pub async fn build(self) -> Result<SeaOrmSessionBackend, Error> {
        Ok(SeaOrmSessionBackend::on(self.settings.open().await?))
    }
}
