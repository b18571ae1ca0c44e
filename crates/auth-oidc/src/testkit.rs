//! A real OpenID Provider for tests: node running the `oidc-provider`
//! package (`testkit/provider.mjs` of this crate) on a port it picks, with
//! one confidential client, and a driver that goes through its login and
//! consent pages over HTTP as a browser would.
//!
//! It needs `node` and the packages of `testkit/package-lock.json`
//! (`npm ci --prefix crates/auth-oidc/testkit`); without them
//! [`TestProvider::start`] panics, saying so.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Where the provider script and its packages are.
const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testkit");

/// A running test provider; it stops when dropped.
#[derive(Debug)]
pub struct TestProvider {
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    /// The client id registered.
    pub client_id: String,
    /// The client secret registered.
    pub client_secret: String,
    _child: Child,
}

impl TestProvider {
    /// Starts a provider whose client may redirect to `redirect_uris`.
    ///
    /// # Panics
    ///
    /// When node or the packages are missing, or the provider does not
    /// start within ten seconds.
    pub async fn start(redirect_uris: &[String]) -> Self {
        install_packages();
        assert!(
            std::path::Path::new(DIR)
                .join("node_modules/oidc-provider")
                .is_dir(),
            "the test OpenID Provider needs its npm packages: run `npm ci --prefix {DIR}`"
        );
        let client_id = format!("client-{}", uuid::Uuid::new_v4().simple());
        let client_secret = format!("secret-{}", uuid::Uuid::new_v4().simple());
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(DIR)
            .env("CLIENT_ID", &client_id)
            .env("CLIENT_SECRET", &client_secret)
            .env("REDIRECT_URIS", redirect_uris.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("the test OpenID Provider needs `node`: {error}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), lines.read_line(&mut line))
            .await
            .expect("the test OpenID Provider started in time")
            .expect("its first line");
        // The provider logs to standard output as it runs; keep reading so
        // it never writes into a closed pipe.
        tokio::spawn(async move {
            let mut sink = String::new();
            while lines.read_line(&mut sink).await.is_ok_and(|read| read > 0) {
                sink.clear();
            }
        });
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("unexpected first line {line:?}"));
        let issuer = ready["issuer"].as_str().expect("an issuer").to_owned();
        Self {
            issuer,
            client_id,
            client_secret,
            _child: child,
        }
    }

    /// Goes from `authorize_url` through the login page (as `login`, any
    /// password) and the consent page, and returns the URL the provider
    /// finally sends the browser to (the app's callback with `code` and
    /// `state`, or an error).
    ///
    /// # Panics
    ///
    /// When the provider answers in a way its pages never do.
    pub async fn authorize(&self, authorize_url: &str, login: &str) -> String {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        let mut next = authorize_url.to_owned();
        let mut form: Option<Vec<(&str, String)>> = None;
        for _ in 0..12 {
            let cookie = jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let request = match form.take() {
                Some(fields) => client.post(&next).form(&fields),
                None => client.get(&next),
            };
            let response = request
                .header("cookie", cookie)
                .send()
                .await
                .expect("the provider answers");
            for set in response.headers().get_all("set-cookie") {
                let pair = set.to_str().unwrap_or("").split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers()["location"]
                    .to_str()
                    .expect("text")
                    .to_owned();
                let target = reqwest::Url::parse(&next)
                    .and_then(|base| base.join(&location))
                    .expect("a usable Location");
                if !target.as_str().starts_with(&self.issuer) {
                    return target.to_string();
                }
                next = target.to_string();
                continue;
            }
            let page = response.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "provider page {next} answered {status}: {page}"
            );
            if page.contains("name=\"prompt\" value=\"login\"") {
                form = Some(vec![
                    ("prompt", "login".to_owned()),
                    ("login", login.to_owned()),
                    ("password", "any".to_owned()),
                ]);
            } else if page.contains("name=\"prompt\" value=\"consent\"") {
                form = Some(vec![("prompt", "consent".to_owned())]);
            } else {
                panic!("unexpected provider page at {next}: {page}");
            }
        }
        panic!("the provider never sent the browser back");
    }
}

/// Installs the provider's npm packages (`npm ci`, from the committed
/// lockfile) when they are missing, once per process, so the tests run
/// from a fresh checkout; a failure is left to the check in
/// [`TestProvider::start`], with the command to run.
fn install_packages() {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    INSTALLED.get_or_init(|| {
        let dir = std::path::Path::new(DIR);
        if dir.join("node_modules/oidc-provider").is_dir() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .status();
        if !matches!(status, Ok(status) if status.success()) {
            eprintln!("`npm ci` in {DIR} failed: {status:?}");
        }
    });
}
