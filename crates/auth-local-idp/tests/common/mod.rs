//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::MemoryStore;
use auth_core::throttle::MemoryThrottle;
use auth_local_idp::{Argon2Hasher, LocalIdP, TokenIssuer};
use serde_json::Value;

/// A 64-byte test secret.
pub const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef0123456789abcdef";

/// The fixtures made once by `fixtures/make_fixtures.py`.
pub fn python() -> Value {
    serde_json::from_str(include_str!("../fixtures/python.json")).expect("fixture JSON")
}

/// One string field of the Python fixture.
pub fn fixture(name: &str) -> String {
    python()[name]
        .as_str()
        .unwrap_or_else(|| panic!("fixture {name}"))
        .to_owned()
}

/// A hasher with tiny parameters, so debug-build tests run fast, and a
/// long queue, so the tests that race many calls at once are not refused.
pub fn fast_hasher() -> Argon2Hasher {
    Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .with_queue_capacity(1024)
        .build()
        .expect("valid params")
}

/// A unique email per call, so tests never share accounts.
pub fn email() -> String {
    format!("user-{}@example.com", uuid::Uuid::new_v4())
}

/// A provider over a fresh memory store with fast hashing and the given
/// email throttle limit.
pub fn idp_with(store: Arc<MemoryStore>, email_limit: u32) -> LocalIdP {
    let tokens = TokenIssuer::hs256(SECRET).build().expect("issuer");
    LocalIdP::builder(store, tokens)
        .with_hasher(fast_hasher())
        .with_email_throttle(Arc::new(MemoryThrottle::new(
            email_limit,
            Duration::from_secs(600),
        )))
        .build()
        .expect("idp")
}

/// A provider over a fresh memory store with fast hashing.
pub fn idp() -> (LocalIdP, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    (idp_with(Arc::clone(&store), 1000), store)
}
