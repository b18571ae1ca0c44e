//! The conformance kit run against the in-memory implementations: one test
//! per check (`memory_store::create_and_get`, `memory_sessions::expiry`,
//! `memory_tokens::taken_once`), then whole suites run repeatedly and in
//! parallel on one backend.

use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::testkit::{
    admin_conformance, one_time_token_conformance, session_conformance,
    standalone_token_conformance, store_conformance,
};

mod memory_store {
    auth_core::store_conformance_tests!(Some(auth_core::memory::MemoryStore::new()));
}

mod memory_tokens {
    auth_core::one_time_token_conformance_tests!(Some(auth_core::memory::MemoryStore::new()));
}

mod memory_admin {
    auth_core::admin_conformance_tests!(Some(auth_core::memory::MemoryStore::new()));
}

mod memory_factors {
    auth_core::second_factor_conformance_tests!(Some(auth_core::memory::MemoryStore::new()));
}

mod memory_sessions {
    auth_core::session_conformance_tests!(Some(auth_core::memory::MemorySessionBackend::new()));
}

#[tokio::test]
async fn memory_store_conforms_when_run_twice_on_one_store() {
    let store = MemoryStore::new();
    store_conformance(&store).await;
    store_conformance(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_conforms_in_parallel_runs() {
    let store = std::sync::Arc::new(MemoryStore::new());
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store_conformance(store.as_ref()).await })
        })
        .collect();
    for run in runs {
        run.await.expect("a parallel run panicked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_session_backend_conforms_in_parallel_runs() {
    let backend = std::sync::Arc::new(MemorySessionBackend::new());
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move { session_conformance(backend.as_ref()).await })
        })
        .collect();
    for run in runs {
        run.await.expect("a parallel run panicked");
    }
}

#[tokio::test]
async fn memory_token_store_conforms_and_keeps_one_token_per_user_and_purpose() {
    let tokens = auth_core::memory::MemoryTokenStore::new();
    standalone_token_conformance(&tokens).await;
    standalone_token_conformance(&tokens).await;
    assert_eq!(
        tokens.len(),
        0,
        "every token the runs saved was taken or replaced"
    );
    // A flood of requests for one account keeps one token, not one each.
    for _ in 0..1000 {
        let record = auth_core::TokenRecord::new(
            auth_core::TokenPurpose::ResetPassword,
            "local:flooded",
            "state",
            std::time::Duration::from_secs(3600),
        );
        auth_core::OneTimeTokenStore::save_token(
            &tokens,
            &auth_core::OneTimeToken::generate().hash(),
            &record,
        )
        .await
        .expect("saved");
    }
    assert_eq!(tokens.len(), 1);
}

/// The memory store's tokens belong to its users: the whole suite, user
/// rules included, twice at once on one store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_tokens_conform_in_parallel_runs() {
    let store = MemoryStore::new();
    futures_util::future::join(
        one_time_token_conformance(&store),
        one_time_token_conformance(&store),
    )
    .await;
}

/// The audit log and directory suite, twice at once on one store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_admin_conforms_in_parallel_runs() {
    let store = MemoryStore::new();
    futures_util::future::join(admin_conformance(&store), admin_conformance(&store)).await;
}

#[tokio::test]
async fn memory_factors_conform_when_run_twice_at_once() {
    let store = MemoryStore::new();
    futures_util::future::join(
        auth_core::testkit::second_factor_conformance(&store),
        auth_core::testkit::second_factor_conformance(&store),
    )
    .await;
}
