//! The channel conformance suite run against the in-process channel.

use auth_channel_memory::MemoryChannel;
use auth_core::testkit::channel_conformance;

#[tokio::test]
async fn memory_channel_conforms() {
    channel_conformance(&MemoryChannel::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_channel_conforms_in_parallel_runs() {
    let channel = std::sync::Arc::new(MemoryChannel::new());
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let channel = channel.clone();
            tokio::spawn(async move { channel_conformance(channel.as_ref()).await })
        })
        .collect();
    for run in runs {
        run.await.expect("a parallel run panicked");
    }
}

/// An in-process channel wired wrong: every subscriber hears every user.
struct Broadcasting(MemoryChannel);

#[async_trait::async_trait]
impl auth_core::AuthChannel for Broadcasting {
    async fn publish(
        &self,
        _user_id: &str,
        event: auth_core::AuthEvent,
    ) -> Result<(), auth_core::ChannelError> {
        self.0.publish("everyone", event).await
    }
    async fn subscribe(
        &self,
        _user_id: &str,
    ) -> Result<auth_core::EventStream, auth_core::ChannelError> {
        self.0.subscribe("everyone").await
    }
}

#[tokio::test]
#[should_panic(
    expected = "channel conformance failed at \"another user's subscriber receives nothing\""
)]
async fn kit_catches_a_channel_that_leaks_events_to_other_users() {
    channel_conformance(&Broadcasting(MemoryChannel::new())).await;
}
