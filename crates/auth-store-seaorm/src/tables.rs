//! [`TableNames`]: what the nine tables are called, checked once so that the
//! names can be written into SQL as they are, and [`Schema`]: whether the
//! store creates them, only checks them, or trusts that they exist.

use crate::error::Error;
use crate::schema::{
    AUDIT_LOG_TABLE, CREDENTIALS_TABLE, ONE_TIME_TOKENS_TABLE, PROVIDER_LINKS_TABLE,
    RECOVERY_CODES_TABLE, SESSIONS_TABLE, TOTP_SECRETS_TABLE, USER_STAMPS_TABLE, USERS_TABLE,
};

/// Longest table name accepted, in bytes: PostgreSQL's identifier limit
/// (it silently cuts longer names; MySQL and MariaDB allow 64).
pub const MAX_TABLE_NAME_LEN: usize = 63;

/// The names of the nine tables, valid by construction.
///
/// The default is the Python original's names for the user tables
/// (`pywire_auth_users`, `pywire_auth_credentials`,
/// `pywire_auth_provider_links`), `pywire_auth_one_time_tokens` for the
/// one-time tokens, `pywire_auth_audit_log` for the audit log,
/// `pywire_auth_totp_secrets` and `pywire_auth_recovery_codes` for the
/// second factors, and
/// `auth_sessions`, `auth_user_stamps` for the session tables, so a
/// database the original wrote opens as it is.
/// [`prefixed`](Self::prefixed) puts another prefix before the nine short
/// names; [`builder`](Self::builder) sets names one by one.
///
/// Table names are written into SQL statements as they are (SQL has no
/// placeholders for identifiers), so every name is checked here, and a
/// `TableNames` exists only once all nine passed:
///
/// - 1 to [`MAX_TABLE_NAME_LEN`] bytes of ASCII letters, digits and `_`,
///   not starting with a digit (no quotes, spaces, semicolons or anything
///   else SQL could read as more than a name);
/// - all nine distinct, ignoring ASCII case (PostgreSQL folds unquoted
///   names to lower case, so `Users` and `users` are one table there).
///
/// Index names follow the table names (`ix_<users>_email`,
/// `ix_<provider links>_user_id`, `ix_<sessions>_user_id`,
/// `ix_<sessions>_expires_at`, `ix_<one-time tokens>_user_id_purpose`,
/// `ix_<audit log>_target_user_id`); one
/// that would exceed the identifier limit is cut and ends in a hash of its
/// full name instead.
///
/// ```
/// use auth_store_seaorm::TableNames;
///
/// let names = TableNames::prefixed("myapp_")?;
/// assert_eq!(names.users(), "myapp_users");
/// assert_eq!(names.sessions(), "myapp_sessions");
///
/// let mixed = TableNames::builder().with_sessions("web_sessions").build()?;
/// assert_eq!(mixed.users(), "pywire_auth_users");
/// assert_eq!(mixed.sessions(), "web_sessions");
///
/// assert!(TableNames::prefixed("x; DROP TABLE users; --").is_err());
/// # Ok::<(), auth_store_seaorm::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableNames {
    users: String,
    credentials: String,
    provider_links: String,
    sessions: String,
    user_stamps: String,
    one_time_tokens: String,
    audit_log: String,
    totp_secrets: String,
    recovery_codes: String,
}

impl Default for TableNames {
    fn default() -> Self {
        Self {
            users: USERS_TABLE.to_owned(),
            credentials: CREDENTIALS_TABLE.to_owned(),
            provider_links: PROVIDER_LINKS_TABLE.to_owned(),
            sessions: SESSIONS_TABLE.to_owned(),
            user_stamps: USER_STAMPS_TABLE.to_owned(),
            one_time_tokens: ONE_TIME_TOKENS_TABLE.to_owned(),
            audit_log: AUDIT_LOG_TABLE.to_owned(),
            totp_secrets: TOTP_SECRETS_TABLE.to_owned(),
            recovery_codes: RECOVERY_CODES_TABLE.to_owned(),
        }
    }
}

impl TableNames {
    /// All nine names given; [`Error::InvalidTableName`] or
    /// [`Error::DuplicateTableName`] if one is refused.
    #[allow(clippy::too_many_arguments)] // one per table, in the order of the builder
    pub fn new(
        users: &str,
        credentials: &str,
        provider_links: &str,
        sessions: &str,
        user_stamps: &str,
        one_time_tokens: &str,
        audit_log: &str,
        totp_secrets: &str,
        recovery_codes: &str,
    ) -> Result<Self, Error> {
        Self::builder()
            .with_users(users)
            .with_credentials(credentials)
            .with_provider_links(provider_links)
            .with_sessions(sessions)
            .with_user_stamps(user_stamps)
            .with_one_time_tokens(one_time_tokens)
            .with_audit_log(audit_log)
            .with_totp_secrets(totp_secrets)
            .with_recovery_codes(recovery_codes)
            .build()
    }

    /// `prefix` followed by `users`, `credentials`, `provider_links`,
    /// `sessions`, `user_stamps`, `one_time_tokens`, `audit_log`,
    /// `totp_secrets` and `recovery_codes`: `prefixed("myapp_")` names
    /// `myapp_users` ... `myapp_recovery_codes`.
    pub fn prefixed(prefix: &str) -> Result<Self, Error> {
        Self::builder().with_prefix(prefix).build()
    }

    /// A builder starting from the default names.
    pub fn builder() -> TableNamesBuilder {
        TableNamesBuilder {
            names: Self::default(),
        }
    }

    /// The users table.
    pub fn users(&self) -> &str {
        &self.users
    }

    /// The password hash table.
    pub fn credentials(&self) -> &str {
        &self.credentials
    }

    /// The (provider, subject) link table.
    pub fn provider_links(&self) -> &str {
        &self.provider_links
    }

    /// The session table of the SQL session backend.
    pub fn sessions(&self) -> &str {
        &self.sessions
    }

    /// The per-user change stamp table of the SQL session backend.
    pub fn user_stamps(&self) -> &str {
        &self.user_stamps
    }

    /// The one-time token table of the store.
    pub fn one_time_tokens(&self) -> &str {
        &self.one_time_tokens
    }

    /// The audit log table of the store.
    pub fn audit_log(&self) -> &str {
        &self.audit_log
    }

    /// The TOTP secret table of the store.
    pub fn totp_secrets(&self) -> &str {
        &self.totp_secrets
    }

    /// The recovery code table of the store.
    pub fn recovery_codes(&self) -> &str {
        &self.recovery_codes
    }

    /// The name of the index of `table` on `column`, within the identifier
    /// limit of every database.
    pub(crate) fn index(table: &str, column: &str) -> String {
        let full = format!("ix_{table}_{column}");
        if full.len() <= MAX_TABLE_NAME_LEN {
            return full;
        }
        // Names are ASCII, so any byte offset is a character boundary.
        let hash = fnv1a(full.as_bytes());
        format!("{}_{hash:08x}", &full[..MAX_TABLE_NAME_LEN - 9])
    }

    fn roles(&self) -> [(&'static str, &str); 9] {
        [
            ("users", &self.users),
            ("credentials", &self.credentials),
            ("provider links", &self.provider_links),
            ("sessions", &self.sessions),
            ("user stamps", &self.user_stamps),
            ("one-time tokens", &self.one_time_tokens),
            ("audit log", &self.audit_log),
            ("totp secrets", &self.totp_secrets),
            ("recovery codes", &self.recovery_codes),
        ]
    }

    fn indexes(&self) -> [String; 6] {
        [
            Self::index(&self.users, "email"),
            Self::index(&self.provider_links, "user_id"),
            Self::index(&self.sessions, "user_id"),
            Self::index(&self.sessions, "expires_at"),
            Self::index(&self.one_time_tokens, "user_id_purpose"),
            Self::index(&self.audit_log, "target_user_id"),
        ]
    }

    fn validate(&self) -> Result<(), Error> {
        let roles = self.roles();
        for (role, name) in roles {
            if let Some(reason) = refusal(name) {
                return Err(Error::InvalidTableName {
                    table: role,
                    reason,
                });
            }
        }
        for (i, (first, a)) in roles.iter().enumerate() {
            for (second, b) in &roles[i + 1..] {
                if a.eq_ignore_ascii_case(b) {
                    return Err(Error::DuplicateTableName { first, second });
                }
            }
        }
        // Distinct tables give distinct index names unless two cut names
        // share a hash; checked rather than assumed.
        let indexes = self.indexes();
        for (i, a) in indexes.iter().enumerate() {
            for b in &indexes[i + 1..] {
                if a.eq_ignore_ascii_case(b) {
                    return Err(Error::InvalidTableName {
                        table: "indexes",
                        reason: "two index names derived from the table names collide",
                    });
                }
            }
        }
        Ok(())
    }
}

/// Why `name` is refused as a table name, if it is.
fn refusal(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("the name is empty");
    }
    if name.len() > MAX_TABLE_NAME_LEN {
        return Some("the name is longer than 63 bytes");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Some("only ASCII letters, digits and '_' are allowed");
    }
    if name.as_bytes()[0].is_ascii_digit() {
        return Some("the name starts with a digit");
    }
    None
}

/// 32-bit FNV-1a: a short, stable suffix for cut index names.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Sets table names one by one; [`build`](Self::build) checks them all.
///
/// ```
/// use auth_store_seaorm::TableNames;
///
/// let names = TableNames::builder()
///     .with_prefix("shop_")
///     .with_users("customers")
///     .build()?;
/// assert_eq!(names.users(), "customers");
/// assert_eq!(names.credentials(), "shop_credentials");
/// # Ok::<(), auth_store_seaorm::Error>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TableNamesBuilder {
    names: TableNames,
}

impl TableNamesBuilder {
    /// Names all nine tables `prefix` + `users`, `credentials`,
    /// `provider_links`, `sessions`, `user_stamps`, `one_time_tokens`,
    /// `audit_log`, `totp_secrets`, `recovery_codes`;
    /// setters called after this one override single names.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.names = TableNames {
            users: format!("{prefix}users"),
            credentials: format!("{prefix}credentials"),
            provider_links: format!("{prefix}provider_links"),
            sessions: format!("{prefix}sessions"),
            user_stamps: format!("{prefix}user_stamps"),
            one_time_tokens: format!("{prefix}one_time_tokens"),
            audit_log: format!("{prefix}audit_log"),
            totp_secrets: format!("{prefix}totp_secrets"),
            recovery_codes: format!("{prefix}recovery_codes"),
        };
        self
    }

    /// The users table.
    pub fn with_users(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.users);
        self
    }

    /// The password hash table.
    pub fn with_credentials(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.credentials);
        self
    }

    /// The (provider, subject) link table.
    pub fn with_provider_links(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.provider_links);
        self
    }

    /// The session table.
    pub fn with_sessions(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.sessions);
        self
    }

    /// The change stamp table.
    pub fn with_user_stamps(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.user_stamps);
        self
    }

    /// The one-time token table.
    pub fn with_one_time_tokens(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.one_time_tokens);
        self
    }

    /// The audit log table.
    pub fn with_audit_log(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.audit_log);
        self
    }

    /// The TOTP secret table.
    pub fn with_totp_secrets(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.totp_secrets);
        self
    }

    /// The recovery code table.
    pub fn with_recovery_codes(mut self, name: &str) -> Self {
        name.clone_into(&mut self.names.recovery_codes);
        self
    }

    /// The names, once every one is a valid, distinct identifier:
    /// [`Error::InvalidTableName`] names the first table refused and why,
    /// [`Error::DuplicateTableName`] the first two that are the same.
    pub fn build(self) -> Result<TableNames, Error> {
        self.names.validate()?;
        Ok(self.names)
    }
}

/// What the store does about its tables before the first query.
///
/// ```
/// use auth_store_seaorm::{Schema, SeaOrmAuthStore};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = SeaOrmAuthStore::builder("sqlite::memory:")
///     .with_schema(Schema::Verify)
///     .build()
///     .await?;
/// // Nothing was created, so the check names the first table missing.
/// let error = store.init_schema().await.unwrap_err();
/// assert!(error.to_string().contains("pywire_auth_users"));
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Schema {
    /// Create missing tables and indexes (`CREATE ... IF NOT EXISTS`) on
    /// the first call or in `init_schema()`. The default.
    #[default]
    Create,
    /// Create nothing; on the first call (or in `init_schema()`) check
    /// that every table exists with the columns the store uses, and fail
    /// with [`Error::MissingTable`] or [`Error::TableMismatch`] naming the
    /// table otherwise. For teams whose migrations own the schema.
    Verify,
    /// Create and check nothing: every query assumes the tables exist, and
    /// a missing one surfaces as a backend error of that query.
    Skip,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(name: &str) -> bool {
        matches!(
            TableNames::builder().with_users(name).build(),
            Err(Error::InvalidTableName { table: "users", .. })
        )
    }

    #[test]
    fn default_names_are_the_originals() {
        let names = TableNames::default();
        assert_eq!(names.users(), "pywire_auth_users");
        assert_eq!(names.credentials(), "pywire_auth_credentials");
        assert_eq!(names.provider_links(), "pywire_auth_provider_links");
        assert_eq!(names.sessions(), "auth_sessions");
        assert_eq!(names.user_stamps(), "auth_user_stamps");
        assert_eq!(names.one_time_tokens(), "pywire_auth_one_time_tokens");
        assert_eq!(names.audit_log(), "pywire_auth_audit_log");
        assert_eq!(names.totp_secrets(), "pywire_auth_totp_secrets");
        assert_eq!(names.recovery_codes(), "pywire_auth_recovery_codes");
        assert_eq!(TableNames::builder().build().unwrap(), names);
        assert_eq!(
            TableNames::index(names.users(), "email"),
            "ix_pywire_auth_users_email"
        );
    }

    #[test]
    fn hostile_names_are_refused() {
        let long = "a".repeat(MAX_TABLE_NAME_LEN + 1);
        for name in [
            "",
            "users; DROP TABLE x",
            "users;",
            "us'ers",
            "us\"ers",
            "us`ers",
            "us ers",
            " users",
            "users\n",
            "us-ers",
            "us.ers",
            "public.users",
            "us/*x*/ers",
            "usérs",
            "users\u{0}",
            "пользователи",
            "1users",
            "9",
            long.as_str(),
        ] {
            assert!(refused(name), "{name:?} was accepted");
        }
    }

    #[test]
    fn plain_identifiers_are_accepted() {
        let longest = "a".repeat(MAX_TABLE_NAME_LEN);
        for name in ["u", "_users", "Users2", "my_app_users", longest.as_str()] {
            let names = TableNames::builder().with_users(name).build().unwrap();
            assert_eq!(names.users(), name);
        }
    }

    #[test]
    fn a_hostile_prefix_is_refused() {
        assert!(matches!(
            TableNames::prefixed("x'; DROP TABLE y; --"),
            Err(Error::InvalidTableName { .. })
        ));
        // No prefix at all is allowed: bare `users`, `sessions` ...
        assert_eq!(TableNames::prefixed("").unwrap().users(), "users");
    }

    #[test]
    fn names_must_be_distinct_ignoring_case() {
        let error = TableNames::new("a", "b", "c", "d", "A", "e", "f", "g", "h").unwrap_err();
        assert!(matches!(
            error,
            Error::DuplicateTableName {
                first: "users",
                second: "user stamps"
            }
        ));
        let error = TableNames::builder()
            .with_sessions("pywire_auth_users")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("users"), "{error}");
    }

    #[test]
    fn long_names_get_short_distinct_index_names() {
        let base = "s".repeat(MAX_TABLE_NAME_LEN - 1);
        let names = TableNames::builder()
            .with_sessions(&format!("{base}1"))
            .with_provider_links(&format!("{base}2"))
            .build()
            .unwrap();
        let indexes = names.indexes();
        for index in &indexes {
            assert!(index.len() <= MAX_TABLE_NAME_LEN, "{index}");
        }
        assert_ne!(indexes[1], indexes[2]);
        assert_ne!(indexes[2], indexes[3]);
    }
}
