//! Account mail without an SMTP server: the demo started with no
//! `SMTP_URL` writes each message, links included, to its log, and those
//! links work. The test reads the running demo's log as a developer would
//! and follows a verification link and a reset link over plain HTTP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::harness::{Server, TempDir};

const PASSWORD: &str = "log mail old password";
const NEW_PASSWORD: &str = "log mail new password";
const MAIL_WAIT: Duration = Duration::from_secs(10);

/// One HTTP/1.1 answer: status, headers (names lower-cased), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The `name=value` part of the session cookie this answer sets.
    fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(key, _)| key == "set-cookie")
            .filter_map(|(_, value)| value.split(';').next())
            .find(|pair| pair.starts_with("live_auth=") && pair.len() > "live_auth=".len())
            .map(str::to_owned)
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
fn send(addr: SocketAddr, method: &str, path: &str, cookie: Option<&str>, form: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect to the demo");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    let cookie = cookie.map_or_else(String::new, |c| format!("Cookie: {c}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{cookie}\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    stream
        .write_all(request.as_bytes())
        .expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Waits for the `n`-th link starting with `prefix` in the demo's log.
fn logged_link(server: &Server, prefix: &str, n: usize) -> String {
    let deadline = Instant::now() + MAIL_WAIT;
    loop {
        let log = server.log_text();
        let links: Vec<String> = log
            .match_indices(prefix)
            .map(|(at, _)| {
                log[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || ":/?=&_-.%".contains(*c))
                    .collect()
            })
            .collect();
        if let Some(link) = links.get(n) {
            return link.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no link {prefix}… (number {n}) in the demo's log within {MAIL_WAIT:?}:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The `token` query value of a mailed link.
fn token_of(link: &str) -> &str {
    link.split_once("token=")
        .map(|(_, token)| token)
        .expect("a token in the link")
}

fn assert_redirect(answer: &Answer, what: &str, location: &str) {
    assert_eq!(answer.status, 303, "{what}: {}", answer.body);
    assert_eq!(answer.header("location"), Some(location), "{what}");
}

fn login(addr: SocketAddr, email: &str, password: &str) -> Answer {
    let form = format!(
        "email={}&password={}&next=/live&error_next=/login_local",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    send(addr, "POST", "/auth/local/login", None, &form)
}

/// Registers, verifies the address from the newest logged link (the one
/// asked for replaces the registration's), asks for a reset, sets a new
/// password from the logged link, then signs in with it.
pub(crate) fn links_in_the_log_verify_and_reset(binary: &str) {
    let dir = TempDir::new();
    let database = format!("sqlite://{}?mode=rwc", dir.0.join("auth.db").display());
    let server = Server::start(binary, &dir.0, "log-mail", &[("LOCAL_AUTH_DB", database)]);
    let addr: SocketAddr = server.base_url()["http://".len()..]
        .parse()
        .expect("the demo's address");
    let base = server.base_url();
    let email = "log.mail@example.com";

    let form = format!(
        "email=log.mail%40example.com&password={}&next=/live&error_next=/login_local",
        PASSWORD.replace(' ', "+")
    );
    let registered = send(addr, "POST", "/auth/local/register", None, &form);
    assert_redirect(&registered, "registration", "/live");
    let cookie = registered.session_cookie().expect("registration signs in");

    let prefix = format!("{base}/verify-email?token=");
    let first = logged_link(&server, &prefix, 0);
    let asked = send(
        addr,
        "POST",
        "/auth/local/verify-email/send",
        Some(&cookie),
        "next=/account",
    );
    assert_eq!(
        asked.status, 303,
        "asking for a new verification mail: {}",
        asked.body
    );
    let link = logged_link(&server, &prefix, 1);
    let page = send(addr, "GET", &link[base.len()..], None, "");
    assert_eq!(page.status, 200, "the verification page");
    let verify = |link: &str| {
        let form = format!("token={}&next=%2Faccount%3Fdone%3Dverified", token_of(link));
        send(
            addr,
            "POST",
            "/auth/local/verify-email",
            Some(&cookie),
            &form,
        )
    };
    assert_redirect(
        &verify(&first),
        "the replaced link",
        "/?error=invalid_token",
    );
    assert_redirect(&verify(&link), "the new link", "/account?done=verified");
    let account = send(addr, "GET", "/account", Some(&cookie), "");
    assert!(
        account.body.contains("Your email address is verified."),
        "the account page shows the verified address:\n{}",
        account.body
    );

    let forgot = send(
        addr,
        "POST",
        "/auth/local/forgot-password",
        None,
        "email=log.mail%40example.com",
    );
    assert_eq!(forgot.status, 303, "asking for a reset: {}", forgot.body);
    let link = logged_link(&server, &format!("{base}/reset-password?token="), 0);
    let page = send(addr, "GET", &link[base.len()..], None, "");
    assert_eq!(page.status, 200, "the reset page");
    let form = format!(
        "token={}&next=%2Flogin_local%3Fdone%3Dreset&password={}",
        token_of(&link),
        NEW_PASSWORD.replace(' ', "+")
    );
    let reset = send(addr, "POST", "/auth/local/reset-password", None, &form);
    assert_redirect(&reset, "the reset", "/login_local?done=reset");

    assert_eq!(
        send(addr, "GET", "/account", Some(&cookie), "").status,
        303,
        "the reset ended the old session"
    );
    assert_redirect(
        &login(addr, email, PASSWORD),
        "the old password",
        "/login_local?error=invalid",
    );
    assert_redirect(
        &login(addr, email, NEW_PASSWORD),
        "the new password",
        "/live",
    );
}
