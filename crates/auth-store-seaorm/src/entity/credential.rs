//! `pywire_auth_credentials`: the password hash of a user.

#![allow(missing_docs)]

use std::fmt;

use sea_orm::entity::prelude::*;

/// A PHC password hash as stored; its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct StoredHash(pub String);

impl fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredHash(<redacted>)")
    }
}

/// A row of `pywire_auth_credentials`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pywire_auth_credentials")]
pub struct Model {
    /// The user id (primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The PHC string (`$argon2id$v=19$...`).
    pub pw_hash: Option<StoredHash>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
