//! Password rules: what a new password must satisfy.

use std::fmt;
use std::sync::Arc;

use auth_core::InvalidInput;

use crate::common::CommonPasswords;

/// One extra rule a new password must pass (a breached-password list, a
/// zxcvbn score, "not the email"...). Plug rules in with
/// [`PasswordPolicy::with_rule`].
///
/// ```
/// use auth_core::InvalidInput;
/// use auth_local_idp::{PasswordPolicy, PasswordRule};
///
/// struct NotPassword;
/// impl PasswordRule for NotPassword {
///     fn check(&self, password: &str) -> Result<(), InvalidInput> {
///         if password.eq_ignore_ascii_case("password") {
///             return Err(InvalidInput::new("password is too common"));
///         }
///         Ok(())
///     }
/// }
///
/// let policy = PasswordPolicy::new().with_rule(NotPassword);
/// assert!(policy.check("PASSWORD").is_err());
/// assert!(policy.check("a far better one").is_ok());
/// ```
pub trait PasswordRule: Send + Sync + 'static {
    /// `Ok` when `password` passes; otherwise an error naming the rule
    /// (never echoing the password).
    fn check(&self, password: &str) -> Result<(), InvalidInput>;
}

/// What a new password (registration, change, reset) must satisfy.
///
/// By default: at least [`PasswordPolicy::DEFAULT_MIN_CHARS`] characters
/// (Unicode scalar values) and at most [`PasswordPolicy::DEFAULT_MAX_BYTES`]
/// bytes, which bounds the work one hash does, and not one of the 10,000
/// most common passwords ([`CommonPasswords`], any case). Passwords are
/// never trimmed, truncated or otherwise rewritten: `" secret "` and
/// `"secret"` differ, and every byte of a long password counts (Argon2 has
/// no 72-byte limit).
///
/// The default least length is 8, the floor NIST SP 800-63B and OWASP ASVS
/// set; 15 is the recommended value where passwords are the only factor.
#[derive(Clone)]
pub struct PasswordPolicy {
    min_chars: usize,
    max_bytes: usize,
    refuse_common: bool,
    rules: Vec<Arc<dyn PasswordRule>>,
}

impl PasswordPolicy {
    /// The default least length, in characters.
    pub const DEFAULT_MIN_CHARS: usize = 8;
    /// The default greatest length, in bytes (well above the 64 characters
    /// every password manager needs).
    pub const DEFAULT_MAX_BYTES: usize = 1024;

    /// The default policy.
    pub fn new() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
            max_bytes: Self::DEFAULT_MAX_BYTES,
            refuse_common: true,
            rules: Vec::new(),
        }
    }

    /// Sets the least length in characters. Below 8 weakens security.
    #[must_use]
    pub fn with_min_chars(mut self, min_chars: usize) -> Self {
        self.min_chars = min_chars;
        self
    }

    /// Sets the greatest length in bytes (at least 64 is kept, so long
    /// generated passwords always fit).
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes.max(64);
        self
    }

    /// Whether the shipped list of common passwords is refused ([`CommonPasswords`]);
    /// on by default. Turning it off weakens security.
    #[must_use]
    pub fn with_common_password_check(mut self, on: bool) -> Self {
        self.refuse_common = on;
        self
    }

    /// Whether common passwords are refused.
    pub fn refuses_common_passwords(&self) -> bool {
        self.refuse_common
    }

    /// Adds a rule checked after the length rules.
    #[must_use]
    pub fn with_rule(mut self, rule: impl PasswordRule) -> Self {
        self.rules.push(Arc::new(rule));
        self
    }

    /// The least length in characters.
    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// The greatest length in bytes; login attempts with longer passwords
    /// are refused without hashing them.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Checks a new password against every rule.
    pub fn check(&self, password: &str) -> Result<(), InvalidInput> {
        if password.len() > self.max_bytes {
            return Err(InvalidInput::new("password is too long"));
        }
        if password.chars().count() < self.min_chars {
            return Err(InvalidInput::new("password is too short"));
        }
        if self.refuse_common {
            CommonPasswords.check(password)?;
        }
        self.rules.iter().try_for_each(|rule| rule.check(password))
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for PasswordPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordPolicy")
            .field("min_chars", &self.min_chars)
            .field("max_bytes", &self.max_bytes)
            .field("refuse_common", &self.refuse_common)
            .field("rules", &self.rules.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let policy = PasswordPolicy::new();
        assert!(policy.check("1234567").is_err());
        assert!(policy.check("12345678").is_err(), "common");
        assert!(policy.check("31415926x").is_ok());
        // Characters, not bytes: seven two-byte letters are too short.
        assert!(policy.check("ééééééé").is_err());
        assert!(policy.check(&"x".repeat(64)).is_ok());
        assert!(policy.check(&"x".repeat(1024)).is_ok());
        assert!(policy.check(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn max_never_below_64() {
        let policy = PasswordPolicy::new().with_max_bytes(10);
        assert_eq!(policy.max_bytes(), 64);
        assert!(policy.check(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn error_does_not_echo() {
        let err = PasswordPolicy::new().check("hunter2").unwrap_err();
        assert!(!err.to_string().contains("hunter2"));
        let err = PasswordPolicy::new().check("iloveyou").unwrap_err();
        assert!(!err.to_string().contains("iloveyou"));
    }
}
