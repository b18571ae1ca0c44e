//! `pywire_auth_provider_links`: (provider, subject) links to users.

#![allow(missing_docs)]

use sea_orm::entity::prelude::*;

/// A row of `pywire_auth_provider_links`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pywire_auth_provider_links")]
pub struct Model {
    /// The provider name, e.g. `local` (primary key, first part).
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    /// The provider's id of the user, the email for `local` (primary key,
    /// second part).
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// The linked user (indexed).
    pub user_id: Option<String>,
    /// Claims the provider asserted, as JSON.
    pub claims: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
