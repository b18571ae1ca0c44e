//! The permanent user record and the values that create and change it.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::InvalidInput;
use crate::principal::{Claim, validate_claim_type};

/// JSON object of application data kept beside a user.
pub type Extras = serde_json::Map<String, serde_json::Value>;

/// A user as the store keeps it: the row of `pywire_auth_users`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserRecord {
    /// Opaque, provider-qualified id (e.g. `local:<uuid>`).
    pub user_id: String,
    /// The email, as the identity provider normalised it.
    pub email: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// The user's claims, in order.
    pub claims: Vec<Claim>,
    /// Application data.
    pub extras: Extras,
}

/// The reserved claim type that marks a disabled account
/// (`account_disabled=true`).
///
/// Only [`AuthActions::disable`](crate::AuthActions::disable) and
/// [`AuthActions::enable`](crate::AuthActions::enable) write it: the
/// writer's claim methods refuse it as [`InvalidInput`], the local identity
/// provider refuses it in a registration, and
/// [`ClaimChange::Replace`] leaves it as it is.
pub const DISABLED_CLAIM: &str = "account_disabled";

/// Whether claims of type `kind` are reserved to the writer's own methods
/// (today only [`DISABLED_CLAIM`]).
pub fn is_reserved_claim(kind: &str) -> bool {
    kind == DISABLED_CLAIM
}

impl UserRecord {
    /// Whether the account is disabled (it holds [`DISABLED_CLAIM`]): it
    /// cannot sign in, and its sessions end.
    pub fn is_disabled(&self) -> bool {
        self.claims.iter().any(|c| c.kind == DISABLED_CLAIM)
    }

    /// A record with only an id; for stores that build records from rows.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            user_id: user_id.into(),
            email: None,
            name: None,
            claims: Vec::new(),
            extras: Extras::new(),
        }
    }
}

/// A link from an external identity (provider, subject) to a user: the row
/// of `pywire_auth_provider_links`. The local IdP links (`local`, email).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProviderLink {
    /// Provider name, e.g. `local` or `github`.
    pub provider: String,
    /// The provider's id for the user (the email for `local`).
    pub subject: String,
    /// The user the identity belongs to.
    pub user_id: String,
    /// Claims the provider asserted at link time.
    pub claims: Vec<Claim>,
}

impl ProviderLink {
    /// A link of (`provider`, `subject`) to `user_id`, without claims.
    pub fn new(
        provider: impl Into<String>,
        subject: impl Into<String>,
        user_id: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            subject: subject.into(),
            user_id: user_id.into(),
            claims: Vec::new(),
        }
    }

    /// This link with the provider's claims.
    #[must_use]
    pub fn with_claims(mut self, claims: Vec<Claim>) -> Self {
        self.claims = claims;
        self
    }
}

/// A password hash in PHC string form (`$argon2id$v=19$...`).
///
/// Its `Debug` is redacted; read it with [`PasswordHash::as_str`] only to
/// verify it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string.
    pub fn new(phc: impl Into<String>) -> Self {
        Self(phc.into())
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A plaintext password or other secret, wiped from memory on drop and
/// redacted in `Debug`.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Everything a registration writes, in one atomic
/// [`AuthStore::create_user`](crate::AuthStore::create_user).
///
/// ```
/// use auth_core::{Claim, NewUser, PasswordHash};
///
/// let user = NewUser::new("local:1")
///     .with_email("ada@example.com")
///     .with_name("Ada")
///     .with_claims(vec![Claim::new("role", "admin")])
///     .with_password_hash(PasswordHash::new("$argon2id$..."))
///     .with_link("local", "ada@example.com");
/// assert_eq!(user.links.len(), 1);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewUser {
    /// The record to insert.
    pub record: UserRecord,
    /// The credentials row, if the user has a password.
    pub password_hash: Option<PasswordHash>,
    /// Provider links to insert; each `user_id` is set to the record's.
    pub links: Vec<ProviderLink>,
}

impl NewUser {
    /// A user with only an id.
    pub fn new(user_id: impl Into<String>) -> Self {
        Self {
            record: UserRecord::new(user_id),
            password_hash: None,
            links: Vec::new(),
        }
    }

    /// Sets the email.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.record.email = Some(email.into());
        self
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.record.name = Some(name.into());
        self
    }

    /// Sets the initial claims.
    #[must_use]
    pub fn with_claims(mut self, claims: Vec<Claim>) -> Self {
        self.record.claims = claims;
        self
    }

    /// Sets the application data.
    #[must_use]
    pub fn with_extras(mut self, extras: Extras) -> Self {
        self.record.extras = extras;
        self
    }

    /// Sets the password hash (the credentials row).
    #[must_use]
    pub fn with_password_hash(mut self, hash: PasswordHash) -> Self {
        self.password_hash = Some(hash);
        self
    }

    /// Adds a provider link (provider, subject) to this user.
    #[must_use]
    pub fn with_link(mut self, provider: impl Into<String>, subject: impl Into<String>) -> Self {
        let link = ProviderLink::new(provider, subject, self.record.user_id.clone());
        self.links.push(link);
        self
    }

    /// Checks the user id, claims and links; stores call this first.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        validate_user_id(&self.record.user_id)?;
        validate_claims(&self.record.claims)?;
        for link in &self.links {
            validate_link_key(&link.provider, &link.subject)?;
            if link.user_id != self.record.user_id {
                return Err(InvalidInput::new("provider link names another user"));
            }
            validate_claims(&link.claims)?;
        }
        Ok(())
    }
}

/// A partial update of a user: only the fields that are `Some` change.
///
/// Claims change through [`ClaimChange`] instead, so that concurrent changes
/// of different claim types never overwrite each other.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct UserUpdate {
    /// New email (`Some(None)` clears it).
    pub email: Option<Option<String>>,
    /// New display name (`Some(None)` clears it).
    pub name: Option<Option<String>>,
    /// New application data, replacing the old.
    pub extras: Option<Extras>,
}

impl UserUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets or clears the email.
    #[must_use]
    pub fn email(mut self, email: Option<String>) -> Self {
        self.email = Some(email);
        self
    }

    /// Sets or clears the display name.
    #[must_use]
    pub fn name(mut self, name: Option<String>) -> Self {
        self.name = Some(name);
        self
    }

    /// Replaces the application data.
    #[must_use]
    pub fn extras(mut self, extras: Extras) -> Self {
        self.extras = Some(extras);
        self
    }
}

/// One atomic change of a user's claims.
///
/// Stores apply it inside one transaction (or one lock), never as a
/// read-modify-write of a snapshot the caller read earlier.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimChange {
    /// Replace every claim, except reserved ones ([`is_reserved_claim`]):
    /// those the user has stay, those in the list are left out, so a
    /// replace never enables or disables an account.
    Replace(Vec<Claim>),
    /// Drop every claim of this claim's type, then add it (grant).
    Set(Claim),
    /// Drop every claim of this type (revoke).
    Remove(String),
}

impl ClaimChange {
    /// Checks the claims in the change.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        match self {
            Self::Replace(claims) => validate_claims(claims),
            Self::Set(claim) => claim.validate(),
            Self::Remove(kind) => validate_claim_type(kind),
        }
    }

    /// Whether the change would set or remove a reserved claim type
    /// ([`is_reserved_claim`]); the writer refuses those.
    pub fn touches_reserved(&self) -> bool {
        match self {
            Self::Replace(claims) => claims.iter().any(|c| is_reserved_claim(&c.kind)),
            Self::Set(claim) => is_reserved_claim(&claim.kind),
            Self::Remove(kind) => is_reserved_claim(kind),
        }
    }

    /// Applies the change to `claims`. Stores call this on the claims they
    /// read inside their transaction.
    pub fn apply(&self, claims: &mut Vec<Claim>) {
        match self {
            Self::Replace(new) => {
                claims.retain(|c| is_reserved_claim(&c.kind));
                let kept = std::mem::take(claims);
                claims.extend(new.iter().filter(|c| !is_reserved_claim(&c.kind)).cloned());
                claims.extend(kept);
            }
            Self::Set(claim) => {
                claims.retain(|c| c.kind != claim.kind);
                claims.push(claim.clone());
            }
            Self::Remove(kind) => claims.retain(|c| &c.kind != kind),
        }
    }
}

/// Longest user id accepted, in bytes.
pub const MAX_USER_ID_LEN: usize = 255;

/// Checks a user id: non-empty, at most [`MAX_USER_ID_LEN`] bytes, no
/// control characters.
pub fn validate_user_id(user_id: &str) -> Result<(), InvalidInput> {
    if user_id.is_empty() {
        return Err(InvalidInput::new("user id is empty"));
    }
    if user_id.len() > MAX_USER_ID_LEN {
        return Err(InvalidInput::new("user id is too long"));
    }
    if user_id.chars().any(char::is_control) {
        return Err(InvalidInput::new("user id has control characters"));
    }
    Ok(())
}

/// Checks a (provider, subject) pair: both non-empty, each at most 255
/// bytes.
pub fn validate_link_key(provider: &str, subject: &str) -> Result<(), InvalidInput> {
    if provider.is_empty() || subject.is_empty() {
        return Err(InvalidInput::new("provider and subject must not be empty"));
    }
    if provider.len() > 255 || subject.len() > 255 {
        return Err(InvalidInput::new("provider or subject is too long"));
    }
    Ok(())
}

/// Checks every claim of a list.
pub fn validate_claims(claims: &[Claim]) -> Result<(), InvalidInput> {
    claims.iter().try_for_each(Claim::validate)
}
