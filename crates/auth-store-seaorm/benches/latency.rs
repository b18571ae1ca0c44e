//! Latency per operation (placeholder).
fn main() {}
