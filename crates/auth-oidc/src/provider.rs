//! One configured provider: starting a flow, finishing it, and the account
//! rules of sign-in, link and unlink, as an [`IdentityProvider`].

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AuthStore, Authenticated, AuthorizationCode, IdentityProvider, IdpError, Principal, Proof,
    ProviderLink, unix_now,
};

use crate::accounts;
use crate::claims::Identity;
use crate::config::{ProviderConfig, ProviderKind};
use crate::error::{AccountError, OidcError};
use crate::flow::{FLOW_LIFETIME, FlowPurpose, PendingFlow};
use crate::http::Http;
use crate::openid::OpenId;

/// The secrets a started flow keeps until its callback.
pub(crate) struct FlowSecrets {
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) pkce_verifier: String,
}

enum Backend {
    OpenId(Box<OpenId>),
    GitHub(crate::config::GitHubEndpoints),
}

/// A configured provider over a store: what the web layer's
/// `{prefix}/{id}/*` routes drive.
pub struct OidcProvider {
    config: ProviderConfig,
    backend: Backend,
    http: Http,
    store: Arc<dyn AuthStore>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("id", &self.config.id)
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    /// A provider from its settings, linking users in `store`. Nothing is
    /// fetched yet: discovery happens on the first sign-in.
    pub fn new(config: ProviderConfig, store: Arc<dyn AuthStore>) -> Result<Self, OidcError> {
        auth_core::validate_link_key(&config.id, "x")
            .map_err(|error| OidcError::Setup(error.to_string()))?;
        if !config
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            || config.id == "local"
        {
            return Err(OidcError::Setup(
                "a provider id is letters, digits, `-` and `_`, and not `local`".into(),
            ));
        }
        if let Some(kind) = config
            .claim_map
            .targets()
            .find(|kind| auth_core::is_reserved_claim(kind))
        {
            return Err(OidcError::Setup(format!(
                "the claim map may not write `{kind}`"
            )));
        }
        let backend = match &config.kind {
            ProviderKind::OpenId { issuer } => Backend::OpenId(Box::new(OpenId::new(issuer)?)),
            ProviderKind::GitHub(endpoints) => Backend::GitHub(endpoints.clone()),
        };
        Ok(Self {
            config,
            backend,
            http: Http::new()?,
            store,
        })
    }

    /// The settings.
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// Starts a flow: the URL to send the browser to, and the flow to
    /// seal into its cookie. `next` must already be a safe path.
    pub async fn start(
        &self,
        purpose: FlowPurpose,
        next: &str,
    ) -> Result<(url::Url, PendingFlow), OidcError> {
        let (url, secrets) = match &self.backend {
            Backend::OpenId(openid) => openid.start(&self.http, &self.config).await?,
            Backend::GitHub(endpoints) => crate::github::start(endpoints, &self.config)?,
        };
        let flow = PendingFlow {
            provider: self.config.id.clone(),
            state: secrets.state,
            nonce: secrets.nonce,
            pkce_verifier: secrets.pkce_verifier,
            next: next.to_owned(),
            purpose,
            expires_at: unix_now() + FLOW_LIFETIME.as_secs(),
        };
        Ok((url, flow))
    }

    /// Finishes a flow: exchanges the code, checks what came back, and
    /// returns who signed in (nothing is written).
    pub async fn identify(&self, code: &AuthorizationCode) -> Result<Identity, OidcError> {
        let raw = match &self.backend {
            Backend::OpenId(openid) => openid.finish(&self.http, &self.config, code).await?,
            Backend::GitHub(endpoints) => {
                crate::github::finish(&self.http, endpoints, &self.config, code).await?
            }
        };
        Identity::from_claims(&self.config.id, &raw, &self.config.claim_map)
            .ok_or(OidcError::Missing("a subject"))
    }

    /// Signs in with `code`: the linked user, a user linked by verified
    /// email when this provider may do that, or a new user with its link.
    pub async fn sign_in(&self, code: &AuthorizationCode) -> Result<Authenticated, OidcError> {
        let identity = self.identify(code).await?;
        let (user, link) = accounts::sign_in(
            self.store.as_ref(),
            &identity,
            self.config.link_verified_email,
        )
        .await?;
        Ok(Authenticated::new(Principal::for_user(&user), link))
    }

    /// Links the identity behind `code` to `user_id` (the signed-in user).
    pub async fn link(
        &self,
        user_id: &str,
        code: &AuthorizationCode,
    ) -> Result<ProviderLink, OidcError> {
        let identity = self.identify(code).await?;
        Ok(accounts::link(self.store.as_ref(), user_id, &identity).await?)
    }

    /// Removes `user_id`'s link with this provider, unless it is the last
    /// way the user signs in.
    pub async fn unlink(&self, user_id: &str) -> Result<(), AccountError> {
        accounts::unlink(self.store.as_ref(), user_id, &self.config.id).await
    }
}

#[async_trait]
impl IdentityProvider for OidcProvider {
    fn provider(&self) -> &str {
        &self.config.id
    }

    /// Takes a [`Proof::AuthorizationCode`]; see [`OidcProvider::sign_in`].
    async fn authenticate(&self, proof: Proof) -> Result<Authenticated, IdpError> {
        let Proof::AuthorizationCode(code) = proof else {
            return Err(IdpError::UnsupportedProof);
        };
        self.sign_in(&code).await.map_err(|error| match error {
            OidcError::Account(AccountError::Store(store)) => IdpError::Store(store),
            OidcError::Account(AccountError::Invalid(invalid)) => IdpError::Invalid(invalid),
            other => {
                tracing::debug!(error = %other, "provider sign-in refused");
                IdpError::InvalidCredentials
            }
        })
    }
}
