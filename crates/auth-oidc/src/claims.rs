//! What a provider said about the user, and the allowlist that decides
//! which of it becomes claims.

use auth_core::{Claim, MAX_CLAIM_VALUE_LEN};
use serde_json::{Map, Value};

/// The most claims one sign-in maps, whatever the provider sends.
pub const MAX_MAPPED_CLAIMS: usize = 64;

/// The longest subject, email or name kept, in bytes.
const MAX_FIELD_LEN: usize = 255;

/// Which provider claims become claims of the link (and of a user the
/// sign-in creates), under which type. Nothing is mapped unless listed: a
/// provider's `role` claim is not the app's `role` claim just because the
/// names match.
///
/// A string value maps as it is, a boolean as `true`/`false`, a number as
/// its decimal text, an array of those as one claim per element; objects,
/// empty strings and values over the claim size limit are skipped.
///
/// ```
/// use auth_oidc::ClaimMap;
///
/// let map = ClaimMap::new().map("groups", "group").map("email_verified", "email_verified");
/// let claims = map.apply(&serde_json::json!({
///     "groups": ["staff", "ops"], "email_verified": true, "role": "admin"
/// }).as_object().unwrap().clone());
/// assert_eq!(claims.len(), 3);
/// assert!(claims.iter().all(|c| c.kind != "role"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClaimMap {
    entries: Vec<(String, String)>,
}

impl ClaimMap {
    /// An empty allowlist: no provider claim becomes a claim.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps the provider claim `from` to claims of type `to`.
    #[must_use]
    pub fn map(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.entries.push((from.into(), to.into()));
        self
    }

    /// The claim types this map writes.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(_, to)| to.as_str())
    }

    /// The claims `raw` yields under this map, at most
    /// [`MAX_MAPPED_CLAIMS`].
    pub fn apply(&self, raw: &Map<String, Value>) -> Vec<Claim> {
        let mut claims = Vec::new();
        for (from, to) in &self.entries {
            let Some(value) = raw.get(from) else { continue };
            let values: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for value in values {
                if let Some(text) = scalar(value) {
                    claims.push(Claim::new(to.clone(), text));
                }
            }
        }
        claims.truncate(MAX_MAPPED_CLAIMS);
        claims
    }
}

/// A scalar claim value as text, if it is one and fits.
fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        _ => return None,
    };
    (!text.is_empty() && text.len() <= MAX_CLAIM_VALUE_LEN).then_some(text)
}

/// Who the provider says signed in: its subject, what it asserts about the
/// email, a display name, and the claims the [`ClaimMap`] let through.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Identity {
    /// The provider id (`google`, `oidc`, ...), the link's provider.
    pub provider: String,
    /// The provider's stable id for the user, the link's subject.
    pub subject: String,
    /// The email the provider gave, lower-cased.
    pub email: Option<String>,
    /// Whether the provider asserts the email is verified.
    pub email_verified: bool,
    /// A display name.
    pub name: Option<String>,
    /// The mapped claims.
    pub claims: Vec<Claim>,
}

impl Identity {
    /// The identity in `raw` (verified ID token claims, merged with
    /// userinfo), or `None` without a usable `sub`.
    pub(crate) fn from_claims(
        provider: &str,
        raw: &Map<String, Value>,
        map: &ClaimMap,
    ) -> Option<Self> {
        let subject = raw
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.is_empty() && sub.len() <= MAX_FIELD_LEN)?
            .to_owned();
        let email = raw
            .get("email")
            .and_then(Value::as_str)
            .map(|email| email.trim().to_lowercase())
            .filter(|email| {
                email.len() <= MAX_FIELD_LEN
                    && email.split('@').count() == 2
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            });
        let email_verified = match raw.get("email_verified") {
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(text)) => text == "true",
            _ => false,
        };
        let name = ["name", "preferred_username", "login"]
            .iter()
            .find_map(|key| raw.get(*key).and_then(Value::as_str))
            .filter(|name| !name.is_empty() && name.len() <= MAX_FIELD_LEN)
            .map(str::to_owned);
        Some(Self {
            provider: provider.to_owned(),
            subject,
            email_verified: email_verified && email.is_some(),
            email,
            name,
            claims: map.apply(raw),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn only_listed_claims_map_and_oversized_ones_are_dropped() {
        let map = ClaimMap::new().map("groups", "group").map("tier", "tier");
        let raw = object(json!({
            "sub": "1", "groups": ["a", 7, {"x": 1}, ""], "tier": "x".repeat(MAX_CLAIM_VALUE_LEN + 1),
            "role": "admin",
        }));
        let claims = map.apply(&raw);
        assert_eq!(
            claims,
            vec![Claim::new("group", "a"), Claim::new("group", "7")]
        );
        let many = object(json!({ "groups": vec!["g"; 500] }));
        assert_eq!(map.apply(&many).len(), MAX_MAPPED_CLAIMS);
    }

    #[test]
    fn identity_needs_a_subject_and_reads_string_booleans() {
        let map = ClaimMap::new();
        assert!(Identity::from_claims("p", &object(json!({"email": "a@b"})), &map).is_none());
        assert!(Identity::from_claims("p", &object(json!({"sub": ""})), &map).is_none());
        let found = Identity::from_claims(
            "p",
            &object(json!({"sub": "s", "email": " Ada@Example.COM ", "email_verified": "true"})),
            &map,
        )
        .unwrap();
        assert_eq!(found.email.as_deref(), Some("ada@example.com"));
        assert!(found.email_verified);
        let unverified = Identity::from_claims(
            "p",
            &object(json!({"sub": "s", "email_verified": true})),
            &map,
        )
        .unwrap();
        assert!(!unverified.email_verified, "no email, nothing verified");
    }
}
