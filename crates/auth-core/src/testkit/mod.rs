//! Conformance suites that every backend runs against itself, and where the
//! test services are.
//!
//! Each suite is a list of named checks of one trait's contract:
//!
//! | suite | holds to the contract of | one test per check | the whole suite | one check |
//! |---|---|---|---|---|
//! | store | [`AuthStore`](crate::AuthStore) | [`store_conformance_tests!`](crate::store_conformance_tests) | [`store_conformance`] | [`store_checks`] |
//! | session | [`SessionBackend`](crate::SessionBackend) | [`session_conformance_tests!`](crate::session_conformance_tests) | [`session_conformance`] | [`session_checks`] |
//! | channel | [`AuthChannel`](crate::AuthChannel) | [`channel_conformance_tests!`](crate::channel_conformance_tests) | [`channel_conformance`] | [`channel_checks`] |
//! | admin | [`AuditLog`](crate::AuditLog) and [`UserDirectory`](crate::UserDirectory), in a store of users ([`AdminStore`]) | [`admin_conformance_tests!`](crate::admin_conformance_tests) | [`admin_conformance`] | [`admin_checks`] |
//! | one-time token | [`OneTimeTokenStore`](crate::OneTimeTokenStore), in a store of users ([`TokenStoreWithUsers`]) | [`one_time_token_conformance_tests!`](crate::one_time_token_conformance_tests) | [`one_time_token_conformance`] | [`one_time_token_checks`] |
//! | second factor | [`SecondFactorStore`](crate::SecondFactorStore), in a store of users ([`FactorStoreWithUsers`]) | [`second_factor_conformance_tests!`](crate::second_factor_conformance_tests) | [`second_factor_conformance`] | [`second_factor_checks`] |
//!
//! A token store that keeps no users runs the token checks that need none
//! with [`standalone_token_conformance`].
//!
//! A check panics, naming itself, when the implementation breaks the
//! contract. Every check writes under fresh random ids (a UUID per run), so
//! it can run again and again, and in parallel with itself, against one
//! persistent shared database or server. Nothing is cleaned up afterwards:
//! the rows it leaves are few and never collide with a later run.
//!
//! The checks need a Tokio runtime with the time driver enabled (the
//! default of `#[tokio::test]`); they sleep briefly to test expiry and use
//! timeouts so a broken channel fails instead of hanging. The session
//! suite takes about two seconds, the others well under one on an
//! in-memory backend.
//!
//! [`services`] gives backend tests their server's URL, read at run time,
//! and fails a test whose service is unreachable unless the developer
//! leaves that service out explicitly.
//!
//! # Running the kit against a backend
//!
//! Enable the `testkit` feature in your crate's dev-dependencies, then
//! stamp one test per check, in a module named after the backend (the
//! tests are `memory::create_and_get` and so on, so a failure names its
//! check and its backend):
//!
//! ```
//! mod memory {
//!     use auth_core::memory::{MemorySessionBackend, MemoryStore};
//!
//!     auth_core::store_conformance_tests!(Some(MemoryStore::new()));
//!     auth_core::session_conformance_tests!(Some(MemorySessionBackend::new()));
//! }
//! # fn main() {}
//! ```
//!
//! A backend on a server returns `None` when the service is left out:
//!
//! ```no_run
//! # struct RedisStore;
//! # impl RedisStore { async fn connect(_: &str, _: &str) -> Option<auth_core::memory::MemoryStore> { None } }
//! async fn store() -> Option<auth_core::memory::MemoryStore> {
//!     let url = auth_core::testkit::services::redis_url()?;
//!     RedisStore::connect(&url, &auth_core::testkit::services::unique_prefix("store")).await
//! }
//!
//! mod redis {
//!     auth_core::store_conformance_tests!(super::store().await);
//! }
//! # fn main() {}
//! ```
//!
//! The whole suite also runs as one call, for instance twice at once on one
//! backend:
//!
//! ```
//! use auth_core::memory::{MemorySessionBackend, MemoryStore};
//! use auth_core::testkit::{session_conformance, store_conformance};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let store = MemoryStore::new();
//! futures_util::future::join(store_conformance(&store), store_conformance(&store)).await;
//! session_conformance(&MemorySessionBackend::new()).await;
//! # }
//! ```
//!
//! A failure reads like
//! `store conformance failed at "create conflict on a taken link writes nothing": ...`,
//! with the error chain of the backend when a call failed.

mod admin;
mod channel;
mod checks;
mod one_time;
mod second_factor;
pub mod services;
mod session;
mod store;
mod store_conflict;
mod store_delete;
mod store_input;
mod store_invalid;
mod store_unlink;

pub use admin::{AdminStore, admin_conformance};
pub use channel::channel_conformance;
pub use checks::{
    admin_checks, channel_checks, one_time_token_checks, second_factor_checks, session_checks,
    store_checks,
};
pub use one_time::{TokenStoreWithUsers, one_time_token_conformance, standalone_token_conformance};
pub use second_factor::{FactorStoreWithUsers, second_factor_conformance};
pub use session::session_conformance;
pub use store::store_conformance;

use std::error::Error as StdError;
use std::fmt::{self, Display, Write as _};

/// Fresh ids for one run of a check or a suite.
pub(crate) struct Ids {
    run: String,
}

impl Ids {
    /// A fresh run: 32 lowercase hex characters.
    pub(crate) fn new() -> Self {
        Self {
            run: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// The run's id.
    pub(crate) fn run(&self) -> &str {
        &self.run
    }

    /// A user id unique to this run and `tag`.
    pub(crate) fn user(&self, tag: &str) -> String {
        format!("testkit:{}:{tag}", self.run)
    }

    /// A provider subject unique to this run and `tag`.
    pub(crate) fn subject(&self, tag: &str) -> String {
        format!("{tag}-{}@example.com", self.run)
    }
}

/// A named check of one suite, the unit a failure message names.
#[derive(Clone, Copy)]
struct Check {
    suite: &'static str,
    name: &'static str,
}

impl Check {
    /// Panics with the suite, the check and what went wrong.
    #[track_caller]
    fn fail(self, detail: impl Display) -> ! {
        panic!(
            "{} conformance failed at \"{}\": {detail}",
            self.suite, self.name
        )
    }

    /// Fails unless `condition` holds.
    #[track_caller]
    fn ensure(self, condition: bool, detail: impl Display) {
        if !condition {
            self.fail(detail);
        }
    }

    /// Fails unless `left == right`.
    #[track_caller]
    fn equal<T: PartialEq + fmt::Debug>(self, left: &T, right: &T, what: &str) {
        if left != right {
            self.fail(format_args!("{what}: expected {right:?}, got {left:?}"));
        }
    }

    /// Fails unless `result` is the error `expected` describes.
    #[track_caller]
    fn err<T: fmt::Debug, E: StdError>(
        self,
        result: Result<T, E>,
        is_expected: impl FnOnce(&E) -> bool,
        expected: &str,
        call: &str,
    ) {
        match result {
            Err(error) if is_expected(&error) => {}
            Err(error) => self.fail(format_args!(
                "{call}: expected {expected}, got the error: {}",
                chain(&error)
            )),
            Ok(value) => self.fail(format_args!(
                "{call}: expected {expected}, got Ok({value:?})"
            )),
        }
    }

    /// The value of an `Ok`; fails with the whole error chain otherwise.
    #[track_caller]
    fn ok<T, E: StdError>(self, result: Result<T, E>, call: &str) -> T {
        match result {
            Ok(value) => value,
            Err(error) => self.fail(format_args!("{call} failed: {}", chain(&error))),
        }
    }
}

/// The error and its sources, joined by `: `.
fn chain(error: &dyn StdError) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}
