//! The crate's configuration errors.

/// Settings an [`SmtpMailer`](crate::SmtpMailer) cannot be built from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The sender is not a mailbox (`no-reply@example.com` or
    /// `Name <no-reply@example.com>`).
    #[error("the sender is not a mailbox: {0}")]
    From(#[source] lettre::address::AddressError),
    /// The SMTP URL cannot be used (the message says why; it never holds
    /// the password).
    #[error("the SMTP URL {0}")]
    Url(&'static str),
    /// A root certificate is not PEM or DER.
    #[error("a root certificate cannot be read")]
    Certificate(#[source] lettre::transport::smtp::Error),
    /// Plain SMTP was asked for with a host that is not this machine, or
    /// with credentials: both would cross the network in clear text.
    #[error("plain SMTP (no TLS) is only for a server on this machine, without credentials")]
    PlainRemote,
    /// The TLS settings could not be built.
    #[error("the TLS settings cannot be built")]
    Tls(#[source] lettre::transport::smtp::Error),
}
