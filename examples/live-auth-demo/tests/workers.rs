//! Two `live-auth` workers behind no load balancer at all: two processes on
//! two loopback ports sharing PostgreSQL (`AUTH_TEST_POSTGRES_URL`) and
//! Redis (`AUTH_TEST_REDIS_URL`, under a fresh `REDIS_PREFIX`).
//!
//! A tab (WebSocket) on worker A follows a grant and a sign-out made through
//! worker B; when the workers' Redis subscriber connections are killed
//! (`CLIENT KILL ID`, as a Redis restart would), neither process crashes,
//! the tab gets a resync, and later events reach it again.
//!
//! Both URLs default to the local servers and come from
//! `auth_core::testkit::services`: an unreachable server fails the test,
//! unless `AUTH_TEST_SERVICES` leaves it out (then it reports itself
//! `SKIPPED`).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth_core::testkit::services;
use futures_util::StreamExt;
use live_auth::auth_channel_redis::fred::clients::Client;
use live_auth::auth_channel_redis::fred::interfaces::{ClientInterface, ClientLike};
use live_auth::auth_channel_redis::fred::types::Builder;
use live_auth::auth_channel_redis::fred::types::client::ClientKillFilter;
use live_auth::auth_channel_redis::fred::types::config::Config;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const STARTUP: Duration = Duration::from_secs(60);
const FRAME_WAIT: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A worker process; killed on drop, also when the test fails.
struct Worker {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Worker {
    /// Starts a worker and waits until it listens, on another free port
    /// when it exits at start (the port it was given may have been taken
    /// between the pick and its bind).
    async fn start(name: &'static str, database: &str, redis: &str, prefix: &str) -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            let mut worker = Self::spawn(name, database, redis, prefix);
            match worker.wait_until_ready().await {
                Ok(()) => return worker,
                Err(why) => last = why,
            }
        }
        panic!("{last}");
    }

    fn spawn(name: &'static str, database: &str, redis: &str, prefix: &str) -> Self {
        let dir = std::env::temp_dir();
        let log = dir.join(format!("live-auth-worker-{prefix}-{name}.log"));
        let out = std::fs::File::create(&log).expect("create the worker log");
        let err = out.try_clone().expect("clone the log handle");
        let addr = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_live-auth-demo"))
            // A directory without a developer's `.env`.
            .current_dir(&dir)
            .env("BIND_ADDR", addr.to_string())
            .env("LOCAL_AUTH_DB", database)
            .env("REDIS_URL", redis)
            .env("REDIS_PREFIX", prefix)
            .env(
                "LOCAL_IDP_SECRET",
                "workers-test-signing-key-0123456789abcdef0123456789",
            )
            // Workers of one app share the session secret, as they share
            // the signing key: a session made by one loads on the other.
            .env(
                "AUTH_SESSION_SECRET",
                "workers-test-session-key-0123456789abcdef0123456789",
            )
            .env_remove("COOKIE_SECURE")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start the live-auth binary");
        Self {
            name,
            child,
            addr,
            log,
        }
    }

    /// `Err` when the worker exited at start; panics when it neither
    /// exits nor listens in time.
    async fn wait_until_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the worker") {
                return Err(format!(
                    "worker {} exited with {status} at start:\n{}",
                    self.name,
                    self.log_text()
                ));
            }
            if TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            assert!(
                started.elapsed() < STARTUP,
                "worker {} did not listen within {STARTUP:?}:\n{}",
                self.name,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().expect("poll the worker") {
            panic!(
                "worker {} died with {status}:\n{}",
                self.name,
                self.log_text()
            );
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// POSTs a form (same-origin) and returns the status and headers.
    async fn post(&self, path: &str, cookie: Option<&str>, form: &str) -> Response {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\n\
             Connection: close\r\n",
            addr = self.addr,
            origin = self.origin(),
            len = form.len()
        );
        if let Some(cookie) = cookie {
            request.push_str("Cookie: ");
            request.push_str(cookie);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        request.push_str(form);
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut raw = Vec::new();
        tokio::time::timeout(FRAME_WAIT, stream.read_to_end(&mut raw))
            .await
            .expect("a response in time")
            .expect("read the response");
        Response::parse(&String::from_utf8_lossy(&raw))
    }

    /// Opens the live page's WebSocket and returns it after its first frame.
    async fn open_tab(&self, cookie: &str) -> Socket {
        let mut request = format!("ws://{}/auth/live?page=live", self.addr)
            .into_client_request()
            .expect("a request");
        let headers = request.headers_mut();
        headers.insert("cookie", cookie.parse().expect("a header value"));
        headers.insert("origin", self.origin().parse().expect("a header value"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the upgrade");
        let first = next_frame(&mut socket).await;
        assert_eq!(first["type"], "update", "{first}");
        socket
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Response {
    fn parse(raw: &str) -> Self {
        let head = raw.split("\r\n\r\n").next().unwrap_or_default();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Self { status, headers }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` of the session cookie set by this response.
    fn session_cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a Set-Cookie header");
        set.split(';').next().unwrap_or_default().to_owned()
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(FRAME_WAIT, socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket is open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).expect("a JSON frame");
        }
    }
}

async fn redis_client(url: &str) -> Client {
    let config = Config::from_url(url).expect("a Redis URL");
    let client = Builder::from_config(config).build().expect("a client");
    client.init().await.expect("connect to Redis");
    client
}

/// Kills every Redis connection named `name`; returns how many.
async fn kill_named(client: &Client, name: &str) -> usize {
    let list: String = client
        .client_list::<String, String>(None, None)
        .await
        .expect("CLIENT LIST");
    let ids: Vec<String> = list
        .lines()
        .filter(|line| line.split(' ').any(|f| f == format!("name={name}")))
        .filter_map(|line| {
            line.split(' ')
                .find_map(|f| f.strip_prefix("id=").map(str::to_owned))
        })
        .collect();
    for id in &ids {
        let _: i64 = client
            .client_kill(vec![ClientKillFilter::ID(id.clone())])
            .await
            .expect("CLIENT KILL");
    }
    ids.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_on_one_worker_follows_actions_made_through_another() {
    let Some(database) = services::postgres_url() else {
        return;
    };
    let Some(redis) = services::redis_url() else {
        return;
    };
    let run = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("workers-test-{run}");
    let mut a = Worker::start("a", &database, &redis, &prefix).await;
    // B starts once A has created the schema.
    let mut b = Worker::start("b", &database, &redis, &prefix).await;

    // Register (and so sign in) on A; open the live tab on A.
    let email = format!("worker-{run}@example.test");
    let form = format!(
        "email={email}&password=correct-horse-battery-staple&name=Ada&next=%2Flive",
        email = email.replace('@', "%40")
    );
    let registered = a.post("/auth/local/register", None, &form).await;
    assert_eq!(registered.status, 303, "{:?}", registered.headers);
    assert_eq!(registered.header("location"), Some("/live"));
    let cookie = registered.session_cookie();
    let mut tab = a.open_tab(&cookie).await;

    // The grant goes through B (same session, shared in Redis).
    let granted = b.post("/live/grant-admin", Some(&cookie), "").await;
    assert_eq!(granted.status, 303, "{:?}", granted.headers);
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "update", "{frame}");
    assert!(
        frame["regions"]["admin"]
            .as_str()
            .is_some_and(|html| html.contains("Admin content visible")),
        "{frame}"
    );

    // Redis drops both workers' subscriber connections.
    let redis_client = redis_client(&redis).await;
    let killed = kill_named(&redis_client, &format!("{prefix}:subscriber")).await;
    assert_eq!(killed, 2, "one subscriber connection per worker");
    let frame = next_frame(&mut tab).await;
    assert_eq!(
        frame["type"], "update",
        "the resync after the outage: {frame}"
    );
    assert!(
        frame["regions"]["admin"]
            .as_str()
            .is_some_and(|html| html.contains("Admin content visible")),
        "{frame}"
    );
    a.assert_alive();
    b.assert_alive();

    // After the outage, events made through B reach the tab on A again.
    let revoked = b.post("/live/revoke-admin", Some(&cookie), "").await;
    assert_eq!(revoked.status, 303, "{:?}", revoked.headers);
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "update", "{frame}");
    assert!(
        frame["regions"]["admin"]
            .as_str()
            .is_some_and(|html| html.contains("Admin content hidden")),
        "{frame}"
    );

    // Signing out through B navigates the tab on A.
    let signed_out = b.post("/live/sign-out", Some(&cookie), "").await;
    assert_eq!(signed_out.status, 303, "{:?}", signed_out.headers);
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert_eq!(frame["to"], "/login_local", "{frame}");

    // Each worker names one Redis connection, its channel's subscriber,
    // whatever it serves; its sessions, throttles and publishing share one
    // unnamed pool connection. Worker B has no tab to tell when its
    // subscriber is back, so wait for it.
    let started = Instant::now();
    loop {
        let list: String = redis_client
            .client_list::<String, String>(None, None)
            .await
            .expect("CLIENT LIST");
        let named: Vec<&str> = list
            .lines()
            .filter(|line| line.contains(&format!("name={prefix}:")))
            .collect();
        let subscribers = named
            .iter()
            .filter(|line| line.contains(&format!("name={prefix}:subscriber ")))
            .count();
        if named.len() == 2 && subscribers == 2 {
            break;
        }
        assert!(
            named.len() <= 2 && started.elapsed() < FRAME_WAIT,
            "expected one named subscriber connection per worker: {named:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.assert_alive();
    b.assert_alive();
    let _ = redis_client.quit().await;
}

#[tokio::test]
async fn an_unreachable_redis_refuses_to_start_and_no_redis_keeps_the_defaults() {
    let closed = free_port();
    let settings = live_auth_demo::Settings::from_lookup(|name| match name {
        "LOCAL_AUTH_DB" => Some("sqlite::memory:".to_owned()),
        "REDIS_URL" => Some(format!("redis://{closed}")),
        _ => None,
    })
    .expect("valid settings");
    let started = Instant::now();
    let result = live_auth_demo::build(&settings).await;
    assert!(
        matches!(
            result,
            Err(live_auth_demo::StartError::Stack(
                live_auth::StackError::Redis(_)
            ))
        ),
        "expected a Redis start error, got {:?}",
        result.err()
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    let local = live_auth_demo::Settings::from_lookup(|name| {
        (name == "LOCAL_AUTH_DB").then(|| "sqlite::memory:".to_owned())
    })
    .expect("valid settings");
    assert_eq!(local.stack.redis_url(), None);
    assert!(live_auth_demo::build(&local).await.is_ok());
}
