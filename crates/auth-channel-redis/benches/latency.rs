//! Placeholder until the latency bench lands.

fn main() {}
