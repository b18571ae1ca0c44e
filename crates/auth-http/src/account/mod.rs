//! The account lifecycle over mail: its settings ([`AccountFlows`]), the
//! messages it sends, and the bounded queue that sends them.

mod messages;
mod outbox;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use auth_core::throttle::{MemoryThrottle, Throttle};
use auth_core::{Mailer, OneTimeTokenStore, TokenPurpose};

pub(crate) use messages::Message;
pub(crate) use outbox::{Outbox, send_with_retry};

use crate::config::ConfigError;
use crate::redirect::safe_path;

/// The default of [`AccountFlows::with_max_pending_mail`].
pub const DEFAULT_MAX_PENDING_MAIL: usize = 64;
/// Mail requests per account (address or user) per [`DEFAULT_MAIL_WINDOW`].
pub const DEFAULT_MAIL_LIMIT: u32 = 5;
/// Mail requests per client address per [`DEFAULT_MAIL_WINDOW`].
pub const DEFAULT_MAIL_ADDRESS_LIMIT: u32 = 20;
/// The window of the mail throttles: 15 minutes.
pub const DEFAULT_MAIL_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How `POST {prefix}/local/register` answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationMode {
    /// Creates the account and signs it in at once, and mails a link to
    /// verify the address. The answer tells whether the address had an
    /// account (`?error=exists`): fine for demos and closed apps, an
    /// account-enumeration oracle for public ones.
    #[default]
    Immediate,
    /// Answers every well-formed registration the same way, at the same
    /// cost, without signing in: a new address gets its account and a
    /// verification link, a taken one a notice to its owner. Sign-in waits
    /// for the verified address (`?error=unverified`, with a fresh link).
    RevealNothing,
}

/// The account lifecycle: email verification, forgotten and changed
/// passwords, changed emails and account deletion, over a [`Mailer`] and a
/// [`OneTimeTokenStore`]. Hand it to
/// [`LiveAuthBuilder::with_account_flows`](crate::LiveAuthBuilder::with_account_flows).
///
/// Every link in a message is built from the public base URL given here,
/// never from a request's `Host`, and points at a page of the app (its
/// path set with [`AccountFlows::with_page`]) that posts the token to the
/// matching route: a link opened by a mail scanner changes nothing.
///
/// ```
/// use std::sync::Arc;
///
/// use auth_core::memory::MemoryTokenStore;
/// use auth_core::{LogMailer, TokenPurpose};
/// use auth_http::{AccountFlows, RegistrationMode};
///
/// let flows = AccountFlows::new(
///     Arc::new(LogMailer::new()),
///     Arc::new(MemoryTokenStore::new()),
///     "https://app.example",
/// )
/// .expect("an http(s) base URL")
/// .with_app_name("Example")
/// .with_registration(RegistrationMode::RevealNothing)
/// .with_page(TokenPurpose::ResetPassword, "/account/reset")
/// .expect("a path on this site");
/// assert_eq!(flows.base_url(), "https://app.example");
/// ```
#[derive(Clone)]
pub struct AccountFlows {
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) tokens: Arc<dyn OneTimeTokenStore>,
    base_url: String,
    pub(crate) app_name: String,
    pub(crate) registration: RegistrationMode,
    pages: HashMap<TokenPurpose, String>,
    forgot_page: String,
    lifetimes: HashMap<TokenPurpose, Duration>,
    pub(crate) account_throttle: Arc<dyn Throttle>,
    pub(crate) address_throttle: Arc<dyn Throttle>,
    pub(crate) max_pending_mail: usize,
}

impl std::fmt::Debug for AccountFlows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountFlows")
            .field("base_url", &self.base_url)
            .field("registration", &self.registration)
            .finish_non_exhaustive()
    }
}

impl AccountFlows {
    /// The flows over `mailer` and `tokens`, with links under `base_url`
    /// (`http` or `https`, a host, no query or fragment; a path is kept, so
    /// `https://example.com/app` works).
    ///
    /// Defaults: links to `/verify-email`, `/reset-password` and
    /// `/confirm-email`, `/forgot-password` named in notices,
    /// [`RegistrationMode::Immediate`], the token lifetimes of
    /// [`TokenPurpose::default_lifetime`], and in-memory mail throttles of
    /// 5 messages per account and 20 per client address per 15 minutes.
    pub fn new(
        mailer: Arc<dyn Mailer>,
        tokens: Arc<dyn OneTimeTokenStore>,
        base_url: &str,
    ) -> Result<Self, ConfigError> {
        let parsed = url::Url::parse(base_url).map_err(|_| ConfigError::BaseUrl)?;
        if !matches!(parsed.scheme(), "http" | "https")
            || parsed.host_str().is_none()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
            || !parsed.username().is_empty()
            || parsed.password().is_some()
        {
            return Err(ConfigError::BaseUrl);
        }
        let base_url = parsed.as_str().trim_end_matches('/').to_owned();
        let app_name = parsed.host_str().unwrap_or("your account").to_owned();
        Ok(Self {
            mailer,
            tokens,
            base_url,
            app_name,
            registration: RegistrationMode::default(),
            pages: HashMap::from([
                (TokenPurpose::VerifyEmail, "/verify-email".to_owned()),
                (TokenPurpose::ResetPassword, "/reset-password".to_owned()),
                (TokenPurpose::ChangeEmail, "/confirm-email".to_owned()),
            ]),
            forgot_page: "/forgot-password".to_owned(),
            lifetimes: HashMap::new(),
            account_throttle: Arc::new(MemoryThrottle::new(
                DEFAULT_MAIL_LIMIT,
                DEFAULT_MAIL_WINDOW,
            )),
            address_throttle: Arc::new(MemoryThrottle::new(
                DEFAULT_MAIL_ADDRESS_LIMIT,
                DEFAULT_MAIL_WINDOW,
            )),
            max_pending_mail: DEFAULT_MAX_PENDING_MAIL,
        })
    }

    /// The name messages use for the app (default: the base URL's host):
    /// one line, up to 64 characters.
    #[must_use]
    pub fn with_app_name(mut self, name: impl Into<String>) -> Self {
        let name: String = name.into();
        let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        if !name.trim().is_empty() {
            self.app_name = name;
        }
        self
    }

    /// How registration answers; see [`RegistrationMode`].
    #[must_use]
    pub fn with_registration(mut self, mode: RegistrationMode) -> Self {
        self.registration = mode;
        self
    }

    /// The app's page a link of `purpose` opens (`{base}{path}?token=…`);
    /// it shows a form that posts `token` to the purpose's route.
    pub fn with_page(mut self, purpose: TokenPurpose, path: &str) -> Result<Self, ConfigError> {
        let path = safe_path(path).ok_or(ConfigError::Path("account page"))?;
        self.pages.insert(purpose, path.to_owned());
        Ok(self)
    }

    /// The app's "forgot password" page, which notices point to.
    pub fn with_forgot_password_page(mut self, path: &str) -> Result<Self, ConfigError> {
        let path = safe_path(path).ok_or(ConfigError::Path("forgot-password page"))?;
        path.clone_into(&mut self.forgot_page);
        Ok(self)
    }

    /// How long a token of `purpose` stays valid (at least a minute).
    #[must_use]
    pub fn with_lifetime(mut self, purpose: TokenPurpose, lifetime: Duration) -> Self {
        self.lifetimes
            .insert(purpose, lifetime.max(Duration::from_secs(60)));
        self
    }

    /// The throttles mail-sending requests pass: `per_account` counts per
    /// email address or user, `per_address` per client address (or IPv6
    /// prefix). A refused request answers `?error=throttled` and sends
    /// nothing. Pass shared (Redis) throttles so every worker counts
    /// together.
    #[must_use]
    pub fn with_mail_throttles(
        mut self,
        per_account: Arc<dyn Throttle>,
        per_address: Arc<dyn Throttle>,
    ) -> Self {
        self.account_throttle = per_account;
        self.address_throttle = per_address;
        self
    }

    /// The most messages waiting to be sent at once (default
    /// [`DEFAULT_MAX_PENDING_MAIL`]; `0` is raised to 1). A request that
    /// would send one more answers 503 with `Retry-After`, whatever the
    /// address, so a slow mail server costs bounded memory.
    #[must_use]
    pub fn with_max_pending_mail(mut self, max: usize) -> Self {
        self.max_pending_mail = max.max(1);
        self
    }

    /// The public base URL links start with, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How long a token of `purpose` lives.
    pub fn lifetime(&self, purpose: TokenPurpose) -> Duration {
        self.lifetimes
            .get(&purpose)
            .copied()
            .unwrap_or_else(|| purpose.default_lifetime())
    }

    /// The link a message of `purpose` carries for `token`.
    pub(crate) fn link(&self, purpose: TokenPurpose, token: &str) -> String {
        let path = self.pages.get(&purpose).map_or("/", String::as_str);
        format!("{}{path}?token={token}", self.base_url)
    }

    /// The absolute URL of the "forgot password" page.
    pub(crate) fn forgot_link(&self) -> String {
        format!("{}{}", self.base_url, self.forgot_page)
    }
}

/// The configured flows and their outbox, as the routes share them.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    pub(crate) flows: AccountFlows,
    pub(crate) outbox: Outbox,
}

impl Lifecycle {
    pub(crate) fn new(flows: AccountFlows) -> Self {
        let outbox = Outbox::new(flows.max_pending_mail);
        Self { flows, outbox }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::LogMailer;
    use auth_core::memory::MemoryTokenStore;

    fn flows(base: &str) -> Result<AccountFlows, ConfigError> {
        AccountFlows::new(
            Arc::new(LogMailer::new()),
            Arc::new(MemoryTokenStore::new()),
            base,
        )
    }

    #[test]
    fn base_urls_are_http_origins_with_an_optional_path() {
        for good in [
            "https://app.example",
            "https://app.example/",
            "http://127.0.0.1:8000",
        ] {
            assert!(flows(good).is_ok(), "{good}");
        }
        let kept = flows("https://app.example/sub/").expect("valid");
        assert_eq!(
            kept.link(TokenPurpose::ResetPassword, "t"),
            "https://app.example/sub/reset-password?token=t"
        );
        for bad in [
            "app.example",
            "ftp://app.example",
            "https://app.example/?a=1",
            "https://app.example/#x",
            "https://user:pw@app.example",
            "javascript:alert(1)",
            "",
        ] {
            assert!(
                matches!(flows(bad), Err(ConfigError::BaseUrl)),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn pages_must_be_paths_on_this_site_and_names_one_line() {
        let flows = flows("https://app.example").expect("valid");
        assert!(
            flows
                .clone()
                .with_page(TokenPurpose::VerifyEmail, "//evil.example")
                .is_err()
        );
        assert!(
            flows
                .clone()
                .with_forgot_password_page("https://x")
                .is_err()
        );
        let named = flows.with_app_name("Line\r\nBcc: x@evil.example");
        assert!(!named.app_name.contains('\n'));
        assert!(!named.app_name.contains('\r'));
    }
}
