//! Latency per operation of the SQL store and session backend, on each
//! database, one call at a time: median and p99 over `AUTH_BENCH_OPS`
//! (default 2,000) calls per operation, with the in-memory store and session
//! backend of `auth-core` measured in the same run as the baseline.
//!
//! Run with:
//!
//! ```text
//! AUTH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! AUTH_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//! cargo bench -p auth-store-seaorm --bench latency --all-features
//! ```
//!
//! A database whose URL is unset is left out (SQLite always runs, as a
//! file in the temp directory).

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::memory::{MemorySessionBackend, MemoryStore};
use auth_core::{
    AuthStore, Claim, ClaimChange, NewUser, PasswordHash, Principal, SessionBackend, SessionKey,
    SessionRecord, SessionToken,
};
use auth_store_seaorm::{SeaOrmAuthStore, SeaOrmSessionBackend};

const OPERATIONS: [&str; 6] = [
    "create_user",
    "get_user",
    "find_by_provider",
    "update_claims",
    "session save",
    "session load",
];

struct Target {
    name: String,
    store: Arc<dyn AuthStore>,
    sessions: Arc<dyn SessionBackend>,
}

/// Median and 99th percentile of `samples`, in microseconds.
fn summarize(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| {
        // Nearest rank; the casts are of small, non-negative counts.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((samples.len() as f64) * q).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1].as_secs_f64() * 1e6
    };
    (at(0.50), at(0.99))
}

/// A small xorshift, so that reads hit rows in no particular order without
/// a dependency.
struct Picker(u64);

impl Picker {
    fn pick(&mut self, len: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % u64::try_from(len).expect("len fits")).expect("index fits")
    }
}

async fn measure(target: &Target, ops: usize) -> Vec<(&'static str, f64, f64)> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let hash =
        PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
    let mut pick = Picker(0x9E37_79B9_7F4A_7C15);
    let mut results = Vec::new();
    let mut samples = Vec::with_capacity(ops);

    // Warm the pool and create the tables outside the measurements.
    let warm = format!("bench:{run}:warm");
    target
        .store
        .create_user(NewUser::new(&warm).with_link("bench", &warm))
        .await
        .expect("warm-up create");
    target
        .sessions
        .user_stamp(&warm)
        .await
        .expect("warm-up stamp");

    let ids: Vec<String> = (0..ops).map(|i| format!("bench:{run}:{i}")).collect();
    let emails: Vec<String> = (0..ops)
        .map(|i| format!("u{i}-{run}@example.com"))
        .collect();
    for (id, email) in ids.iter().zip(&emails) {
        let user = NewUser::new(id)
            .with_email(email)
            .with_name("Bench User")
            .with_claims(vec![Claim::new("role", "user"), Claim::new("email", email)])
            .with_password_hash(hash.clone())
            .with_link("local", email);
        let start = Instant::now();
        target.store.create_user(user).await.expect("create_user");
        samples.push(start.elapsed());
    }
    let (median, p99) = summarize(&mut samples);
    results.push((OPERATIONS[0], median, p99));

    samples.clear();
    for _ in 0..ops {
        let id = &ids[pick.pick(ops)];
        let start = Instant::now();
        let user = target.store.get_user(id).await.expect("get_user");
        samples.push(start.elapsed());
        assert!(user.is_some());
    }
    let (median, p99) = summarize(&mut samples);
    results.push((OPERATIONS[1], median, p99));

    samples.clear();
    for _ in 0..ops {
        let email = &emails[pick.pick(ops)];
        let start = Instant::now();
        let user = target
            .store
            .find_by_provider("local", email)
            .await
            .expect("find_by_provider");
        samples.push(start.elapsed());
        assert!(user.is_some());
    }
    let (median, p99) = summarize(&mut samples);
    results.push((OPERATIONS[2], median, p99));

    samples.clear();
    for i in 0..ops {
        let id = &ids[pick.pick(ops)];
        let change = ClaimChange::Set(Claim::new(format!("perm-{}", i % 8), "yes"));
        let start = Instant::now();
        target
            .store
            .update_claims(id, change)
            .await
            .expect("update_claims");
        samples.push(start.elapsed());
    }
    let (median, p99) = summarize(&mut samples);
    results.push((OPERATIONS[3], median, p99));

    results.extend(measure_sessions(target, &ids, &mut pick).await);
    results
}

async fn measure_sessions(
    target: &Target,
    ids: &[String],
    pick: &mut Picker,
) -> Vec<(&'static str, f64, f64)> {
    let ops = ids.len();
    let mut results = Vec::new();
    let mut samples = Vec::with_capacity(ops);
    let keys: Vec<SessionKey> = (0..ops).map(|_| SessionToken::generate().key()).collect();
    for (i, key) in keys.iter().enumerate() {
        let user = &ids[i];
        let principal = Principal::authenticated(
            user.as_str(),
            "Bench User",
            vec![Claim::new("role", "user")],
        );
        let record = SessionRecord::new(principal, 1);
        let start = Instant::now();
        target
            .sessions
            .save(key, &record, Duration::from_secs(1800))
            .await
            .expect("save");
        samples.push(start.elapsed());
    }
    let (median, p99) = summarize(&mut samples);
    results.push((OPERATIONS[4], median, p99));

    samples.clear();
    for _ in 0..ops {
        let key = &keys[pick.pick(ops)];
        let start = Instant::now();
        let record = target.sessions.load(key).await.expect("load");
        samples.push(start.elapsed());
        assert!(record.is_some());
    }
    let (median, p99) = summarize(&mut samples);
    results.push((OPERATIONS[5], median, p99));
    results
}

async fn targets(sqlite_path: &std::path::Path) -> Vec<Target> {
    let mut out = vec![Target {
        name: "memory (baseline)".to_owned(),
        store: Arc::new(MemoryStore::new()),
        sessions: Arc::new(MemorySessionBackend::new()),
    }];
    let mut urls = vec![(
        "SQLite file".to_owned(),
        format!("sqlite://{}", sqlite_path.display()),
    )];
    urls.push(("SQLite :memory:".to_owned(), "sqlite::memory:".to_owned()));
    for (name, var) in [
        ("PostgreSQL", "AUTH_TEST_POSTGRES_URL"),
        ("MariaDB", "AUTH_TEST_MYSQL_URL"),
    ] {
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => urls.push((name.to_owned(), url)),
            _ => println!("{name}: skipped, {var} is not set"),
        }
    }
    for (name, url) in urls {
        let store = SeaOrmAuthStore::connect(&url).await.expect("connect");
        let sessions: SeaOrmSessionBackend = store.session_backend();
        out.push(Target {
            name,
            store: Arc::new(store),
            sessions: Arc::new(sessions),
        });
    }
    out
}

fn main() {
    let ops: usize = std::env::var("AUTH_BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
        .max(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let sqlite_path = std::env::temp_dir().join(format!(
            "auth-store-seaorm-bench-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        let targets = targets(&sqlite_path).await;
        let mut table = Vec::new();
        for target in &targets {
            table.push((target.name.clone(), measure(target, ops).await));
        }
        let baseline = table[0].1.clone();
        println!("\nlatency per call, one call at a time, {ops} calls per operation");
        println!(
            "{:<18} {:<17} {:>12} {:>12} {:>14}",
            "database", "operation", "median µs", "p99 µs", "median / mem"
        );
        for (name, rows) in &table {
            for ((op, median, p99), (_, base, _)) in rows.iter().zip(&baseline) {
                println!(
                    "{name:<18} {op:<17} {median:>12.1} {p99:>12.1} {:>13.0}x",
                    median / base.max(0.001)
                );
            }
        }
        drop(targets);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_path.display()));
        }
    });
}
