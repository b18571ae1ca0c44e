//! The shipped list of the most common passwords, refused by default.

use std::collections::HashSet;
use std::sync::LazyLock;

use auth_core::InvalidInput;

use crate::policy::PasswordRule;

/// The 10,000 most common passwords, lower-cased, one a line, most common
/// first.
///
/// Source: the `passwords` frequency list of the `zxcvbn` package, version
/// 4.5.0 in the Python Package Index (MIT license, copyright 2016 Daniel Wolf; a port of
/// Dropbox's zxcvbn, also MIT), itself ranked from Mark Burnett's public
/// ten-million-password corpus. Its first 10,000 entries were lower-cased
/// and kept when printable ASCII without surrounding spaces; nothing else
/// was changed.
const LIST: &str = include_str!("../data/common-passwords.txt");

static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| LIST.lines().collect());

/// Refuses the most common passwords: the shipped list of 10,000 (see the
/// crate's `data/common-passwords.txt`), matched without regard to case, so
/// `Password1` is refused like `password1`.
///
/// On by default in [`PasswordPolicy`](crate::PasswordPolicy); turn it off
/// with [`PasswordPolicy::with_common_password_check`](crate::PasswordPolicy::with_common_password_check).
///
/// ```
/// use auth_local_idp::{CommonPasswords, PasswordRule};
///
/// assert!(CommonPasswords.check("Password1").is_err());
/// assert!(CommonPasswords.check("QWERTYUIOP").is_err());
/// assert!(CommonPasswords.check("plum crater violet anchor").is_ok());
/// assert_eq!(CommonPasswords::len(), 10_000);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CommonPasswords;

impl CommonPasswords {
    /// How many passwords the shipped list holds.
    #[allow(clippy::len_without_is_empty)]
    pub fn len() -> usize {
        SET.len()
    }

    /// Whether `password` is on the list (case-insensitively).
    pub fn contains(password: &str) -> bool {
        // Longer than every entry: no need to lower-case a long input.
        if password.len() > 64 {
            return false;
        }
        SET.contains(password.to_lowercase().as_str())
    }
}

impl PasswordRule for CommonPasswords {
    fn check(&self, password: &str) -> Result<(), InvalidInput> {
        if Self::contains(password) {
            return Err(InvalidInput::new(
                "password is one of the most common passwords",
            ));
        }
        Ok(())
    }
}
