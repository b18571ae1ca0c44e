//! `pywire_auth_recovery_codes`: the unused recovery codes of users, as
//! keyed hashes.

#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// A row of `pywire_auth_recovery_codes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pywire_auth_recovery_codes")]
pub struct Model {
    /// Whose code it is; a foreign key to the users table that deletes the
    /// row with its user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The keyed hash of the code, 64 lowercase hex characters: never the
    /// code itself.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: String,
    /// When the code was stored, in Unix seconds.
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
