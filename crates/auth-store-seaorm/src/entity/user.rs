//! `pywire_auth_users`: one row per account.

#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// A row of `pywire_auth_users`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pywire_auth_users")]
pub struct Model {
    /// The user id (primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The email (indexed).
    pub email: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// The claims, as JSON.
    pub claims: Option<Json>,
    /// Application data, a JSON object.
    pub extras: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
