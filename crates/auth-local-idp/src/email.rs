//! Email normalisation: the one rule applied before every lookup.

use auth_core::InvalidInput;

/// Longest normalised email accepted, in bytes (the SMTP path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Normalises an email the way every [`LocalIdP`](crate::LocalIdP) lookup
/// does, so `" Ada@Example.COM "` and `"ada@example.com"` are one account.
///
/// The rule:
///
/// 1. Surrounding whitespace is trimmed.
/// 2. The whole address is lower-cased (Unicode lower case): the domain is
///    case-insensitive by definition, and the local part is treated as such
///    by every mail provider in practice; lower-casing it too keeps
///    `Ada@` and `ada@` from becoming two accounts.
/// 3. It must then have exactly one `@`, a non-empty local part and domain,
///    no whitespace or control characters, and at most [`MAX_EMAIL_LEN`]
///    bytes.
///
/// Nothing else is rewritten: no dots or `+tags` are removed, and an
/// internationalised domain is kept as typed (not converted to punycode).
///
/// ```
/// use auth_local_idp::normalize_email;
///
/// assert_eq!(normalize_email("  Ada.Lovelace+x@Example.COM\n").unwrap(), "ada.lovelace+x@example.com");
/// assert!(normalize_email("no-at-sign").is_err());
/// assert!(normalize_email("two@@example.com").is_err());
/// ```
pub fn normalize_email(email: &str) -> Result<String, InvalidInput> {
    let trimmed = email.trim();
    // Checked before lower-casing, so a huge input is not copied.
    if trimmed.len() > MAX_EMAIL_LEN * 4 {
        return Err(InvalidInput::new("email is too long"));
    }
    let normalized = trimmed.to_lowercase();
    if normalized.len() > MAX_EMAIL_LEN {
        return Err(InvalidInput::new("email is too long"));
    }
    if normalized
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InvalidInput::new("email has spaces or control characters"));
    }
    let mut parts = normalized.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty() => {
            Ok(normalized)
        }
        _ => Err(InvalidInput::new(
            "email must be one local part, one @ and one domain",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(
            normalize_email("\t ADA@EXAMPLE.com ").unwrap(),
            "ada@example.com"
        );
        assert_eq!(
            normalize_email("Jürgen@Bücher.DE").unwrap(),
            "jürgen@bücher.de"
        );
    }

    #[test]
    fn is_idempotent() {
        for email in [
            "Ada@Example.com",
            "  x.Y+z@B.C ",
            "ÉMILE@École.FR",
            "İstanbul@example.com",
        ] {
            let once = normalize_email(email).unwrap();
            assert_eq!(normalize_email(&once).unwrap(), once, "{email}");
        }
    }

    #[test]
    fn keeps_dots_and_tags() {
        assert_eq!(
            normalize_email("a.b+tag@example.com").unwrap(),
            "a.b+tag@example.com"
        );
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "   ",
            "@",
            "a@",
            "@b",
            "a@b@c",
            "a b@example.com",
            "a@exa\u{0}mple.com",
            "a\r\n@example.com",
            "plain",
        ] {
            assert!(normalize_email(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn refuses_long() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_email(&long).is_err());
        let huge = "a".repeat(1 << 20);
        assert!(normalize_email(&huge).is_err());
        let fits = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN - 12));
        assert_eq!(normalize_email(&fits).unwrap().len(), MAX_EMAIL_LEN);
    }
}
