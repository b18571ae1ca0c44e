//! The SMTP mailer against a real SMTP server (aiosmtpd, started per test
//! by `smtp_server.py`): STARTTLS and implicit TLS with a private CA made
//! by `openssl`, authentication, refusals, and what must never be sent.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use auth_core::{Email, MailError, Mailer};
use auth_mail_smtp::{ConfigError, Security, SmtpMailer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const USER: &str = "mailer";
const PASSWORD: &str = "s3cret pass";

/// A Python with aiosmtpd: `AUTH_TEST_PYTHON`, else the system's.
fn python() -> String {
    let candidates = std::env::var("AUTH_TEST_PYTHON")
        .into_iter()
        .chain(["/usr/bin/python3".to_owned(), "python3".to_owned()]);
    for candidate in candidates {
        let works = std::process::Command::new(&candidate)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if works {
            return candidate;
        }
    }
    panic!(
        "these tests run a real SMTP server and need Python with aiosmtpd: \
         `apt-get install python3-aiosmtpd` (or `pip install aiosmtpd`), \
         or point AUTH_TEST_PYTHON at a Python that has it"
    );
}

fn run(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (the tests make their certificates with it)");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A private CA and a `localhost` certificate it signed, in `dir`.
fn certificates(dir: &Path) {
    run(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    run(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write");
    run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
}

struct Server {
    _child: Child,
    dir: PathBuf,
    port: u16,
}

impl Server {
    async fn start(mode: &str, auth: bool) -> Self {
        let dir = std::env::temp_dir().join(format!("smtp-test-{}", uuid::Uuid::new_v4()));
        let out = dir.join("out");
        std::fs::create_dir_all(&out).expect("temp dir");
        certificates(&dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut command = Command::new(python());
        command
            .arg(script)
            .args(["--port", &port.to_string(), "--mode", mode])
            .args([
                "--cert",
                "server.pem",
                "--key",
                "server.key",
                "--out",
                "out",
            ])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if auth {
            command.args(["--user", USER, "--password", PASSWORD]);
        }
        let mut child = command.spawn().expect("the SMTP server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.expect("read") {
                if line == "READY" {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(matches!(ready, Ok(true)), "the SMTP server did not come up");
        Self {
            _child: child,
            dir,
            port,
        }
    }

    fn ca(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.pem")).expect("the CA")
    }

    /// The messages received so far: (envelope JSON, raw message).
    fn received(&self) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for n in 1.. {
            let Ok(envelope) = std::fs::read_to_string(self.dir.join(format!("out/{n}.json")))
            else {
                break;
            };
            let raw = std::fs::read_to_string(self.dir.join(format!("out/{n}.eml")))
                .expect("the message beside its envelope");
            found.push((envelope, raw));
        }
        found
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn mailer(server: &Server, security: Security) -> auth_mail_smtp::SmtpMailerBuilder {
    SmtpMailer::builder("localhost", "Example <no-reply@example.com>")
        .with_port(server.port)
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
    let server = Server::start("starttls", true).await;
    let mailer = mailer(&server, Security::StartTls)
        .with_root_certificate(server.ca())
        .with_credentials(USER, PASSWORD)
        .build()
        .expect("valid settings");
    mailer.check().await.expect("the server answers");
    mailer.send(welcome()).await.expect("sent");

    let received = server.received();
    assert_eq!(received.len(), 1);
    let (envelope, raw) = &received[0];
    let envelope: serde_json::Value = serde_json::from_str(envelope).expect("JSON");
    assert_eq!(envelope["from"], "no-reply@example.com");
    assert_eq!(envelope["to"], serde_json::json!(["ada@example.com"]));
    assert_eq!(envelope["login"], USER);
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
    let server = Server::start("smtps", true).await;
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
    assert!(received[0].1.contains("plain text only"));
    assert!(!received[0].1.contains("multipart"), "{}", received[0].1);
}

#[tokio::test]
async fn a_wrong_password_is_a_rejection_and_sends_nothing() {
    let server = Server::start("starttls", true).await;
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
    let server = Server::start("smtps", true).await;
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
    let server = Server::start("plain", false).await;
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
    let server = Server::start("plain", false).await;
    let url = format!("smtp+plain://127.0.0.1:{}", server.port);
    let mailer = SmtpMailer::from_url(&url, "no-reply@example.com")
        .expect("a valid URL")
        .build()
        .expect("plain to this machine is allowed");
    mailer.send(welcome()).await.expect("sent");
    assert_eq!(server.received().len(), 1);

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
