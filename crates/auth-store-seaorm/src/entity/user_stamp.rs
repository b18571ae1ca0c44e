//! `auth_user_stamps`: per-user change stamps of the SQL session backend.

#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// A row of `auth_user_stamps`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_user_stamps")]
pub struct Model {
    /// The user id (primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// The change stamp; only ever raised.
    pub stamp: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
