//! `live-auth-admin`: the operators' command-line tool of the live-auth
//! stack. Run with `live-auth-admin --help`.
//!
//! It opens the stack the applications run on (`LOCAL_AUTH_DB`, and
//! `REDIS_URL` when set) and acts on any user through the three-layer
//! writer, recording each change in the audit log as `cli:<os user>`.
//!
//! Exit codes: 0 done, 2 bad input (clap's usage errors too), 3 unknown
//! user, 4 backend unavailable, 1 anything else.

mod cli;
mod commands;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // The stack's dev-mode warnings are about serving requests; a
        // one-shot tool needs no session or token secret.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the runtime failed: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", error::chain(&error));
            ExitCode::from(error.exit_code())
        }
    }
}
