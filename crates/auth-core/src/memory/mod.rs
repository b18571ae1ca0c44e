//! In-memory [`AuthStore`](crate::AuthStore),
//! [`SessionBackend`](crate::SessionBackend) and
//! [`OneTimeTokenStore`](crate::OneTimeTokenStore)s: for tests, examples and
//! single-process demos. Everything is lost when the process exits.
//!
//! [`MemoryStore`] keeps users and their one-time tokens together, as the
//! SQL store does; [`MemoryTokenStore`] keeps tokens on their own.

mod one_time;
mod session;
mod store;

pub use one_time::MemoryTokenStore;
pub use session::MemorySessionBackend;
pub use store::{MEMORY_AUDIT_LIMIT, MemoryStore};
