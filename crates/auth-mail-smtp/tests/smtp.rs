//! The SMTP mailer against a real SMTP server (aiosmtpd, started per test
//! by `smtp_server.py`): STARTTLS and implicit TLS with a private CA made
//! by `openssl`, authentication, refusals, and what must never be sent.

use std::time::Duration;

use auth_core::{Email, MailError, Mailer};
use auth_mail_smtp::testkit::{Mode, SmtpServer};
use auth_mail_smtp::{ConfigError, Security, SmtpMailer};

const USER: &str = "mailer";
const PASSWORD: &str = "s3cret pass";

type Server = SmtpServer;

async fn server(mode: Mode, login: bool) -> Server {
    SmtpServer::start(mode, login.then_some((USER, PASSWORD))).await
}

fn mailer(server: &Server, security: Security) -> auth_mail_smtp::SmtpMailerBuilder {
    SmtpMailer::builder("localhost", "Example <no-reply@example.com>")
        .with_port(server.port())
        .with_security(security)
        .with_timeout(Duration::from_secs(5))
}

fn welcome() -> Email {
    Email::new(
        "ada@example.com",
        "Welcome, Ada ✓",
        "Open https://app.example/verify?t=abc",
    )
    .with_html("<p><a href=\"https://app.example/verify?t=abc\">Verify</a></p>")
}

#[tokio::test]
async fn starttls_with_authentication_delivers_text_and_html() {
    let server = server(Mode::StartTls, true).await;
    let mailer = mailer(&server, Security::StartTls)
        .with_root_certificate(server.ca())
        .with_credentials(USER, PASSWORD)
        .build()
        .expect("valid settings");
    mailer.check().await.expect("the server answers");
    mailer.send(welcome()).await.expect("sent");

    let received = server.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    let raw = &message.raw;
    assert_eq!(message.from, "no-reply@example.com");
    assert_eq!(message.to, ["ada@example.com"]);
    assert_eq!(message.login.as_deref(), Some(USER));
    assert_eq!(
        message.link("https://").as_deref(),
        Some("https://app.example/verify?t=abc")
    );
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("text/plain"), "{raw}");
    assert!(raw.contains("text/html"), "{raw}");
    assert!(raw.contains("https://app.example/verify?t=abc"), "{raw}");
    assert!(
        raw.contains("From: Example <no-reply@example.com>"),
        "{raw}"
    );
    // The non-ASCII subject is encoded, never sent raw.
    assert!(raw.contains("Subject: Welcome, Ada =?utf-8?"), "{raw}");
    assert!(!raw.contains('✓'), "{raw}");
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let server = server(Mode::Tls, true).await;
    let mailer = mailer(&server, Security::Tls)
        .with_root_certificate(server.ca())
        .with_credentials(USER, PASSWORD)
        .build()
        .expect("valid settings");
    mailer
        .send(Email::new("grace@example.com", "Hello", "plain text only"))
        .await
        .expect("sent");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].raw.contains("plain text only"));
    assert!(
        !received[0].raw.contains("multipart"),
        "{}",
        received[0].raw
    );
}

#[tokio::test]
async fn a_wrong_password_is_a_rejection_and_sends_nothing() {
    let server = server(Mode::StartTls, true).await;
    let mailer = mailer(&server, Security::StartTls)
        .with_root_certificate(server.ca())
        .with_credentials(USER, "wrong")
        .build()
        .expect("valid settings");
    let error = mailer.send(welcome()).await.unwrap_err();
    assert!(matches!(error, MailError::Rejected { .. }), "{error:?}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn an_untrusted_certificate_sends_nothing() {
    let server = server(Mode::Tls, true).await;
    // The private CA is not among the web PKI roots.
    let mailer = mailer(&server, Security::Tls)
        .with_credentials(USER, PASSWORD)
        .build()
        .expect("valid settings");
    let error = mailer.send(welcome()).await.unwrap_err();
    assert!(
        matches!(
            error,
            MailError::Unavailable { .. } | MailError::Rejected { .. }
        ),
        "{error:?}"
    );
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn starttls_is_required_never_skipped() {
    // A server (or a man in the middle) that offers no STARTTLS.
    let server = server(Mode::Plain, false).await;
    let mailer = mailer(&server, Security::StartTls)
        .with_root_certificate(server.ca())
        .with_credentials(USER, PASSWORD)
        .build()
        .expect("valid settings");
    assert!(mailer.send(welcome()).await.is_err());
    assert!(
        server.received().is_empty(),
        "nothing crossed in clear text"
    );
}

#[tokio::test]
async fn plain_smtp_works_to_this_machine_only_and_without_credentials() {
    let server = server(Mode::Plain, false).await;
    let url = server.url();
    let mailer = SmtpMailer::from_url(&url, "no-reply@example.com")
        .expect("a valid URL")
        .build()
        .expect("plain to this machine is allowed");
    mailer.send(welcome()).await.expect("sent");
    assert_eq!(server.received().len(), 1);

    // `smtp://` to this machine without a login is a local catcher: plain.
    let catcher = format!("smtp://127.0.0.1:{}", server.port());
    let mailer = SmtpMailer::from_url(&catcher, "no-reply@example.com")
        .expect("a valid URL")
        .build()
        .expect("valid settings");
    mailer.send(welcome()).await.expect("sent");
    assert_eq!(server.received().len(), 2);
    // With a login, STARTTLS stays required: nothing goes in clear text.
    let with_login = format!("smtp://u:p@127.0.0.1:{}", server.port());
    let mailer = SmtpMailer::from_url(&with_login, "no-reply@example.com")
        .expect("a valid URL")
        .build()
        .expect("valid settings");
    assert!(mailer.send(welcome()).await.is_err());
    assert_eq!(server.received().len(), 2);

    for refused in [
        SmtpMailer::from_url("smtp+plain://mail.example.com:25", "no-reply@example.com"),
        SmtpMailer::from_url("smtp+plain://user:pw@localhost:25", "no-reply@example.com"),
    ] {
        let built = refused.expect("a valid URL").build();
        assert!(matches!(built, Err(ConfigError::PlainRemote)), "{built:?}");
    }
}

#[tokio::test]
async fn hostile_messages_are_refused_before_connecting() {
    // Nothing listens on this port: a refusal must come before connecting.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mailer = SmtpMailer::builder("127.0.0.1", "no-reply@example.com")
        .with_port(port)
        .with_security(Security::Plain)
        .build()
        .expect("valid settings");
    for hostile in [
        Email::new("ada@example.com\r\nBcc: eve@example.com", "Hi", "x"),
        Email::new("ada@example.com, eve@example.com", "Hi", "x"),
        Email::new("ada@example.com", "Hi\r\nBcc: eve@example.com", "x"),
    ] {
        let error = mailer.send(hostile).await.unwrap_err();
        assert!(matches!(error, MailError::Invalid(_)), "{error:?}");
    }
    let started = std::time::Instant::now();
    let error = mailer.send(welcome()).await.unwrap_err();
    assert!(matches!(error, MailError::Unavailable { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn urls_and_senders_are_checked_and_never_echo_the_password() {
    let bad = ["http://mail.example.com", "not a url", "smtp://"];
    for url in bad {
        assert!(
            SmtpMailer::from_url(url, "no-reply@example.com").is_err(),
            "{url}"
        );
    }
    let built = SmtpMailer::from_url(
        "smtps://u%40x:p%2Bw@mail.example.com",
        "no-reply@example.com",
    )
    .expect("a valid URL")
    .build()
    .expect("valid settings");
    let shown = format!("{built:?}");
    assert!(shown.contains("465") && !shown.contains("p+w"), "{shown}");
    let sender = SmtpMailer::builder("mail.example.com", "not a mailbox").build();
    assert!(matches!(sender, Err(ConfigError::From(_))), "{sender:?}");
}
