//! The SMTP mailer and its builder.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use auth_core::{Email, MailError, Mailer, async_trait};
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::ConfigError;

/// How long connecting, and each step of the SMTP dialogue, may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the connection to the server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// Plain first, then `STARTTLS`, which is required: a server (or a man
    /// in the middle) that does not offer it gets nothing. Port 587.
    StartTls,
    /// TLS from the first byte (SMTPS). Port 465.
    Tls,
    /// No TLS at all: only to a server on this machine (a development mail
    /// catcher), and never with credentials. Port 25.
    Plain,
}

impl Security {
    fn default_port(self) -> u16 {
        match self {
            Self::StartTls => 587,
            Self::Tls => 465,
            Self::Plain => 25,
        }
    }
}

/// Sends [`Email`]s through one SMTP server, one connection per message
/// (account mail is rare; nothing runs in the background, so the mailer
/// can be built and dropped anywhere).
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    security: Security,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from.email.to_string())
            .finish_non_exhaustive()
    }
}

/// Builds an [`SmtpMailer`]; see [`SmtpMailer::builder`].
#[must_use]
pub struct SmtpMailerBuilder {
    host: String,
    from: String,
    port: Option<u16>,
    security: Security,
    credentials: Option<(String, String)>,
    roots: Vec<Vec<u8>>,
    timeout: Duration,
}

impl fmt::Debug for SmtpMailerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailerBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("credentials", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl SmtpMailerBuilder {
    /// Sets the port (default: 587, 465 or 25 by [`Security`]).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets how the connection is protected (default [`Security::StartTls`]).
    /// [`Security::Plain`] is refused at build time for anything but a
    /// server on this machine without credentials.
    pub fn with_security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// Authenticates as `user` with `password` (only ever over TLS).
    pub fn with_credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Trusts `certificate` (PEM) as a root, besides the built-in web PKI
    /// roots: for a server with a private CA.
    pub fn with_root_certificate(mut self, certificate: impl Into<Vec<u8>>) -> Self {
        self.roots.push(certificate.into());
        self
    }

    /// Sets the connect and per-command timeout (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and builds the mailer. Nothing connects yet: the
    /// first [`Mailer::send`] does.
    pub fn build(self) -> Result<SmtpMailer, ConfigError> {
        let from: Mailbox = self.from.parse().map_err(ConfigError::From)?;
        let port = self.port.unwrap_or_else(|| self.security.default_port());
        let tls = match self.security {
            Security::Plain => {
                if self.credentials.is_some() || !is_this_machine(&self.host) {
                    return Err(ConfigError::PlainRemote);
                }
                Tls::None
            }
            Security::StartTls => Tls::Required(self.tls_parameters()?),
            Security::Tls => Tls::Wrapper(self.tls_parameters()?),
        };
        let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.host)
            .port(port)
            .tls(tls)
            .timeout(Some(self.timeout));
        if let Some((user, password)) = self.credentials {
            transport = transport.credentials(Credentials::new(user, password));
        }
        Ok(SmtpMailer {
            transport: transport.build(),
            from,
            host: self.host,
            port,
            security: self.security,
        })
    }

    fn tls_parameters(&self) -> Result<TlsParameters, ConfigError> {
        let mut parameters = TlsParameters::builder(self.host.clone());
        for pem in &self.roots {
            let certificate = Certificate::from_pem(pem).map_err(ConfigError::Certificate)?;
            parameters = parameters.add_root_certificate(certificate);
        }
        parameters.build_rustls().map_err(ConfigError::Tls)
    }
}

/// Whether `host` names this machine: `localhost` or a loopback address.
fn is_this_machine(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl SmtpMailer {
    /// A builder for the server at `host`, sending as `from`
    /// (`no-reply@example.com` or `Example <no-reply@example.com>`).
    pub fn builder(host: impl Into<String>, from: impl Into<String>) -> SmtpMailerBuilder {
        SmtpMailerBuilder {
            host: host.into(),
            from: from.into(),
            port: None,
            security: Security::StartTls,
            credentials: None,
            roots: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A builder from a URL: `smtp://` (STARTTLS), `smtps://` (TLS) or
    /// `smtp+plain://` (no TLS, this machine only), with optional
    /// `user:password@` (percent-encoded) and `:port`.
    ///
    /// `smtp://` to this machine without credentials (a development mail
    /// catcher, such as `smtp://127.0.0.1:1025`) is plain: nothing it
    /// carries leaves the machine, and such catchers offer no STARTTLS.
    /// With credentials, STARTTLS stays required.
    pub fn from_url(url: &str, from: impl Into<String>) -> Result<SmtpMailerBuilder, ConfigError> {
        let parsed = url::Url::parse(url).map_err(|_| ConfigError::Url("is not a URL"))?;
        let security = match parsed.scheme() {
            "smtp" => Security::StartTls,
            "smtps" => Security::Tls,
            "smtp+plain" => Security::Plain,
            _ => {
                return Err(ConfigError::Url(
                    "must start with smtp://, smtps:// or smtp+plain://",
                ));
            }
        };
        let host = parsed
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or(ConfigError::Url("has no host"))?;
        let security = if security == Security::StartTls
            && is_this_machine(host)
            && parsed.username().is_empty()
        {
            Security::Plain
        } else {
            security
        };
        let mut builder = Self::builder(host, from).with_security(security);
        if let Some(port) = parsed.port() {
            builder = builder.with_port(port);
        }
        if !parsed.username().is_empty() {
            let decode = |text: &str| {
                percent_encoding::percent_decode_str(text)
                    .decode_utf8()
                    .map(std::borrow::Cow::into_owned)
                    .map_err(|_| ConfigError::Url("has credentials that are not UTF-8"))
            };
            let user = decode(parsed.username())?;
            let password = parsed
                .password()
                .map(decode)
                .transpose()?
                .unwrap_or_default();
            builder = builder.with_credentials(user, password);
        }
        Ok(builder)
    }

    /// Opens a connection and says hello, to check the settings at start.
    pub async fn check(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::unavailable(
                "checking the connection",
                "the server did not answer",
            )),
            Err(error) => Err(classify("checking the connection", error)),
        }
    }

    fn message(&self, email: &Email) -> Result<Message, MailError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|_| auth_core::InvalidInput::new("the recipient is not one email address"))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone());
        let built = match &email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(email.text.clone()),
            ),
        };
        built.map_err(|error| MailError::rejected("building the message", error))
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    #[tracing::instrument(skip_all)]
    async fn send(&self, email: Email) -> Result<(), MailError> {
        email.validate()?;
        let message = self.message(&email)?;
        self.transport
            .send(message)
            .await
            .map_err(|error| classify("sending a message", error))?;
        tracing::debug!(host = %self.host, "mail handed to the SMTP server");
        Ok(())
    }
}

/// A permanent SMTP answer (5xx) is a refusal; anything else may pass
/// later.
fn classify(context: &'static str, error: lettre::transport::smtp::Error) -> MailError {
    if error.is_permanent() {
        MailError::rejected(context, error)
    } else {
        MailError::unavailable(context, error)
    }
}
