//! In-memory [`AuthStore`](crate::AuthStore) and
//! [`SessionBackend`](crate::SessionBackend): for tests, examples and
//! single-process demos. Everything is lost when the process exits.

mod one_time;
mod session;
mod store;

pub use one_time::MemoryTokenStore;
pub use session::MemorySessionBackend;
pub use store::MemoryStore;
