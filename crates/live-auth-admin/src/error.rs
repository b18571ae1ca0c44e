//! What the tool fails with, and the exit code of each.

use std::error::Error as StdError;

use auth_core::{AuthError, SessionError, StoreError};
use live_auth::StackError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The input was refused (a malformed email, claim or user id).
    #[error("bad input: {0}")]
    BadInput(String),
    /// No user has this id or email.
    #[error("unknown user `{0}`")]
    UnknownUser(String),
    /// The stack could not start.
    #[error("the stack could not start")]
    Stack(#[from] StackError),
    /// A store or session call failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Writing the output failed.
    #[error("writing the output failed")]
    Output(#[from] std::io::Error),
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        Self::Auth(error.into())
    }
}

impl From<SessionError> for CliError {
    fn from(error: SessionError) -> Self {
        Self::Auth(error.into())
    }
}

impl CliError {
    /// 2 bad input, 3 unknown user, 4 backend unavailable, 1 otherwise.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::BadInput(_) | Self::Stack(StackError::Config(_)) => 2,
            Self::UnknownUser(_) => 3,
            Self::Stack(_) => 4,
            Self::Auth(error) => auth_exit_code(error),
            Self::Output(_) => 1,
        }
    }
}

fn auth_exit_code(error: &AuthError) -> u8 {
    match error {
        AuthError::Invalid(_)
        | AuthError::Store(StoreError::Invalid(_))
        | AuthError::Session(SessionError::Invalid(_)) => 2,
        AuthError::Store(StoreError::NotFound) => 3,
        AuthError::Store(StoreError::Backend { .. })
        | AuthError::Session(
            SessionError::Backend { .. } | SessionError::Store(StoreError::Backend { .. }),
        )
        | AuthError::Audit(StoreError::Backend { .. }) => 4,
        _ => 1,
    }
}

/// The error and its sources, joined by `: `.
pub(crate) fn chain(error: &dyn StdError) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
