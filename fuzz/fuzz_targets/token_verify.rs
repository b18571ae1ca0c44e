//! `TokenIssuer::verify` on arbitrary and on tampered tokens.
//!
//! Oracle: verification never panics, and only a token this issuer issued
//! in this run verifies. Each input is used twice: as a token as is, and as
//! a recipe that mutates a real token (replace, re-encode, flip, insert,
//! drop, re-sign with `alg: none` or another key, forge the payload). A
//! mutation that leaves the token unchanged must still verify, so the
//! oracle cannot pass by refusing everything.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use auth_local_idp::TokenIssuer;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

/// The issuer's fixed secret (a fuzzing key, not a real one).
const SECRET: &str = "fuzzing-secret-0123456789abcdef0123456789";
/// A different secret with the same issuer and audience.
const FOREIGN_SECRET: &str = "another-secret-0123456789abcdef0123456789";
/// Long enough that no issued token expires during a fuzzing session.
const TTL: Duration = Duration::from_hours(30 * 24);

struct State {
    issuer: TokenIssuer,
    foreign: TokenIssuer,
    issued: Vec<String>,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let issuer = TokenIssuer::hs256(SECRET)
            .with_ttl(TTL)
            .build()
            .expect("a valid issuer");
        let foreign = TokenIssuer::hs256(FOREIGN_SECRET)
            .with_ttl(TTL)
            .build()
            .expect("a valid issuer");
        let claim_sets = [
            json!({}),
            json!({"role": "admin"}),
            json!({"name": "Ada", "roles": ["a", "b"], "n": 1}),
        ];
        let tokens = claim_sets
            .iter()
            .enumerate()
            .map(|(i, claims)| {
                let Value::Object(claims) = claims else {
                    unreachable!("the claim sets are objects")
                };
                issuer
                    .issue(&format!("local:{i}"), claims, None)
                    .expect("issuing works")
            })
            .collect();
        State {
            issuer,
            foreign,
            issued: tokens,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let state = state();

    // As is: arbitrary bytes never verify (unless they are an issued token).
    check(state, &String::from_utf8_lossy(data));

    // As a recipe over a real token.
    let [pick, op, arg, rest @ ..] = data else {
        return;
    };
    let original = &state.issued[usize::from(*pick) % state.issued.len()];
    let mutated = mutate(state, original, *op, *arg, rest);
    let verified = check(state, &mutated);
    if mutated == *original {
        assert!(verified, "an unchanged issued token must verify");
    }
});

/// Verifies `token`; panics if it verifies without being an issued token.
fn check(state: &State, token: &str) -> bool {
    let verified = state.issuer.verify(token).is_ok();
    assert!(
        !verified || state.issued.iter().any(|t| t == token),
        "a token that was never issued verified: {token:?}"
    );
    verified
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `token` changed as `op` says, with `arg` and `rest` as its operands.
fn mutate(state: &State, token: &str, op: u8, arg: u8, rest: &[u8]) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let segment = usize::from(arg) % parts.len();
    let text = String::from_utf8_lossy(rest).into_owned();
    match op % 10 {
        // Replace one segment with raw text.
        0 => {
            parts[segment] = text;
            parts.join(".")
        }
        // Replace one segment with the base64 of the input (a crafted
        // header or payload).
        1 => {
            parts[segment] = b64(rest);
            parts.join(".")
        }
        // Flip bytes: (position, xor) pairs.
        2 => {
            let mut bytes = token.as_bytes().to_vec();
            for pair in rest.chunks_exact(2) {
                let at = usize::from(pair[0]) * bytes.len() / 256;
                bytes[at] ^= pair[1];
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        // Insert text at a position.
        3 => {
            let at = usize::from(arg) * token.len() / 256;
            format!("{}{text}{}", &token[..at], &token[at..])
        }
        // Drop one segment, or cut the token short.
        4 => {
            if rest.is_empty() {
                parts.remove(segment);
                parts.join(".")
            } else {
                token[..usize::from(rest[0]) * token.len() / 256].to_owned()
            }
        }
        // `alg: none` over the real payload, with the input as signature.
        5 => {
            let header =
                json!({"alg": if arg.is_multiple_of(2) { "none" } else { "None" }, "typ": "JWT"});
            format!(
                "{}.{}.{}",
                b64(header.to_string().as_bytes()),
                parts[1],
                b64(rest)
            )
        }
        // Forge the payload: merge the input's JSON object into it (or set
        // `sub` to the text), keeping the real header and signature.
        6 => {
            let mut payload = decode_object(&parts[1]);
            match serde_json::from_slice::<Value>(rest) {
                Ok(Value::Object(extra)) => payload.extend(extra),
                _ => {
                    payload.insert("sub".into(), Value::from(text));
                }
            }
            parts[1] = b64(Value::Object(payload).to_string().as_bytes());
            parts.join(".")
        }
        // Signed with another key, same issuer and audience.
        7 => {
            let subject = if text.is_empty() { "local:0" } else { &text };
            let claims = match serde_json::from_slice::<Value>(rest) {
                Ok(Value::Object(claims)) => claims,
                _ => Map::new(),
            };
            state
                .foreign
                .issue(subject, &claims, None)
                .unwrap_or_else(|_| token.to_owned())
        }
        // Another algorithm name in the header.
        8 => {
            let mut header = decode_object(&parts[0]);
            header.insert("alg".into(), Value::from(text));
            parts[0] = b64(Value::Object(header).to_string().as_bytes());
            parts.join(".")
        }
        // Text around the token.
        _ => {
            if arg.is_multiple_of(2) {
                format!("{token}{text}")
            } else {
                format!("{text}{token}")
            }
        }
    }
}

/// The JSON object a base64url segment holds (empty if it holds none).
fn decode_object(segment: &str) -> Map<String, Value> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}
