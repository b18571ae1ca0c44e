//! SeaORM entities of the tables, for applications that query them
//! with SeaORM directly (an admin page listing every account, a report).
//!
//! The store itself does not go through these: it writes SQL per backend so
//! that it can lock rows and read JSON columns of any declared type. Claims
//! columns hold either this crate's shape (an array of `{"type", "value"}`)
//! or the Python original's (an object of type to value); read them through
//! [`AuthStore`](auth_core::AuthStore) when in doubt.
//!
//! ```
//! use auth_store_seaorm::entity::user;
//! use auth_store_seaorm::sea_orm::EntityTrait;
//! use auth_store_seaorm::SeaOrmAuthStore;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SeaOrmAuthStore::connect("sqlite::memory:").await?;
//! store.init_schema().await?;
//! let everyone = user::Entity::find().all(store.connection()).await?;
//! assert!(everyone.is_empty());
//! # Ok(()) }
//! ```

pub mod credential;
pub mod one_time_token;
pub mod provider_link;
pub mod recovery_code;
pub mod session;
pub mod totp_secret;
pub mod user;
pub mod user_stamp;
