//! In-memory [`AuthStore`](crate::AuthStore) and
//! [`SessionBackend`](crate::SessionBackend): for tests, examples and
//! single-process demos. Everything is lost when the process exits.

mod session;
mod store;

pub use session::MemorySessionBackend;
pub use store::MemoryStore;
