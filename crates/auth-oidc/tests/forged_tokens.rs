//! ID tokens a hostile or broken provider could send, each refused for its
//! own reason: a real HTTP provider this test controls (discovery, keys,
//! token endpoint) hands out the forged token, and the relying party
//! fetches and checks it as it would a real one.

// Helpers outside the test functions unwrap too: a failure is the test's.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::memory::MemoryStore;
use auth_core::{AuthorizationCode, unix_now};
use auth_oidc::{
    FlowPurpose, OidcError, OidcProvider, PendingFlow, ProviderConfig, TokenRejection,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// An RSA key: its private PEM, its public PEM, and its JWK under `kid`.
struct Key {
    encoding: EncodingKey,
    public_pem: Vec<u8>,
    jwk: Jwk,
}

fn openssl(args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("these tests make their RSA keys with the `openssl` command");
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input).unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

fn key(kid: &str) -> Key {
    let private = openssl(&["genrsa", "-traditional", "2048"], None);
    let public_pem = openssl(&["rsa", "-pubout"], Some(&private));
    let encoding = EncodingKey::from_rsa_pem(&private).expect("a PEM key");
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("a JWK");
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Key {
        encoding,
        public_pem,
        jwk,
    }
}

/// What the fake provider serves; the test changes it between calls.
struct State {
    keys: Vec<Jwk>,
    id_token: String,
    key_fetches: usize,
}

struct Forge {
    issuer: String,
    state: Arc<Mutex<State>>,
    provider: OidcProvider,
}

const CLIENT: &str = "forge-client";

async fn forge(published: &Key, refresh_every: Duration) -> Forge {
    let state = Arc::new(Mutex::new(State {
        keys: vec![published.jwk.clone()],
        id_token: String::new(),
        key_fetches: 0,
    }));
    let shared = state.clone();
    let issuer = Arc::new(Mutex::new(String::new()));
    let issuer_seen = issuer.clone();
    let addr = common::serve(move |request| {
        let iss = issuer_seen.lock().unwrap().clone();
        let mut state = shared.lock().unwrap();
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/.well-known/openid-configuration") => common::json(
                200,
                &json!({
                    "issuer": iss,
                    "authorization_endpoint": format!("{iss}/authorize"),
                    "token_endpoint": format!("{iss}/token"),
                    "jwks_uri": format!("{iss}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }),
            ),
            ("GET", "/jwks") => {
                state.key_fetches += 1;
                common::json(200, &json!({ "keys": state.keys }))
            }
            ("POST", "/token") => common::json(
                200,
                &json!({
                    "access_token": "access",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": state.id_token,
                }),
            ),
            _ => common::json(404, &json!({"error": "not_found"})),
        }
    })
    .await;
    let iss = format!("http://{addr}");
    issuer.lock().unwrap().clone_from(&iss);
    let config = ProviderConfig::issuer(
        "forge",
        &iss,
        CLIENT,
        "client-secret",
        "http://127.0.0.1:9/auth/forge/callback",
    )
    .with_scopes(["openid"])
    .with_jwks_refresh_interval(refresh_every);
    let provider = OidcProvider::new(config, Arc::new(MemoryStore::new())).expect("valid");
    Forge {
        issuer: iss,
        state,
        provider,
    }
}

impl Forge {
    /// Starts a flow (discovering the provider on the first call).
    async fn flow(&self) -> PendingFlow {
        self.provider
            .start(FlowPurpose::SignIn, "/")
            .await
            .expect("the forge is discoverable")
            .1
    }

    fn claims(&self, flow: &PendingFlow) -> Value {
        json!({
            "iss": self.issuer, "aud": CLIENT, "sub": "victim",
            "iat": unix_now(), "exp": unix_now() + 300, "nonce": flow.nonce,
        })
    }

    /// Serves `token` and finishes `flow` with it.
    async fn finish(&self, flow: &PendingFlow, token: String) -> Result<String, OidcError> {
        self.state.lock().unwrap().id_token = token;
        let code = AuthorizationCode::new("code", flow.pkce_verifier.clone(), flow.nonce.clone());
        self.provider
            .identify(&code)
            .await
            .map(|identity| identity.subject)
    }

    fn fetches(&self) -> usize {
        self.state.lock().unwrap().key_fetches
    }
}

fn rs256(key: &Key, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid.clone_from(&key.jwk.common.key_id);
    jsonwebtoken::encode(&header, claims, &key.encoding).expect("signed")
}

fn refused(result: Result<String, OidcError>) -> TokenRejection {
    match result {
        Err(OidcError::IdToken(reason)) => reason,
        other => panic!("expected an ID token refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_well_formed_token_passes_so_the_forgeries_below_fail_for_their_flaw() {
    let signing = key("k1");
    let forge = forge(&signing, Duration::from_secs(60)).await;
    let flow = forge.flow().await;
    let token = rs256(&signing, &forge.claims(&flow));
    assert_eq!(forge.finish(&flow, token).await.unwrap(), "victim");
}

#[tokio::test]
async fn wrong_issuer_audience_expiry_or_nonce_are_refused() {
    let signing = key("k1");
    let forge = forge(&signing, Duration::from_secs(60)).await;
    let cases: [(&str, Value, TokenRejection); 4] = [
        ("iss", json!("https://evil.example"), TokenRejection::Issuer),
        ("aud", json!("another-client"), TokenRejection::Audience),
        ("exp", json!(unix_now() - 600), TokenRejection::Expired),
        (
            "nonce",
            json!("a nonce of another flow"),
            TokenRejection::Nonce,
        ),
    ];
    for (field, value, reason) in cases {
        let flow = forge.flow().await;
        let mut claims = forge.claims(&flow);
        claims[field] = value;
        let token = rs256(&signing, &claims);
        assert_eq!(refused(forge.finish(&flow, token).await), reason, "{field}");
    }
}

#[tokio::test]
async fn a_token_replayed_into_another_flow_fails_its_nonce() {
    let signing = key("k1");
    let forge = forge(&signing, Duration::from_secs(60)).await;
    let first = forge.flow().await;
    let token = rs256(&signing, &forge.claims(&first));
    assert!(forge.finish(&first, token.clone()).await.is_ok());
    let second = forge.flow().await;
    assert_eq!(
        refused(forge.finish(&second, token).await),
        TokenRejection::Nonce
    );
}

#[tokio::test]
async fn alg_none_and_hs256_keyed_with_the_public_key_are_refused() {
    let signing = key("k1");
    let forge = forge(&signing, Duration::from_secs(60)).await;
    let flow = forge.flow().await;
    let claims = forge.claims(&flow);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    assert_eq!(
        refused(forge.finish(&flow, unsigned).await),
        TokenRejection::Algorithm
    );
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let confused = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(&signing.public_pem),
    )
    .unwrap();
    assert_eq!(
        refused(forge.finish(&flow, confused).await),
        TokenRejection::Algorithm
    );
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature() {
    let signing = key("k1");
    let forge = forge(&signing, Duration::from_secs(60)).await;
    let flow = forge.flow().await;
    let token = rs256(&signing, &forge.claims(&flow));
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = forge.claims(&flow);
    claims["sub"] = json!("admin");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_eq!(
        refused(forge.finish(&flow, parts.join(".")).await),
        TokenRejection::Signature
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_an_unknown_one_stays_refused() {
    let first = key("k1");
    let rotated = key("k2");
    let never_published = key("k3");
    let forge = forge(&first, Duration::from_secs(60)).await;
    let flow = forge.flow().await;
    let at_discovery = forge.fetches();
    forge.state.lock().unwrap().keys.push(rotated.jwk.clone());
    let token = rs256(&rotated, &forge.claims(&flow));
    assert_eq!(forge.finish(&flow, token).await.unwrap(), "victim");
    assert_eq!(
        forge.fetches(),
        at_discovery + 1,
        "one fetch for the new key"
    );

    let flow = forge.flow().await;
    let token = rs256(&never_published, &forge.claims(&flow));
    assert_eq!(
        refused(forge.finish(&flow, token).await),
        TokenRejection::UnknownKey
    );
    assert_eq!(
        forge.fetches(),
        at_discovery + 1,
        "within the interval, unknown keys cause no fetch"
    );
}

#[tokio::test]
async fn an_unknown_key_is_refused_after_a_fresh_fetch() {
    let first = key("k1");
    let forge = forge(&first, Duration::ZERO).await;
    let flow = forge.flow().await;
    let before = forge.fetches();
    let token = rs256(&key("k9"), &forge.claims(&flow));
    assert_eq!(
        refused(forge.finish(&flow, token).await),
        TokenRejection::UnknownKey
    );
    assert_eq!(forge.fetches(), before + 1);
}
