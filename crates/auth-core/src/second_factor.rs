//! Second factors kept with the users: a TOTP secret per user (stored
//! sealed, never in the clear), the last TOTP time step accepted (so a
//! code is good once), and single-use recovery codes (stored hashed).
//!
//! The store keeps what it is given: sealing the secret and hashing the
//! codes is the caller's work (the web layer does it with a key derived
//! from its configured secret), so a leaked table holds neither a usable
//! secret nor a usable code.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{InvalidInput, StoreError};
#[cfg(feature = "memory")]
use crate::session::unix_now;

/// How many recovery codes a set holds when the web layer makes one.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// The most recovery codes a store keeps for one user.
pub const MAX_RECOVERY_CODES: usize = 16;

/// Longest sealed secret a store keeps, in bytes.
pub const MAX_SEALED_SECRET_LEN: usize = 255;

/// A factor that can complete a sign-in or a step-up after the password.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Factor {
    /// A time-based one-time password (RFC 6238) from an authenticator app.
    Totp,
    /// One of the user's single-use recovery codes.
    RecoveryCode,
}

impl Factor {
    /// The name used in claims and logs: `totp`, `recovery_code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TOTP secret as the store keeps it: sealed (encrypted and
/// authenticated) by the caller, as printable ASCII of at most
/// [`MAX_SEALED_SECRET_LEN`] bytes. Its `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(String);

impl SealedSecret {
    /// Wraps sealed text; refused unless it is 1 to
    /// [`MAX_SEALED_SECRET_LEN`] bytes of visible ASCII.
    pub fn new(sealed: impl Into<String>) -> Result<Self, InvalidInput> {
        let sealed = sealed.into();
        if sealed.is_empty()
            || sealed.len() > MAX_SEALED_SECRET_LEN
            || !sealed.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(InvalidInput::new(
                "a sealed secret is 1 to 255 bytes of visible ASCII",
            ));
        }
        Ok(Self(sealed))
    }

    /// The sealed text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedSecret(..)")
    }
}

/// The keyed hash of a recovery code, 64 lowercase hex characters: what
/// the store keeps instead of the code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecoveryCodeHash(String);

impl RecoveryCodeHash {
    /// Reads a hash; `None` unless it is 64 lowercase hex characters.
    pub fn parse(value: &str) -> Option<Self> {
        let well_formed = value.len() == 64
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        well_formed.then(|| Self(value.to_owned()))
    }

    /// The hash as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user's TOTP secret as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotpRecord {
    /// The sealed secret.
    pub secret: SealedSecret,
    /// When enrolment was confirmed with a code (Unix seconds); `None`
    /// while the secret waits for its first code and guards nothing.
    pub confirmed_at: Option<u64>,
    /// The last time step a code was accepted for: a code of this step or
    /// an earlier one is refused.
    pub last_step: Option<u64>,
}

impl TotpRecord {
    /// A record as a store read it back.
    pub fn new(secret: SealedSecret, confirmed_at: Option<u64>, last_step: Option<u64>) -> Self {
        Self {
            secret,
            confirmed_at,
            last_step,
        }
    }

    /// Whether the secret was confirmed and so guards the account.
    pub fn is_active(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// Where second factors live: one TOTP secret per user (pending until
/// confirmed, then active) and a set of recovery codes.
///
/// The contract (run the `second_factor` suite of
/// [`testkit`](crate::testkit) against an implementation):
///
/// - `begin_totp` stores a pending secret, replacing a pending one; a user
///   with an active secret is [`StoreError::Conflict`] and keeps it.
/// - `confirm_totp` turns the pending secret active and records `step` as
///   used, in one atomic step; `Ok(false)` when nothing is pending.
/// - `use_totp_step` records `step` when the secret is active and `step`
///   is later than the last step used, atomically: of concurrent calls with
///   one step exactly one gets `Ok(true)`; a step used already, an earlier
///   one, or no active secret is `Ok(false)`.
/// - `delete_totp` removes the secret, pending or active; `Ok(false)` when
///   there was none.
/// - `replace_recovery_codes` replaces the user's codes with the given
///   hashes (at most [`MAX_RECOVERY_CODES`], distinct; else
///   [`StoreError::Invalid`] and nothing changes) in one atomic step.
/// - `use_recovery_code` removes the code and says whether it was there:
///   of concurrent uses exactly one gets `Ok(true)`.
/// - Every call refuses a malformed user id ([`StoreError::Invalid`]);
///   reads of an unknown user find nothing.
///
/// Factors belong to users: a store that keeps the users too (the SQL
/// store, [`MemoryStore`](crate::memory::MemoryStore)) answers
/// [`StoreError::NotFound`] to `begin_totp` and `replace_recovery_codes`
/// for a user it does not have, and
/// [`AuthStore::delete_user`](crate::AuthStore::delete_user) deletes the
/// user's factors in the same atomic step.
#[async_trait]
pub trait SecondFactorStore: Send + Sync + 'static {
    /// The user's TOTP secret, pending or active.
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>, StoreError>;

    /// Stores a pending secret for the user.
    async fn begin_totp(&self, user_id: &str, secret: &SealedSecret) -> Result<(), StoreError>;

    /// Activates the pending secret, with `step` as its last used step.
    async fn confirm_totp(&self, user_id: &str, step: u64) -> Result<bool, StoreError>;

    /// Uses `step` of the active secret, once.
    async fn use_totp_step(&self, user_id: &str, step: u64) -> Result<bool, StoreError>;

    /// Removes the user's TOTP secret.
    async fn delete_totp(&self, user_id: &str) -> Result<bool, StoreError>;

    /// Replaces the user's recovery codes.
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        codes: &[RecoveryCodeHash],
    ) -> Result<(), StoreError>;

    /// Uses one recovery code, once.
    async fn use_recovery_code(
        &self,
        user_id: &str,
        code: &RecoveryCodeHash,
    ) -> Result<bool, StoreError>;

    /// How many unused recovery codes the user has.
    async fn recovery_codes_left(&self, user_id: &str) -> Result<usize, StoreError>;

    /// Removes every recovery code of the user; how many there were.
    async fn delete_recovery_codes(&self, user_id: &str) -> Result<usize, StoreError>;
}

/// Refuses a code list no store keeps: more than [`MAX_RECOVERY_CODES`],
/// or the same hash twice.
pub fn validate_recovery_codes(codes: &[RecoveryCodeHash]) -> Result<(), InvalidInput> {
    if codes.len() > MAX_RECOVERY_CODES {
        return Err(InvalidInput::new("at most 16 recovery codes per user"));
    }
    let distinct: std::collections::BTreeSet<&RecoveryCodeHash> = codes.iter().collect();
    if distinct.len() != codes.len() {
        return Err(InvalidInput::new("recovery codes must be distinct"));
    }
    Ok(())
}

/// Refuses a time step a SQL `BIGINT` cannot hold.
pub fn validate_step(step: u64) -> Result<(), InvalidInput> {
    if i64::try_from(step).is_err() {
        return Err(InvalidInput::new("a TOTP step must fit in 63 bits"));
    }
    Ok(())
}

/// A user's second factors in memory, as both memory stores keep them.
#[cfg(feature = "memory")]
#[derive(Debug, Default)]
pub(crate) struct FactorTables {
    pub(crate) totp: std::collections::HashMap<String, TotpRecord>,
    pub(crate) recovery:
        std::collections::HashMap<String, std::collections::BTreeSet<RecoveryCodeHash>>,
}

#[cfg(feature = "memory")]
impl FactorTables {
    pub(crate) fn begin(&mut self, user_id: &str, secret: &SealedSecret) -> Result<(), StoreError> {
        if self.totp.get(user_id).is_some_and(TotpRecord::is_active) {
            return Err(StoreError::Conflict { what: "totp" });
        }
        self.totp.insert(
            user_id.to_owned(),
            TotpRecord {
                secret: secret.clone(),
                confirmed_at: None,
                last_step: None,
            },
        );
        Ok(())
    }

    pub(crate) fn confirm(&mut self, user_id: &str, step: u64) -> bool {
        match self.totp.get_mut(user_id) {
            Some(record) if !record.is_active() => {
                record.confirmed_at = Some(unix_now());
                record.last_step = Some(step);
                true
            }
            _ => false,
        }
    }

    pub(crate) fn use_step(&mut self, user_id: &str, step: u64) -> bool {
        match self.totp.get_mut(user_id) {
            Some(record)
                if record.is_active() && record.last_step.is_none_or(|last| step > last) =>
            {
                record.last_step = Some(step);
                true
            }
            _ => false,
        }
    }

    pub(crate) fn replace_codes(&mut self, user_id: &str, codes: &[RecoveryCodeHash]) {
        self.recovery
            .insert(user_id.to_owned(), codes.iter().cloned().collect());
    }

    pub(crate) fn use_code(&mut self, user_id: &str, code: &RecoveryCodeHash) -> bool {
        self.recovery
            .get_mut(user_id)
            .is_some_and(|codes| codes.remove(code))
    }

    pub(crate) fn codes_left(&self, user_id: &str) -> usize {
        self.recovery
            .get(user_id)
            .map_or(0, std::collections::BTreeSet::len)
    }

    pub(crate) fn remove_user(&mut self, user_id: &str) {
        self.totp.remove(user_id);
        self.recovery.remove(user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_hide_and_check_themselves() {
        let sealed = SealedSecret::new("v1.abc").unwrap();
        assert!(!format!("{sealed:?}").contains("abc"));
        assert!(SealedSecret::new("").is_err());
        assert!(SealedSecret::new("a b").is_err());
        assert!(SealedSecret::new("x".repeat(256)).is_err());
    }

    #[test]
    fn code_lists_and_steps_are_checked() {
        let a = RecoveryCodeHash::parse(&"a".repeat(64)).unwrap();
        let b = RecoveryCodeHash::parse(&"b".repeat(64)).unwrap();
        assert!(validate_recovery_codes(&[a.clone(), b]).is_ok());
        assert!(validate_recovery_codes(&[a.clone(), a]).is_err());
        assert!(RecoveryCodeHash::parse("A").is_none());
        assert!(validate_step(u64::MAX).is_err());
        assert_eq!(Factor::Totp.as_str(), "totp");
    }
}
