//! The GitHub preset against a local HTTP server that speaks the shape of
//! GitHub's OAuth endpoints and REST API (the real GitHub cannot be
//! reached from the tests): the code exchange with PKCE, the numeric id as
//! subject, and only a verified address as the email.

// Helpers outside the test functions unwrap too: a failure is the test's.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use auth_core::AuthorizationCode;
use auth_core::memory::MemoryStore;
use auth_oidc::{FlowPurpose, GitHubEndpoints, OidcError, OidcProvider, ProviderConfig};
use serde_json::{Value, json};

const TOKEN: &str = "gho_test_token";

async fn github(emails: Value) -> (OidcProvider, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = common::serve(move |request| {
        log.lock().unwrap().push(format!("{} {}", request.method, request.path));
        let authorized = request.header("authorization") == Some(&format!("Bearer {TOKEN}"));
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/login/oauth/access_token") => {
                assert!(request.body.contains("code_verifier="), "PKCE: {}", request.body);
                assert!(request.body.contains("code=the-code"), "{}", request.body);
                common::json(
                    200,
                    &json!({"access_token": TOKEN, "token_type": "bearer", "scope": "read:user,user:email"}),
                )
            }
            ("GET", "/api/user") if authorized => common::json(
                200,
                &json!({"id": 583_231, "login": "octocat", "name": "The Octocat", "email": "public@example.com"}),
            ),
            ("GET", "/api/user/emails") if authorized => common::json(200, &emails),
            _ => common::json(401, &json!({"message": "Bad credentials"})),
        }
    })
    .await;
    let config = ProviderConfig::github(
        "gh-client",
        "gh-secret",
        "http://127.0.0.1:9/auth/github/callback",
    )
    .with_github_endpoints(GitHubEndpoints::at(
        &format!("http://{addr}"),
        &format!("http://{addr}/api"),
    ));
    let provider = OidcProvider::new(config, Arc::new(MemoryStore::new())).expect("valid");
    (provider, seen)
}

async fn identify(provider: &OidcProvider) -> Result<auth_oidc::Identity, OidcError> {
    let (url, flow) = provider
        .start(FlowPurpose::SignIn, "/")
        .await
        .expect("started");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256")
    );
    assert!(query.iter().any(|(k, v)| k == "state" && *v == flow.state));
    assert!(url.path().ends_with("/login/oauth/authorize"));
    provider
        .identify(&AuthorizationCode::new(
            "the-code",
            flow.pkce_verifier,
            flow.nonce,
        ))
        .await
}

#[tokio::test]
async fn the_primary_verified_email_and_the_numeric_id_are_used() {
    let (provider, seen) = github(json!([
        {"email": "old@example.com", "primary": false, "verified": true},
        {"email": "Octo@Example.com", "primary": true, "verified": true},
    ]))
    .await;
    let identity = identify(&provider).await.expect("identified");
    assert_eq!(identity.provider, "github");
    assert_eq!(identity.subject, "583231");
    assert_eq!(identity.email.as_deref(), Some("octo@example.com"));
    assert!(identity.email_verified);
    assert_eq!(identity.name.as_deref(), Some("The Octocat"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "POST /login/oauth/access_token",
            "GET /api/user",
            "GET /api/user/emails"
        ]
    );
}

#[tokio::test]
async fn an_unverified_primary_is_never_the_email() {
    let (provider, _) = github(json!([
        {"email": "victim@example.com", "primary": true, "verified": false},
    ]))
    .await;
    let identity = identify(&provider).await.expect("identified");
    assert_eq!(
        identity.email, None,
        "neither the unverified nor the public profile address"
    );
    assert!(!identity.email_verified);
}

#[tokio::test]
async fn a_malformed_email_list_leaves_the_user_without_email() {
    let (provider, _) = github(json!({"message": "not a list"})).await;
    let identity = identify(&provider).await.expect("identified");
    assert_eq!(identity.email, None);
}
