//! The providers the `{prefix}/{provider}/*` routes serve, and the key that
//! seals their flow cookies.

use std::collections::BTreeMap;
use std::sync::Arc;

use auth_oidc::{FlowKey, OidcProvider, UsedStates};

use crate::config::ConfigError;

/// The OpenID Connect and OAuth 2.0 providers to serve
/// ([`LiveAuthBuilder::with_oidc`](crate::LiveAuthBuilder::with_oidc)),
/// with the key that seals the flow cookies (the same in every worker).
#[derive(Debug)]
#[must_use]
pub struct OidcRoutes {
    key: FlowKey,
    providers: Vec<Arc<OidcProvider>>,
}

impl OidcRoutes {
    /// No providers yet; flows sealed with `key`.
    pub fn new(key: FlowKey) -> Self {
        Self {
            key,
            providers: Vec::new(),
        }
    }

    /// Serves `provider` under `{prefix}/{id}/`.
    pub fn with_provider(mut self, provider: Arc<OidcProvider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Checks the providers against the route prefix and indexes them.
    pub(crate) fn build(self, prefix: &str) -> Result<OidcState, ConfigError> {
        let mut providers = BTreeMap::new();
        for provider in self.providers {
            let id = provider.id().to_owned();
            let callback = format!("{prefix}/{id}/callback");
            let redirect_ok = url::Url::parse(provider.config().redirect_uri())
                .is_ok_and(|url| url.path() == callback);
            if !redirect_ok {
                return Err(ConfigError::OidcRedirect {
                    provider: id,
                    path: callback,
                });
            }
            if providers.insert(id.clone(), provider).is_some() {
                return Err(ConfigError::DuplicateProvider(id));
            }
        }
        Ok(OidcState {
            key: self.key,
            used: UsedStates::default(),
            providers,
        })
    }
}

/// The built provider routes' state.
#[derive(Debug)]
pub(crate) struct OidcState {
    pub(crate) key: FlowKey,
    pub(crate) used: UsedStates,
    pub(crate) providers: BTreeMap<String, Arc<OidcProvider>>,
}
