//! Sending mail: the [`Mailer`] trait the account flows use, the message
//! they send, and [`LogMailer`] for development.

use std::fmt;

use async_trait::async_trait;

use crate::error::{BoxError, InvalidInput};

/// Longest subject accepted, in bytes.
pub const MAX_SUBJECT_LEN: usize = 998;

/// One message to one recipient: a plain-text body and, optionally, an
/// HTML alternative of the same content.
///
/// Account mail carries live links (a reset link is as good as the
/// password for a while), so its `Debug` shows the recipient and the
/// subject, never the bodies.
///
/// ```
/// use auth_core::Email;
///
/// let email = Email::new("ada@example.com", "Reset your password", "Open https://app.example/reset?t=secret")
///     .with_html("<p><a href=\"https://app.example/reset?t=secret\">Reset</a></p>");
/// assert!(email.validate().is_ok());
/// assert!(!format!("{email:?}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Email {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML alternative, if any.
    pub html: Option<String>,
}

impl Email {
    /// A plain-text message.
    pub fn new(to: impl Into<String>, subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            to: to.into(),
            subject: subject.into(),
            text: text.into(),
            html: None,
        }
    }

    /// Adds an HTML alternative.
    #[must_use]
    pub fn with_html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Refuses what no mailer should send: a recipient or subject with line
    /// breaks or other control characters (header injection), an empty or
    /// over-long subject, a recipient that is not one `local@domain`
    /// address.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let to = self.to.as_str();
        let well_formed = to.len() <= 254
            && to.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && !domain.is_empty() && !domain.contains('@')
            })
            && !to
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'));
        if !well_formed {
            return Err(InvalidInput::new("the recipient is not one email address"));
        }
        if self.subject.is_empty()
            || self.subject.len() > MAX_SUBJECT_LEN
            || self.subject.chars().any(char::is_control)
        {
            return Err(InvalidInput::new(
                "the subject must be one line of 1 to 998 bytes",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("html", &self.html.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The message was refused before anything was sent (see
    /// [`Email::validate`]).
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The server refused it for good (a rejected recipient or sender,
    /// failed authentication): sending again will not help.
    #[error("the mail server refused the message: {context}")]
    Rejected {
        /// What was being done.
        context: &'static str,
        /// The server's answer or the client's error.
        #[source]
        source: BoxError,
    },
    /// The server could not be reached or answered with a temporary
    /// failure: sending again later may work.
    #[error("the mail server is unavailable: {context}")]
    Unavailable {
        /// What was being done.
        context: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl MailError {
    /// A permanent refusal while doing `context`.
    pub fn rejected(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Rejected {
            context,
            source: source.into(),
        }
    }

    /// A temporary failure while doing `context`.
    pub fn unavailable(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Unavailable {
            context,
            source: source.into(),
        }
    }
}

/// Sends account mail (verification, password reset, notices).
///
/// The contract for implementations:
///
/// - `send` validates the message with [`Email::validate`] first and
///   answers [`MailError::Invalid`] without sending anything.
/// - Success means the next hop (the SMTP server) accepted the message;
///   delivery to the inbox is not promised.
/// - A permanent refusal is [`MailError::Rejected`], anything that may pass
///   later [`MailError::Unavailable`]; each keeps its source.
/// - Bodies hold live links: implementations never log them (but
///   [`LogMailer`], whose job that is).
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `email`.
    async fn send(&self, email: Email) -> Result<(), MailError>;
}

/// A development mailer: "sends" each message by writing it, links and
/// all, to the log at `info` level, so the flows can be tried without a
/// mail server. **Never use it in production**: whoever reads the logs can
/// use every reset link in them. Building one says so in the log.
///
/// ```
/// use auth_core::{Email, LogMailer, Mailer};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), auth_core::MailError> {
/// let mailer = LogMailer::new();
/// mailer.send(Email::new("ada@example.com", "Hello", "Hi Ada")).await?;
/// assert!(mailer.send(Email::new("not an address", "Hello", "Hi")).await.is_err());
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct LogMailer;

impl LogMailer {
    /// A log mailer; warns that mail goes to the log.
    pub fn new() -> Self {
        tracing::warn!(
            "mail goes to the log (LogMailer): links in it work for whoever reads the logs; \
             configure an SMTP mailer outside development"
        );
        Self
    }
}

impl Default for LogMailer {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        email.validate()?;
        tracing::info!(
            to = %email.to,
            subject = %email.subject,
            text = %email.text,
            "mail (development mailer, not sent)"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_injection_and_malformed_addresses_are_refused() {
        for to in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example.com\r\nBcc: eve@example.com",
            "ada@example.com, eve@example.com",
            "Ada <ada@example.com>",
            "ada@b@example.com",
            "ada @example.com",
        ] {
            assert!(Email::new(to, "Hi", "x").validate().is_err(), "{to:?}");
        }
        for subject in ["", "Hi\r\nBcc: eve@example.com", "tab\there"] {
            assert!(
                Email::new("ada@example.com", subject, "x")
                    .validate()
                    .is_err(),
                "{subject:?}"
            );
        }
        let long = "s".repeat(MAX_SUBJECT_LEN + 1);
        assert!(Email::new("ada@example.com", long, "x").validate().is_err());
        assert!(
            Email::new("ada@example.com", "Ünïcode ✓", "x")
                .validate()
                .is_ok()
        );
    }
}
