//! `pywire_auth_totp_secrets`: at most one sealed TOTP secret per user.

#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// A row of `pywire_auth_totp_secrets`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pywire_auth_totp_secrets")]
pub struct Model {
    /// Whose secret it is (primary key); a foreign key to the users table
    /// that deletes the row with its user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The secret sealed with a key the application derives from its own
    /// secret: never the secret itself.
    pub secret: String,
    /// When enrolment was confirmed (Unix seconds); null while pending.
    pub confirmed_at: Option<i64>,
    /// The last time step a code was accepted for.
    pub last_step: Option<i64>,
    /// When the secret was stored, in Unix seconds.
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
