//! The browser harness both demos' tests share: starts a real SMTP server
//! (`auth_mail_smtp::testkit`) and a demo binary on a free loopback port
//! with a fresh SQLite file, its account mail going to that server, then
//! runs `two-tabs.mjs` (headless Chromium driven by `playwright-core`)
//! against it: two tabs and a second browser context follow a grant, a
//! revoke, a sign-out, a sign-out-everywhere and a password reset from a
//! mailed link live; and, through a real OpenID Provider the harness starts
//! (`auth_oidc::testkit`, node's `oidc-provider`), a sign-in through the
//! provider's own login and consent pages, a link and an unlink on
//! `/profile`.
//!
//! Needs node, npm and Chromium at `/usr/bin/chromium` (or `CHROMIUM_PATH`).
//! Without them the test prints a SKIPPED line and passes, unless `CI` is
//! set, where it fails. The npm dependencies are installed with `npm ci`
//! when `node_modules` lacks them.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_oidc::testkit::TestProvider;

/// The name the demo's provider button shows.
const PROVIDER_NAME: &str = "Test provider";

/// How long the demo may take to answer its first request.
const STARTUP: Duration = Duration::from_secs(30);

/// A directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("live-auth-browser-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The running demo; killed on drop, also when the test fails.
pub(crate) struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    /// Starts the demo `name` in `dir` on a free port, with `env` (the
    /// database, the mail server, Redis) besides the defaults, retrying on
    /// another port when the chosen one was taken in between.
    pub(crate) fn start(binary: &str, dir: &Path, name: &str, env: &[(&str, String)]) -> Self {
        Self::launch(binary, dir, name, env, None).0
    }

    /// [`Server::start`] with a real OpenID Provider beside it (run on
    /// `runtime`), registered for this port's callback, as the demo's
    /// `oidc` provider.
    pub(crate) fn start_with_provider(
        binary: &str,
        dir: &Path,
        name: &str,
        env: &[(&str, String)],
        runtime: &tokio::runtime::Runtime,
    ) -> (Self, TestProvider) {
        let (server, provider) = Self::launch(binary, dir, name, env, Some(runtime));
        (server, provider.expect("a provider was started"))
    }

    fn launch(
        binary: &str,
        dir: &Path,
        name: &str,
        env: &[(&str, String)],
        runtime: Option<&tokio::runtime::Runtime>,
    ) -> (Self, Option<TestProvider>) {
        let mut last = String::new();
        for attempt in 0..5 {
            let addr = free_port();
            // The provider lets the client back only to this port's callback.
            let provider = runtime.map(|runtime| {
                runtime.block_on(TestProvider::start(&[format!(
                    "http://{addr}/auth/oidc/callback"
                )]))
            });
            let mut oidc = Vec::new();
            if let Some(provider) = &provider {
                oidc = vec![
                    ("OIDC_ISSUER", provider.issuer.clone()),
                    ("OIDC_CLIENT_ID", provider.client_id.clone()),
                    ("OIDC_CLIENT_SECRET", provider.client_secret.clone()),
                    ("OIDC_NAME", PROVIDER_NAME.to_owned()),
                ];
            }
            let log = dir.join(format!("server-{name}-{attempt}.log"));
            let out = std::fs::File::create(&log).expect("create the server log");
            let err = out.try_clone().expect("clone the server log handle");
            let child = Command::new(binary)
                // Its own directory, so that no developer's `.env` is read.
                .current_dir(dir)
                .env("BIND_ADDR", addr.to_string())
                .envs(env.iter().chain(&oidc).map(|(name, value)| (name, value)))
                .env(
                    "LOCAL_IDP_SECRET",
                    "browser-test-signing-key-0123456789abcdef0123456789",
                )
                .env_remove("COOKIE_SECURE")
                .env_remove("APP_BASE_URL")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|error| panic!("start {binary}: {error}"));
            let mut server = Self { child, addr, log };
            match server.wait_until_ready() {
                Ok(()) => return (server, provider),
                Err(why) => last = format!("{why}\n{}", server.log_text()),
            }
        }
        panic!("the demo did not start:\n{last}");
    }

    /// Polls `GET /login_local` until it answers 200, the process exits, or
    /// the startup time runs out.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the demo exited with {status}"));
            }
            if answers(self.addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("the demo did not answer within {STARTUP:?}"))
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago.
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("read the bound address")
}

/// Whether the demo answers `GET /login_local` with 200.
fn answers(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /login_local HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The names of the tools this test needs that the machine lacks.
fn missing_tools(chromium: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    for tool in ["node", "npm"] {
        if !runs(tool) {
            missing.push(tool.to_owned());
        }
    }
    if !chromium.is_file() {
        missing.push(chromium.display().to_string());
    }
    missing
}

/// The Chromium to drive, with node and npm there to drive it; `None`
/// (after a SKIPPED line) when the machine lacks them outside CI, where
/// their absence fails the test.
pub(crate) fn browser_tools() -> Option<PathBuf> {
    let chromium = PathBuf::from(
        std::env::var_os("CHROMIUM_PATH").unwrap_or_else(|| "/usr/bin/chromium".into()),
    );
    let missing = missing_tools(&chromium);
    if missing.is_empty() {
        return Some(chromium);
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !in_ci,
        "the browser test needs node, npm and {} (missing: {}); CI must install them",
        chromium.display(),
        missing.join(", ")
    );
    // Straight to the process's stderr, past the test harness's capture,
    // so that a skip is seen even when the test "passes".
    let _ = writeln!(
        std::io::stderr(),
        "\n=== SKIPPED: browser test needs node, npm and /usr/bin/chromium (missing: {}) ===\n",
        missing.join(", ")
    );
    None
}

/// Installs the script's npm dependencies unless they are there.
pub(crate) fn install_node_modules(dir: &Path) {
    if dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return;
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run npm ci");
    assert!(
        output.status.success(),
        "npm ci in {} failed ({}):\n{}\n{}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Starts the demo `binary` and runs `two-tabs.mjs` from `script_dir`
/// against it; panics with the script's output and the server log when a
/// step fails.
pub(crate) fn two_tabs(binary: &str, script_dir: &Path) {
    let Some(chromium) = browser_tools() else {
        return;
    };

    install_node_modules(script_dir);

    // The mail server's runtime first, so it outlives the server it runs.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime for the SMTP server");
    let smtp = runtime.block_on(auth_mail_smtp::testkit::SmtpServer::plain());
    // Declared before the server, so it is removed after the server stops.
    let dir = TempDir::new();
    let database = format!("sqlite://{}", dir.0.join("auth.db").display());
    let env = [("LOCAL_AUTH_DB", database), ("SMTP_URL", smtp.url())];
    let (server, _provider) = Server::start_with_provider(binary, &dir.0, "demo", &env, &runtime);
    let base = server.base_url();

    let mut node = Command::new("node");
    node.arg("two-tabs.mjs")
        .arg(&base)
        .current_dir(script_dir)
        .env("CHROMIUM_PATH", &chromium)
        .env("MAIL_DIR", smtp.out_dir())
        .env("OIDC_NAME", PROVIDER_NAME);
    run_script(node, &[&server]);
}

/// Runs a browser script to its end; panics with its output and the
/// servers' logs when it failed.
pub(crate) fn run_script(mut node: Command, servers: &[&Server]) {
    let started = Instant::now();
    let output = node
        .stdin(Stdio::null())
        .output()
        .expect("run the browser script with node");
    let elapsed = started.elapsed();
    eprintln!(
        "{node:?}: {} in {elapsed:.1?}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        for server in servers {
            eprintln!(
                "--- server log ({})\n{}",
                server.base_url(),
                server.log_text()
            );
        }
    }
    assert!(
        output.status.success(),
        "the browser script failed ({}); its output and the server logs are above",
        output.status
    );
}
