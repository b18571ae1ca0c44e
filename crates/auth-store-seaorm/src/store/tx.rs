//! The queries and transactions behind [`SeaOrmAuthStore`]: each write is
//! one transaction on one pooled connection, from `BEGIN` to `COMMIT`.

use auth_core::{
    ClaimChange, NewUser, PasswordHash, ProviderLink, StoreError, UserRecord, UserUpdate,
};
use sea_orm::{ConnectionTrait, DbErr, Value};

use super::SeaOrmAuthStore;
use super::rows::user_from_row;
use crate::codec::encode_claims;
use crate::db::finish;
use crate::error::{is_unique_violation, store_db, store_error_is_transient};

impl SeaOrmAuthStore {
    pub(super) fn user_columns(&self, alias: &str) -> String {
        format!(
            "{alias}user_id, {alias}email, {alias}name, {}, {}",
            self.db.as_text(&format!("{alias}claims")),
            self.db.as_text(&format!("{alias}extras"))
        )
    }

    /// The user row, locked until the transaction ends when `lock` is set.
    pub(super) async fn select_user<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: &str,
        lock: bool,
    ) -> Result<Option<UserRecord>, StoreError> {
        let users = self.db.tables().users();
        let sql = format!(
            "SELECT {} FROM {users} WHERE user_id = ?{}",
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
    pub(super) async fn user_exists<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: &str,
        lock: bool,
    ) -> Result<bool, StoreError> {
        let users = self.db.tables().users();
        let sql = format!(
            "SELECT user_id FROM {users} WHERE user_id = ?{}",
            if lock { self.db.for_update() } else { "" }
        );
        let row = conn
            .query_one_raw(self.db.stmt(&sql, vec![user_id.into()]))
            .await
            .map_err(store_db("looking a user up"))?;
        Ok(row.is_some())
    }

    pub(super) async fn create_once(
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
            let links = self.db.tables().provider_links();
            let insert_link = format!(
                "INSERT INTO {links} (provider, subject, user_id, claims) VALUES (?, ?, ?, {})",
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
            let users = self.db.tables().users();
            let insert_user = format!(
                "INSERT INTO {users} (user_id, email, name, claims, extras) VALUES (?, ?, ?, {0}, {0})",
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
    pub(super) async fn upsert_hash<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: &str,
        hash: &PasswordHash,
    ) -> Result<(), StoreError> {
        let credentials = self.db.tables().credentials();
        let sql = match self.db.backend() {
            sea_orm::DatabaseBackend::MySql => format!(
                "INSERT INTO {credentials} (user_id, pw_hash) VALUES (?, ?) \
                 ON DUPLICATE KEY UPDATE pw_hash = VALUES(pw_hash)"
            ),
            _ => format!(
                "INSERT INTO {credentials} (user_id, pw_hash) VALUES (?, ?) \
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

    pub(super) async fn update_once(
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
                let users = self.db.tables().users();
                let sql = format!("UPDATE {users} SET {} WHERE user_id = ?", sets.join(", "));
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

    pub(super) async fn claims_once(
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
            let users = self.db.tables().users();
            let sql = format!(
                "UPDATE {users} SET claims = {} WHERE user_id = ?",
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

    pub(super) async fn link_once(
        &self,
        link: &ProviderLink,
        claims: &str,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            if !self.user_exists(&tx, &link.user_id, false).await? {
                return Err(StoreError::NotFound);
            }
            let links = self.db.tables().provider_links();
            let sql = format!(
                "SELECT user_id FROM {links} WHERE provider = ? AND subject = ?{}",
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
                        "UPDATE {links} SET claims = {} WHERE provider = ? AND subject = ?",
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
                        "INSERT INTO {links} (provider, subject, user_id, claims) VALUES (?, ?, ?, {})",
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

    pub(super) async fn set_hash_once(
        &self,
        user_id: &str,
        hash: &PasswordHash,
    ) -> Result<(), StoreError> {
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

    /// Removes the pair from the user in one transaction: `Ok(false)` when
    /// the user exists but the pair is not theirs.
    pub(super) async fn unlink_once(
        &self,
        user_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<bool, StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            if !self.user_exists(&tx, user_id, false).await? {
                return Err(StoreError::NotFound);
            }
            let links = self.db.tables().provider_links();
            let sql =
                format!("DELETE FROM {links} WHERE provider = ? AND subject = ? AND user_id = ?");
            let values = vec![provider.into(), subject.into(), user_id.into()];
            let done = tx
                .execute_raw(self.db.stmt(&sql, values))
                .await
                .map_err(store_db("removing a provider link"))?;
            Ok(done.rows_affected() > 0)
        }
        .await;
        finish(tx, result, store_db("committing a removed provider link")).await
    }

    /// Deletes the user row, its one-time tokens, its second factors, its
    /// credentials and its links in one transaction; the user row is locked first, so a
    /// concurrent link, password or token write either lands before (and
    /// is deleted) or finds no user. The tokens would go with the user by
    /// their foreign key; they are deleted here too so that a SQLite
    /// connection with foreign keys off (one the application built) keeps
    /// the same contract.
    pub(super) async fn delete_once(&self, user_id: &str) -> Result<(), StoreError> {
        let tx = self
            .db
            .begin_write()
            .await
            .map_err(store_db("starting a transaction"))?;
        let result = async {
            if !self.user_exists(&tx, user_id, true).await? {
                return Err(StoreError::NotFound);
            }
            let tables = self.db.tables();
            for table in [
                tables.one_time_tokens(),
                tables.totp_secrets(),
                tables.recovery_codes(),
                tables.provider_links(),
                tables.credentials(),
                tables.users(),
            ] {
                let sql = format!("DELETE FROM {table} WHERE user_id = ?");
                tx.execute_raw(self.db.stmt(&sql, vec![user_id.into()]))
                    .await
                    .map_err(store_db("deleting a user"))?;
            }
            Ok(())
        }
        .await;
        finish(tx, result, store_db("committing a deleted user")).await
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
pub(super) fn link_error_is_retryable(error: &StoreError) -> bool {
    store_error_is_transient(error)
        || matches!(error, StoreError::Backend { source, .. }
            if source.downcast_ref::<DbErr>().is_some_and(is_unique_violation))
}
