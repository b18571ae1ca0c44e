//! The keys of the second factors, derived from one configured secret: one
//! seals TOTP secrets at rest, one hashes recovery codes.
//!
//! Sealing is ChaCha20-Poly1305 with a fresh random 96-bit nonce per
//! secret and the user id as associated data, so a sealed secret copied to
//! another user's row does not open. Recovery codes carry 50 random bits
//! each and are single use, so a fast keyed hash (HMAC-SHA256 under a
//! derived key, over the user id and the code) is enough: nobody without
//! the key can test guesses against a leaked table, and with the key a
//! guess still costs a store round trip per code through the throttled
//! route.

use std::fmt::Write as _;

use auth_core::{RecoveryCodeHash, SealedSecret};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The version tag every sealed secret starts with.
const SEALED_PREFIX: &str = "v1.";
const NONCE_LEN: usize = 12;

/// The two derived keys.
#[derive(Clone)]
pub(crate) struct FactorKeys {
    seal: Zeroizing<[u8; 32]>,
    codes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for FactorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FactorKeys(..)")
    }
}

impl FactorKeys {
    /// Both keys, by HKDF-SHA256 from `secret` (at least 32 bytes; the
    /// caller checks), each under its own label.
    pub(crate) fn derive(secret: &[u8]) -> Self {
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(b"live-auth second factors"), secret);
        let mut seal = Zeroizing::new([0u8; 32]);
        let mut codes = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit, so expanding cannot fail.
        let _ = hkdf.expand(b"totp secret seal v1", seal.as_mut());
        let _ = hkdf.expand(b"recovery code hash v1", codes.as_mut());
        Self { seal, codes }
    }

    /// Seals `secret` for `user_id`.
    pub(crate) fn seal(&self, user_id: &str, secret: &[u8]) -> Option<SealedSecret> {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.seal.as_ref()));
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret,
                    aad: user_id.as_bytes(),
                },
            )
            .ok()?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        SealedSecret::new(format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))).ok()
    }

    /// Opens what [`Self::seal`] made for `user_id`; `None` when it was
    /// sealed under another key, for another user, or changed.
    pub(crate) fn open(&self, user_id: &str, sealed: &SealedSecret) -> Option<Zeroizing<Vec<u8>>> {
        let encoded = sealed.as_str().strip_prefix(SEALED_PREFIX)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        if bytes.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.seal.as_ref()));
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: user_id.as_bytes(),
                },
            )
            .ok()
            .map(Zeroizing::new)
    }

    /// The stored form of `user_id`'s recovery code `code` (already
    /// normalised).
    pub(crate) fn code_hash(&self, user_id: &str, code: &str) -> Option<RecoveryCodeHash> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.codes.as_ref()).ok()?;
        mac.update(&(user_id.len() as u64).to_be_bytes());
        mac.update(user_id.as_bytes());
        mac.update(code.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex = digest.iter().fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        RecoveryCodeHash::parse(&hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_user_and_key() {
        let keys = FactorKeys::derive(&[7; 32]);
        let sealed = keys.seal("local:1", b"0123456789abcdefghij").unwrap();
        assert!(!sealed.as_str().contains("0123456789"));
        assert_eq!(
            keys.open("local:1", &sealed).unwrap().as_slice(),
            b"0123456789abcdefghij"
        );
        assert!(keys.open("local:2", &sealed).is_none());
        assert!(
            FactorKeys::derive(&[8; 32])
                .open("local:1", &sealed)
                .is_none()
        );
        let again = keys.seal("local:1", b"0123456789abcdefghij").unwrap();
        assert_ne!(sealed, again, "a fresh nonce per seal");
        let garbage = SealedSecret::new("v1.AAAA").unwrap();
        assert!(keys.open("local:1", &garbage).is_none());
    }

    #[test]
    fn code_hashes_depend_on_user_code_and_key() {
        let keys = FactorKeys::derive(&[7; 32]);
        let a = keys.code_hash("local:1", "abcde23456").unwrap();
        assert_eq!(a, keys.code_hash("local:1", "abcde23456").unwrap());
        assert_ne!(a, keys.code_hash("local:2", "abcde23456").unwrap());
        assert_ne!(a, keys.code_hash("local:1", "abcde23457").unwrap());
        assert_ne!(
            a,
            FactorKeys::derive(&[8; 32])
                .code_hash("local:1", "abcde23456")
                .unwrap()
        );
    }
}
