//! Memory per idle live tab, and one grant reaching every tab, against a
//! demo binary running as a child process.
//!
//! The server is the demo's release binary (axum or actix-web), started
//! with only the settings it needs (a fresh SQLite file, a loopback port)
//! so that its resident memory is its own: the client (this process)
//! holds the other end of every socket. Two fresh servers per run:
//!
//! 1. the baseline: `--tabs` plain TCP connections that never send a
//!    byte, the least a server holds for an open connection;
//! 2. the tabs: one user signs in enough times for `--tabs` live sockets
//!    (a session holds at most `DEFAULT_MAX_SOCKETS_PER_SESSION`, 32, and
//!    the demo keeps that cap), opens them all, each read to its
//!    first frame; then `--grants` grants and revokes through the page's
//!    buttons, each timed until the last tab has its frame.
//!
//! Memory is `VmRSS` of the server's `/proc/<pid>/status`, read before and
//! after opening the connections, once they have settled.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{StreamExt, stream};
use live_auth::auth_http::DEFAULT_MAX_SOCKETS_PER_SESSION;
use tokio::net::TcpStream;

use crate::BoxError;
use crate::live::{self, Tabs};
use crate::machine::{load_average, open_files_limit};
use crate::pages::{self, PAGE_CLIENT};
use crate::stats::ms;

/// Upgrades or connects in flight at once.
const PARALLEL: usize = 64;
/// How long the server gets to settle before its memory is read.
const SETTLE: Duration = Duration::from_secs(2);
/// How long the server may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What the command line asks for.
struct Options {
    tabs: usize,
    grants: usize,
}

impl Options {
    /// `--tabs N` (default 10,000) and `--grants N` (default 7); the
    /// `--bench` that `cargo bench` passes is ignored.
    fn parse() -> Result<Self, BoxError> {
        let mut options = Self {
            tabs: 10_000,
            grants: 7,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let target = match arg.as_str() {
                "--tabs" => &mut options.tabs,
                "--grants" => &mut options.grants,
                "--bench" => continue,
                other => return Err(format!("unknown argument {other}").into()),
            };
            *target = args
                .next()
                .ok_or_else(|| format!("{arg} needs a number"))?
                .parse()?;
        }
        if options.tabs == 0 {
            return Err("--tabs must be at least 1".into());
        }
        Ok(options)
    }
}

/// A demo server in a child process, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Server {
    /// Starts `binary` on a free loopback port with a fresh SQLite file and
    /// no other settings (the environment is not passed on), and waits
    /// until it accepts connections.
    async fn start(binary: &Path) -> Result<Self, BoxError> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        let dir =
            std::env::temp_dir().join(format!("live-auth-tabs-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let addr = TcpListener::bind((PAGE_CLIENT, 0))?.local_addr()?;
        let child = Command::new(binary)
            .env_clear()
            .env("BIND_ADDR", addr.to_string())
            .env(
                "LOCAL_AUTH_DB",
                format!("sqlite://{}/auth.db", dir.display()),
            )
            .env("RUST_LOG", "error")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("starting {}: {error}", binary.display()))?;
        let mut server = Self { child, addr, dir };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("the server exited at start: {status}").into());
            }
            if TcpStream::connect(addr).await.is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err("the server did not listen within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's resident memory in bytes (`VmRSS`).
    fn resident(&self) -> Result<u64, BoxError> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .ok_or("no VmRSS in /proc/<pid>/status")?
            .parse()?;
        Ok(kib * 1024)
    }

    /// [`Self::resident`] after [`SETTLE`].
    async fn settled(&self) -> Result<u64, BoxError> {
        tokio::time::sleep(SETTLE).await;
        self.resident()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the bench against `binary`, the demo served by `adapter`.
pub(crate) fn main(binary: &str, adapter: &str) -> std::process::ExitCode {
    let outcome = Options::parse().and_then(|options| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
            .block_on(run(Path::new(binary), adapter, &options))
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tabs bench failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(binary: &Path, adapter: &str, options: &Options) -> Result<(), BoxError> {
    let Options { tabs, grants } = *options;
    println!(
        "live-auth idle tabs: the {adapter} demo's release binary in a child process, \
         {tabs} connections, {grants} grants; cores: {}; load average at start: {}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        load_average()
    );
    if let Some(limit) = open_files_limit()
        && limit < tabs + 256
    {
        return Err(format!(
            "the open-files limit is {limit}; {tabs} connections need about {} in each process",
            tabs + 256
        )
        .into());
    }

    // 1. The baseline: plain idle TCP connections.
    let server = Server::start(binary).await?;
    let before = server.settled().await?;
    let connections = idle_connections(server.addr, tabs).await?;
    let after = server.settled().await?;
    let open = still_open(&connections);
    let plain = per_connection(before, after, tabs);
    println!("\n## baseline: {tabs} plain idle TCP connections (fresh server)");
    println!(
        "server VmRSS {} -> {}: {} per connection; {open} of {tabs} still open when read",
        mib(before),
        mib(after),
        kib(plain)
    );
    drop(connections);
    drop(server);

    // 2. The tabs.
    let server = Server::start(binary).await?;
    let cookies = sessions(server.addr, tabs).await?;
    // One tab opened and closed first: what the first socket sets up once
    // (the channel's shard for the user, the page's code) is not a tab's.
    drop(live::open_tabs(server.addr, &cookies[..1], 1, 1).await?);
    let before = server.settled().await?;
    let (mut open_tabs, opening) = live::open_tabs(server.addr, &cookies, tabs, PARALLEL).await?;
    let after = server.settled().await?;
    let tab = per_connection(before, after, tabs);
    println!(
        "\n## {tabs} idle live tabs of one user ({} sessions, fresh server)",
        cookies.len()
    );
    println!(
        "opened in {:.2} s ({PARALLEL} upgrades in flight), each read to its first frame",
        opening.as_secs_f64()
    );
    println!(
        "server VmRSS {} -> {}: {} per tab; {} above a plain connection",
        mib(before),
        mib(after),
        kib(tab),
        kib(tab - plain)
    );
    if grants > 0 {
        grant_to_last_tab(&server, &cookies[0], &mut open_tabs, grants).await?;
        let granted = server.settled().await?;
        println!(
            "server VmRSS after the grants: {} ({} per tab above the idle tabs)",
            mib(granted),
            kib(per_connection(after, granted, tabs))
        );
    }
    drop(open_tabs);
    drop(server);
    println!("\nload average at end: {}", load_average());
    Ok(())
}

/// Signs one user in often enough for `tabs` sockets: the registration's
/// session and as many logins as needed.
async fn sessions(server: SocketAddr, tabs: usize) -> Result<Vec<Arc<str>>, BoxError> {
    let email = "tabs@load.example";
    let started = Instant::now();
    let mut http = crate::client::Http::connect(server, PAGE_CLIENT).await?;
    let mut cookies = vec![pages::register(&mut http, email).await?];
    drop(http);
    let more = tabs
        .div_ceil(DEFAULT_MAX_SOCKETS_PER_SESSION)
        .saturating_sub(1);
    cookies.extend(pages::sign_in_sessions(server, email, more).await?);
    println!(
        "\n{} sessions of {email} signed in in {:.1} s",
        cookies.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(cookies.into_iter().map(Arc::from).collect())
}

/// `grants` grants and revokes through the page's buttons; prints the time
/// from just before each POST until the last tab had its frame.
async fn grant_to_last_tab(
    server: &Server,
    cookie: &str,
    tabs: &mut Tabs,
    grants: usize,
) -> Result<(), BoxError> {
    let count = tabs.len();
    let run = live::grant_rounds(server.addr, cookie, tabs, grants).await?;
    let mut last = run.last.samples.clone();
    let summary = run.last.summary();
    if let Some(error) = summary.first_error {
        return Err(error.into());
    }
    let answered = run.answered.summary();
    let first = run.first.summary();
    let each: Vec<String> = last.iter().map(|d| ms(*d)).collect();
    last.sort_unstable();
    println!(
        "\n## one grant -> every one of the {count} tabs ({grants} grants/revokes, POST /live/grant-admin and /live/revoke-admin)"
    );
    println!(
        "last tab's frame: median {}, min {}, max {} (in order: {})",
        ms(summary.p50),
        ms(last.first().copied().unwrap_or_default()),
        ms(summary.max),
        each.join(", ")
    );
    println!(
        "first tab's frame: median {}; POST answered: median {}",
        ms(first.p50),
        ms(answered.p50)
    );
    Ok(())
}

/// `count` TCP connections to `server` that never send anything.
async fn idle_connections(server: SocketAddr, count: usize) -> Result<Vec<TcpStream>, BoxError> {
    stream::iter(0..count)
        .map(|_| TcpStream::connect(server))
        .buffer_unordered(PARALLEL)
        .map(|connected| connected.map_err(BoxError::from))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// How many of `connections` the server has not closed.
fn still_open(connections: &[TcpStream]) -> usize {
    let mut byte = [0u8; 1];
    connections
        .iter()
        .filter(|c| {
            matches!(c.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .count()
}

/// Bytes per connection of the growth from `before` to `after`.
fn per_connection(before: u64, after: u64, count: usize) -> f64 {
    (after as f64 - before as f64) / count as f64
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}
