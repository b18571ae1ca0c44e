//! What can go wrong between the browser, the provider and the store.

use auth_core::{InvalidInput, StoreError};

/// Why an ID token was refused. One of these is the reason a forged,
/// replayed or misdirected token does not sign anyone in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRejection {
    /// `iss` is not the configured issuer.
    Issuer,
    /// `aud` does not name this client (or names others it does not trust).
    Audience,
    /// `exp` has passed.
    Expired,
    /// `nonce` is not the one this browser's flow sent.
    Nonce,
    /// The signature does not verify against the provider's keys.
    Signature,
    /// The signature algorithm is not an allowed asymmetric one (`none`,
    /// `HS256`, ...).
    Algorithm,
    /// The token names a key the provider does not publish, even after the
    /// key set was fetched again.
    UnknownKey,
    /// The access token does not match the token's `at_hash`.
    AccessTokenHash,
    /// Anything else (a malformed token, a bad `sub`).
    Malformed,
}

/// A provider flow failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The provider's settings are unusable (a bad URL, no HTTP client).
    #[error("provider setup: {0}")]
    Setup(String),
    /// Discovery or the key set could not be fetched or read.
    #[error("provider discovery failed: {0}")]
    Discovery(String),
    /// The token endpoint refused the code (used, expired, wrong PKCE
    /// verifier) or could not be reached.
    #[error("the code exchange failed: {0}")]
    Exchange(String),
    /// The ID token was refused.
    #[error("the ID token was refused: {0:?}")]
    IdToken(TokenRejection),
    /// The provider left out something the flow needs (an ID token, a
    /// subject).
    #[error("the provider's answer lacks {0}")]
    Missing(&'static str),
    /// The userinfo or user API call failed or disagreed with the ID token.
    #[error("the user details could not be read: {0}")]
    UserInfo(String),
    /// The flow state (its cookie, its `state`) is missing, forged, expired,
    /// used, or for another provider.
    #[error("the sign-in flow state is invalid: {0}")]
    Flow(&'static str),
    /// The proof is not an authorization code.
    #[error("unsupported proof")]
    UnsupportedProof,
    /// The account rules refused the identity.
    #[error(transparent)]
    Account(#[from] AccountError),
}

/// The account rules refused a sign-in, a link or an unlink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The identity is linked to another user; links never move silently.
    #[error("this identity is linked to another account")]
    LinkedElsewhere,
    /// An account with this email exists, and the provider is not trusted
    /// to link it (or did not say the address is verified).
    #[error("an account with this email exists")]
    EmailInUse,
    /// Unlinking would leave the user no way to sign in.
    #[error("the last way to sign in cannot be removed")]
    LastSignIn,
    /// The user has no link with this provider.
    #[error("no such link")]
    NotLinked,
    /// The account is disabled.
    #[error("the account is disabled")]
    Disabled,
    /// The identity's data were refused by the store's rules.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AccountError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid(invalid) => Self::Invalid(invalid),
            other => Self::Store(other),
        }
    }
}

impl OidcError {
    /// A failed code exchange, with the provider's own error code when it
    /// answered with one.
    pub(crate) fn exchange<RE, E>(
        error: oauth2::RequestTokenError<RE, oauth2::StandardErrorResponse<E>>,
    ) -> Self
    where
        RE: std::error::Error + 'static,
        E: oauth2::ErrorResponseType + std::fmt::Display + 'static,
    {
        match error {
            oauth2::RequestTokenError::ServerResponse(answer) => {
                Self::Exchange(answer.error().to_string())
            }
            other => Self::Exchange(other.to_string()),
        }
    }
}
