//! Sign in with OpenID Connect and OAuth 2.0 providers.
//!
//! | piece | what it is |
//! |---|---|
//! | [`ProviderConfig`] | one provider: presets for Google, Microsoft Entra ID, GitLab, Apple and GitHub, or any issuer URL |
//! | [`OidcProvider`] | a configured provider over a store: start a flow, finish it, link and unlink; an [`IdentityProvider`](auth_core::IdentityProvider) |
//! | [`PendingFlow`], [`FlowKey`], [`UsedStates`] | the flow between redirect and callback, sealed into a short-lived cookie, each state used once |
//! | [`ClaimMap`], [`Identity`] | the allowlist of provider claims kept, and who signed in |
//! | [`OidcError`], [`AccountError`], [`TokenRejection`] | why a flow was refused |
//!
//! OpenID Connect providers are discovered from their issuer (on first
//! use), use the authorization code flow with PKCE (S256), `state` and a
//! nonce bound to the browser, and their ID tokens are checked for issuer,
//! audience, expiry, nonce and an asymmetric signature against the
//! provider's published keys, fetched again when a token names an unknown
//! key. GitHub, which is not an OpenID provider, goes through OAuth 2.0
//! and its REST API. Every call uses a rustls client that follows no
//! redirects and reads at most [`MAX_RESPONSE_BYTES`] of an answer.
//!
//! The web routes (`{prefix}/{id}/login`, `/callback`, `/link`, `/unlink`)
//! live in `auth-http` (feature `oidc`), so every adapter serves them.

mod accounts;
mod claims;
mod config;
mod error;
mod flow;
mod github;
mod http;
mod openid;
mod provider;

pub use claims::{ClaimMap, Identity, MAX_MAPPED_CLAIMS};
pub use config::{GitHubEndpoints, ProviderConfig, ProviderKind};
pub use error::{AccountError, OidcError, TokenRejection};
pub use flow::{
    FLOW_LIFETIME, FlowKey, FlowPurpose, MAX_SEALED_LEN, MIN_KEY_LEN, PendingFlow, ShortKey,
    UsedStates,
};
pub use http::{HttpError, MAX_RESPONSE_BYTES};
pub use provider::OidcProvider;

#[cfg(feature = "testkit")]
pub mod testkit;
