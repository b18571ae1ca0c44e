//! The token issuer on its own tokens and on hostile input.

mod common;

use std::time::Duration;

use auth_core::{Claim, Principal};
use auth_local_idp::jsonwebtoken::{self, Algorithm, EncodingKey, Header};
use auth_local_idp::{
    ConfigError, DEFAULT_TOKEN_TTL, LocalIdpError, MAX_TOKEN_LEN, MIN_SECRET_LEN,
    REGISTERED_CLAIMS, TokenError, TokenIssuer,
};
use common::SECRET;
use serde_json::{Map, Value, json};

fn issuer() -> TokenIssuer {
    TokenIssuer::hs256(SECRET).build().expect("issuer")
}

fn now() -> u64 {
    auth_core::unix_now()
}

/// Signs `payload` with HS256 and `secret`, independently of the issuer.
fn sign(payload: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        payload,
        &EncodingKey::from_secret(secret),
    )
    .expect("signing")
}

fn payload(exp: u64) -> Value {
    json!({
        "iss": "pywire-auth-local",
        "aud": "pywire-auth-local",
        "sub": "local:1",
        "iat": now(),
        "exp": exp,
    })
}

#[test]
fn round_trip_carries_registered_and_caller_claims() {
    let issuer = issuer();
    let mut claims = Map::new();
    claims.insert("role".into(), json!("admin"));
    claims.insert("n".into(), json!(3));
    let before = now();
    let token = issuer.issue("local:abc", &claims, None).unwrap();
    let verified = issuer.verify(&token).unwrap();
    assert_eq!(verified.subject(), "local:abc");
    assert_eq!(verified.issuer(), "pywire-auth-local");
    assert_eq!(verified.claim("aud"), Some(&json!("pywire-auth-local")));
    assert_eq!(verified.claim("role"), Some(&json!("admin")));
    assert_eq!(verified.claim("n"), Some(&json!(3)));
    let iat = verified.issued_at().unwrap();
    assert!(iat >= before && iat <= now());
    assert_eq!(
        verified.expires_at().unwrap(),
        iat + DEFAULT_TOKEN_TTL.as_secs()
    );
    assert!(verified.claim("jti").and_then(Value::as_str).is_some());
    // Two tokens for the same subject differ (their jti does).
    assert_ne!(token, issuer.issue("local:abc", &claims, None).unwrap());
}

#[test]
fn per_call_ttl_and_configured_ttl() {
    let issuer = TokenIssuer::hs256(SECRET)
        .with_ttl(Duration::from_secs(60))
        .build()
        .unwrap();
    let default = issuer
        .verify(&issuer.issue("local:1", &Map::new(), None).unwrap())
        .unwrap();
    assert_eq!(
        default.expires_at().unwrap() - default.issued_at().unwrap(),
        60
    );
    let custom = issuer
        .verify(
            &issuer
                .issue("local:1", &Map::new(), Some(Duration::from_secs(3600)))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(
        custom.expires_at().unwrap() - custom.issued_at().unwrap(),
        3600
    );
    assert!(matches!(
        issuer.issue("local:1", &Map::new(), Some(Duration::ZERO)),
        Err(TokenError::InvalidInput(_))
    ));
    assert!(matches!(
        issuer.issue("local:1", &Map::new(), Some(Duration::MAX)),
        Err(TokenError::InvalidInput(_))
    ));
}

#[test]
fn caller_claims_cannot_override_registered_ones() {
    let issuer = issuer();
    for name in REGISTERED_CLAIMS {
        let mut claims = Map::new();
        claims.insert(name.to_owned(), json!("evil"));
        match issuer.issue("local:1", &claims, None) {
            Err(TokenError::ReservedClaim(reserved)) => assert_eq!(reserved, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn subject_is_checked() {
    let issuer = issuer();
    assert!(issuer.issue("", &Map::new(), None).is_err());
    assert!(issuer.issue(&"x".repeat(256), &Map::new(), None).is_err());
}

#[test]
fn tokens_too_large_to_verify_are_not_issued() {
    let issuer = issuer();
    let mut claims = Map::new();
    claims.insert("blob".into(), json!("x".repeat(MAX_TOKEN_LEN)));
    assert!(matches!(
        issuer.issue("local:1", &claims, None),
        Err(TokenError::InvalidInput(_))
    ));
    claims.insert("blob".into(), json!("x".repeat(1000)));
    let token = issuer.issue("local:1", &claims, None).unwrap();
    assert!(issuer.verify(&token).is_ok());
}

#[test]
fn short_secret_is_refused_with_a_clear_error() {
    let short = "x".repeat(MIN_SECRET_LEN - 1);
    let err = TokenIssuer::hs256(&short).build().unwrap_err();
    assert!(matches!(
        err,
        ConfigError::SecretTooShort { len: 31, min: 32 }
    ));
    assert!(err.to_string().contains("at least 32"));
    assert!(!err.to_string().contains(&short));
    assert!(
        TokenIssuer::hs256("x".repeat(MIN_SECRET_LEN))
            .build()
            .is_ok()
    );
    assert!(TokenIssuer::hs256("").build().is_err());
}

#[test]
fn leeway_is_small_and_applied() {
    let issuer = issuer();
    // Expired 10 s ago: inside the 30 s leeway.
    assert!(
        issuer
            .verify(&sign(&payload(now() - 10), SECRET.as_bytes()))
            .is_ok()
    );
    // Expired 2 minutes ago: refused.
    assert!(matches!(
        issuer.verify(&sign(&payload(now() - 120), SECRET.as_bytes())),
        Err(TokenError::Expired)
    ));
    // No leeway at all.
    let strict = TokenIssuer::hs256(SECRET)
        .with_leeway(Duration::ZERO)
        .build()
        .unwrap();
    assert!(matches!(
        strict.verify(&sign(&payload(now() - 10), SECRET.as_bytes())),
        Err(TokenError::Expired)
    ));
}

#[test]
fn not_before_in_the_future_is_refused() {
    let mut p = payload(now() + 600);
    p["nbf"] = json!(now() + 300);
    assert!(matches!(
        issuer().verify(&sign(&p, SECRET.as_bytes())),
        Err(TokenError::NotYetValid)
    ));
}

#[test]
fn required_claims_must_be_present() {
    for missing in ["exp", "iss", "aud", "sub"] {
        let mut p = payload(now() + 600);
        p.as_object_mut().unwrap().remove(missing);
        assert!(
            issuer().verify(&sign(&p, SECRET.as_bytes())).is_err(),
            "accepted a token without {missing}"
        );
    }
}

#[test]
fn claims_of_the_wrong_type_are_refused() {
    let mut p = payload(now() + 600);
    p["exp"] = json!("tomorrow");
    assert!(issuer().verify(&sign(&p, SECRET.as_bytes())).is_err());
}

#[test]
fn garbage_is_refused_without_panicking() {
    let issuer = issuer();
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    let inputs = [
        "",
        ".",
        "..",
        "...",
        "a.b.c",
        "not a token",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9..",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "e30.e30.e30",
        "\u{0}\u{1}\u{2}",
        "ünïcödé.ünïcödé.ünïcödé",
        huge.as_str(),
    ];
    for input in inputs {
        assert!(issuer.verify(input).is_err(), "accepted {input:.40?}");
    }
    assert!(matches!(issuer.verify(&huge), Err(TokenError::Malformed)));
    assert!(issuer.verify("a.b.c").ok().is_none());
}

#[test]
fn algorithm_in_header_other_than_hs256_is_refused_even_with_the_right_key() {
    let issuer = issuer();
    let p = payload(now() + 600);
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = jsonwebtoken::encode(
            &Header::new(alg),
            &p,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(matches!(issuer.verify(&token), Err(TokenError::Algorithm)));
    }
}

#[test]
fn custom_issuer_and_audience() {
    let issuer = TokenIssuer::hs256(SECRET)
        .with_issuer("my-app")
        .build()
        .unwrap();
    assert_eq!(
        issuer.audience(),
        "my-app",
        "audience defaults to the issuer"
    );
    let token = issuer.issue("local:1", &Map::new(), None).unwrap();
    assert_eq!(issuer.verify(&token).unwrap().issuer(), "my-app");
    // The default issuer refuses it.
    assert!(matches!(
        self::issuer().verify(&token),
        Err(TokenError::Issuer)
    ));
    let api = TokenIssuer::hs256(SECRET)
        .with_issuer("my-app")
        .with_audience("my-api")
        .build()
        .unwrap();
    assert!(matches!(api.verify(&token), Err(TokenError::Audience)));
    assert!(TokenIssuer::hs256(SECRET).with_issuer("").build().is_err());
    assert!(
        TokenIssuer::hs256(SECRET)
            .with_ttl(Duration::ZERO)
            .build()
            .is_err()
    );
}

#[test]
fn rs256_issues_verifies_and_publishes_jwks() {
    let issuer = TokenIssuer::rs256_pem(include_str!("fixtures/test_rsa_private.pem"))
        .build()
        .unwrap();
    assert_eq!(issuer.algorithm(), "RS256");
    let token = issuer.issue("local:1", &Map::new(), None).unwrap();
    assert_eq!(issuer.verify(&token).unwrap().subject(), "local:1");
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let jwks = serde_json::to_value(issuer.jwks().unwrap()).unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert!(key["n"].as_str().unwrap().len() > 300);
    assert_eq!(key["kid"].as_str(), header.kid.as_deref());
    // Only the public half is published.
    assert!(key.get("d").is_none());
    // An HS256 issuer has no JWKS.
    assert!(self::issuer().jwks().is_none());
    // A garbage key is a typed error.
    assert!(matches!(
        TokenIssuer::rs256_pem("not a pem").build(),
        Err(ConfigError::Key(_))
    ));
}

#[test]
fn debug_output_holds_no_key() {
    let issuer = issuer();
    let text = format!("{issuer:?}");
    assert!(text.contains("HS256"));
    assert!(!text.contains(SECRET));
    let builder = format!("{:?}", TokenIssuer::hs256(SECRET));
    assert!(!builder.contains(SECRET));
    let pem = include_str!("fixtures/test_rsa_private.pem");
    let rs = TokenIssuer::rs256_pem(pem).build().unwrap();
    let body = pem.lines().nth(1).unwrap();
    assert!(!format!("{rs:?}").contains(body));
}

#[tokio::test]
async fn idp_tokens_for_principals() {
    let (idp, _store) = common::idp();
    let user = idp
        .create_user(
            auth_local_idp::Registration::new(common::email(), "password-1234")
                .with_name("Ada")
                .with_claims(vec![
                    Claim::new("role", "admin"),
                    Claim::new("role", "editor"),
                ]),
        )
        .await
        .unwrap();
    let principal = Principal::for_user(&user);
    let token = idp.issue_for_principal(&principal, None).unwrap();
    let decoded = idp.verify_id_token(&token).unwrap();
    assert_eq!(decoded.subject(), user.user_id);
    assert_eq!(decoded.claim("name"), Some(&json!("Ada")));
    assert_eq!(
        decoded.claim("claims"),
        Some(&json!([{"type": "role", "value": "admin"}, {"type": "role", "value": "editor"}]))
    );
    // The principal behind the token is read from the store.
    let back = idp.principal_from_id_token(&token).await.unwrap().unwrap();
    assert_eq!(back.user_id(), Some(user.user_id.as_str()));
    assert!(back.has_claim("role", Some("editor")));
    // Anonymous principals get no token.
    assert!(matches!(
        idp.issue_for_principal(&Principal::anonymous(), None),
        Err(LocalIdpError::Invalid(_))
    ));
    // A valid token for a user that does not exist speaks for nobody.
    let ghost = idp
        .issue_id_token("local:ghost", &Map::new(), None)
        .unwrap();
    assert!(idp.principal_from_id_token(&ghost).await.unwrap().is_none());
    // Garbage speaks for nobody either.
    assert!(
        idp.principal_from_id_token("garbage")
            .await
            .unwrap()
            .is_none()
    );
}
