//! Claims and the principal they describe.

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;
use crate::user::UserRecord;

/// Longest claim type accepted, in bytes.
pub const MAX_CLAIM_TYPE_LEN: usize = 256;
/// Longest claim value accepted, in bytes.
pub const MAX_CLAIM_VALUE_LEN: usize = 4096;

/// One statement about a user: a type (`role`) and a value (`admin`).
///
/// Serialised as `{"type": "...", "value": "..."}`, the shape of the
/// original's claims columns.
///
/// ```
/// use auth_core::Claim;
///
/// let claim = Claim::new("role", "admin");
/// assert_eq!(claim.kind, "role");
/// assert!(claim.validate().is_ok());
/// assert!(Claim::new("", "x").validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Claim {
    /// The claim type, e.g. `role`. Never empty once validated.
    #[serde(rename = "type")]
    pub kind: String,
    /// The claim value, e.g. `admin`. May be empty.
    pub value: String,
}

impl Claim {
    /// A claim of `kind` with `value`. Call [`Claim::validate`] before storing
    /// one built from untrusted input; the writer and the stores do.
    pub fn new(kind: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            value: value.into(),
        }
    }

    /// Checks the claim can be stored: a non-empty type without control
    /// characters, and both parts within [`MAX_CLAIM_TYPE_LEN`] and
    /// [`MAX_CLAIM_VALUE_LEN`].
    pub fn validate(&self) -> Result<(), InvalidInput> {
        validate_claim_type(&self.kind)?;
        if self.value.len() > MAX_CLAIM_VALUE_LEN {
            return Err(InvalidInput::new("claim value is too long"));
        }
        Ok(())
    }
}

/// Checks a claim type on its own (see [`Claim::validate`]).
pub fn validate_claim_type(kind: &str) -> Result<(), InvalidInput> {
    if kind.is_empty() {
        return Err(InvalidInput::new("claim type is empty"));
    }
    if kind.len() > MAX_CLAIM_TYPE_LEN {
        return Err(InvalidInput::new("claim type is too long"));
    }
    if kind.chars().any(char::is_control) {
        return Err(InvalidInput::new("claim type has control characters"));
    }
    Ok(())
}

/// Who is making a request: an anonymous visitor or a signed-in user.
///
/// Anonymous is a value ([`Principal::anonymous`]), not an `Option`, so code
/// that renders a page always has a principal to ask.
///
/// ```
/// use auth_core::{Claim, Principal};
///
/// let anon = Principal::anonymous();
/// assert!(!anon.is_authenticated());
/// assert!(!anon.has_claim("role", None));
///
/// let user = Principal::authenticated("local:42", "Ada", vec![Claim::new("role", "admin")]);
/// assert!(user.has_claim("role", Some("admin")));
/// assert!(user.has_claim("role", None));
/// assert_eq!(user.claim("role"), Some("admin"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    authenticated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default)]
    claims: Vec<Claim>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    raw: serde_json::Value,
}

impl Default for Principal {
    fn default() -> Self {
        Self::anonymous()
    }
}

impl Principal {
    /// The anonymous visitor: not authenticated, no user id, no claims.
    pub fn anonymous() -> Self {
        Self {
            authenticated: false,
            user_id: None,
            display_name: None,
            claims: Vec::new(),
            raw: serde_json::Value::Null,
        }
    }

    /// A signed-in user with a provider-qualified id (e.g. `local:<uuid>`).
    pub fn authenticated(
        user_id: impl Into<String>,
        display_name: impl Into<String>,
        claims: Vec<Claim>,
    ) -> Self {
        Self {
            authenticated: true,
            user_id: Some(user_id.into()),
            display_name: Some(display_name.into()),
            claims,
            raw: serde_json::Value::Null,
        }
    }

    /// The principal of a stored user: its id, its name (else its email), its
    /// claims, and the public part of the record as `raw`.
    pub fn for_user(user: &UserRecord) -> Self {
        let display_name = user
            .name
            .clone()
            .or_else(|| user.email.clone())
            .unwrap_or_else(|| user.user_id.clone());
        let raw = serde_json::json!({
            "user_id": user.user_id,
            "email": user.email,
            "name": user.name,
            "extras": user.extras,
        });
        Self {
            authenticated: true,
            user_id: Some(user.user_id.clone()),
            display_name: Some(display_name),
            claims: user.claims.clone(),
            raw,
        }
    }

    /// This principal with `raw` replaced (provider data, for display).
    #[must_use]
    pub fn with_raw(mut self, raw: serde_json::Value) -> Self {
        self.raw = raw;
        self
    }

    /// This principal with its claims replaced: what an overlay event does.
    #[must_use]
    pub fn with_claims(mut self, claims: Vec<Claim>) -> Self {
        self.claims = claims;
        self
    }

    /// Whether this is a signed-in user.
    pub fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// The provider-qualified user id, `None` when anonymous.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The name to show, `None` when anonymous.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// Every claim, in order.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }

    /// The provider's raw record, `Null` when there is none.
    pub fn raw(&self) -> &serde_json::Value {
        &self.raw
    }

    /// Whether a claim of `kind` exists; with `Some(value)`, one with that
    /// value too.
    pub fn has_claim(&self, kind: &str, value: Option<&str>) -> bool {
        self.claims
            .iter()
            .any(|c| c.kind == kind && value.is_none_or(|v| c.value == v))
    }

    /// The value of the first claim of `kind`.
    pub fn claim(&self, kind: &str) -> Option<&str> {
        self.claims
            .iter()
            .find(|c| c.kind == kind)
            .map(|c| c.value.as_str())
    }
}
