//! Starts the app on a free port and talks HTTP to it: a guarded page sends
//! a visitor to sign in, registering signs in, and the page then greets
//! the user. With `axum-postgres-redis` the app runs on the PostgreSQL and
//! Redis at `AUTH_TEST_POSTGRES_URL` and `AUTH_TEST_REDIS_URL`, else at the
//! standard local addresses the workspace's tests use.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The app's process, killed when the test ends.
struct App {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// The service `var` names, else its standard local address.
fn service(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Starts the binary and waits until it accepts connections, on another
/// free port when it exits at start (the one it was given may have been
/// taken between the pick and its bind).
fn start() -> App {
    let mut last = String::new();
    for _ in 0..5 {
        match launch() {
            Ok(app) => return app,
            Err(why) => last = why,
        }
    }
    panic!("{last}");
}

fn launch() -> Result<App, String> {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("first-app-{}", unique()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_first-app"));
    command
        .env("BIND_ADDR", &addr)
        .env("LOCAL_IDP_SECRET", "an identity provider key of 32+ bytes")
        .env("AUTH_SESSION_SECRET", "a session key of at least 32 bytes")
        .env(
            "LOCAL_AUTH_DB",
            format!("sqlite://{}/app.db", dir.display()),
        )
        .env_remove("REDIS_URL")
        .stdout(Stdio::null());
    if cfg!(feature = "axum-postgres-redis") {
        command
            .env(
                "LOCAL_AUTH_DB",
                service(
                    "AUTH_TEST_POSTGRES_URL",
                    "postgres://postgres@127.0.0.1:5432/test",
                ),
            )
            .env(
                "REDIS_URL",
                service("AUTH_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
            )
            .env("REDIS_PREFIX", format!("first-app-{}", unique()));
    }
    let mut child = command.spawn().expect("the app starts");
    let started = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the app exited early: {status}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the app did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(App { child, addr, dir })
}

/// One HTTP/1.1 exchange: the status, the headers (names lowercased) and
/// the body.
fn send(addr: &str, request: &str) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status.parse().expect("a status"), headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn get(addr: &str, path: &str, cookie: Option<&str>) -> (u16, Vec<(String, String)>, String) {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    send(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n"),
    )
}

#[test]
fn register_then_the_guarded_page_greets_the_user() {
    let app = start();
    let addr = app.addr.as_str();

    let (status, headers, _) = get(addr, "/", None);
    assert_eq!(status, 303, "{headers:?}");
    assert!(header(&headers, "location").is_some_and(|l| l.starts_with("/login_local")));
    let (status, _, page) = get(addr, "/login_local", None);
    assert_eq!(status, 200);
    assert!(page.contains(r#"action="/auth/local/register""#), "{page}");

    let email = format!("ada-{}@example.com", unique());
    let form = format!(
        "email={}&password=correct+horse+battery+staple&next=%2F",
        email.replace('@', "%40")
    );
    let (status, headers, body) = send(
        addr,
        &format!(
            "POST /auth/local/register HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert_eq!(status, 303, "{headers:?} {body}");
    assert_eq!(header(&headers, "location"), Some("/"));
    let cookie = header(&headers, "set-cookie").expect("a session cookie");
    let cookie = cookie.split(';').next().expect("name=value");
    assert!(cookie.starts_with("__Host-live_auth="), "{cookie}");

    let (status, headers, page) = get(addr, "/", Some(cookie));
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(page, format!("Hello, {email}!"));

    let (status, _, _) = get(addr, "/", Some("__Host-live_auth=forged"));
    assert_eq!(status, 303, "a forged cookie is anonymous");
}
