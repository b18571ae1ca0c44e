//! Cross-worker latency of `RedisAuthChannel`, against a baseline measured
//! in the same run, and the Redis connections a worker holds.
//!
//! Run: `AUTH_TEST_REDIS_URL=redis://127.0.0.1:6379 cargo bench -p
//! auth-channel-redis --bench latency` (the URL defaults to that).
//!
//! Two channel instances with one prefix stand for two workers: A
//! publishes, B's subscribers receive, so every event goes A's publisher
//! connection → Redis → B's subscriber connection → B's local fan-out, the
//! same path as between two processes (loopback TCP both ways).
//!
//! - `redis/N`: from just before `A.publish` until the LAST of N
//!   subscribers of one user on B has received the event. Each subscriber is
//!   a task on a 2-worker multi-thread tokio runtime awaiting its stream; on
//!   receipt it decrements a shared counter, and the one that reaches zero
//!   notifies the publisher. One sample per publish; the next publish waits
//!   for the previous one to arrive.
//! - `memory/N`: the baseline, the same measurement through one in-process
//!   `MemoryChannel` (what a single worker does).
//! - `ping`: one Redis `PING` round trip on A's client kind of connection,
//!   the floor of any Redis hop.
//! - Connections: B with 1,000 open subscriptions (1,000 tabs over 100
//!   users), counted in `CLIENT LIST` by the channel's connection names.

#![allow(missing_docs, clippy::print_stdout, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_channel_memory::MemoryChannel;
use auth_channel_redis::fred::clients::Client;
use auth_channel_redis::fred::interfaces::{ClientInterface, ClientLike};
use auth_channel_redis::fred::types::Builder;
use auth_channel_redis::fred::types::config::Config;
use auth_channel_redis::{RedisAuthChannel, RedisSettings};
use auth_core::{AuthChannel, AuthEvent, Claim, Principal};
use futures_util::StreamExt;
use tokio::sync::Notify;

const USER: &str = "local:1";

fn event() -> AuthEvent {
    AuthEvent::update(Principal::authenticated(
        USER,
        "Ada Lovelace",
        vec![Claim::new("role", "admin"), Claim::new("team", "engines")],
    ))
}

/// The `per_mille` (0..=1000) quantile of sorted samples, nearest rank.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    let rank = (per_mille * (sorted.len() - 1) + 500) / 1000;
    sorted[rank.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Publishes `samples` events through `publisher` and returns, sorted, the
/// time until all `n` subscribers of `receiver` got each.
async fn measure(
    publisher: &dyn AuthChannel,
    receiver: &dyn AuthChannel,
    n: usize,
    warmup: usize,
    samples: usize,
) -> Vec<Duration> {
    let remaining = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(Notify::new());
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = receiver.subscribe(USER).await.expect("subscribe");
        let (remaining, done) = (Arc::clone(&remaining), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            while stream.next().await.is_some() {
                if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                    done.notify_one();
                }
            }
        }));
    }
    let mut out = Vec::with_capacity(samples);
    for i in 0..warmup + samples {
        remaining.store(n, Ordering::Release);
        let started = Instant::now();
        publisher.publish(USER, event()).await.expect("publish");
        tokio::time::timeout(Duration::from_secs(10), done.notified())
            .await
            .expect("every subscriber received within 10 s");
        if i >= warmup {
            out.push(started.elapsed());
        }
    }
    for task in tasks {
        task.abort();
    }
    out.sort();
    out
}

async fn raw_client(url: &str) -> Client {
    let client = Builder::from_config(Config::from_url(url).expect("a Redis URL"))
        .build()
        .expect("a client");
    client.init().await.expect("connect to Redis");
    client
}

fn report(name: &str, sorted: &[Duration]) -> (Duration, Duration) {
    let (p50, p99) = (percentile(sorted, 500), percentile(sorted, 990));
    println!(
        "{name:<14} samples {:>5}  p50 {:>8.1} µs  p99 {:>8.1} µs  max {:>8.1} µs",
        sorted.len(),
        micros(p50),
        micros(p99),
        micros(sorted[sorted.len() - 1]),
    );
    (p50, p99)
}

fn main() {
    let url = std::env::var("AUTH_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let prefix = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let settings = RedisSettings::new(url.as_str()).with_prefix(prefix.as_str());
        let connect = || RedisAuthChannel::connect(&settings);
        let a = connect().await.expect("connect worker A");
        let b = connect().await.expect("connect worker B");
        let raw = raw_client(&url).await;

        let mut pings = Vec::new();
        for _ in 0..2_000 {
            let started = Instant::now();
            let _: String = raw.ping(None).await.expect("PING");
            pings.push(started.elapsed());
        }
        pings.sort();
        println!("Redis at {url}; 2-worker tokio runtime");
        report("ping", &pings);

        for (n, samples) in [(1, 2_000), (1_000, 500)] {
            let memory = MemoryChannel::new();
            let base = measure(&memory, &memory, n, 100, samples).await;
            let redis = measure(&a, &b, n, 100, samples).await;
            let (m50, m99) = report(&format!("memory/{n}"), &base);
            let (r50, r99) = report(&format!("redis/{n}"), &redis);
            println!(
                "{:<14} redis/memory  p50 x{:.1}  p99 x{:.1}",
                "",
                r50.as_secs_f64() / m50.as_secs_f64(),
                r99.as_secs_f64() / m99.as_secs_f64()
            );
        }

        let mut tabs = Vec::new();
        for i in 0..1_000 {
            tabs.push(b.subscribe(&format!("local:{}", i % 100)).await.expect("subscribe"));
        }
        let list: String = raw
            .client_list::<String, String>(None, None)
            .await
            .expect("CLIENT LIST");
        let held = [Some(b.subscriber_name()), b.publisher_name()]
            .into_iter()
            .flatten()
            .map(|name| {
                list.lines()
                    .filter(|line| line.split(' ').any(|f| f == format!("name={name}")))
                    .count()
            })
            .sum::<usize>()
            / 2; // A and B share the names; half are B's.
        println!(
            "connections: worker B with {} subscriptions of {} users holds {held} Redis connections (subscriber + publisher)",
            tabs.len(),
            b.local().user_count()
        );
        let _ = raw.quit().await;
    });
}
