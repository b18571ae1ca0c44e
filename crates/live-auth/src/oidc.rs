//! The stack's hooks for sign-in through OpenID Connect and OAuth 2.0
//! providers (feature `oidc`).

use auth_http::OidcRoutes;
use auth_oidc::{FlowKey, OidcError, OidcProvider, ProviderConfig};

use crate::Stack;

impl Stack {
    /// A provider that links users in this stack's store; pass it to
    /// [`OidcRoutes::with_provider`].
    pub fn oidc_provider(&self, config: ProviderConfig) -> Result<OidcProvider, OidcError> {
        OidcProvider::new(config, self.store().clone())
    }

    /// The provider routes without providers yet, their flow cookies
    /// sealed with a key derived from the session secret (so every worker
    /// with the same `AUTH_SESSION_SECRET` opens every flow): add providers
    /// with [`OidcRoutes::with_provider`] and hand it to
    /// [`LiveAuthBuilder::with_oidc`](auth_http::LiveAuthBuilder::with_oidc).
    pub fn oidc_routes(&self) -> Result<OidcRoutes, OidcError> {
        let secret = self
            .session_config()
            .secret
            .as_ref()
            .ok_or_else(|| OidcError::Setup("the stack has no session secret".into()))?;
        let derived = auth_core::state_binding(&["live-auth oidc flow key", secret.expose()]);
        let key = FlowKey::new(derived).map_err(|error| OidcError::Setup(error.to_string()))?;
        Ok(OidcRoutes::new(key))
    }
}
