//! Session tokens and keys: the cookie format, and secrets that never reach
//! `Debug`.

use auth_core::{
    NewUser, PasswordHash, Principal, Proof, Secret, SessionConfig, SessionKey, SessionRecord,
    SessionToken,
};

#[test]
fn generated_tokens_are_64_lowercase_hex_and_parse_back() {
    for _ in 0..100 {
        let token = SessionToken::generate();
        let text = token.as_str();
        assert_eq!(text.len(), 64);
        assert!(text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(SessionToken::parse(text), Some(token.clone()));
        assert_eq!(SessionToken::parse(text).unwrap().key(), token.key());
    }
}

#[test]
fn malformed_tokens_are_rejected() {
    let valid = SessionToken::generate().as_str().to_owned();
    let rejected = [
        String::new(),
        valid[..63].to_owned(),
        format!("{valid}0"),
        valid.to_uppercase(),
        format!("{}g", &valid[..63]),
        format!(" {}", &valid[..63]),
        format!("{}\n", &valid[..63]),
        format!("0x{}", &valid[..62]),
        // 64 bytes, but not ASCII.
        format!("{}é", &valid[..62]),
        "../".repeat(21) + "a",
        "%00".repeat(21) + "a",
        "a".repeat(10_000),
    ];
    for value in &rejected {
        assert_eq!(SessionToken::parse(value), None, "accepted {value:?}");
        assert!(SessionKey::parse(value).is_err(), "accepted key {value:?}");
    }
}

#[test]
fn a_key_is_a_hash_of_the_token_not_the_token() {
    let token = SessionToken::generate();
    let key = token.key();
    assert_ne!(key.as_str(), token.as_str());
    assert_eq!(key, token.key(), "the same token always names the same key");
    assert_eq!(SessionKey::parse(key.as_str()).unwrap(), key);
    assert_eq!(key.to_string(), key.as_str());
    assert_ne!(SessionToken::generate().key(), key);
}

#[test]
fn debug_never_shows_a_secret() {
    let token = SessionToken::generate();
    let shown = format!("{token:?} {token:#?}");
    assert!(!shown.contains(token.as_str()), "{shown}");

    let key = token.key();
    let shown = format!("{key:?}");
    assert!(
        !shown.contains(key.as_str()),
        "a key's Debug shows a prefix only"
    );

    let secret = Secret::new("correct horse battery staple");
    let shown = format!("{secret:?} {secret:#?}");
    assert!(!shown.contains("horse"), "{shown}");

    let phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    let hash = PasswordHash::new(phc);
    assert!(!format!("{hash:?}").contains("aGFzaGhhc2hoYXNo"));

    let user = NewUser::new("local:1").with_password_hash(PasswordHash::new(phc));
    let shown = format!("{user:?} {user:#?}");
    assert!(!shown.contains("aGFzaGhhc2hoYXNo"), "{shown}");

    let proof = Proof::password("ada@example.com", "correct horse battery staple");
    let shown = format!("{proof:?} {proof:#?}");
    assert!(!shown.contains("horse"), "{shown}");

    let record = SessionRecord::new(Principal::anonymous(), 0);
    let active = format!("{:?}", (key.clone(), record));
    assert!(!active.contains(key.as_str()));
    assert!(!format!("{:?}", SessionConfig::new()).is_empty());
}
