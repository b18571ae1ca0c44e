//! Conformance suites that every backend runs against itself.
//!
//! One call per trait runs a whole suite and panics, naming the failed
//! check, when the implementation breaks the trait's contract:
//!
//! | suite | holds to the contract of |
//! |---|---|
//! | [`store_conformance`] | [`AuthStore`](crate::AuthStore) |
//! | [`session_conformance`] | [`SessionBackend`](crate::SessionBackend) |
//! | [`channel_conformance`] | [`AuthChannel`](crate::AuthChannel) |
//!
//! Every suite writes under fresh random ids (a UUID per run), so it can run
//! again and again, and in parallel with itself, against one persistent
//! shared database or server. Nothing is cleaned up afterwards: the rows it
//! leaves are few and never collide with a later run.
//!
//! The suites need a Tokio runtime with the time driver enabled (the
//! default of `#[tokio::test]`); they sleep briefly to test expiry and use
//! timeouts so a broken channel fails instead of hanging. The session suite
//! takes about two seconds, the others well under one on an in-memory
//! backend.
//!
//! # Running the kit against a backend
//!
//! Enable the `testkit` feature in your crate's dev-dependencies, then call
//! the suites from a test:
//!
//! ```
//! use auth_core::memory::{MemorySessionBackend, MemoryStore};
//! use auth_core::testkit::{session_conformance, store_conformance};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! // In a backend crate this is a `#[tokio::test]` over the real backend.
//! store_conformance(&MemoryStore::new()).await;
//! session_conformance(&MemorySessionBackend::new()).await;
//! # }
//! ```
//!
//! A channel runs [`channel_conformance`] the same way:
//!
//! ```no_run
//! # async fn check(channel: &dyn auth_core::AuthChannel) {
//! auth_core::testkit::channel_conformance(channel).await;
//! # }
//! ```
//!
//! A failure reads like
//! `store conformance failed at "create conflict on a taken link writes nothing": ...`,
//! with the error chain of the backend when a call failed.

mod channel;
mod one_time;
mod session;
mod store;
mod store_conflict;
mod store_delete;
mod store_input;
mod store_invalid;

pub use channel::channel_conformance;
pub use one_time::one_time_token_conformance;
pub use session::session_conformance;
pub use store::store_conformance;

use std::error::Error as StdError;
use std::fmt::{self, Display, Write as _};

/// A fresh id fragment for one run: 32 lowercase hex characters.
fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
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
