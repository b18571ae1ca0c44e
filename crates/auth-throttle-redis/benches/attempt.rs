//! One throttled attempt: `RedisThrottle` against the Redis at
//! `AUTH_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`), beside the
//! in-process `MemoryThrottle` as the floor.
//!
//! Run with `cargo bench -p auth-throttle-redis`.

use std::hint::black_box;
use std::time::Duration;

use auth_core::throttle::{MemoryThrottle, Throttle};
use auth_throttle_redis::{RedisSettings, RedisThrottle};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn attempt(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let url = std::env::var("AUTH_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
    // A limit no run reaches, so every attempt takes the same path.
    let settings = RedisSettings::new(url).with_prefix(prefix);
    let redis = rt
        .block_on(RedisThrottle::connect(
            &settings,
            u32::MAX,
            Duration::from_secs(60),
        ))
        .expect("Redis at AUTH_TEST_REDIS_URL");
    let memory = MemoryThrottle::new(u32::MAX, Duration::from_secs(60));

    let mut group = c.benchmark_group("throttle_attempt");
    group.throughput(Throughput::Elements(1));
    group.bench_function("redis", |b| {
        b.iter(|| {
            rt.block_on(redis.attempt(black_box("addr:192.0.2.1")))
                .expect("attempt")
        });
    });
    group.bench_function("memory_baseline", |b| {
        b.iter(|| {
            rt.block_on(memory.attempt(black_box("addr:192.0.2.1")))
                .expect("attempt")
        });
    });
    group.finish();
    rt.block_on(redis.reset("addr:192.0.2.1")).expect("reset");
}

mod harness {
    #![allow(missing_docs)]
    use super::{attempt, criterion_group};
    criterion_group!(benches, attempt);
}
criterion_main!(harness::benches);
