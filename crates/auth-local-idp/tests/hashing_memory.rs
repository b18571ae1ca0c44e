//! Resident memory after a hashing flood stays within the documented bound
//! (concurrency x m plus a small base), and the hashing threads end with
//! the hasher. Alone in its own test binary: another test's allocations
//! would disturb the figures read from `/proc/self/status`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_local_idp::{Argon2Hasher, DEFAULT_M_COST, Verification};

/// Hashing threads for the flood.
const CONCURRENCY: usize = 2;
/// Callers in the flood, each hashing then verifying.
const CALLERS: usize = 64;
/// What the process may grow by beyond the workers' Argon2 memory: thread
/// stacks, the runtime, allocator bookkeeping, the hashes themselves.
const SLACK_KIB: u64 = 16 * 1024;

/// A `kB` field of `/proc/self/status` (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// How many threads of this process are named `argon2-<i>`.
fn hashing_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("procfs")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("argon2-"))
        .count()
}

async fn flood(hasher: &Argon2Hasher) {
    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                let password = format!("flood password {i}");
                let hash = hasher.hash(&password).await.expect("hashed");
                let verified = hasher.verify(&password, &hash).await.expect("verified");
                assert_eq!(verified, Verification::Match { rehash: false });
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("no panic");
    }
}

#[test]
fn resident_memory_after_a_flood_stays_within_concurrency_times_m() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let hasher = Argon2Hasher::builder()
        .with_concurrency(CONCURRENCY)
        .with_queue_capacity(4 * CALLERS)
        .build()
        .expect("hasher");
    let hasher = Arc::new(hasher);
    let before = status_kib("VmRSS");
    let started = Instant::now();
    runtime.block_on(flood(&hasher));
    let first = (status_kib("VmRSS"), status_kib("VmHWM"));
    runtime.block_on(flood(&hasher));
    let (rss, hwm) = (status_kib("VmRSS"), status_kib("VmHWM"));
    let bound = CONCURRENCY as u64 * u64::from(DEFAULT_M_COST) + SLACK_KIB;
    println!(
        "{} hashes and verifications in {:?}; VmRSS before {before} kB, after one flood \
         {} kB (peak {} kB), after two {rss} kB (peak {hwm} kB); growth bound {bound} kB",
        4 * CALLERS,
        started.elapsed(),
        first.0,
        first.1,
    );
    assert!(
        hwm.saturating_sub(before) < bound,
        "peak resident memory grew by {} kB, bound {bound} kB",
        hwm - before
    );
    assert!(
        rss.saturating_sub(before) < bound,
        "resident memory grew by {} kB, bound {bound} kB",
        rss - before
    );
    // A second flood reuses the workers' memory rather than adding to it.
    assert!(
        rss <= first.0 + 4 * 1024,
        "the second flood grew VmRSS from {} kB to {rss} kB",
        first.0
    );

    // The hashing threads are named and end once the hasher is dropped.
    assert_eq!(hashing_threads(), CONCURRENCY);
    drop(hasher);
    let deadline = Instant::now() + Duration::from_secs(5);
    while hashing_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        hashing_threads(),
        0,
        "the hashing threads outlived the hasher"
    );
}
