//! The `?error=` codes of the form routes: one table for every flow.

/// Why a form route failed, as the `?error=<code>` it redirects with.
///
/// | code | meaning |
/// |---|---|
/// | `missing` | a required field is empty |
/// | `exists` | the email already has an account |
/// | `invalid` | wrong credentials, or a field breaks a rule (email, password) |
/// | `throttled` | too many attempts; try later |
/// | `busy` | the password hashing queue is full; answered as 503 with `Retry-After`, not as a redirect |
/// | `invalid_token` | a mailed link is unknown, used, expired, for another purpose, or stale (the password or address it was sent for changed); one code for all, so a probe learns nothing |
/// | `signed_out` | the route needs a signed-in session and the request has none |
/// | `unverified` | the account's email is not verified yet and registration that reveals nothing is on; a new link was sent |
/// | `unknown_user` | an admin action names a user that does not exist; nothing was changed |
/// | `no_factor` | the step needs a second factor the account does not have (or no sign-in waits for one) |
/// | `state` | a provider callback without a live flow of this browser: no or a forged flow cookie, another `state`, a flow used or expired |
/// | `provider` | the provider could not be reached, or its answer was refused (the code exchange failed, the ID token did not verify) |
/// | `denied` | the user (or the provider) declined the sign-in at the provider |
/// | `linked_elsewhere` | the provider identity is linked to another account; it is never moved |
/// | `last_sign_in` | unlinking would leave the account no way to sign in |
/// | `unknown` | the server failed; nothing was changed that the user must know |
///
/// ```
/// use auth_http::ErrorCode;
///
/// assert_eq!(ErrorCode::Exists.as_str(), "exists");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A required field is empty.
    Missing,
    /// The email already has an account.
    Exists,
    /// Wrong credentials, or input that breaks a rule.
    Invalid,
    /// Too many attempts.
    Throttled,
    /// The password hashing queue is full; the form routes answer 503 with
    /// `Retry-After` for it rather than redirecting.
    Busy,
    /// A mailed link that cannot be used (any reason).
    InvalidToken,
    /// The route needs a signed-in session.
    SignedOut,
    /// The account's email is not verified yet.
    Unverified,
    /// An admin action's target user does not exist.
    UnknownUser,
    /// The account has no second factor for this step.
    NoFactor,
    /// A provider callback that matches no live flow of this browser.
    State,
    /// The provider failed or its answer was refused.
    Provider,
    /// The sign-in was declined at the provider.
    Denied,
    /// The identity is linked to another account.
    LinkedElsewhere,
    /// The last way to sign in cannot be removed.
    LastSignIn,
    /// A server failure.
    Unknown,
}

impl ErrorCode {
    /// The code as it appears in `?error=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Exists => "exists",
            Self::Invalid => "invalid",
            Self::Throttled => "throttled",
            Self::Busy => "busy",
            Self::InvalidToken => "invalid_token",
            Self::SignedOut => "signed_out",
            Self::Unverified => "unverified",
            Self::UnknownUser => "unknown_user",
            Self::NoFactor => "no_factor",
            Self::State => "state",
            Self::Provider => "provider",
            Self::Denied => "denied",
            Self::LinkedElsewhere => "linked_elsewhere",
            Self::LastSignIn => "last_sign_in",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "local-idp")]
impl From<&auth_local_idp::LocalIdpError> for ErrorCode {
    /// The code of a local identity provider failure; server failures are
    /// logged here, so every route that maps one logs it once.
    fn from(error: &auth_local_idp::LocalIdpError) -> Self {
        use auth_local_idp::LocalIdpError;
        match error {
            LocalIdpError::EmailTaken => Self::Exists,
            LocalIdpError::Throttled { .. } => Self::Throttled,
            LocalIdpError::Busy { .. } => Self::Busy,
            LocalIdpError::InvalidCredentials
            | LocalIdpError::UnknownUser
            | LocalIdpError::Invalid(_) => Self::Invalid,
            other => {
                tracing::error!(error = %other, "local identity provider failed");
                Self::Unknown
            }
        }
    }
}

#[cfg(all(test, feature = "local-idp"))]
mod tests {
    use std::time::Duration;

    use auth_core::{InvalidInput, StoreError};
    use auth_local_idp::LocalIdpError;

    use super::ErrorCode;

    #[test]
    fn every_identity_provider_failure_has_one_code() {
        let cases = [
            (LocalIdpError::EmailTaken, ErrorCode::Exists),
            (
                LocalIdpError::Throttled {
                    retry_after: Duration::from_secs(1),
                },
                ErrorCode::Throttled,
            ),
            (
                LocalIdpError::Busy {
                    retry_after: Duration::from_secs(1),
                },
                ErrorCode::Busy,
            ),
            (LocalIdpError::InvalidCredentials, ErrorCode::Invalid),
            (LocalIdpError::UnknownUser, ErrorCode::Invalid),
            (
                LocalIdpError::Invalid(InvalidInput::new("password too short")),
                ErrorCode::Invalid,
            ),
            (
                LocalIdpError::Store(StoreError::backend("test", "down")),
                ErrorCode::Unknown,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(ErrorCode::from(&error), code, "{error}");
        }
    }
}
