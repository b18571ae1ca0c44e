//! An SMTP [`Mailer`](auth_core::Mailer) for live-auth's account mail, on
//! [`lettre`]: STARTTLS (required, never opportunistic) or TLS from the
//! first byte over rustls, with or without authentication, each message as
//! plain text plus an HTML alternative.
//!
//! ```no_run
//! use auth_core::{Email, Mailer};
//! use auth_mail_smtp::{Security, SmtpMailer};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mailer = SmtpMailer::builder("smtp.example.com", "Example <no-reply@example.com>")
//!     .with_security(Security::StartTls) // port 587 unless set
//!     .with_credentials("no-reply@example.com", "app password")
//!     .build()?;
//! mailer
//!     .send(Email::new("ada@example.com", "Welcome", "Hello Ada").with_html("<p>Hello Ada</p>"))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Or from a URL, as the demos read `SMTP_URL`:
//! `smtp://user:pass@host:587` (STARTTLS), `smtps://user:pass@host:465`
//! (TLS), `smtp+plain://localhost:1025` (no TLS: loopback only, for a
//! development server).

mod error;
mod mailer;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::ConfigError;
pub use mailer::{DEFAULT_TIMEOUT, Security, SmtpMailer, SmtpMailerBuilder};

pub use lettre;

/// The README's examples, compiled as doctests so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
