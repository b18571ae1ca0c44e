//! The versioned JSON encoding of an event on the wire.
//!
//! ```json
//! {"v":1,"origin":"5f0c…","event":{"kind":"revoke"}}
//! ```
//!
//! `v` is the format version; `origin` names the channel instance (one per
//! process) that published it, so that instance can skip its own echo;
//! `event` is the [`AuthEvent`] as its serde form.

use auth_core::AuthEvent;
use serde::{Deserialize, Serialize};

/// The version this crate writes and reads.
pub const WIRE_VERSION: u64 = 1;

/// Why a message from the wire was not turned into an event. Such a message
/// is logged and dropped, never a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Not JSON, or JSON without a numeric `v`.
    #[error("not an encoded event")]
    Malformed(#[source] serde_json::Error),
    /// A version this crate does not read (a newer publisher).
    #[error("unknown wire version {0}")]
    UnknownVersion(u64),
    /// A version-1 message whose `event` is not an event.
    #[error("malformed event")]
    BadEvent(#[source] serde_json::Error),
}

/// A decoded message.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Decoded {
    /// The publishing instance, when the message names it.
    pub origin: Option<String>,
    /// The event.
    pub event: AuthEvent,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    v: u64,
    origin: &'a str,
    event: &'a AuthEvent,
}

#[derive(Deserialize)]
struct Head {
    v: u64,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(default)]
    origin: Option<String>,
    event: serde_json::Value,
}

/// Encodes `event` as published by `origin`.
///
/// ```
/// use auth_channel_redis::wire::{decode, encode};
/// use auth_core::AuthEvent;
///
/// let text = encode(&AuthEvent::revoke(None), "a").unwrap();
/// assert_eq!(text, r#"{"v":1,"origin":"a","event":{"kind":"revoke"}}"#);
/// let decoded = decode(text.as_bytes()).unwrap();
/// assert_eq!(decoded.event, AuthEvent::revoke(None));
/// assert_eq!(decoded.origin.as_deref(), Some("a"));
/// ```
pub fn encode(event: &AuthEvent, origin: &str) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Outgoing {
        v: WIRE_VERSION,
        origin,
        event,
    })
}

/// Decodes a message. A version-1 event of a kind this build does not know
/// (a newer publisher added one) decodes as [`AuthEvent::Resync`]: the
/// subscriber refetches, which is always safe.
pub fn decode(bytes: &[u8]) -> Result<Decoded, WireError> {
    let head: Head = serde_json::from_slice(bytes).map_err(WireError::Malformed)?;
    if head.v != WIRE_VERSION {
        return Err(WireError::UnknownVersion(head.v));
    }
    let incoming: Incoming = serde_json::from_slice(bytes).map_err(WireError::BadEvent)?;
    let has_kind = incoming
        .event
        .get("kind")
        .is_some_and(serde_json::Value::is_string);
    let event = match serde_json::from_value::<AuthEvent>(incoming.event) {
        Ok(event) => event,
        Err(_) if has_kind => AuthEvent::Resync,
        Err(error) => return Err(WireError::BadEvent(error)),
    };
    Ok(Decoded {
        origin: incoming.origin,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::{Claim, Principal, SessionToken};

    #[test]
    fn every_event_kind_round_trips() {
        let principal = Principal::authenticated("local:1", "Zoë", vec![Claim::new("r", "ä")]);
        for event in [
            AuthEvent::update(principal),
            AuthEvent::update_claims(vec![Claim::new("role", "admin")]),
            AuthEvent::revoke(Some(SessionToken::generate().key())),
            AuthEvent::revoke(None),
            AuthEvent::Resync,
        ] {
            let text = encode(&event, "origin-1").unwrap();
            let decoded = decode(text.as_bytes()).unwrap();
            assert_eq!(decoded.event, event);
            assert_eq!(decoded.origin.as_deref(), Some("origin-1"));
        }
    }

    #[test]
    fn garbage_and_unknown_versions_are_errors() {
        for garbage in [
            &b""[..],
            b"\xff\xfe",
            b"null",
            b"[1,2]",
            b"{\"v\":\"1\"}",
            b"{\"event\":{\"kind\":\"revoke\"}}",
            b"{\"v\":-1}",
        ] {
            assert!(
                matches!(decode(garbage), Err(WireError::Malformed(_))),
                "{garbage:?}"
            );
        }
        assert!(matches!(
            decode(br#"{"v":2,"event":{"kind":"revoke"}}"#),
            Err(WireError::UnknownVersion(2))
        ));
        for bad in [
            &br#"{"v":1}"#[..],
            br#"{"v":1,"event":42}"#,
            br#"{"v":1,"event":{"no":"kind"}}"#,
            br#"{"v":1,"event":{"kind":"revoke","session":"not-a-key"}}"#,
            br#"{"v":1,"origin":7,"event":{"kind":"revoke"}}"#,
        ] {
            let result = decode(bad);
            let resync = matches!(&result, Ok(d) if d.event == AuthEvent::Resync);
            assert!(
                matches!(result, Err(WireError::BadEvent(_))) || resync,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_malformed_session_key_is_not_a_revoke_of_all() {
        // The kind is known but the payload is bad: the subscriber refetches
        // instead of being signed out everywhere.
        let decoded = decode(br#"{"v":1,"event":{"kind":"revoke","session":"x"}}"#).unwrap();
        assert_eq!(decoded.event, AuthEvent::Resync);
    }

    #[test]
    fn an_unknown_kind_is_a_resync_and_origin_is_optional() {
        let decoded = decode(br#"{"v":1,"event":{"kind":"teleport","to":"mars"}}"#).unwrap();
        assert_eq!(decoded.event, AuthEvent::Resync);
        assert_eq!(decoded.origin, None);
    }
}
