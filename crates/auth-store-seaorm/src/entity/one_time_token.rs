//! `pywire_auth_one_time_tokens`: the one-time tokens of users, at most one
//! per user and purpose.

#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// A row of `pywire_auth_one_time_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pywire_auth_one_time_tokens")]
pub struct Model {
    /// The SHA-256 of the token, 64 lowercase hex characters (primary key):
    /// never the token itself.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    /// What the token is for: `verify-email`, `reset-password` or
    /// `change-email`.
    pub purpose: String,
    /// Whose token it is (with `purpose`, indexed); a foreign key to the
    /// users table that deletes the token with its user.
    pub user_id: String,
    /// The account state the token was issued for.
    pub binding: String,
    /// Data the flow needs back, such as the new address of an email change.
    pub data: Option<String>,
    /// When the token expires, in Unix seconds.
    pub expires_at: i64,
    /// When the token was saved, in Unix seconds.
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
