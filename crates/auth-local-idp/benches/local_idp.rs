//! Benchmarks of the local IdP: Argon2id hash and verify at the default
//! parameters and at the Python original's, logins through the provider
//! (right password, wrong password, unknown email, and 32 at once), JWT
//! issue + verify round trips, and the password policy's common-password
//! lookup.
//!
//! Run with `cargo bench -p auth-local-idp`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::MemoryStore;
use auth_core::throttle::MemoryThrottle;
use auth_local_idp::{
    Argon2Hasher, CommonPasswords, LocalIdP, PasswordPolicy, Registration, TokenIssuer,
    Verification,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, json};
use tokio::runtime::Runtime;

const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// (label, m KiB, t, p)
const PARAMS: [(&str, u32, u32, u32); 4] = [
    ("default_m19456_t3_p1", 19_456, 3, 1),
    ("owasp_min_m19456_t2_p1", 19_456, 2, 1),
    ("owasp_min_m47104_t1_p1", 47_104, 1, 1),
    ("python_m65536_t3_p4", 65_536, 3, 4),
];

fn argon2(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("argon2");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    for (label, m, t, p) in PARAMS {
        let hasher = Argon2Hasher::builder()
            .with_params(m, t, p)
            .build()
            .expect("valid params");
        let hash = rt.block_on(hasher.hash(PASSWORD)).expect("hash");
        group.bench_function(format!("hash/{label}"), |b| {
            b.iter(|| rt.block_on(hasher.hash(black_box(PASSWORD))).expect("hash"));
        });
        group.bench_function(format!("verify/{label}"), |b| {
            b.iter(|| {
                let outcome = rt
                    .block_on(hasher.verify(black_box(PASSWORD), &hash))
                    .expect("verify");
                assert!(matches!(outcome, Verification::Match { .. }));
            });
        });
    }
    group.finish();
}

fn idp(rt: &Runtime) -> Arc<LocalIdP> {
    let tokens = TokenIssuer::hs256(SECRET).build().expect("issuer");
    let unlimited = || Arc::new(MemoryThrottle::new(u32::MAX, Duration::from_secs(1)));
    let idp = LocalIdP::builder(Arc::new(MemoryStore::new()), tokens)
        .with_email_throttle(unlimited())
        .with_address_throttle(unlimited())
        .build()
        .expect("idp");
    rt.block_on(idp.create_user(Registration::new("ada@example.com", PASSWORD)))
        .expect("register");
    Arc::new(idp)
}

fn login(c: &mut Criterion) {
    let rt = runtime();
    let idp = idp(&rt);
    let mut group = c.benchmark_group("login");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("right_password", |b| {
        b.iter(|| {
            rt.block_on(idp.verify_credentials("ada@example.com", PASSWORD))
                .expect("login")
        });
    });
    group.bench_function("wrong_password", |b| {
        b.iter(|| {
            rt.block_on(idp.verify_credentials("ada@example.com", "wrong password"))
                .expect_err("refused")
        });
    });
    group.bench_function("unknown_email", |b| {
        b.iter(|| {
            rt.block_on(idp.verify_credentials("nobody@example.com", "wrong password"))
                .expect_err("refused")
        });
    });
    // 32 clients at once; the hasher runs as many as there are CPUs.
    group.throughput(Throughput::Elements(32));
    group.bench_function("storm_32_concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let logins = (0..32).map(|_| {
                    let idp = Arc::clone(&idp);
                    tokio::spawn(async move {
                        idp.verify_credentials("ada@example.com", PASSWORD).await
                    })
                });
                for login in futures_join(logins).await {
                    login.expect("task").expect("login");
                }
            });
        });
    });
    group.finish();
}

async fn futures_join<T>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await);
    }
    out
}

fn jwt(c: &mut Criterion) {
    let mut group = c.benchmark_group("jwt");
    group.throughput(Throughput::Elements(1));
    let mut claims = Map::new();
    claims.insert("name".into(), json!("Ada"));
    claims.insert("claims".into(), json!([{"type": "role", "value": "admin"}]));
    let hs = TokenIssuer::hs256(SECRET).build().expect("issuer");
    group.bench_function("hs256_issue_verify", |b| {
        b.iter(|| {
            let token = hs.issue("local:42", &claims, None).expect("issue");
            hs.verify(black_box(&token)).expect("verify")
        });
    });
    let pem = include_str!("../tests/fixtures/test_rsa_private.pem");
    let rs = TokenIssuer::rs256_pem(pem).build().expect("issuer");
    group.sample_size(20);
    group.bench_function("rs256_issue_verify", |b| {
        b.iter(|| {
            let token = rs.issue("local:42", &claims, None).expect("issue");
            rs.verify(black_box(&token)).expect("verify")
        });
    });
    group.finish();
}

fn passwords(c: &mut Criterion) {
    let mut group = c.benchmark_group("passwords");
    group.throughput(Throughput::Elements(1));
    // Load the list before measuring.
    assert!(CommonPasswords::contains("password"));
    group.bench_function("common_list_hit", |b| {
        b.iter(|| assert!(CommonPasswords::contains(black_box("Password1"))));
    });
    group.bench_function("common_list_miss", |b| {
        b.iter(|| assert!(!CommonPasswords::contains(black_box(PASSWORD))));
    });
    let policy = PasswordPolicy::new();
    group.bench_function("policy_check_pass", |b| {
        b.iter(|| policy.check(black_box(PASSWORD)).expect("passes"));
    });
    group.finish();
}

mod harness {
    #![allow(missing_docs)]
    use super::{argon2, criterion_group, jwt, login, passwords};
    criterion_group!(benches, argon2, login, jwt, passwords);
}
criterion_main!(harness::benches);
