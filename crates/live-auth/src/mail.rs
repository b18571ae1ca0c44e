//! Account mail from the stack's settings: the public base URL links are
//! built from, the mailer (SMTP with the `smtp` feature, else the log),
//! and the account flows over the stack's one-time token store.

use crate::config::ConfigError;
#[cfg(not(feature = "smtp"))]
use crate::config::SMTP_URL_VAR;

/// Refuses a public base URL that is not `http(s)://host[/path]`.
pub(crate) fn check_public_url(url: &str) -> Result<(), ConfigError> {
    let refused = || ConfigError::PublicUrl(crate::redact_url(url));
    let parsed = url::Url::parse(url).map_err(|_| refused())?;
    let usable = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if usable { Ok(()) } else { Err(refused()) }
}

/// Refuses an SMTP URL or sender the SMTP mailer would refuse (without
/// connecting), or any SMTP URL without the `smtp` feature.
pub(crate) fn check_smtp(url: &str, from: &str) -> Result<(), ConfigError> {
    #[cfg(feature = "smtp")]
    {
        smtp_mailer(url, from).map(drop)
    }
    #[cfg(not(feature = "smtp"))]
    {
        let _ = (url, from);
        Err(ConfigError::FeatureOff {
            var: SMTP_URL_VAR,
            scheme: "smtp".to_owned(),
            feature: "smtp",
        })
    }
}

#[cfg(feature = "smtp")]
fn smtp_mailer(url: &str, from: &str) -> Result<auth_mail_smtp::SmtpMailer, ConfigError> {
    auth_mail_smtp::SmtpMailer::from_url(url, from)
        .and_then(auth_mail_smtp::SmtpMailerBuilder::build)
        .map_err(|error| ConfigError::Smtp(error.to_string()))
}

/// The account flows of a stack whose settings name a public base URL:
/// SMTP mail when an SMTP URL is set, else mail to the log, and the Redis
/// mail throttles when given (so every worker counts together); `None`
/// without a public base URL.
#[cfg(feature = "local-idp")]
pub(crate) fn account_flows(
    settings: &crate::StackBuilder,
    tokens: std::sync::Arc<dyn auth_core::OneTimeTokenStore>,
    throttles: Option<crate::stack::MailThrottles>,
) -> Result<Option<auth_http::AccountFlows>, ConfigError> {
    use std::sync::Arc;

    use auth_core::{LogMailer, Mailer};

    let Some(public_url) = settings.public_url.as_deref() else {
        return Ok(None);
    };
    let mailer: Arc<dyn Mailer> = match settings.smtp_url.as_deref() {
        #[cfg(feature = "smtp")]
        Some(url) => Arc::new(smtp_mailer(url, &settings.smtp_from)?),
        #[cfg(not(feature = "smtp"))]
        Some(url) => {
            check_smtp(url, &settings.smtp_from)?;
            unreachable!("without the smtp feature every SMTP URL is refused")
        }
        None => Arc::new(LogMailer::new()),
    };
    let mut flows = auth_http::AccountFlows::new(mailer, tokens, public_url)
        .map_err(|_| ConfigError::PublicUrl(crate::redact_url(public_url)))?;
    if let Some([per_account, per_address]) = throttles {
        flows = flows.with_mail_throttles(per_account, per_address);
    }
    Ok(Some(flows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_http_origins() {
        assert!(check_public_url("https://app.example").is_ok());
        assert!(check_public_url("http://127.0.0.1:8000/app").is_ok());
        for bad in ["app.example", "ftp://x", "https://u:pw@x", "https://x/?q=1"] {
            let error = check_public_url(bad).unwrap_err().to_string();
            assert!(!error.contains("pw@"), "{error}");
        }
    }

    #[cfg(feature = "smtp")]
    #[test]
    fn smtp_settings_are_checked_without_connecting_and_hide_the_password() {
        assert!(check_smtp("smtp://127.0.0.1:1025", "a <a@example.com>").is_ok());
        let error = check_smtp("http://u:hunter2@mail", "a@example.com").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(check_smtp("smtp://mail.example.com", "not a mailbox").is_err());
    }

    #[cfg(not(feature = "smtp"))]
    #[test]
    fn an_smtp_url_needs_the_smtp_feature() {
        let error = check_smtp("smtp://127.0.0.1:1025", "a@example.com").unwrap_err();
        assert!(matches!(
            error,
            ConfigError::FeatureOff {
                feature: "smtp",
                ..
            }
        ));
    }
}
