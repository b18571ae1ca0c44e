//! `auth_sessions`: the sessions of the SQL session backend.

#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// A row of `auth_sessions`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_sessions")]
pub struct Model {
    /// The session key: a hash of the cookie token, never the token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_key: String,
    /// The signed-in user (indexed), `None` for an anonymous session.
    pub user_id: Option<String>,
    /// The session record as JSON.
    pub record: Option<Json>,
    /// When the session expires, in Unix milliseconds (indexed).
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
