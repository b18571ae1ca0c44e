//! The auth-core conformance suite for channels, run on `MemoryChannel`: one
//! test per check (`kit::every_event_kind` and so on), then whole suites.

use std::sync::Arc;

use auth_channel_memory::MemoryChannel;
use auth_core::testkit::channel_conformance;

mod kit {
    auth_core::channel_conformance_tests!(Some(auth_channel_memory::MemoryChannel::new()));
}

#[tokio::test]
async fn memory_channel_conforms() {
    let channel = MemoryChannel::new();
    channel_conformance(&channel).await;
    assert_eq!(channel.user_count(), 0, "the suite's streams are gone");
}

#[tokio::test]
async fn memory_channel_conforms_with_one_shard() {
    channel_conformance(&MemoryChannel::with_shards(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_channel_conforms_in_parallel_runs() {
    let channel = Arc::new(MemoryChannel::new());
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let channel = Arc::clone(&channel);
            tokio::spawn(async move { channel_conformance(channel.as_ref()).await })
        })
        .collect();
    for run in runs {
        run.await.expect("a parallel run panicked");
    }
    assert_eq!(channel.user_count(), 0);
}
