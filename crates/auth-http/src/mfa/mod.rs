//! Second factors for local accounts: the settings ([`SecondFactors`]),
//! the keys derived from their secret, TOTP and recovery codes.

mod crypto;
mod totp;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use auth_core::SecondFactorStore;
use auth_core::throttle::{MemoryThrottle, Throttle};

pub(crate) use crypto::FactorKeys;
pub use totp::Enrolment;
pub(crate) use totp::{
    enrolment, generate_recovery_code, generate_secret, matching_step, normalize_recovery_code,
    normalize_totp_code,
};

use crate::config::ConfigError;
use crate::redirect::safe_path;

/// Attempts at a second factor per user per [`DEFAULT_FACTOR_WINDOW`].
pub const DEFAULT_FACTOR_LIMIT: u32 = 5;
/// The window of the second-factor throttle: 5 minutes.
pub const DEFAULT_FACTOR_WINDOW: Duration = Duration::from_secs(5 * 60);
/// How recent a second factor must be for a step-up policy, by default: 10
/// minutes.
pub const DEFAULT_STEP_UP_MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// Renders the page that shows fresh recovery codes once: the codes, and
/// the path to go on to.
pub type CodesPage = Arc<dyn Fn(&[String], &str) -> String + Send + Sync>;

/// Second factors for local accounts: TOTP (RFC 6238) with single-use
/// recovery codes, the second step of sign-in, and step-up. Hand it to
/// [`LiveAuthBuilder::with_second_factors`](crate::LiveAuthBuilder::with_second_factors)
/// (it needs the local identity provider).
///
/// The `secret` (at least 32 bytes, kept as long as the secrets it seals)
/// derives, by HKDF-SHA256, the key that seals each TOTP secret
/// (ChaCha20-Poly1305, a random nonce per secret, bound to its user) and
/// the key of the recovery code hashes. Losing it loses every enrolment.
///
/// ```
/// use std::sync::Arc;
///
/// use auth_core::memory::MemoryStore;
/// use auth_http::SecondFactors;
///
/// let factors = SecondFactors::new(Arc::new(MemoryStore::new()), &[7u8; 32])
///     .expect("a 32-byte secret")
///     .with_issuer("Example")
///     .with_verify_page("/login/second-factor")
///     .expect("a path on this site");
/// # let _ = factors;
/// ```
#[derive(Clone)]
pub struct SecondFactors {
    pub(crate) store: Arc<dyn SecondFactorStore>,
    pub(crate) keys: FactorKeys,
    pub(crate) issuer: String,
    pub(crate) throttle: Arc<dyn Throttle>,
    pub(crate) step_up_max_age: Duration,
    pub(crate) verify_page: String,
    pub(crate) step_up_page: String,
    pub(crate) codes_page: CodesPage,
}

impl std::fmt::Debug for SecondFactors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactors")
            .field("issuer", &self.issuer)
            .field("step_up_max_age", &self.step_up_max_age)
            .finish_non_exhaustive()
    }
}

impl SecondFactors {
    /// Factors kept in `store`, keyed from `secret` (at least 32 bytes,
    /// else [`ConfigError::FactorSecret`]).
    ///
    /// Defaults: issuer `live-auth`, an in-memory throttle of
    /// [`DEFAULT_FACTOR_LIMIT`] attempts per user per
    /// [`DEFAULT_FACTOR_WINDOW`], step-up within
    /// [`DEFAULT_STEP_UP_MAX_AGE`], the second-factor page at
    /// `/login/second-factor`, the step-up page at `/step-up`, and a plain
    /// page for fresh recovery codes.
    pub fn new(store: Arc<dyn SecondFactorStore>, secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < 32 {
            return Err(ConfigError::FactorSecret);
        }
        Ok(Self {
            store,
            keys: FactorKeys::derive(secret),
            issuer: "live-auth".to_owned(),
            throttle: Arc::new(MemoryThrottle::new(
                DEFAULT_FACTOR_LIMIT,
                DEFAULT_FACTOR_WINDOW,
            )),
            step_up_max_age: DEFAULT_STEP_UP_MAX_AGE,
            verify_page: "/login/second-factor".to_owned(),
            step_up_page: "/step-up".to_owned(),
            codes_page: Arc::new(plain_codes_page),
        })
    }

    /// The name authenticator apps show beside the account (one line, up
    /// to 64 characters).
    #[must_use]
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        let issuer: String = issuer
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        if !issuer.trim().is_empty() {
            self.issuer = issuer;
        }
        self
    }

    /// The throttle every second-factor attempt passes, per user. Pass a
    /// shared (Redis) one so every worker counts together.
    #[must_use]
    pub fn with_throttle(mut self, throttle: Arc<dyn Throttle>) -> Self {
        self.throttle = throttle;
        self
    }

    /// How recent a second factor must be where step-up is asked for.
    #[must_use]
    pub fn with_step_up_max_age(mut self, max_age: Duration) -> Self {
        self.step_up_max_age = max_age.max(Duration::from_secs(1));
        self
    }

    /// The app's page that asks for the second factor at sign-in (it posts
    /// `code` to `{prefix}/mfa/verify`).
    pub fn with_verify_page(mut self, path: &str) -> Result<Self, ConfigError> {
        let path = safe_path(path).ok_or(ConfigError::Path("second-factor page"))?;
        path.clone_into(&mut self.verify_page);
        Ok(self)
    }

    /// The app's page that asks for a second factor again before a
    /// sensitive action (it posts `code` to `{prefix}/mfa/step-up`).
    pub fn with_step_up_page(mut self, path: &str) -> Result<Self, ConfigError> {
        let path = safe_path(path).ok_or(ConfigError::Path("step-up page"))?;
        path.clone_into(&mut self.step_up_page);
        Ok(self)
    }

    /// Renders the page showing freshly made recovery codes (they are
    /// shown this once and stored only hashed). It gets the codes and the
    /// path to go on to, and returns a whole HTML document; the route sends
    /// it with `Cache-Control: no-store`.
    #[must_use]
    pub fn with_codes_page(
        mut self,
        page: impl Fn(&[String], &str) -> String + Send + Sync + 'static,
    ) -> Self {
        self.codes_page = Arc::new(page);
        self
    }
}

/// The default page for fresh recovery codes.
fn plain_codes_page(codes: &[String], next: &str) -> String {
    let items = codes.iter().fold(String::new(), |mut items, code| {
        let _ = write!(items, "<li><code>{}</code></li>", crate::escape_html(code));
        items
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Recovery codes</title></head>\
         <body><main><h1>Your recovery codes</h1><p>Each code signs you in once when your \
         authenticator is not at hand. Keep them somewhere safe: they are not shown again.</p>\
         <ol>{items}</ol><p><a href=\"{}\">Continue</a></p></main></body></html>",
        crate::escape_html(next)
    )
}
