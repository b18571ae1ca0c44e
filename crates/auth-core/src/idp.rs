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
