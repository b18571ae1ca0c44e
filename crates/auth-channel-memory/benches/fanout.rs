//! Fan-out latency and memory of `MemoryChannel`, each against a baseline
//! measured in the same run: the same fan-out through
//! `tokio::sync::broadcast` with the same number of receivers.
//!
//! Run: `cargo bench -p auth-channel-memory --bench fanout`.
//!
//! - `fanout/{memory,broadcast}/N`: the time from publish until the LAST of
//!   N subscribers of one user has received the event. Each subscriber is a
//!   task spawned on a 2-worker multi-thread tokio runtime, awaiting its
//!   stream (or `broadcast::Receiver::recv`); on receipt it decrements a
//!   shared counter, and the one that brings it to zero notifies the
//!   publisher. The publisher runs in `block_on` on the bench thread; one
//!   iteration is one publish and the wait for the notification.
//! - `fanout_inline/{memory,broadcast}/N`: the same publish, with all N
//!   streams (receivers) polled by the publishing thread right after it:
//!   the CPU cost of the fan-out without scheduler and wake-up latency.
//! - `subscribe_drop/*`: one subscribe and one unsubscribe for a user with
//!   other subscribers.
//! - `publish_no_subscribers/memory`: the cost of a publish nobody hears.
//! - `contention/shards-{1,16}`: two threads, each cycling subscribe,
//!   publish, receive, drop on its own users; shows what sharding buys.
//! - After criterion, a summary: median fan-out latency of each side over
//!   the same number of interleaved runs and the ratio, and the heap bytes
//!   still allocated after creating 10,000 idle subscriptions divided by
//!   10,000, counted by the global allocator below.
//!
//! The counting allocator wraps every allocation of this binary (both
//! sides alike) with a few atomic adds.

#![allow(clippy::print_stdout, clippy::cast_precision_loss)]

use std::alloc::System;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use auth_channel_memory::MemoryChannel;
use auth_core::{AuthChannel, AuthEvent, Claim, EventStream, Principal};
use criterion::{BenchmarkId, Criterion};
use futures_util::{FutureExt, StreamExt};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::runtime::Runtime;
use tokio::sync::{Notify, broadcast};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const SIZES: [usize; 3] = [1, 100, 10_000];
const USER: &str = "local:1";
const IDLE_SUBSCRIPTIONS: usize = 10_000;

fn event() -> AuthEvent {
    AuthEvent::update(Principal::authenticated(
        USER,
        "Ada Lovelace",
        vec![Claim::new("role", "admin"), Claim::new("team", "engines")],
    ))
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Which channel a rig fans out through.
#[derive(Clone, Copy, Debug)]
enum Side {
    Memory,
    Broadcast,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Broadcast => "broadcast",
        }
    }
}

/// N subscriber tasks of one user, and the means to publish to them and
/// learn when the last one has received.
struct Rig {
    subscribers: usize,
    remaining: Arc<AtomicUsize>,
    done: Arc<Notify>,
    memory: Option<MemoryChannel>,
    broadcast: Option<broadcast::Sender<AuthEvent>>,
    event: AuthEvent,
}

impl Rig {
    fn new(rt: &Runtime, side: Side, subscribers: usize) -> Self {
        let remaining = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(Notify::new());
        let mut rig = Self {
            subscribers,
            remaining: Arc::clone(&remaining),
            done: Arc::clone(&done),
            memory: None,
            broadcast: None,
            event: event(),
        };
        let on_receipt = move |remaining: &AtomicUsize, done: &Notify| {
            if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                done.notify_one();
            }
        };
        match side {
            Side::Memory => {
                let channel = MemoryChannel::new();
                for _ in 0..subscribers {
                    let mut stream: EventStream = rt
                        .block_on(channel.subscribe(USER))
                        .expect("the channel is open");
                    let (remaining, done) = (Arc::clone(&remaining), Arc::clone(&done));
                    rt.spawn(async move {
                        while let Some(event) = stream.next().await {
                            black_box(event);
                            on_receipt(&remaining, &done);
                        }
                    });
                }
                rig.memory = Some(channel);
            }
            Side::Broadcast => {
                let (sender, _) = broadcast::channel(16);
                for _ in 0..subscribers {
                    let mut receiver = sender.subscribe();
                    let (remaining, done) = (Arc::clone(&remaining), Arc::clone(&done));
                    rt.spawn(async move {
                        while let Ok(event) = receiver.recv().await {
                            black_box(event);
                            on_receipt(&remaining, &done);
                        }
                    });
                }
                rig.broadcast = Some(sender);
            }
        }
        // Let every task reach its first await.
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(50)).await });
        rig
    }

    /// Publishes `iters` times, each time waiting until every subscriber has
    /// received; the total time.
    fn run(&self, rt: &Runtime, iters: u64) -> Duration {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                self.once().await;
            }
            start.elapsed()
        })
    }

    /// One publish and the wait for the last receipt.
    async fn once(&self) {
        self.remaining.store(self.subscribers, Ordering::Release);
        if let Some(channel) = &self.memory {
            channel
                .publish(USER, self.event.clone())
                .await
                .expect("published");
        }
        if let Some(sender) = &self.broadcast {
            sender.send(self.event.clone()).expect("receivers exist");
        }
        self.done.notified().await;
    }

    /// The latency of each of `runs` single publishes.
    fn samples(&self, rt: &Runtime, runs: usize) -> Vec<Duration> {
        rt.block_on(async {
            let mut samples = Vec::with_capacity(runs);
            for _ in 0..runs {
                let start = Instant::now();
                self.once().await;
                samples.push(start.elapsed());
            }
            samples
        })
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn bench_fanout(c: &mut Criterion, rt: &Runtime) {
    let mut group = c.benchmark_group("fanout");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for subscribers in SIZES {
        group.sample_size(if subscribers >= 10_000 { 20 } else { 50 });
        for side in [Side::Memory, Side::Broadcast] {
            let rig = Rig::new(rt, side, subscribers);
            group.bench_with_input(
                BenchmarkId::new(side.name(), subscribers),
                &rig,
                |b, rig| b.iter_custom(|iters| rig.run(rt, iters)),
            );
        }
    }
    group.finish();
}

/// N subscribers of one user polled inline by the publishing thread: no
/// scheduler, no cross-thread wake-ups, so it isolates the CPU cost of the
/// fan-out itself (fold into N slots, then N takes of a cloned event).
enum Inline {
    Memory(MemoryChannel, Vec<EventStream>),
    Broadcast(
        broadcast::Sender<AuthEvent>,
        Vec<broadcast::Receiver<AuthEvent>>,
    ),
}

impl Inline {
    fn new(side: Side, subscribers: usize) -> Self {
        match side {
            Side::Memory => {
                let channel = MemoryChannel::new();
                let streams = (0..subscribers)
                    .map(|_| {
                        channel
                            .subscribe(USER)
                            .now_or_never()
                            .expect("ready")
                            .expect("open")
                    })
                    .collect();
                Self::Memory(channel, streams)
            }
            Side::Broadcast => {
                let (sender, _) = broadcast::channel(16);
                let receivers = (0..subscribers).map(|_| sender.subscribe()).collect();
                Self::Broadcast(sender, receivers)
            }
        }
    }

    /// One publish, then every subscriber takes the event.
    fn once(&mut self, event: &AuthEvent) {
        match self {
            Self::Memory(channel, streams) => {
                channel
                    .publish(USER, event.clone())
                    .now_or_never()
                    .expect("ready")
                    .expect("published");
                for stream in streams {
                    let received = stream.next().now_or_never().flatten();
                    assert!(black_box(received).is_some());
                }
            }
            Self::Broadcast(sender, receivers) => {
                sender.send(event.clone()).expect("receivers exist");
                for receiver in receivers {
                    assert!(black_box(receiver.try_recv()).is_ok());
                }
            }
        }
    }

    fn run(&mut self, iters: u64) -> Duration {
        let event = event();
        let start = Instant::now();
        for _ in 0..iters {
            self.once(&event);
        }
        start.elapsed()
    }
}

fn bench_fanout_inline(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout_inline");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for subscribers in SIZES {
        group.sample_size(if subscribers >= 10_000 { 20 } else { 50 });
        for side in [Side::Memory, Side::Broadcast] {
            let mut rig = Inline::new(side, subscribers);
            group.bench_function(BenchmarkId::new(side.name(), subscribers), |b| {
                b.iter_custom(|iters| rig.run(iters));
            });
        }
    }
    group.finish();
}

fn bench_subscribe_drop(c: &mut Criterion, rt: &Runtime) {
    let mut group = c.benchmark_group("subscribe_drop");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    let channel = MemoryChannel::new();
    let others: Vec<EventStream> = (0..100)
        .map(|_| rt.block_on(channel.subscribe(USER)).expect("open"))
        .collect();
    group.bench_function("memory", |b| {
        b.iter(|| {
            let stream = channel
                .subscribe(USER)
                .now_or_never()
                .expect("ready")
                .expect("open");
            drop(black_box(stream));
        });
    });
    let (sender, _receiver) = broadcast::channel::<AuthEvent>(16);
    group.bench_function("broadcast", |b| {
        b.iter(|| drop(black_box(sender.subscribe())));
    });
    group.bench_function("memory-publish-no-subscribers", |b| {
        b.iter(|| {
            channel
                .publish("local:nobody", AuthEvent::Resync)
                .now_or_never()
                .expect("ready")
                .expect("published");
        });
    });
    group.finish();
    drop(others);
}

/// Two threads, each `iters` times: subscribe to one of its own users,
/// publish to it, take the event, drop the stream.
fn contention(shards: usize, iters: u64) -> Duration {
    let channel = MemoryChannel::with_shards(shards);
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = (0..2)
        .map(|thread| {
            let channel = channel.clone();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let users: Vec<String> = (0..64).map(|u| format!("local:{thread}:{u}")).collect();
                barrier.wait();
                let start = Instant::now();
                for i in 0..iters {
                    #[allow(clippy::cast_possible_truncation)]
                    let user = &users[i as usize % users.len()];
                    let mut stream = channel
                        .subscribe(user)
                        .now_or_never()
                        .expect("ready")
                        .expect("open");
                    channel
                        .publish(user, AuthEvent::Resync)
                        .now_or_never()
                        .expect("ready")
                        .expect("published");
                    black_box(stream.next().now_or_never());
                }
                start.elapsed()
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("no panic"))
        .max()
        .unwrap_or_default()
}

fn bench_contention(c: &mut Criterion) {
    let mut group = c.benchmark_group("contention");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for shards in [1, 16] {
        group.bench_function(format!("shards-{shards}"), |b| {
            b.iter_custom(|iters| contention(shards, iters));
        });
    }
    group.finish();
}

fn live_bytes(region: &Region<'_, System>) -> isize {
    let change = region.change();
    change.bytes_allocated.cast_signed() - change.bytes_deallocated.cast_signed()
}

/// A `broadcast::Receiver` as the `EventStream` an `AuthChannel` built on
/// `tokio::sync::broadcast` would hand out (a lag becomes a `Resync`).
fn broadcast_stream(receiver: broadcast::Receiver<AuthEvent>) -> EventStream {
    Box::pin(futures_util::stream::unfold(
        receiver,
        |mut receiver| async move {
            match receiver.recv().await {
                Ok(event) => Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some((AuthEvent::Resync, receiver)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        },
    ))
}

/// Heap bytes per idle subscription, user entry and channel included,
/// amortised over `IDLE_SUBSCRIPTIONS`: `MemoryChannel`, raw broadcast
/// receivers, and broadcast receivers boxed as `EventStream`s. The handles
/// live in a vector allocated before counting starts, so their inline size
/// is added.
fn memory_per_subscription() -> [f64; 3] {
    let n = IDLE_SUBSCRIPTIONS;
    let per = |region: &Region<'_, System>, handle: usize| {
        live_bytes(region) as f64 / n as f64 + handle as f64
    };

    let mut streams: Vec<EventStream> = Vec::with_capacity(n);
    let region = Region::new(GLOBAL);
    let channel = MemoryChannel::new();
    for _ in 0..n {
        let stream = channel
            .subscribe(USER)
            .now_or_never()
            .expect("ready")
            .expect("open");
        streams.push(stream);
    }
    let memory = per(&region, size_of::<EventStream>());
    assert_eq!(channel.subscriber_count(USER), n);
    drop(streams);
    drop(channel);

    let mut receivers: Vec<broadcast::Receiver<AuthEvent>> = Vec::with_capacity(n);
    let region = Region::new(GLOBAL);
    let (sender, _) = broadcast::channel::<AuthEvent>(16);
    for _ in 0..n {
        receivers.push(sender.subscribe());
    }
    let raw = per(&region, size_of::<broadcast::Receiver<AuthEvent>>());
    drop(receivers);
    drop(sender);

    let mut streams: Vec<EventStream> = Vec::with_capacity(n);
    let region = Region::new(GLOBAL);
    let (sender, _) = broadcast::channel::<AuthEvent>(16);
    for _ in 0..n {
        streams.push(broadcast_stream(sender.subscribe()));
    }
    let boxed = per(&region, size_of::<EventStream>());
    drop(streams);

    [memory, raw, boxed]
}

fn summary(rt: &Runtime, [memory, raw, boxed]: [f64; 3]) {
    println!("\n== summary (medians of interleaved runs; ratio = memory / broadcast)");
    println!(
        "{:>22} {:>12} {:>14} {:>14} {:>8}",
        "fan-out", "subscribers", "memory", "broadcast", "ratio"
    );
    for subscribers in SIZES {
        let runs = if subscribers >= 10_000 { 200 } else { 2000 };
        let memory = Rig::new(rt, Side::Memory, subscribers);
        let broadcast = Rig::new(rt, Side::Broadcast, subscribers);
        let (mut m, mut b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        // Alternate single publishes so drift and noise hit both sides alike.
        for _ in 0..runs {
            m.extend(memory.samples(rt, 1));
            b.extend(broadcast.samples(rt, 1));
        }
        let (m, b) = (median(m), median(b));
        println!(
            "{:>22} {subscribers:>12} {:>14?} {:>14?} {:>8.2}",
            "tasks, 2 workers",
            m,
            b,
            m.as_secs_f64() / b.as_secs_f64()
        );
    }
    for subscribers in SIZES {
        let runs = if subscribers >= 10_000 { 200 } else { 2000 };
        let mut memory = Inline::new(Side::Memory, subscribers);
        let mut broadcast = Inline::new(Side::Broadcast, subscribers);
        let (mut m, mut b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
        for _ in 0..runs {
            m.push(memory.run(1));
            b.push(broadcast.run(1));
        }
        let (m, b) = (median(m), median(b));
        println!(
            "{:>22} {subscribers:>12} {:>14?} {:>14?} {:>8.2}",
            "inline, one thread",
            m,
            b,
            m.as_secs_f64() / b.as_secs_f64()
        );
    }
    println!(
        "\nbytes per idle subscription ({IDLE_SUBSCRIPTIONS} of one user, handle included):\n\
         {:>32} {memory:>8.1}\n\
         {:>32} {raw:>8.1}  (ratio {:.2})\n\
         {:>32} {boxed:>8.1}  (ratio {:.2})",
        "memory",
        "broadcast Receiver",
        memory / raw,
        "broadcast Receiver as EventStream",
        memory / boxed,
    );
}

fn main() {
    // Counted first, while no other thread allocates or frees.
    let bytes = memory_per_subscription();
    let rt = runtime();
    let mut criterion = Criterion::default().configure_from_args();
    bench_fanout(&mut criterion, &rt);
    bench_fanout_inline(&mut criterion);
    bench_subscribe_drop(&mut criterion, &rt);
    bench_contention(&mut criterion);
    criterion.final_summary();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // then the benches above ran once each as a smoke test.
    if std::env::args().any(|arg| arg == "--bench") {
        summary(&rt, bytes);
    }
}
