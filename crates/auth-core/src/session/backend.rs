//! Session tokens, keys, records and the backend trait that stores them.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{InvalidInput, SessionError};
use crate::principal::Principal;
use crate::second_factor::Factor;

const TOKEN_BYTES: usize = 32;
const TOKEN_HEX_LEN: usize = TOKEN_BYTES * 2;

/// The secret a browser holds (the cookie value): 256 random bits from the
/// operating system's CSPRNG, as 64 lowercase hex characters.
///
/// Backends never see it: they are given its [`SessionKey`], a SHA-256 of
/// the token, so a leaked session table hands out no live sessions. `Debug`
/// is redacted.
#[derive(Clone)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh random token.
    ///
    /// # Panics
    ///
    /// When the operating system has no random source, which leaves no safe
    /// way to go on.
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        #[allow(clippy::expect_used)]
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(hex(&bytes))
    }

    /// Parses a token from a cookie value; `None` unless it is exactly 64
    /// lowercase hex characters.
    pub fn parse(value: &str) -> Option<Self> {
        let well_formed = value.len() == TOKEN_HEX_LEN
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then(|| Self(value.to_owned()))
    }

    /// The cookie value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key the backend stores this session under when [`Sessions`]
    /// has no secret: the SHA-256 of the token.
    ///
    /// [`Sessions`]: crate::Sessions
    pub fn key(&self) -> SessionKey {
        SessionKey(hex(&Sha256::digest(self.0.as_bytes())))
    }

    /// The key under a secret: HMAC-SHA256(secret, token). Someone who can
    /// write to the session table but does not know the secret cannot plant
    /// a session for a token of their choosing.
    pub fn keyed(&self, secret: &[u8]) -> SessionKey {
        // HMAC takes a key of any length, so this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
            return self.key();
        };
        mac.update(self.0.as_bytes());
        SessionKey(hex(&mac.finalize().into_bytes()))
    }
}

impl PartialEq for SessionToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SessionToken {}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// The id a session is stored under: the hex SHA-256 of its token.
///
/// Safe to store, list and show to its owner ("your sessions"); it cannot be
/// turned back into a cookie. `Debug` prints a short prefix only. It
/// deserializes only from a well-formed key (see [`SessionKey::parse`]), so
/// a malformed key from the wire is an error, not a value.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct SessionKey(String);

impl TryFrom<String> for SessionKey {
    type Error = InvalidInput;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl SessionKey {
    /// Parses a stored key: exactly 64 lowercase hex characters.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        let well_formed = value.len() == TOKEN_HEX_LEN
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidInput::new(
                "session key is not 64 lowercase hex characters",
            ))
        }
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey({}…)", &self.0[..8.min(self.0.len())])
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What a session holds: the principal snapshot and its timestamps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionRecord {
    /// The signed-in principal (anonymous once signed out).
    pub principal: Principal,
    /// The user's change stamp when `principal` was read from the store; a
    /// newer stamp in the backend means the snapshot is stale.
    pub user_stamp: u64,
    /// When the session was created (Unix seconds).
    pub created_at: u64,
    /// When the session was last used (Unix seconds).
    pub last_seen: u64,
    /// Set while the sign-in passed its first factor and waits for the
    /// second: the principal is anonymous meanwhile, so nothing but the
    /// second-factor step treats the session as signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingSignIn>,
    /// The last second factor this session verified, and when: what a
    /// step-up policy asks about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<FactorProof>,
}

/// A sign-in that passed its first factor and waits for a second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingSignIn {
    /// Who is signing in.
    pub user_id: String,
    /// When the first factor passed (Unix seconds).
    pub since: u64,
}

/// A second factor a session verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FactorProof {
    /// Which factor.
    pub factor: Factor,
    /// When (Unix seconds).
    pub at: u64,
}

impl FactorProof {
    /// `factor`, verified now.
    pub fn now(factor: Factor) -> Self {
        Self {
            factor,
            at: unix_now(),
        }
    }

    /// Whether it was verified less than `max_age` before `now`.
    pub fn is_fresh(&self, max_age: Duration, now: u64) -> bool {
        now.saturating_sub(self.at) < max_age.as_secs()
    }
}

impl SessionRecord {
    /// A new record for `principal`, created now.
    pub fn new(principal: Principal, user_stamp: u64) -> Self {
        let now = unix_now();
        Self {
            principal,
            user_stamp,
            created_at: now,
            last_seen: now,
            pending: None,
            second_factor: None,
        }
    }

    /// The user this session belongs to, if signed in.
    pub fn user_id(&self) -> Option<&str> {
        self.principal.user_id()
    }
}

/// Where per-login sessions live, with a TTL.
///
/// Besides load, save and delete, a backend keeps two per-user records so
/// that a change reaches every session of a user in O(1) per request:
///
/// - an **index** of the user's sessions (for "sign out everywhere" and
///   "list my sessions", in O(sessions of that user));
/// - a **change stamp**, a counter the writer bumps on every claim change; a
///   session whose snapshot carries an older stamp is refreshed from the
///   store on its next load.
///
/// Run the conformance suite in [`testkit`](crate::testkit) (feature
/// `testkit`) against an implementation to hold it to this contract.
#[async_trait]
pub trait SessionBackend: Send + Sync + 'static {
    /// The session stored under `key`; `Ok(None)` when there is none or it
    /// has expired.
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, SessionError>;

    /// Inserts or replaces the session; it expires `ttl` from now. The
    /// session is indexed under its principal's user id (and removed from
    /// any other user's index). Saving again extends the TTL.
    async fn save(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<(), SessionError>;

    /// Replaces the session only if it still exists (and has not expired),
    /// extending its TTL; `Ok(false)` and nothing written otherwise. Used to
    /// write back a loaded session, so that a request racing a sign-out can
    /// never bring the session back.
    async fn update(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, SessionError>;

    /// Removes the session; `Ok(false)` when there was none. Repeat calls
    /// are harmless.
    async fn delete(&self, key: &SessionKey) -> Result<bool, SessionError>;

    /// The live sessions of a user (empty for an unknown user). Expired
    /// sessions are not listed.
    async fn sessions_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, SessionError>;

    /// Removes every session of a user; returns how many there were.
    async fn delete_sessions_of(&self, user_id: &str) -> Result<usize, SessionError>;

    /// The user's change stamp; `0` for a user never bumped.
    async fn user_stamp(&self, user_id: &str) -> Result<u64, SessionError>;

    /// Raises the user's change stamp atomically and returns the new value,
    /// which is greater than every value returned before.
    async fn bump_user_stamp(&self, user_id: &str) -> Result<u64, SessionError>;
}
