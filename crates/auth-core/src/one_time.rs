//! One-time tokens for the account flows (verify an email, reset a
//! password, confirm a new email): random, single use, stored hashed,
//! expiring, bound to their purpose and to the account state they were
//! issued for.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use subtle::ConstantTimeEq;

use crate::error::StoreError;
use crate::session::{SessionToken, unix_now};

/// What a one-time token may be used for; a token of one purpose is never
/// accepted for another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TokenPurpose {
    /// Proves the user reads the mail of their address.
    VerifyEmail,
    /// Lets the user set a new password without the old one.
    ResetPassword,
    /// Proves the user reads the mail of the new address they asked for.
    ChangeEmail,
}

impl TokenPurpose {
    /// Every purpose.
    pub const ALL: [Self; 3] = [Self::VerifyEmail, Self::ResetPassword, Self::ChangeEmail];

    /// The name stored beside the token.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify-email",
            Self::ResetPassword => "reset-password",
            Self::ChangeEmail => "change-email",
        }
    }

    /// The purpose a stored name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == name)
    }

    /// How long a token of this purpose lives by default: one hour for a
    /// password reset (it is as good as the password), a day for the
    /// email proofs.
    pub fn default_lifetime(self) -> Duration {
        match self {
            Self::ResetPassword => Duration::from_secs(60 * 60),
            Self::VerifyEmail | Self::ChangeEmail => Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// A one-time token as it goes into a link: 256 random bits as 64
/// lowercase hex characters. Only its [`TokenHash`] is stored. Its `Debug`
/// shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeToken(SessionToken);

impl OneTimeToken {
    /// A fresh random token.
    ///
    /// # Panics
    ///
    /// When the operating system has no random source.
    pub fn generate() -> Self {
        Self(SessionToken::generate())
    }

    /// Parses a token from a link; `None` unless it is exactly 64 lowercase
    /// hex characters.
    pub fn parse(value: &str) -> Option<Self> {
        SessionToken::parse(value).map(Self)
    }

    /// The text that goes into the link.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// What the store keeps instead of the token: its SHA-256.
    pub fn hash(&self) -> TokenHash {
        TokenHash(self.0.key().as_str().to_owned())
    }
}

impl fmt::Debug for OneTimeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OneTimeToken(..)")
    }
}

/// The SHA-256 of a [`OneTimeToken`], 64 lowercase hex characters: the
/// store's key. A leaked table gives no usable link.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hash as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a stored hash; `None` unless it is 64 lowercase hex characters.
    pub fn parse(value: &str) -> Option<Self> {
        SessionToken::parse(value).map(|_| Self(value.to_owned()))
    }
}

/// A binding for [`TokenRecord::new`]: the SHA-256 (64 hex characters) of
/// the account state `parts` (for example `["password", <hash>]` or
/// `["email", <address>]`), each length-prefixed so that no two lists of
/// parts share a digest. The store then keeps no address or password hash
/// beside the token, only a digest that changes when they do.
///
/// ```
/// use auth_core::state_binding;
///
/// let before = state_binding(&["email", "ada@example.com"]);
/// assert_eq!(before.len(), 64);
/// assert_ne!(before, state_binding(&["email", "ada@example.org"]));
/// assert_ne!(state_binding(&["ab", "c"]), state_binding(&["a", "bc"]));
/// ```
pub fn state_binding(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};

    let mut digest = Sha256::new();
    for part in parts {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    crate::session::hex(&digest.finalize())
}

/// What the store keeps for one token.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRecord {
    /// What the token is for.
    pub purpose: TokenPurpose,
    /// Whose it is.
    pub user_id: String,
    /// The account state it was issued for (for example a digest of the
    /// password hash, or the address to verify): the flow compares it with
    /// the state when the token comes back, so a reset link dies once the
    /// password changed. Up to 255 bytes.
    pub binding: String,
    /// Data the flow needs back (the new address of an email change). Up to
    /// 255 bytes.
    pub data: Option<String>,
    /// Unix seconds after which the token is worthless.
    pub expires_at: u64,
}

impl TokenRecord {
    /// A record for `user_id`'s token of `purpose`, bound to `binding`,
    /// living `lifetime` from now.
    pub fn new(
        purpose: TokenPurpose,
        user_id: impl Into<String>,
        binding: impl Into<String>,
        lifetime: Duration,
    ) -> Self {
        Self {
            purpose,
            user_id: user_id.into(),
            binding: binding.into(),
            data: None,
            expires_at: unix_now().saturating_add(lifetime.as_secs()),
        }
    }

    /// Keeps `data` with the token.
    #[must_use]
    pub fn with_data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Whether the token has expired at `now` (Unix seconds).
    pub fn expired_at(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// Whether `current` is the state the token was issued for, compared in
    /// constant time.
    pub fn binds(&self, current: &str) -> bool {
        bool::from(self.binding.as_bytes().ct_eq(current.as_bytes()))
    }

    /// Refuses records no store should keep: a malformed user id, a binding
    /// or data over 255 bytes or with control characters.
    pub fn validate(&self) -> Result<(), crate::InvalidInput> {
        crate::validate_user_id(&self.user_id)?;
        let fits = |text: &str| text.len() <= 255 && !text.chars().any(char::is_control);
        if !fits(&self.binding) || !self.data.as_deref().is_none_or(fits) {
            return Err(crate::InvalidInput::new(
                "a token's binding and data are at most 255 bytes without control characters",
            ));
        }
        Ok(())
    }
}

/// Where one-time tokens live until they are used or expire.
///
/// The contract (run the `one_time_token` suite of [`testkit`](crate::testkit)
/// against an implementation):
///
/// - `save_token` stores the record under the hash and, in the same atomic
///   step, deletes every other token of the same user and purpose: only the
///   newest link of a kind works, and a flood of requests for one account
///   keeps one row, not one per request. A hash stored already is
///   [`StoreError::Conflict`]. Invalid records are [`StoreError::Invalid`].
/// - `take_token` removes and returns the record of that hash and purpose
///   in one atomic step, so of concurrent calls exactly one gets it. An
///   unknown hash, a token of another purpose (left in place) or an expired
///   one (removed) answer `Ok(None)`.
/// - `delete_tokens_of` removes every token of a user (of one purpose, or
///   of all) and says how many; unknown users remove none.
///
/// Tokens belong to users. A store that keeps the users as well (the SQL
/// store, [`MemoryStore`](crate::memory::MemoryStore), any type that is an
/// [`AuthStore`](crate::AuthStore) too) holds them to it:
///
/// - `save_token` for a user it does not have is [`StoreError::NotFound`]
///   and stores nothing (a SQL foreign key violation maps to it too, never
///   to a backend error);
/// - [`AuthStore::delete_user`](crate::AuthStore::delete_user) deletes the
///   user's tokens in the same atomic step, so a link mailed before the
///   account was deleted never comes back, even when the id is registered
///   again.
///
/// A token store on its own, such as
/// [`MemoryTokenStore`](crate::memory::MemoryTokenStore), knows no users:
/// it takes any well-formed user id, and the flow checks the user when a
/// token comes back.
#[async_trait]
pub trait OneTimeTokenStore: Send + Sync + 'static {
    /// Stores `record` under `hash`, replacing the user's other tokens of
    /// that purpose.
    async fn save_token(&self, hash: &TokenHash, record: &TokenRecord) -> Result<(), StoreError>;

    /// Takes the token `hash` of `purpose`, once.
    async fn take_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
    ) -> Result<Option<TokenRecord>, StoreError>;

    /// Deletes the user's tokens of `purpose` (all purposes when `None`).
    async fn delete_tokens_of(
        &self,
        user_id: &str,
        purpose: Option<TokenPurpose>,
    ) -> Result<usize, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_and_tokens_hide_themselves() {
        for purpose in TokenPurpose::ALL {
            assert_eq!(TokenPurpose::parse(purpose.as_str()), Some(purpose));
        }
        assert_eq!(TokenPurpose::parse("login"), None);
        let token = OneTimeToken::generate();
        assert_eq!(OneTimeToken::parse(token.as_str()), Some(token.clone()));
        assert!(!format!("{token:?}").contains(token.as_str()));
        assert_ne!(token.hash().as_str(), token.as_str());
        assert_eq!(TokenHash::parse(token.hash().as_str()), Some(token.hash()));
        assert_eq!(OneTimeToken::parse("ABC"), None);
    }

    #[test]
    fn bindings_compare_exactly() {
        let record = TokenRecord::new(
            TokenPurpose::ResetPassword,
            "local:1",
            "state-a",
            Duration::from_secs(60),
        );
        assert!(record.binds("state-a"));
        assert!(!record.binds("state-b"));
        assert!(!record.binds("state-a "));
        assert!(!record.expired_at(unix_now()));
        assert!(record.expired_at(record.expires_at));
    }
}
