//! JWT forgeries at `POST /auth/local/verify-token`, built by hand
//! (base64url and HMAC) so that nothing of the issuer under test helps
//! make them: every one is `{"valid": false}` with 200, never a 5xx.

use std::time::{SystemTime, UNIX_EPOCH};

use auth_http::auth_local_idp::{DEFAULT_ISSUER, MAX_TOKEN_LEN};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use http::StatusCode;
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};

use super::hostile::{post, roomy};
use crate::{Adapter, SECRET, Served};

/// The route's answer to `body`: status and JSON body (`null` when not
/// JSON). Fails the test on a 5xx.
async fn verify_raw(served: &Served, body: String) -> (StatusCode, Value) {
    let path = "/auth/local/verify-token";
    let answer = post(served, path, Some("application/json"), body, &[]).await;
    (
        answer.status,
        serde_json::from_str(&answer.body).unwrap_or(Value::Null),
    )
}

/// The route's JSON answer to `token`, which must be a 200.
async fn verify(served: &Served, token: &str) -> Value {
    let (status, body) = verify_raw(served, json!({ "token": token }).to_string()).await;
    assert_eq!(status, StatusCode::OK, "{token:.60}");
    body
}

/// `token` is answered `{"valid": false}`.
async fn assert_invalid(served: &Served, token: &str, case: &str) {
    assert_eq!(
        verify(served, token).await,
        json!({"valid": false}),
        "{case}: {token:.80}"
    );
}

/// Now, in seconds since the epoch.
fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs(),
    )
    .expect("in range")
}

/// `value` as base64url JSON.
fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Claims the test app's issuer would accept.
fn good_claims() -> Value {
    json!({
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_ISSUER,
        "sub": "local:forged",
        "iat": now(),
        "exp": now() + 600,
    })
}

/// The header the issuer writes.
fn good_header() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

/// `header.payload.signature` with an HMAC over the first two parts.
fn signed(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let alg = header["alg"].as_str().unwrap_or("HS256");
    let signature = match alg {
        "HS384" => {
            let mut mac = Hmac::<Sha384>::new_from_slice(key).expect("HMAC takes any key");
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        "HS512" => {
            let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC takes any key");
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Signed with the test app's secret.
fn forge(header: &Value, claims: &Value) -> String {
    signed(header, claims, SECRET)
}

/// `value` with `name` set to `set`, or removed.
fn with(mut value: Value, name: &str, set: Option<Value>) -> Value {
    let map = value.as_object_mut().expect("an object");
    match set {
        Some(v) => map.insert(name.to_owned(), v),
        None => map.remove(name),
    };
    value
}

/// The hand-built control token is valid (else the refusals prove nothing).
pub async fn the_hand_built_control_token_is_valid<A: Adapter>() {
    // Without this the refusals below would prove nothing.
    let served = roomy::<A>();
    let body = verify(&served, &forge(&good_header(), &good_claims())).await;
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["decoded"]["sub"], "local:forged");
}

/// `alg: none` in any case, empty or absent, is refused.
pub async fn alg_none_in_any_case_is_refused<A: Adapter>() {
    let served = roomy::<A>();
    for alg in ["none", "None", "NONE", "nOnE", "", "null"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        let unsigned = format!("{}.{}.", b64(&header), b64(&good_claims()));
        assert_invalid(&served, &unsigned, alg).await;
        assert_invalid(&served, unsigned.trim_end_matches('.'), alg).await;
        assert_invalid(&served, &forge(&header, &good_claims()), alg).await;
    }
    let no_alg = json!({"typ": "JWT"});
    assert_invalid(&served, &forge(&no_alg, &good_claims()), "no alg").await;
}

/// Other algorithms and other keys are refused.
pub async fn other_algorithms_and_key_confusion_are_refused<A: Adapter>() {
    let served = roomy::<A>();
    for alg in [
        "HS384", "HS512", "RS256", "ES256", "PS256", "EdDSA", "hs256",
    ] {
        let header = json!({"alg": alg, "typ": "JWT"});
        // Signed with the real secret: only the pinned algorithm may pass.
        assert_invalid(&served, &forge(&header, &good_claims()), alg).await;
    }
    for key in [&b""[..], b"wrong key that is long enough, 32+ bytes", b"0"] {
        let token = signed(&good_header(), &good_claims(), key);
        assert_invalid(&served, &token, "another key").await;
    }
}

/// Tampered payloads and signatures are refused.
pub async fn tampered_tokens_are_refused<A: Adapter>() {
    let served = roomy::<A>();
    let token = forge(&good_header(), &good_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let admin = b64(&with(good_claims(), "sub", Some(json!("local:admin"))));
    let extra = b64(&with(good_claims(), "role", Some(json!("admin"))));
    let mut flipped = parts[2].to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).expect("base64url is ASCII");
    let other = forge(
        &good_header(),
        &with(good_claims(), "sub", Some(json!("x"))),
    );
    let other_sig = other.rsplit('.').next().expect("three parts");
    for (case, token) in [
        (
            "payload swapped",
            format!("{}.{admin}.{}", parts[0], parts[2]),
        ),
        ("claim added", format!("{}.{extra}.{}", parts[0], parts[2])),
        (
            "signature flipped",
            format!("{}.{}.{flipped}", parts[0], parts[1]),
        ),
        ("signature empty", format!("{}.{}.", parts[0], parts[1])),
        (
            "signature moved",
            format!("{}.{}.{other_sig}", parts[0], parts[1]),
        ),
        ("signature padded", format!("{token}=")),
        (
            "signature std base64",
            token.replace('-', "+").replace('_', "/"),
        ),
    ] {
        if token == forge(&good_header(), &good_claims()) {
            continue; // the std-base64 rewrite changed nothing
        }
        assert_invalid(&served, &token, case).await;
    }
}

/// Wrong, missing or ill-typed claims are refused.
pub async fn wrong_missing_or_ill_typed_claims_are_refused<A: Adapter>() {
    let served = roomy::<A>();
    let t = now();
    let cases = [
        ("exp as string", "exp", Some(json!((t + 600).to_string()))),
        ("nbf as string", "nbf", Some(json!(t.to_string()))),
        ("iat as string", "iat", Some(json!(t.to_string()))),
        ("exp as float", "exp", Some(json!(1e300))),
        ("exp negative", "exp", Some(json!(-1))),
        ("exp past leeway", "exp", Some(json!(t - 120))),
        ("nbf in the future", "nbf", Some(json!(t + 3600))),
        ("exp missing", "exp", None),
        ("iss missing", "iss", None),
        ("iss wrong", "iss", Some(json!("evil"))),
        ("iss as list", "iss", Some(json!([DEFAULT_ISSUER]))),
        ("aud missing", "aud", None),
        ("aud wrong", "aud", Some(json!("evil"))),
        ("aud list without us", "aud", Some(json!(["evil", "other"]))),
        ("sub missing", "sub", None),
        ("sub as number", "sub", Some(json!(42))),
        ("sid of no session", "sid", Some(json!("ab".repeat(32)))),
        ("sid garbage", "sid", Some(json!("../../x"))),
    ];
    for (case, name, value) in cases {
        let token = forge(&good_header(), &with(good_claims(), name, value));
        assert_invalid(&served, &token, case).await;
    }
    let not_object = forge(&good_header(), &json!(["iss", DEFAULT_ISSUER]));
    assert_invalid(&served, &not_object, "claims not an object").await;
}

/// Key and extension headers are refused; `kid` never chooses a key.
pub async fn key_and_extension_headers_are_refused_and_kid_is_data<A: Adapter>() {
    let served = roomy::<A>();
    let jwk = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(b"attacker key")});
    for (name, value) in [
        ("jwk", jwk),
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("x5c", json!(["MIIBIjAN"])),
        ("crit", json!(["exp"])),
        ("crit", json!([])),
    ] {
        let header = with(good_header(), name, Some(value));
        assert_invalid(&served, &forge(&header, &good_claims()), name).await;
    }
    // kid never chooses a key: hostile values change nothing either way.
    for kid in [
        "../../../../dev/null",
        "' OR 1=1 --",
        "https://evil.example/k",
    ] {
        let header = with(good_header(), "kid", Some(json!(kid)));
        let body = verify(&served, &forge(&header, &good_claims())).await;
        assert_eq!(body["valid"], true, "kid {kid}: the pinned key still signs");
        let wrong = signed(&header, &good_claims(), b"");
        assert_invalid(&served, &wrong, kid).await;
    }
}

/// Malformed and oversized tokens are refused; an oversized body is 413.
pub async fn malformed_and_oversized_tokens_are_refused<A: Adapter>() {
    let served = roomy::<A>();
    let good = forge(&good_header(), &good_claims());
    let parts: Vec<&str> = good.split('.').collect();
    let bad_json = URL_SAFE_NO_PAD.encode("{not json");
    let huge = format!("{good}{}", "A".repeat(MAX_TOKEN_LEN));
    for (case, token) in [
        ("empty", String::new()),
        ("dots", "..".to_owned()),
        ("two parts", format!("{}.{}", parts[0], parts[1])),
        ("four parts", format!("{good}.{}", parts[2])),
        ("bad base64", "!!!.***.$$$".to_owned()),
        (
            "header not json",
            format!("{bad_json}.{}.{}", parts[1], parts[2]),
        ),
        (
            "payload not json",
            format!("{}.{bad_json}.{}", parts[0], parts[2]),
        ),
        ("spaces", format!(" {good} ")),
        ("nul bytes", "\u{0}.\u{0}.\u{0}".to_owned()),
        ("unicode", "é.é.é".to_owned()),
        ("oversized", huge),
    ] {
        assert_invalid(&served, &token, case).await;
    }
    let body = json!({ "token": "a".repeat(100_000) }).to_string();
    let (status, _) = verify_raw(&served, body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! hostile_tokens_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, hostile_tokens;
            the_hand_built_control_token_is_valid,
            alg_none_in_any_case_is_refused,
            other_algorithms_and_key_confusion_are_refused,
            tampered_tokens_are_refused,
            wrong_missing_or_ill_typed_claims_are_refused,
            key_and_extension_headers_are_refused_and_kid_is_data,
            malformed_and_oversized_tokens_are_refused,
        );
    };
}
