//! Sessions: the backend trait and the logic every backend shares.

mod backend;
mod manager;

pub(crate) use backend::hex;
pub use backend::{
    FactorProof, PendingSignIn, SessionBackend, SessionKey, SessionRecord, SessionToken, unix_now,
};
pub use manager::{ActiveSession, SessionConfig, Sessions};
