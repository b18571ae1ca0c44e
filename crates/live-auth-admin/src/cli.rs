//! The command line, as clap derives it.

use clap::{Parser, Subcommand};

/// Administer the users of a live-auth stack.
///
/// Reads LOCAL_AUTH_DB (default sqlite://./local-auth.db) and, when set,
/// REDIS_URL and REDIS_PREFIX, like the applications. A USER is a user id
/// (`local:<uuid>`) or the email of a local account.
///
/// Exit codes: 0 done, 2 bad input or usage, 3 unknown user, 4 backend
/// unavailable, 1 anything else.
// The doc comment is the `--help` text, so it is written for a terminal,
// not for Markdown.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Parser)]
#[command(name = "live-auth-admin", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List or show users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Grant a claim (replacing any claim of the same type).
    Grant {
        /// The user id or email.
        user: String,
        /// The claim type, e.g. `role`.
        claim_type: String,
        /// The claim value, e.g. `admin`.
        value: String,
    },
    /// Revoke every claim of a type.
    Revoke {
        /// The user id or email.
        user: String,
        /// The claim type, e.g. `role`.
        claim_type: String,
    },
    /// List a user's active sessions.
    Sessions {
        /// The user id or email.
        user: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sign a user out of every session.
    SignOut {
        /// The user id or email.
        user: String,
    },
    /// Disable an account: it cannot sign in, and its sessions end now.
    Disable {
        /// The user id or email.
        user: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The user id or email.
        user: String,
    },
    /// Read the audit log, newest first.
    Audit {
        /// Only the changes of this user (an id, or a local account's email).
        #[arg(long)]
        user: Option<String>,
        /// How many entries, at most 500.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `users ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// List every user.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one user: profile, claims, links, sessions.
    Show {
        /// The user id or email.
        user: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}
