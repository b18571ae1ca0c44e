//! Interoperability with the Python original: an argon2-cffi hash and `PyJWT`
//! tokens, made once by `fixtures/make_fixtures.py` and committed.

mod common;

use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_core::{AuthStore, NewUser, PasswordHash};
use auth_local_idp::{Argon2Hasher, LocalIdpError, TokenError, TokenIssuer, Verification};
use common::{fixture, python};

fn hs256_issuer() -> TokenIssuer {
    TokenIssuer::hs256(fixture("jwt_secret"))
        .build()
        .expect("issuer")
}

fn rs256_issuer() -> TokenIssuer {
    TokenIssuer::rs256_pem(include_str!("fixtures/test_rsa_private.pem"))
        .build()
        .expect("issuer")
}

#[tokio::test]
async fn argon2_cffi_hash_verifies_and_asks_for_rehash() {
    let hash = PasswordHash::new(fixture("argon2_hash"));
    assert!(hash.as_str().starts_with("$argon2id$v=19$m=65536,t=3,p=4$"));
    let hasher = common::fast_hasher();
    assert!(hasher.needs_rehash(&hash));
    assert_eq!(
        hasher
            .verify(&fixture("argon2_password"), &hash)
            .await
            .unwrap(),
        Verification::Match { rehash: true }
    );
    assert_eq!(
        hasher.verify("not the password", &hash).await.unwrap(),
        Verification::Mismatch
    );
}

#[tokio::test]
async fn argon2_cffi_hash_is_rehashed_after_login() {
    // A user as the Python original's store holds it.
    let store = Arc::new(MemoryStore::new());
    let email = common::email();
    let user_id = format!("local:{}", uuid::Uuid::new_v4());
    let python_hash = PasswordHash::new(fixture("argon2_hash"));
    store
        .create_user(
            NewUser::new(&user_id)
                .with_email(&email)
                .with_password_hash(python_hash.clone())
                .with_link("local", &email),
        )
        .await
        .unwrap();
    let idp = common::idp_with(Arc::clone(&store), 100);
    let password = fixture("argon2_password");

    // A wrong password neither signs in nor touches the hash.
    let wrong = idp.verify_credentials(&email, "wrong password").await;
    assert!(matches!(wrong, Err(LocalIdpError::InvalidCredentials)));
    assert_eq!(
        store.password_hash(&user_id).await.unwrap(),
        Some(python_hash.clone())
    );

    let principal = idp.verify_credentials(&email, &password).await.unwrap();
    assert_eq!(principal.user_id(), Some(user_id.as_str()));

    let stored = store.password_hash(&user_id).await.unwrap().unwrap();
    assert_ne!(stored, python_hash, "the hash was not replaced");
    let (m, t, p) = idp.hasher().params();
    assert!(
        stored
            .as_str()
            .starts_with(&format!("$argon2id$v=19$m={m},t={t},p={p}$")),
        "re-hashed with other parameters"
    );
    assert!(!idp.hasher().needs_rehash(&stored));

    // The new hash works, and is not replaced again.
    idp.verify_credentials(&email, &password).await.unwrap();
    assert_eq!(store.password_hash(&user_id).await.unwrap(), Some(stored));
}

#[test]
fn pyjwt_hs256_token_verifies() {
    let token = hs256_issuer().verify(&fixture("hs256_valid")).unwrap();
    assert_eq!(token.subject(), fixture("jwt_sub"));
    assert_eq!(token.issuer(), "pywire-auth-local");
    assert_eq!(token.claim("role"), Some(&serde_json::json!("admin")));
    assert_eq!(token.expires_at(), Some(4_102_444_800));
}

#[test]
fn pyjwt_rs256_token_verifies() {
    let token = rs256_issuer().verify(&fixture("rs256_valid")).unwrap();
    assert_eq!(token.subject(), fixture("jwt_sub"));
}

#[test]
fn alg_none_is_refused() {
    let token = fixture("alg_none");
    assert!(matches!(
        hs256_issuer().verify(&token),
        Err(TokenError::Algorithm)
    ));
    assert!(matches!(
        rs256_issuer().verify(&token),
        Err(TokenError::Algorithm)
    ));
    // `none` with a signature glued on is refused too.
    let forged = format!("{token}c2lnbmF0dXJl");
    assert!(hs256_issuer().verify(&forged).is_err());
}

#[test]
fn rsa_public_key_as_hmac_secret_is_refused() {
    let token = fixture("hs256_signed_with_rsa_public_pem");
    assert!(matches!(
        rs256_issuer().verify(&token),
        Err(TokenError::Algorithm)
    ));
    // An HS256 issuer whose secret is not that PEM refuses it as well.
    assert!(matches!(
        hs256_issuer().verify(&token),
        Err(TokenError::Signature)
    ));
}

#[test]
fn rs256_token_is_refused_by_hs256_issuer() {
    assert!(matches!(
        hs256_issuer().verify(&fixture("rs256_valid")),
        Err(TokenError::Algorithm)
    ));
}

#[test]
fn another_hmac_algorithm_is_refused() {
    assert!(matches!(
        hs256_issuer().verify(&fixture("hs512_same_secret")),
        Err(TokenError::Algorithm)
    ));
}

#[test]
fn expired_token_is_refused() {
    assert!(matches!(
        hs256_issuer().verify(&fixture("hs256_expired")),
        Err(TokenError::Expired)
    ));
}

#[test]
fn wrong_issuer_and_audience_are_refused() {
    let issuer = hs256_issuer();
    assert!(matches!(
        issuer.verify(&fixture("hs256_wrong_issuer")),
        Err(TokenError::Issuer)
    ));
    assert!(matches!(
        issuer.verify(&fixture("hs256_wrong_audience")),
        Err(TokenError::Audience)
    ));
    // An issuer configured with another name refuses the original's tokens.
    let other = TokenIssuer::hs256(fixture("jwt_secret"))
        .with_issuer("my-app")
        .build()
        .unwrap();
    assert!(other.verify(&fixture("hs256_valid")).is_err());
}

/// Replaces the character at `index` of part `part` (0 header, 1 payload,
/// 2 signature) with another base64url character.
fn flip(token: &str, part: usize, index: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut chars: Vec<char> = parts[part].chars().collect();
    chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
    parts[part] = chars.into_iter().collect();
    parts.join(".")
}

#[test]
fn tampered_payload_or_signature_is_refused() {
    let issuer = hs256_issuer();
    let token = fixture("hs256_valid");
    let payload_len = token.split('.').nth(1).unwrap().len();
    for index in [0, 7, payload_len / 2, payload_len - 2] {
        let tampered = flip(&token, 1, index);
        assert_ne!(tampered, token);
        assert!(
            issuer.verify(&tampered).is_err(),
            "payload flip at {index} verified"
        );
    }
    for index in [0, 10, 20] {
        assert!(matches!(
            issuer.verify(&flip(&token, 2, index)),
            Err(TokenError::Signature)
        ));
    }
    let rs = fixture("rs256_valid");
    assert!(rs256_issuer().verify(&flip(&rs, 1, 9)).is_err());
    assert!(rs256_issuer().verify(&flip(&rs, 2, 30)).is_err());
}

#[test]
fn wrong_secret_is_refused() {
    let other = TokenIssuer::hs256("another-secret-0123456789abcdef-0123456789")
        .build()
        .unwrap();
    assert!(matches!(
        other.verify(&fixture("hs256_valid")),
        Err(TokenError::Signature)
    ));
}

#[test]
fn fixture_records_its_generator() {
    let generator = &python()["generator"];
    assert!(generator["argon2-cffi"].is_string());
    assert!(generator["pyjwt"].is_string());
}

#[tokio::test]
async fn python_verifier_parameters_are_within_limits() {
    // The Python original's parameters must stay verifiable.
    let (m, t, p) = (65_536, 3, 4);
    assert!(m <= auth_local_idp::MAX_VERIFY_M_COST);
    assert!(t <= auth_local_idp::MAX_VERIFY_T_COST);
    assert!(p <= auth_local_idp::MAX_VERIFY_P_COST);
    // And a hasher configured with them makes hashes it does not re-hash.
    let hasher = Argon2Hasher::builder()
        .with_params(m, t, p)
        .build()
        .unwrap();
    let hash = PasswordHash::new(fixture("argon2_hash"));
    assert!(!hasher.needs_rehash(&hash));
}
