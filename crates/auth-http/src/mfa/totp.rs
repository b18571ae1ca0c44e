//! TOTP per RFC 6238 on `totp-rs`: SHA-1, 6 digits, 30-second steps, one
//! step of clock skew either way; the secret's otpauth URI and its QR code
//! as inline SVG (drawn here, no outside service); and recovery codes.

use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

/// Seconds per time step.
pub(crate) const STEP_SECS: u64 = 30;
/// Steps of clock skew accepted either way.
pub(crate) const SKEW_STEPS: u64 = 1;
/// Digits per code.
pub(crate) const DIGITS: usize = 6;
/// Secret length: 160 bits, the size RFC 4226 recommends for SHA-1.
pub(crate) const SECRET_BYTES: usize = 20;

/// A fresh random secret.
pub(crate) fn generate_secret() -> Option<Zeroizing<Vec<u8>>> {
    let mut secret = Zeroizing::new(vec![0u8; SECRET_BYTES]);
    getrandom::fill(secret.as_mut_slice()).ok()?;
    Some(secret)
}

/// The generator over `secret`, labelled `issuer:account` for the app.
fn totp(secret: &[u8], issuer: &str, account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(u8::try_from(DIGITS).ok()?)
        .with_skew(u16::try_from(SKEW_STEPS).ok()?)
        .with_step_duration(STEP_SECS)
        .with_secret(secret.to_vec())
        .with_account_name(account)
        .with_issuer(Some(issuer))
        .build()
        .ok()
}

/// The step whose code `code` is, within the skew window around `now`
/// (Unix seconds); `None` for a code of no step in the window, or not six
/// digits. The caller refuses a step used already (RFC 6238, 5.2).
pub(crate) fn matching_step(secret: &[u8], code: &str, now: u64) -> Option<u64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, "-", "-")?.check(code, now)
}

/// What an enrolment page shows: the otpauth URI, the same as a QR code in
/// SVG, and the secret in base32 for typing in by hand.
#[derive(Clone)]
pub struct Enrolment {
    /// `otpauth://totp/Issuer:account?secret=…&issuer=…`.
    pub uri: String,
    /// The URI as a QR code, an `<svg>` element to put into the page.
    pub qr_svg: String,
    /// The secret in base32, for apps that take it typed in.
    pub secret_base32: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(..)")
    }
}

/// The enrolment view of `secret`.
pub(crate) fn enrolment(secret: &[u8], issuer: &str, account: &str) -> Option<Enrolment> {
    // The label may not hold a colon; the issuer is repeated in the query.
    let issuer = issuer.replace(':', " ");
    let account = account.replace(':', " ");
    let generator = totp(secret, &issuer, &account)?;
    let uri = generator.to_url().ok()?;
    let qr = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(Enrolment {
        uri,
        qr_svg,
        secret_base32: Secret::from(secret.to_vec()).to_base32(),
    })
}

/// Letters and digits of a recovery code: no `0`, `1`, `8`, `9` (they
/// read as letters) and lowercase only, 32 symbols of 5 bits each.
const CODE_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Symbols per recovery code: 50 random bits.
const CODE_LEN: usize = 10;

/// A fresh recovery code as shown: `xxxxx-xxxxx`.
pub(crate) fn generate_recovery_code() -> Option<String> {
    let mut bytes = [0u8; CODE_LEN];
    getrandom::fill(&mut bytes).ok()?;
    let symbols: String = bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b & 31)]))
        .collect();
    Some(format!("{}-{}", &symbols[..5], &symbols[5..]))
}

/// A recovery code as typed, reduced to what is hashed: lowercase, without
/// dashes and spaces; `None` unless that is exactly a code's symbols.
pub(crate) fn normalize_recovery_code(typed: &str) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A TOTP code as typed: digits with spaces removed.
pub(crate) fn normalize_totp_code(typed: &str) -> Option<String> {
    if typed.len() > 32 {
        return None;
    }
    let code: String = typed.chars().filter(|c| *c != ' ').collect();
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 seed, truncated to 6 digits.
    const RFC_SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_vectors_and_their_step() {
        assert_eq!(matching_step(RFC_SEED, "287082", 59), Some(1));
        assert_eq!(
            matching_step(RFC_SEED, "081804", 1_111_111_109),
            Some(37_037_036)
        );
        // One step either way is accepted; two are not.
        assert_eq!(
            matching_step(RFC_SEED, "081804", 1_111_111_109 + 30),
            Some(37_037_036)
        );
        assert_eq!(matching_step(RFC_SEED, "081804", 1_111_111_109 + 60), None);
        assert_eq!(matching_step(RFC_SEED, "28708", 59), None);
        assert_eq!(matching_step(RFC_SEED, "28708a", 59), None);
    }

    #[test]
    fn enrolment_gives_a_uri_and_an_svg() {
        let view = enrolment(RFC_SEED, "Demo: app", "ada@example.com").unwrap();
        assert!(view.uri.starts_with("otpauth://totp/"), "{}", view.uri);
        assert!(view.uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(view.qr_svg.contains("<svg"));
        assert!(!format!("{view:?}").contains("GEZ"));
    }

    #[test]
    fn recovery_codes_round_trip_through_normalising() {
        let code = generate_recovery_code().unwrap();
        assert_eq!(code.len(), 11);
        let typed = code.to_uppercase().replace('-', " ");
        assert_eq!(normalize_recovery_code(&typed), Some(code.replace('-', "")));
        assert_eq!(normalize_recovery_code("short"), None);
        assert_eq!(normalize_totp_code("123 456").as_deref(), Some("123456"));
        assert_eq!(normalize_totp_code("12345"), None);
    }
}
