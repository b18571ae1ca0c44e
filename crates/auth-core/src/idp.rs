//! Identity providers: proofs in, principals out.

use async_trait::async_trait;

use crate::error::IdpError;
use crate::principal::Principal;
use crate::user::{ProviderLink, Secret};

/// What a user presents to prove who they are.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Proof {
    /// An email and a password (the local IdP).
    Password {
        /// The email as typed; the provider normalises it.
        email: String,
        /// The password, redacted in `Debug`.
        password: Secret,
    },
    /// An authorization code the browser brought back from an OAuth 2.0 or
    /// OpenID Connect provider, with the secrets of the flow that asked for
    /// it (the caller has already matched the returned `state`).
    AuthorizationCode(AuthorizationCode),
}

/// The authorization code of a finished redirect, and what the flow that
/// started it kept: the PKCE verifier and the nonce the ID token must carry.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuthorizationCode {
    /// The code from the callback's query.
    pub code: Secret,
    /// The PKCE (S256) verifier whose challenge went to the provider.
    pub pkce_verifier: Secret,
    /// The nonce the ID token must carry.
    pub nonce: Secret,
}

impl AuthorizationCode {
    /// A code with its flow's verifier and nonce.
    pub fn new(
        code: impl Into<Secret>,
        pkce_verifier: impl Into<Secret>,
        nonce: impl Into<Secret>,
    ) -> Self {
        Self {
            code: code.into(),
            pkce_verifier: pkce_verifier.into(),
            nonce: nonce.into(),
        }
    }
}

impl Proof {
    /// A password proof.
    pub fn password(email: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::Password {
            email: email.into(),
            password: password.into(),
        }
    }
}

/// A successful authentication: who, and through which link.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Authenticated {
    /// The principal to sign in.
    pub principal: Principal,
    /// The (provider, subject) link that matched.
    pub link: ProviderLink,
}

impl Authenticated {
    /// A result for `principal` through `link`.
    pub fn new(principal: Principal, link: ProviderLink) -> Self {
        Self { principal, link }
    }
}

/// Turns a proof into a principal plus the provider link it came through.
///
/// An unknown account and a wrong secret are the same
/// [`IdpError::InvalidCredentials`], and cost the same time, so callers cannot
/// tell them apart. A proof kind the provider does not take is
/// [`IdpError::UnsupportedProof`].
#[async_trait]
pub trait IdentityProvider: Send + Sync + 'static {
    /// The provider name used in links and user ids, e.g. `local`.
    fn provider(&self) -> &str;

    /// Verifies `proof`.
    async fn authenticate(&self, proof: Proof) -> Result<Authenticated, IdpError>;
}
