//! The seeds' channel semantics, through `AuthEvent::apply`: what a live
//! connection holds after each event.

use auth_core::{AuthEvent, Claim, Principal, SessionToken};

fn ada() -> Principal {
    Principal::authenticated("local:1", "Ada", vec![Claim::new("role", "user")])
        .with_raw(serde_json::json!({ "email": "ada@example.com" }))
}

#[test]
fn update_with_a_principal_replaces_it_whole() {
    let next = Principal::authenticated("local:1", "Ada L.", vec![Claim::new("role", "admin")]);
    let event = AuthEvent::update(next.clone());
    let key = SessionToken::generate().key();
    assert_eq!(event.apply(&ada(), Some(&key)), Some(next.clone()));
    assert_eq!(event.apply(&Principal::anonymous(), None), Some(next));
    assert!(!event.revokes(Some(&key)));
}

#[test]
fn update_with_claims_overlays_them_and_keeps_the_rest() {
    let claims = vec![Claim::new("role", "admin"), Claim::new("tier", "beta")];
    let event = AuthEvent::update_claims(claims.clone());
    let next = event.apply(&ada(), None).unwrap();
    assert_eq!(next.claims(), claims.as_slice());
    assert_eq!(next.user_id(), Some("local:1"));
    assert_eq!(next.display_name(), Some("Ada"));
    assert_eq!(next.raw(), ada().raw());
    assert!(next.is_authenticated());

    let cleared = AuthEvent::update_claims(Vec::new())
        .apply(&ada(), None)
        .unwrap();
    assert!(
        cleared.claims().is_empty(),
        "an empty overlay drops every claim"
    );
    assert_eq!(cleared.display_name(), Some("Ada"));
}

#[test]
fn revoke_of_this_session_drops_to_anonymous() {
    let key = SessionToken::generate().key();
    let event = AuthEvent::revoke(Some(key.clone()));
    assert_eq!(event.apply(&ada(), Some(&key)), None);
    assert!(event.revokes(Some(&key)));
}

#[test]
fn revoke_of_another_session_leaves_this_one() {
    let (mine, theirs) = (
        SessionToken::generate().key(),
        SessionToken::generate().key(),
    );
    let event = AuthEvent::revoke(Some(theirs));
    assert_eq!(event.apply(&ada(), Some(&mine)), Some(ada()));
    assert_eq!(
        event.apply(&ada(), None),
        Some(ada()),
        "a connection without a session"
    );
    assert!(!event.revokes(Some(&mine)));
    assert!(!event.revokes(None));
}

#[test]
fn revoke_of_all_sessions_drops_every_connection() {
    let event = AuthEvent::revoke(None);
    for key in [Some(SessionToken::generate().key()), None] {
        assert_eq!(event.apply(&ada(), key.as_ref()), None);
        assert!(event.revokes(key.as_ref()));
    }
}

#[test]
fn resync_leaves_the_principal_for_a_refetch() {
    let key = SessionToken::generate().key();
    assert_eq!(AuthEvent::Resync.apply(&ada(), Some(&key)), Some(ada()));
    assert!(!AuthEvent::Resync.revokes(Some(&key)));
}

#[test]
fn events_keep_their_wire_shape() {
    let key = SessionToken::generate().key();
    let cases = [
        (AuthEvent::update(ada()), "update"),
        (
            AuthEvent::update_claims(vec![Claim::new("a", "b")]),
            "update_claims",
        ),
        (AuthEvent::revoke(Some(key)), "revoke"),
        (AuthEvent::revoke(None), "revoke"),
        (AuthEvent::Resync, "resync"),
    ];
    for (event, kind) in cases {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], kind);
        let back: AuthEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
    let all = serde_json::to_string(&AuthEvent::revoke(None)).unwrap();
    assert_eq!(all, r#"{"kind":"revoke"}"#);
    let claims =
        serde_json::to_value(AuthEvent::update_claims(vec![Claim::new("a", "b")])).unwrap();
    assert_eq!(claims["claims"][0]["type"], "a");
}

#[test]
fn malformed_wire_events_are_errors_not_panics() {
    let inputs = [
        "",
        "{}",
        r#"{"kind":"explode"}"#,
        r#"{"kind":"update"}"#,
        r#"{"kind":"revoke","session":"not-hex"}"#,
        r#"{"kind":"update_claims","claims":[{"type":1}]}"#,
        "[1,2,3]",
        "null",
    ];
    for input in inputs {
        assert!(
            serde_json::from_str::<AuthEvent>(input).is_err(),
            "accepted {input}"
        );
    }
}

#[test]
fn a_hostile_session_key_on_the_wire_is_refused() {
    let multibyte = format!(r#"{{"kind":"revoke","session":"{}"}}"#, "é".repeat(32));
    assert!(serde_json::from_str::<AuthEvent>(&multibyte).is_err());
    let upper = "AB".repeat(32);
    let shouting = format!(r#"{{"kind":"revoke","session":"{upper}"}}"#);
    assert!(serde_json::from_str::<AuthEvent>(&shouting).is_err());
}
