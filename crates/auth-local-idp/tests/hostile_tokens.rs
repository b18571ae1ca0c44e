//! RFC 8725 checks on hand-built tokens: every header and claim is chosen
//! here, signed with the issuer's own key, so only the check under test can
//! refuse them.

mod common;

use auth_local_idp::jsonwebtoken::{Algorithm, EncodingKey, crypto};
use auth_local_idp::{MAX_TOKEN_LEN, REFUSED_HEADERS, TokenError, TokenIssuer};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::SECRET;
use serde_json::{Value, json};

fn issuer() -> TokenIssuer {
    TokenIssuer::hs256(SECRET).build().expect("issuer")
}

fn now() -> u64 {
    auth_core::unix_now()
}

/// `header.payload.signature` with exactly these JSON values, signed HS256
/// with the test secret.
fn forge(header: &Value, payload: &Value) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .expect("signing");
    format!("{message}.{signature}")
}

fn good_payload() -> Value {
    json!({
        "iss": "pywire-auth-local",
        "aud": "pywire-auth-local",
        "sub": "local:1",
        "iat": now(),
        "exp": now() + 600,
    })
}

fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

#[test]
fn a_hand_built_token_verifies_so_the_refusals_below_are_meaningful() {
    let verified = issuer()
        .verify(&forge(&hs256(), &good_payload()))
        .expect("the baseline verifies");
    assert_eq!(verified.subject(), "local:1");
}

#[test]
fn key_bearing_and_critical_headers_are_refused() {
    let issuer = issuer();
    let values = [
        (
            "jwk",
            json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET)}),
        ),
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        (
            "x5c",
            json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ),
        ("crit", json!(["exp"])),
    ];
    assert_eq!(values.len(), REFUSED_HEADERS.len());
    for (field, value) in values {
        let mut header = hs256();
        header[field] = value;
        let outcome = issuer.verify(&forge(&header, &good_payload()));
        assert!(
            matches!(outcome, Err(TokenError::Header(name)) if name == field),
            "{field}: {outcome:?}"
        );
        // Even an empty or null value is refused: presence is enough.
        header[field] = Value::Null;
        assert!(issuer.verify(&forge(&header, &good_payload())).is_err());
    }
}

#[test]
fn kid_is_data_never_a_key_or_a_path() {
    let issuer = issuer();
    // Whatever `kid` says, the configured key verifies the token...
    for kid in [
        "../../../../dev/null",
        "/etc/passwd",
        "' OR 1=1 --",
        "http://attacker.example/key",
        "",
        "\u{0}",
    ] {
        let mut header = hs256();
        header["kid"] = json!(kid);
        assert!(
            issuer.verify(&forge(&header, &good_payload())).is_ok(),
            "kid {kid:?} changed the outcome"
        );
    }
    // ...and a token signed with another key fails whatever `kid` names:
    // an empty key (what `/dev/null` would give) is not used.
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "kid": "/dev/null"}).to_string()),
        URL_SAFE_NO_PAD.encode(good_payload().to_string())
    );
    let signature = crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(b""),
        Algorithm::HS256,
    )
    .expect("signing");
    assert!(matches!(
        issuer.verify(&format!("{message}.{signature}")),
        Err(TokenError::Signature)
    ));
}

#[test]
fn time_claims_as_strings_or_fractions_are_refused() {
    let issuer = issuer();
    let far = "9999999999";
    let cases = [
        ("exp", json!(far)),
        ("exp", json!("tomorrow")),
        ("exp", json!(null)),
        ("exp", json!(-1)),
        ("exp", json!(9_999_999_999.5)),
        ("exp", json!([9_999_999_999_u64])),
        ("nbf", json!("0")),
        ("nbf", json!(far)),
        ("nbf", json!({"at": 0})),
        ("iat", json!("0")),
        ("iat", json!(true)),
    ];
    for (claim, value) in cases {
        let mut payload = good_payload();
        payload[claim] = value.clone();
        assert!(
            issuer.verify(&forge(&hs256(), &payload)).is_err(),
            "accepted {claim} = {value}"
        );
    }
}

#[test]
fn nbf_is_honoured_within_the_leeway() {
    let issuer = issuer();
    let leeway = issuer.leeway().as_secs();
    let mut payload = good_payload();
    payload["nbf"] = json!(now() + leeway + 120);
    assert!(matches!(
        issuer.verify(&forge(&hs256(), &payload)),
        Err(TokenError::NotYetValid)
    ));
    payload["nbf"] = json!(now().saturating_sub(1));
    assert!(issuer.verify(&forge(&hs256(), &payload)).is_ok());
}

#[test]
fn exp_iss_and_aud_are_required_and_checked() {
    let issuer = issuer();
    for missing in ["exp", "iss", "aud"] {
        let mut payload = good_payload();
        payload.as_object_mut().expect("object").remove(missing);
        assert!(
            matches!(
                issuer.verify(&forge(&hs256(), &payload)),
                Err(TokenError::MissingClaim(ref name)) if name == missing
            ),
            "{missing}"
        );
    }
    for (claim, value) in [
        ("iss", json!("someone-else")),
        ("iss", json!(["pywire-auth-local"])),
        ("aud", json!("someone-else")),
        ("aud", json!(["someone-else"])),
        ("aud", json!(42)),
        ("exp", json!(now().saturating_sub(3600))),
    ] {
        let mut payload = good_payload();
        payload[claim] = value.clone();
        assert!(
            issuer.verify(&forge(&hs256(), &payload)).is_err(),
            "accepted {claim} = {value}"
        );
    }
}

#[test]
fn alg_none_in_any_spelling_and_other_algorithms_are_refused() {
    let issuer = issuer();
    for alg in [
        "none", "None", "NONE", "nOnE", "HS384", "HS512", "RS256", "ES256", "EdDSA", "hs256", "",
    ] {
        let header = json!({"alg": alg});
        let token = forge(&header, &good_payload());
        assert!(
            matches!(issuer.verify(&token), Err(TokenError::Algorithm)),
            "{alg}"
        );
        // The unsigned form too.
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(good_payload().to_string())
        );
        assert!(issuer.verify(&unsigned).is_err(), "{alg} unsigned");
    }
    for header in [json!({}), json!({"alg": null}), json!({"alg": 256})] {
        assert!(issuer.verify(&forge(&header, &good_payload())).is_err());
    }
}

#[test]
fn malformed_segments_are_refused() {
    let issuer = issuer();
    let token = forge(&hs256(), &good_payload());
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);
    let cases = [
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}.{payload}.{signature}."),
        format!(".{header}.{payload}.{signature}"),
        format!("{header}=.{payload}.{signature}"),
        format!("{header}.{payload}=.{signature}"),
        format!("{header}.{payload}.{signature}="),
        format!(" {token}"),
        format!("{token} "),
        format!("{token}\n"),
        format!("{header}.+{}.{signature}", &payload[1..]),
        format!("{header}.{payload}./{}", &signature[1..]),
        format!(
            "{header}.{}.{signature}",
            URL_SAFE_NO_PAD.encode("not json")
        ),
        format!("{header}.{}.{signature}", URL_SAFE_NO_PAD.encode("[1,2,3]")),
        format!(
            "{}.{payload}.{signature}",
            URL_SAFE_NO_PAD.encode("\"HS256\"")
        ),
        format!("{header}.{payload}.{}", &signature[..signature.len() - 2]),
        format!("{header}.{payload}.%%%"),
        token.replacen('.', "..", 1),
    ];
    for case in &cases {
        assert!(issuer.verify(case).is_err(), "accepted {case:?}");
    }
}

#[test]
fn oversized_tokens_are_refused_before_decoding() {
    let issuer = issuer();
    let mut payload = good_payload();
    payload["pad"] = json!("x".repeat(MAX_TOKEN_LEN));
    let token = forge(&hs256(), &payload);
    assert!(token.len() > MAX_TOKEN_LEN);
    assert!(matches!(issuer.verify(&token), Err(TokenError::Malformed)));
    // A header alone past the limit, and a megabyte of dots.
    let huge_header = format!("{}..", "e".repeat(MAX_TOKEN_LEN * 4));
    assert!(matches!(
        issuer.verify(&huge_header),
        Err(TokenError::Malformed)
    ));
    assert!(issuer.verify(&".".repeat(1 << 20)).is_err());
}

#[test]
fn deeply_nested_json_is_refused_without_panicking() {
    let issuer = issuer();
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let header = URL_SAFE_NO_PAD.encode(&nested);
    let token = format!("{header}.{header}.sig");
    assert!(issuer.verify(&token).is_err());
}
