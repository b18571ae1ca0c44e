//! Against a real OpenID Provider (node's `oidc-provider`): the code flow
//! with discovery, PKCE and userinfo works, a code works once, and a code
//! with the wrong PKCE verifier works never.

// Helpers outside the test functions unwrap too: a failure is the test's.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use auth_core::AuthorizationCode;
use auth_core::memory::MemoryStore;
use auth_oidc::testkit::TestProvider;
use auth_oidc::{FlowPurpose, OidcError, OidcProvider, PendingFlow, ProviderConfig};

const REDIRECT: &str = "http://127.0.0.1:9/auth/oidc/callback";

async fn setup() -> (TestProvider, OidcProvider) {
    let provider = TestProvider::start(&[REDIRECT.to_owned()]).await;
    let config = ProviderConfig::issuer(
        "oidc",
        &provider.issuer,
        &provider.client_id,
        provider.client_secret.as_str(),
        REDIRECT,
    );
    let rp = OidcProvider::new(config, Arc::new(MemoryStore::new())).expect("valid");
    (provider, rp)
}

/// Starts a flow and signs in at the provider as `login`: the flow and the
/// code it sent back.
async fn code_for(
    provider: &TestProvider,
    rp: &OidcProvider,
    login: &str,
) -> (PendingFlow, String) {
    let (url, flow) = rp
        .start(FlowPurpose::SignIn, "/")
        .await
        .expect("discovered");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("state").as_deref(), Some(flow.state.as_str()));
    assert_eq!(param("nonce").as_deref(), Some(flow.nonce.as_str()));
    let back = url::Url::parse(&provider.authorize(url.as_str(), login).await).expect("a URL");
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    let pairs: Vec<(String, String)> = back.query_pairs().into_owned().collect();
    let state = pairs
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.as_str());
    assert_eq!(state, Some(flow.state.as_str()));
    let code = pairs
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("a code");
    (flow, code)
}

#[tokio::test]
async fn a_code_signs_in_once_with_the_userinfo_email() {
    let (provider, rp) = setup().await;
    let (flow, code) = code_for(&provider, &rp, "zoe").await;
    let proof = AuthorizationCode::new(code, flow.pkce_verifier, flow.nonce);
    let identity = rp.identify(&proof).await.expect("signed in");
    assert_eq!(identity.subject, "zoe");
    assert_eq!(identity.email.as_deref(), Some("zoe@example.com"));
    assert!(identity.email_verified);
    assert_eq!(identity.name.as_deref(), Some("User zoe"));
    match rp.identify(&proof).await {
        Err(OidcError::Exchange(reason)) => assert_eq!(reason, "invalid_grant"),
        other => panic!("a used code was accepted again: {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused_by_the_provider() {
    let (provider, rp) = setup().await;
    let (flow, code) = code_for(&provider, &rp, "yann").await;
    let other = rp
        .start(FlowPurpose::SignIn, "/")
        .await
        .expect("discovered")
        .1;
    let proof = AuthorizationCode::new(code, other.pkce_verifier, flow.nonce);
    match rp.identify(&proof).await {
        Err(OidcError::Exchange(reason)) => assert_eq!(reason, "invalid_grant"),
        other => panic!("a wrong verifier was accepted: {other:?}"),
    }
}

#[tokio::test]
async fn an_unverified_email_is_reported_as_such() {
    let (provider, rp) = setup().await;
    let (flow, code) = code_for(&provider, &rp, "unverified-xena").await;
    let proof = AuthorizationCode::new(code, flow.pkce_verifier, flow.nonce);
    let identity = rp.identify(&proof).await.expect("signed in");
    assert_eq!(
        identity.email.as_deref(),
        Some("unverified-xena@example.com")
    );
    assert!(!identity.email_verified);
}
