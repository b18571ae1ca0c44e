//! Memory per idle live tab and one grant reaching all of them, against
//! the axum demo's release binary in a child process (the driver is
//! `load/tabs.rs`; the actix-web demo's package runs the same driver).
//!
//! Run with `cargo bench -p live-auth-demo --bench tabs` (10,000 tabs;
//! `-- --tabs N --grants N` to change). It needs about 10,300 open files
//! in each process; the run takes about a minute on two cores.
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a bench prints its report; counts stay far below 2^52"
)]

#[allow(dead_code)]
#[path = "load/client.rs"]
mod client;
#[path = "load/live.rs"]
mod live;
#[path = "load/machine.rs"]
mod machine;
#[allow(dead_code)]
#[path = "load/pages.rs"]
mod pages;
#[allow(dead_code)]
#[path = "load/stats.rs"]
mod stats;
#[path = "load/tabs.rs"]
mod tabs;

/// An error of the driver itself.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> std::process::ExitCode {
    tabs::main(env!("CARGO_BIN_EXE_live-auth-demo"), "axum")
}
