//! Named predicates over a principal.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::{DuplicatePolicy, PolicyError};
use crate::principal::Principal;

/// A predicate over a principal: the unit of authorization.
///
/// ```
/// use auth_core::{Claim, Policy, Principal};
///
/// let admin = Policy::requires_claim("role", Some("admin"));
/// let ada = Principal::authenticated("local:1", "Ada", vec![Claim::new("role", "admin")]);
/// assert!(admin.allows(&ada));
/// assert!(!admin.allows(&Principal::anonymous()));
///
/// let beta = Policy::new(|p| p.claim("tier") == Some("beta"));
/// assert!(!admin.and(beta).allows(&ada));
/// ```
#[derive(Clone)]
pub struct Policy(Arc<dyn Fn(&Principal) -> bool + Send + Sync>);

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Policy(..)")
    }
}

impl Policy {
    /// A policy from any predicate.
    pub fn new(predicate: impl Fn(&Principal) -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(predicate))
    }

    /// Allows signed-in principals.
    pub fn requires_authenticated() -> Self {
        Self::new(Principal::is_authenticated)
    }

    /// Allows signed-in principals with a claim of `kind` (and `value`, when
    /// given).
    pub fn requires_claim(kind: impl Into<String>, value: Option<&str>) -> Self {
        let kind = kind.into();
        let value = value.map(str::to_owned);
        Self::new(move |p| p.is_authenticated() && p.has_claim(&kind, value.as_deref()))
    }

    /// Whether `principal` passes.
    pub fn allows(&self, principal: &Principal) -> bool {
        (self.0)(principal)
    }

    /// Passes when both pass.
    #[must_use]
    pub fn and(self, other: Policy) -> Self {
        Self::new(move |p| self.allows(p) && other.allows(p))
    }

    /// Passes when either passes.
    #[must_use]
    pub fn or(self, other: Policy) -> Self {
        Self::new(move |p| self.allows(p) || other.allows(p))
    }
}

/// A set of policies by name, e.g. `AdminOnly = role:admin`.
///
/// ```
/// use auth_core::{Policies, Policy, Principal};
///
/// let policies = Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin")));
/// assert_eq!(policies.check("AdminOnly", &Principal::anonymous()), Ok(false));
/// assert!(policies.check("NoSuchPolicy", &Principal::anonymous()).is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Policies {
    by_name: HashMap<String, Policy>,
}

impl Policies {
    /// No policies yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the policy `name`.
    ///
    /// # Panics
    ///
    /// When `name` is defined already: two policies under one name are a
    /// mistake in the app's setup, never something to settle silently. Use
    /// [`Policies::try_with`] to handle it instead.
    ///
    /// ```should_panic
    /// use auth_core::{Policies, Policy};
    ///
    /// let _ = Policies::new()
    ///     .with("AdminOnly", Policy::requires_claim("role", Some("admin")))
    ///     .with("AdminOnly", Policy::requires_authenticated());
    /// ```
    #[must_use]
    pub fn with(self, name: impl Into<String>, policy: Policy) -> Self {
        match self.try_with(name, policy) {
            Ok(policies) => policies,
            Err(duplicate) => panic!("{duplicate}"),
        }
    }

    /// Adds the policy `name`; [`DuplicatePolicy`] when it is defined
    /// already (nothing is replaced).
    pub fn try_with(
        mut self,
        name: impl Into<String>,
        policy: Policy,
    ) -> Result<Self, DuplicatePolicy> {
        let name = name.into();
        if self.by_name.contains_key(&name) {
            return Err(DuplicatePolicy { name });
        }
        self.by_name.insert(name, policy);
        Ok(self)
    }

    /// The policy `name`, or [`PolicyError`] when there is none.
    pub fn get(&self, name: &str) -> Result<&Policy, PolicyError> {
        self.by_name.get(name).ok_or_else(|| PolicyError {
            name: name.to_owned(),
        })
    }

    /// Whether `principal` passes the policy `name`; an unknown name is an
    /// error, never a silent allow or deny.
    pub fn check(&self, name: &str, principal: &Principal) -> Result<bool, PolicyError> {
        self.get(name).map(|policy| policy.allows(principal))
    }

    /// The names defined, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }
}
