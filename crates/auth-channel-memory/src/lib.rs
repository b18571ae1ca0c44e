//! In-process [`AuthChannel`](auth_core::AuthChannel) (work in progress).

/// The in-process channel.
#[derive(Debug, Default)]
pub struct MemoryChannel;
