//! Memory per idle live tab and one grant reaching all of them, against
//! the actix-web demo's release binary in a child process: the axum demo's
//! driver (`live-auth-demo/benches/load/tabs.rs`), another server.
//!
//! Run with `cargo bench -p live-auth-demo-actix --bench tabs` (10,000
//! tabs; `-- --tabs N --grants N` to change). It needs about 10,300 open
//! files in each process; the run takes about a minute on two cores.
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a bench prints its report; counts stay far below 2^52"
)]

#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/client.rs"]
mod client;
#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/live.rs"]
mod live;
#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/machine.rs"]
mod machine;
#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/pages.rs"]
mod pages;
#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/stats.rs"]
mod stats;
#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/tabs.rs"]
mod tabs;

/// An error of the driver itself.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> std::process::ExitCode {
    tabs::main(env!("CARGO_BIN_EXE_live-auth-demo-actix"), "actix-web")
}
