//! A real SMTP server for tests (feature `testkit`): Python's `aiosmtpd`,
//! started per [`SmtpServer`] on a free loopback port, in plain, STARTTLS
//! or implicit-TLS mode with a certificate from a private CA made by
//! `openssl`, optionally
//! requiring a login. Every message it accepts is kept, decoded, for the
//! test to read ([`SmtpServer::received`], [`SmtpServer::wait_for`]).
//!
//! It needs `python3` with `aiosmtpd` (`apt-get install python3-aiosmtpd`,
//! or `pip install aiosmtpd`; `AUTH_TEST_PYTHON` names another Python) and
//! `openssl`. Without them it panics saying so: a test
//! that needs mail never passes without it.

// A test kit: it fails by panicking, as tests do.
#![allow(clippy::missing_panics_doc)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SCRIPT: &str = include_str!("smtp_server.py");

/// How the server talks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No TLS (and no STARTTLS offered).
    Plain,
    /// STARTTLS required before anything else.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

impl Mode {
    fn as_arg(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::StartTls => "starttls",
            Self::Tls => "smtps",
        }
    }
}

/// One message the server accepted.
#[derive(Clone, Debug)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The user the client logged in as, if it did.
    pub login: Option<String>,
    /// The message as it crossed the wire.
    pub raw: String,
    /// The decoded plain-text body, if any.
    pub text: Option<String>,
    /// The decoded HTML body, if any.
    pub html: Option<String>,
}

impl Received {
    /// The first `http(s)` link of the plain-text body that starts with
    /// `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        self.text
            .as_deref()?
            .split_whitespace()
            .find(|word| word.starts_with(prefix))
            .map(str::to_owned)
    }
}

/// A running SMTP server; it stops and its files go when this drops.
pub struct SmtpServer {
    _child: Child,
    dir: PathBuf,
    port: u16,
}

impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl SmtpServer {
    /// A plain server without login, as a development mail catcher is.
    pub async fn plain() -> Self {
        Self::start(Mode::Plain, None).await
    }

    /// A server in `mode`, requiring `login` (user, password) when given.
    pub async fn start(mode: Mode, login: Option<(&str, &str)>) -> Self {
        let dir = std::env::temp_dir().join(format!("smtp-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("out")).expect("a temporary directory");
        std::fs::write(dir.join("smtp_server.py"), SCRIPT).expect("the server script");
        certificates(&dir);
        let mut command = Command::new(python());
        command
            .arg("smtp_server.py")
            .args(["--mode", mode.as_arg()])
            .args(["--out", "out"])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        command.args(["--cert", "server.pem", "--key", "server.key"]);
        if let Some((user, password)) = login {
            command.args(["--user", user, "--password", password]);
        }
        let mut child = command.spawn().expect("the SMTP server starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = line.strip_prefix("READY ") {
                    return port.parse::<u16>().ok();
                }
            }
            None
        })
        .await;
        let Ok(Some(port)) = ready else {
            panic!("the SMTP server did not come up");
        };
        Self {
            _child: child,
            dir,
            port,
        }
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp+plain://127.0.0.1:<port>`, for a plain server.
    pub fn url(&self) -> String {
        format!("smtp+plain://127.0.0.1:{}", self.port)
    }

    /// The private CA (PEM) that signed the server's `localhost`
    /// certificate (made in every mode; the TLS modes present it).
    pub fn ca(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("ca.pem")).expect("the CA of a TLS server")
    }

    /// The directory messages are written to (`N.eml`, `N.txt`, `N.html`,
    /// `N.json`), for a test in another language to read.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }

    /// The messages accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let out = self.out_dir();
        let mut found = Vec::new();
        for n in 1.. {
            let Ok(envelope) = std::fs::read_to_string(out.join(format!("{n}.json"))) else {
                break;
            };
            let envelope: serde_json::Value =
                serde_json::from_str(&envelope).expect("the envelope is JSON");
            let read = |suffix: &str| std::fs::read_to_string(out.join(format!("{n}.{suffix}")));
            found.push(Received {
                from: envelope["from"].as_str().unwrap_or_default().to_owned(),
                to: envelope["to"]
                    .as_array()
                    .map(|to| {
                        to.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                login: envelope["login"].as_str().map(str::to_owned),
                raw: read("eml").expect("the message beside its envelope"),
                text: read("txt").ok(),
                html: read("html").ok(),
            });
        }
        found
    }

    /// Waits up to ten seconds until at least `count` messages arrived;
    /// returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let received = self.received();
        panic!(
            "expected {count} messages, the SMTP server has {}: {:?}",
            received.len(),
            received
                .iter()
                .map(|r| (&r.to, r.text.as_deref().and_then(|t| t.lines().nth(2))))
                .collect::<Vec<_>>()
        );
    }

    /// The messages sent to `to`, waiting up to ten seconds for `count`.
    pub async fn wait_for_to(&self, to: &str, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let mine: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.to.iter().any(|rcpt| rcpt == to))
                .collect();
            if mine.len() >= count {
                return mine;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} messages to {to}");
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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

fn openssl(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (the TLS test servers' certificates are made with it)");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A private CA and a `localhost` certificate it signed, in `dir`.
fn certificates(dir: &Path) {
    let key = ["-newkey", "rsa:2048", "-nodes"];
    openssl(
        dir,
        &[
            &["req", "-x509"],
            &key[..],
            &[
                "-days",
                "1",
                "-subj",
                "/CN=test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            &["req"],
            &key[..],
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("the certificate extensions");
    openssl(
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
