//! The one list of checks per suite, and what is stamped out of it: the
//! `*_checks` modules (one function per check), the `*_conformance`
//! functions (every check in turn) and the `*_conformance_tests!` macros
//! (one `#[tokio::test]` per check).
//!
//! Adding a check to a suite is one line in [`__testkit_checks!`]: the check
//! function, its public wrapper, its place in the whole-suite run and a test
//! in every backend that uses the macro all follow from it.

/// The checks of each suite, in the order its `*_conformance` function runs
/// them. Each line reads `name(target, ids) => call`: `call` runs the check
/// against `target` (the backend under test), with `ids` the fresh
/// [`Ids`](crate::testkit::Ids) of one run.
///
/// Expands to `$then! { $args Trait; lines.. }`, so one list feeds every
/// generator below.
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_checks {
    (store, $then:ident $args:tt) => {
        $crate::$then! { $args $crate::AuthStore;
            create_and_get(s, ids) => $crate::testkit::store::create_and_get(s, ids),
            find_by_provider(s, ids) => $crate::testkit::store::find_by_provider(s, ids),
            links_of(s, ids) => $crate::testkit::store::links_of(s, ids),
            conflict_on_user_id(s, ids) => $crate::testkit::store_conflict::conflict_on_user_id(s, ids),
            conflict_on_link(s, ids) => $crate::testkit::store_conflict::conflict_on_link(s, ids),
            update_user_partial(s, ids) => $crate::testkit::store::update_user_partial(s, ids),
            update_claims_semantics(s, ids) => $crate::testkit::store::update_claims_semantics(s, ids),
            not_found_for_unknown_user(s, ids) => $crate::testkit::store::not_found_for_unknown_user(s, ids),
            password_hashes(s, ids) => $crate::testkit::store::password_hashes(s, ids),
            delete_user(s, ids) => $crate::testkit::store_delete::delete_user(s, ids),
            link_provider_rules(s, ids) => $crate::testkit::store_conflict::link_provider_rules(s, ids),
            unlink_frees_the_pair(s, ids) => $crate::testkit::store_unlink::unlink_frees_the_pair(s, ids),
            unlink_leaves_other_users_pairs(s, ids) => $crate::testkit::store_unlink::unlink_leaves_other_users_pairs(s, ids),
            unlink_unknown_user(s, ids) => $crate::testkit::store_unlink::unlink_unknown_user(s, ids),
            invalid_unlinks(s, ids) => $crate::testkit::store_unlink::invalid_unlinks(s, ids),
            invalid_creates(s, ids) => $crate::testkit::store_invalid::invalid_creates(s, ids),
            invalid_changes(s, ids) => $crate::testkit::store_invalid::invalid_changes(s, ids),
            invalid_lookups(s, _ids) => $crate::testkit::store_invalid::invalid_lookups(s),
            exact_comparison(s, ids) => $crate::testkit::store_input::exact_comparison(s, ids),
            unicode_and_long_values(s, ids) => $crate::testkit::store_input::unicode_and_long_values(s, ids),
            extras_round_trip(s, ids) => $crate::testkit::store_input::extras_round_trip(s, ids),
            concurrent_claim_changes(s, ids) => $crate::testkit::store_input::concurrent_claim_changes(s, ids),
            concurrent_creates(s, ids) => $crate::testkit::store_input::concurrent_creates(s, ids),
        }
    };
    (session, $then:ident $args:tt) => {
        $crate::$then! { $args $crate::SessionBackend;
            expiry(b, ids) => $crate::testkit::session::expiry(b, &ids.user("expiry")),
            round_trip(b, ids) => $crate::testkit::session::round_trip(b, &ids.user("round-trip")),
            missing(b, _ids) => $crate::testkit::session::missing(b),
            update_only_if_present(b, ids) => $crate::testkit::session::update_only_if_present(b, &ids.user("update")),
            delete_twice(b, ids) => $crate::testkit::session::delete_twice(b, &ids.user("delete")),
            user_index(b, ids) => $crate::testkit::session::user_index(b, &ids.user("index-1"), &ids.user("index-2")),
            anonymous_not_indexed(b, ids) => $crate::testkit::session::anonymous_not_indexed(b, &ids.user("anonymous")),
            stamps(b, ids) => $crate::testkit::session::stamps(b, &ids.user("stamp"), &ids.user("stamp-other")),
            malformed_user_ids(b, _ids) => $crate::testkit::session::malformed_user_ids(b),
        }
    };
    (one_time_token, $then:ident $args:tt) => {
        $crate::$then! { $args $crate::testkit::TokenStoreWithUsers;
            taken_once(s, ids) => $crate::testkit::one_time::taken_once($crate::testkit::one_time::Target::with_users(s), ids),
            purpose_and_expiry(s, ids) => $crate::testkit::one_time::purpose_and_expiry($crate::testkit::one_time::Target::with_users(s), ids),
            newest_of_a_kind(s, ids) => $crate::testkit::one_time::newest_of_a_kind($crate::testkit::one_time::Target::with_users(s), ids),
            conflicts_deletes_and_bad_input(s, ids) => $crate::testkit::one_time::conflicts_deletes_and_bad_input($crate::testkit::one_time::Target::with_users(s), ids),
            concurrent_takes(s, ids) => $crate::testkit::one_time::concurrent_takes($crate::testkit::one_time::Target::with_users(s), ids),
            concurrent_saves(s, ids) => $crate::testkit::one_time::concurrent_saves($crate::testkit::one_time::Target::with_users(s), ids),
            unknown_user(s, ids) => $crate::testkit::one_time::unknown_user(s, ids),
            deleted_user(s, ids) => $crate::testkit::one_time::deleted_user(s, ids),
        }
    };
    (second_factor, $then:ident $args:tt) => {
        $crate::$then! { $args $crate::testkit::FactorStoreWithUsers;
            totp_enrolment(s, ids) => $crate::testkit::second_factor::totp_enrolment(s, ids),
            steps_used_once(s, ids) => $crate::testkit::second_factor::steps_used_once(s, ids),
            concurrent_steps(s, ids) => $crate::testkit::second_factor::concurrent_steps(s, ids),
            recovery_codes(s, ids) => $crate::testkit::second_factor::recovery_codes(s, ids),
            concurrent_codes(s, ids) => $crate::testkit::second_factor::concurrent_codes(s, ids),
            bad_input(s, ids) => $crate::testkit::second_factor::bad_input(s, ids),
            unknown_user(s, ids) => $crate::testkit::second_factor::unknown_user(s, ids),
            deleted_user(s, ids) => $crate::testkit::second_factor::deleted_user(s, ids),
        }
    };
    (admin, $then:ident $args:tt) => {
        $crate::$then! { $args $crate::testkit::AdminStore;
            audit_round_trip(s, ids) => $crate::testkit::admin::audit_round_trip(s, ids),
            audit_all_users_newest_first(s, ids) => $crate::testkit::admin::audit_all_users_newest_first(s, ids),
            audit_invalid_entries(s, ids) => $crate::testkit::admin::audit_invalid_entries(s, ids),
            audit_outlives_user(s, ids) => $crate::testkit::admin::audit_outlives_user(s, ids),
            users_in_pages(s, ids) => $crate::testkit::admin::users_in_pages(s, ids),
        }
    };
    (channel, $then:ident $args:tt) => {
        $crate::$then! { $args $crate::AuthChannel;
            every_event_kind(c, ids) => $crate::testkit::channel::every_event_kind(c, &ids.user("kinds")),
            provided_methods(c, ids) => $crate::testkit::channel::provided_methods(c, &ids.user("provided")),
            many_subscribers(c, ids) => $crate::testkit::channel::many_subscribers(c, &ids.user("many")),
            other_users_hear_nothing(c, ids) => $crate::testkit::channel::other_users_hear_nothing(c, &ids.user("speaker"), &ids.user("listener")),
            no_subscribers(c, ids) => $crate::testkit::channel::no_subscribers(c, &ids.user("nobody")),
            dropped_subscription(c, ids) => $crate::testkit::channel::dropped_subscription(c, &ids.user("dropped")),
        }
    };
}

/// Stamps out one public function per check, running it under fresh ids.
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_check_fns {
    (($suite:literal) $trait:path; $($name:ident($t:ident, $ids:ident) => $call:expr),* $(,)?) => {
        $(
            #[doc = concat!(
                "Runs the `", stringify!($name), "` check of the ", $suite,
                " suite against `target`, under fresh ids.\n\n# Panics\n\n",
                "When `target` breaks the contract this check covers."
            )]
            pub async fn $name($t: &dyn $trait) {
                let $ids = &$crate::testkit::Ids::new();
                $call.await;
            }
        )*
    };
}

/// Runs every check of a suite against `$target`, in turn or concurrently.
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_run_all {
    (($module:ident, $target:ident) $trait:path; $($name:ident($t:ident, $ids:ident) => $call:expr),* $(,)?) => {
        $( $crate::testkit::$module::$name($target).await; )*
    };
    ((concurrently $module:ident, $target:ident) $trait:path; $($name:ident($t:ident, $ids:ident) => $call:expr),* $(,)?) => {
        ::futures_util::join!($( $crate::testkit::$module::$name($target) ),*);
    };
}

/// Stamps out one `#[tokio::test]` per check over the backend `$make`
/// evaluates to (an `Option`, `None` to skip).
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_tests {
    (($module:ident, $make:expr) $trait:path; $($name:ident($t:ident, $ids:ident) => $call:expr),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(target) = $make else { return };
                $crate::testkit::$module::$name(&target).await;
            }
        )*
    };
}

/// One `#[tokio::test]` per check of the [`AuthStore`](crate::AuthStore)
/// suite, so a failure names its check.
///
/// The argument is an expression, evaluated afresh in every test (it may
/// `.await`), giving `Option<S>` for a store type `S`: `None` skips the
/// test, as [`services`](crate::testkit::services) does for a service left
/// out. Invoke it inside a module named after the backend; the tests are
/// named after the checks (`postgres::create_and_get`). The crate needs
/// `tokio` with the `macros` and `rt-multi-thread` features.
///
/// ```
/// mod memory {
///     use auth_core::memory::MemoryStore;
///
///     auth_core::store_conformance_tests!(Some(MemoryStore::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::__testkit_checks!(store, __testkit_tests(store_checks, $make));
    };
}

/// One `#[tokio::test]` per check of the
/// [`SessionBackend`](crate::SessionBackend) suite; used like
/// [`store_conformance_tests!`].
///
/// ```
/// mod memory {
///     use auth_core::memory::MemorySessionBackend;
///
///     auth_core::session_conformance_tests!(Some(MemorySessionBackend::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! session_conformance_tests {
    ($make:expr) => {
        $crate::__testkit_checks!(session, __testkit_tests(session_checks, $make));
    };
}

/// One `#[tokio::test]` per check of the one-time token suite, over a
/// store of users and their tokens (a type that is both an
/// [`AuthStore`](crate::AuthStore) and a
/// [`OneTimeTokenStore`](crate::OneTimeTokenStore)); used like
/// [`store_conformance_tests!`].
///
/// ```
/// mod memory {
///     use auth_core::memory::MemoryStore;
///
///     auth_core::one_time_token_conformance_tests!(Some(MemoryStore::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! one_time_token_conformance_tests {
    ($make:expr) => {
        $crate::__testkit_checks!(
            one_time_token,
            __testkit_tests(one_time_token_checks, $make)
        );
    };
}

/// One `#[tokio::test]` per check of the second-factor suite, over a
/// store of users and their factors (a type that is both an
/// [`AuthStore`](crate::AuthStore) and a
/// [`SecondFactorStore`](crate::SecondFactorStore)); used like
/// [`store_conformance_tests!`].
///
/// ```
/// mod memory {
///     use auth_core::memory::MemoryStore;
///
///     auth_core::second_factor_conformance_tests!(Some(MemoryStore::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! second_factor_conformance_tests {
    ($make:expr) => {
        $crate::__testkit_checks!(second_factor, __testkit_tests(second_factor_checks, $make));
    };
}

/// One `#[tokio::test]` per check of the admin suite, over a store of
/// users with its audit log and directory (a type that is an
/// [`AuthStore`](crate::AuthStore), an [`AuditLog`](crate::AuditLog) and a
/// [`UserDirectory`](crate::UserDirectory)); used like
/// [`store_conformance_tests!`].
///
/// ```
/// mod memory {
///     use auth_core::memory::MemoryStore;
///
///     auth_core::admin_conformance_tests!(Some(MemoryStore::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! admin_conformance_tests {
    ($make:expr) => {
        $crate::__testkit_checks!(admin, __testkit_tests(admin_checks, $make));
    };
}

/// One `#[tokio::test]` per check of the [`AuthChannel`](crate::AuthChannel)
/// suite; used like [`store_conformance_tests!`].
///
/// ```
/// mod memory {
///     use auth_channel_memory::MemoryChannel;
///
///     auth_core::channel_conformance_tests!(Some(MemoryChannel::new()));
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! channel_conformance_tests {
    ($make:expr) => {
        $crate::__testkit_checks!(channel, __testkit_tests(channel_checks, $make));
    };
}

/// The checks of [`store_conformance`](super::store_conformance), one
/// function each.
pub mod store_checks {
    crate::__testkit_checks!(store, __testkit_check_fns("store"));
}

/// The checks of [`session_conformance`](super::session_conformance), one
/// function each.
pub mod session_checks {
    crate::__testkit_checks!(session, __testkit_check_fns("session"));
}

/// The checks of [`one_time_token_conformance`](super::one_time_token_conformance),
/// one function each.
pub mod one_time_token_checks {
    crate::__testkit_checks!(one_time_token, __testkit_check_fns("one-time token"));
}

/// The checks of [`second_factor_conformance`](super::second_factor_conformance),
/// one function each.
pub mod second_factor_checks {
    crate::__testkit_checks!(second_factor, __testkit_check_fns("second factor"));
}

/// The checks of [`admin_conformance`](super::admin_conformance), one
/// function each.
pub mod admin_checks {
    crate::__testkit_checks!(admin, __testkit_check_fns("admin"));
}

/// The checks of [`channel_conformance`](super::channel_conformance), one
/// function each.
pub mod channel_checks {
    crate::__testkit_checks!(channel, __testkit_check_fns("channel"));
}
