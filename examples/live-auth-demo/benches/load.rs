//! HTTP and WebSocket load driver for the live-auth demo.
//!
//! Builds the demo as `main` does (`live_auth_demo::build` + `live_auth_demo::router`,
//! served by `axum::serve` with the client address recorded) on a fresh
//! SQLite file and a loopback port, then drives it over real sockets with
//! keep-alive HTTP/1.1 clients and WebSocket tabs:
//!
//! - a. `GET /live` with a session cookie, against `GET /style.css` without
//!   one (no session work), same concurrency; `GET /style.css` with the
//!   cookie (a route that never reads the principal); and a small JSON
//!   handler that reads the principal, behind the auth layer, against the
//!   same JSON answered without the layer;
//! - b. `POST /auth/local/login` from 32 clients at once, one account and
//!   one loopback address each;
//! - c. a paced `GET /live` probe without and then during that login storm,
//!   then the storm once more alone;
//! - d. grant → frame latency over the live WebSocket for 1 and 1,000 open
//!   tabs of one user (at most 32 per session, the default cap).
//!
//! Run with `cargo bench -p live-auth-demo --bench load`. Every loop is bounded
//! in count and time; the whole run takes under a minute on two cores.
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a bench prints its report; counts stay far below 2^52"
)]

#[path = "load/client.rs"]
mod client;
#[path = "load/live.rs"]
mod live;
#[path = "load/machine.rs"]
mod machine;
#[path = "load/pages.rs"]
mod pages;
#[path = "load/stats.rs"]
mod stats;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use live_auth::auth_http::DEFAULT_MAX_SOCKETS_PER_SESSION;
use live_auth::auth_local_idp::{
    Argon2Hasher, DEFAULT_ADDRESS_LIMIT, DEFAULT_EMAIL_LIMIT, DEFAULT_M_COST, DEFAULT_P_COST,
    DEFAULT_T_COST, DEFAULT_THROTTLE_WINDOW,
};
use live_auth::axum::{CurrentUser, LiveAuth, LiveAuthExt, axum};
use live_auth_demo::{Settings, build, router};
use tokio::runtime::Runtime;

use crate::client::Http;
use crate::machine::{load_average, open_files_limit};
use crate::pages::PAGE_CLIENT;
use crate::stats::{Summary, ms, ratio, ratio_of};

/// An error of the driver itself.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The account of the page loops and the tabs.
const VIEWER: &str = "viewer@load.example";
/// Concurrent connections of the page loops (a).
const PAGE_CONNECTIONS: usize = 16;
/// How long each page loop runs, after a warm-up of `PAGE_WARM_UP`.
const PAGE_DURATION: Duration = Duration::from_secs(5);
const PAGE_WARM_UP: Duration = Duration::from_secs(1);
/// A page loop's bound in requests per connection.
const PAGE_MAX_EACH: usize = 200_000;
/// Clients of the login storm (b, c), and logins each makes in a row.
const STORM_CLIENTS: usize = 32;
const STORM_LOGINS_EACH: usize = 3;
/// Logins of one client alone, in a row, before the storm.
const SINGLE_LOGINS: usize = 10;
// Every storm client signs in from its own loopback address (127.0.1.x),
// as 32 real clients would. From one address, the default address throttle
// (50 attempts per 15 minutes, not reset by a success) would refuse the run
// from the 51st login on; this keeps each address within it.
const _: () = assert!(SINGLE_LOGINS + 4 * STORM_LOGINS_EACH <= DEFAULT_ADDRESS_LIMIT as usize);
/// The paced probe (c): connections, and one `GET /live` per connection
/// per interval.
const PROBE_CONNECTIONS: usize = 4;
const PROBE_EVERY: Duration = Duration::from_millis(20);
/// The probe's bound in time.
const PROBE_CAP: Duration = Duration::from_secs(120);
/// Tabs and grants of the WebSocket runs (d).
const TAB_RUNS: [(usize, usize); 2] = [(1, 200), (1_000, 100)];
/// WebSocket upgrades in flight at once while opening tabs.
const TAB_PARALLEL: usize = 64;

/// A temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Result<Self, BoxError> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
        let dir =
            std::env::temp_dir().join(format!("live-auth-load-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("load driver failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    let dir = TempDir::new()?;
    let url = format!("sqlite://{}/auth.db", dir.0.display());
    let settings = Settings::from_lookup(|name| (name == "LOCAL_AUTH_DB").then(|| url.clone()))?;

    // The server on a runtime like `#[tokio::main]`'s (one worker per
    // core), the clients on a runtime of their own: both share the machine.
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("server")
        .build()?;
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("client")
        .build()?;
    let server = server_runtime.block_on(async {
        let auth = build(&settings).await?;
        let listener = tokio::net::TcpListener::bind((PAGE_CLIENT, 0)).await?;
        let addr = listener.local_addr()?;
        let app = router(&auth)
            .merge(bench_routes(&auth))
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("server failed: {error}");
            }
        });
        Ok::<_, BoxError>(addr)
    })?;
    let outcome = client_runtime.block_on(scenarios(server));
    client_runtime.shutdown_timeout(Duration::from_secs(2));
    shutdown(server_runtime);
    drop(dir);
    outcome
}

/// The JSON handler of a. twice: `/bench/whoami` reads the principal
/// behind the auth layer; `/bench/plain` answers a JSON body of the same
/// shape and size without the layer, as an app without authentication
/// would.
fn bench_routes(auth: &LiveAuth) -> axum::Router {
    use axum::routing::get;
    fn json(body: &serde_json::Value) -> ([(axum::http::HeaderName, &'static str); 1], String) {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
    }
    let whoami = axum::Router::new()
        .route(
            "/bench/whoami",
            get(|CurrentUser(user): CurrentUser| async move {
                json(&serde_json::json!({
                    "user": user.user_id(),
                    "claims": user.claims().len(),
                }))
            }),
        )
        .layer(auth.layer());
    let plain = axum::Router::new().route(
        "/bench/plain",
        get(|| async {
            json(&serde_json::json!({
                "user": "local:00000000-0000-0000-0000-000000000000",
                "claims": 0,
            }))
        }),
    );
    whoami.merge(plain)
}

fn shutdown(runtime: Runtime) {
    runtime.shutdown_timeout(Duration::from_secs(2));
}

async fn scenarios(server: SocketAddr) -> Result<(), BoxError> {
    let hasher = Argon2Hasher::builder().build()?;
    println!("live-auth load driver: demo on http://{server}, fresh SQLite file");
    println!(
        "cores: {}; load average at start: {}",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        load_average()
    );
    println!(
        "Argon2id defaults m={DEFAULT_M_COST} KiB, t={DEFAULT_T_COST}, p={DEFAULT_P_COST}; \
         hashing concurrency {}; login throttles {DEFAULT_EMAIL_LIMIT}/email, \
         {DEFAULT_ADDRESS_LIMIT}/address per {} s",
        hasher.concurrency(),
        DEFAULT_THROTTLE_WINDOW.as_secs()
    );

    let mut http = Http::connect(server, PAGE_CLIENT).await?;
    let cookie: Arc<str> = pages::register(&mut http, VIEWER).await?.into();
    // The page the loops load is the signed-in page, not a redirect.
    let page = http.get("/live", Some(&cookie)).await?;
    if page.status != hyper::StatusCode::OK
        || !String::from_utf8_lossy(&page.body).contains("Admin content hidden.")
    {
        return Err(format!("GET /live answered {} without the live page", page.status).into());
    }
    drop(http);

    page_scenario(server, &cookie).await?;
    login_scenarios(server, &cookie, &hasher).await?;
    live_scenario(server, &cookie).await?;
    println!("\nload average at end: {}", load_average());
    Ok(())
}

/// a. An authenticated page against a static one, same concurrency.
async fn page_scenario(server: SocketAddr, cookie: &Arc<str>) -> Result<(), BoxError> {
    // a. An authenticated page against a static one, same concurrency.
    println!("\n## a. pages, {PAGE_CONNECTIONS} keep-alive connections, {PAGE_DURATION:?} each");
    let style = page_loop(server, "/style.css", None).await?;
    println!("GET /style.css (no cookie):  {style}");
    let styled = page_loop(server, "/style.css", Some(cookie.clone())).await?;
    println!("GET /style.css (session cookie): {styled}");
    let live = page_loop(server, "/live", Some(cookie.clone())).await?;
    println!("GET /live (session cookie): {live}");
    println!(
        "/style.css with vs without the cookie: requests/s {}, p50 {}, p99 {}",
        ratio(styled.per_second, style.per_second),
        ratio_of(styled.p50, style.p50),
        ratio_of(styled.p99, style.p99)
    );
    println!(
        "/live vs /style.css: requests/s {}, p50 {}, p99 {}",
        ratio(live.per_second, style.per_second),
        ratio_of(live.p50, style.p50),
        ratio_of(live.p99, style.p99)
    );
    let plain = page_loop(server, "/bench/plain", None).await?;
    println!("GET /bench/plain (JSON, no auth layer): {plain}");
    let whoami = page_loop(server, "/bench/whoami", Some(cookie.clone())).await?;
    println!("GET /bench/whoami (JSON, signed in): {whoami}");
    println!(
        "signed-in JSON vs the same without the layer: requests/s {}, p50 {}, p99 {}",
        ratio(whoami.per_second, plain.per_second),
        ratio_of(whoami.p50, plain.p50),
        ratio_of(whoami.p99, plain.p99)
    );
    Ok(())
}

/// b. The login storm, and c. the paced probe without and during it.
async fn login_scenarios(
    server: SocketAddr,
    cookie: &Arc<str>,
    hasher: &Argon2Hasher,
) -> Result<(), BoxError> {
    // b. The login storm.
    println!(
        "\n## b. login storm: {STORM_CLIENTS} clients at once, {STORM_LOGINS_EACH} logins each"
    );
    let (emails, registering) = pages::register_accounts(server, STORM_CLIENTS).await?;
    println!(
        "registered {STORM_CLIENTS} accounts at once in {:.2} s ({:.1} registrations/s)",
        registering.as_secs_f64(),
        STORM_CLIENTS as f64 / registering.as_secs_f64()
    );
    let single = pages::login_storm(server, &emails[..1], SINGLE_LOGINS)
        .await?
        .summary();
    println!("one client alone, {SINGLE_LOGINS} logins in a row: {single}");
    // Twice, to show how much one storm differs from the next.
    let first = pages::login_storm(server, &emails, STORM_LOGINS_EACH)
        .await?
        .summary();
    println!("{STORM_CLIENTS} clients at once:        {first}");
    let storm = pages::login_storm(server, &emails, STORM_LOGINS_EACH)
        .await?
        .summary();
    println!("{STORM_CLIENTS} clients at once, again: {storm}");
    println!(
        "ceiling implied by one login alone: {} hashing slots / p50 {} = {:.0} logins/s; storms reached {:.1} and {:.1} logins/s",
        hasher.concurrency(),
        ms(single.p50),
        hasher.concurrency() as f64 / single.p50.as_secs_f64().max(f64::EPSILON),
        first.per_second,
        storm.per_second
    );

    // c. Nothing stalls: the paced probe without, then during, the storm.
    let window = storm.elapsed.max(Duration::from_secs(3));
    println!(
        "\n## c. GET /live probe ({PROBE_CONNECTIONS} connections, one request each per {PROBE_EVERY:?}) without and during the storm"
    );
    let quiet = pages::paced_probe(
        server,
        cookie.clone(),
        PROBE_CONNECTIONS,
        PROBE_EVERY,
        Arc::new(AtomicBool::new(false)),
        window,
    )
    .await?
    .summary();
    println!("probe, no storm:     {quiet}");
    let stop = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn(pages::paced_probe(
        server,
        cookie.clone(),
        PROBE_CONNECTIONS,
        PROBE_EVERY,
        stop.clone(),
        PROBE_CAP,
    ));
    let stormed = pages::login_storm(server, &emails, STORM_LOGINS_EACH).await;
    stop.store(true, Ordering::Release);
    let during = probe.await??.summary();
    let stormed = stormed?.summary();
    println!("probe, during storm: {during}");
    println!("storm, with probe:   {stormed}");
    println!(
        "during / without: p50 {}, p99 {}, max {}",
        ratio_of(during.p50, quiet.p50),
        ratio_of(during.p99, quiet.p99),
        ratio_of(during.max, quiet.max)
    );
    // Once more without the probe, to tell the probe's effect on the storm
    // from the order of the runs.
    let after = pages::login_storm(server, &emails, STORM_LOGINS_EACH)
        .await?
        .summary();
    println!("storm, alone after:  {after}");
    Ok(())
}

/// d. Grant → frame latency for 1 and 1,000 tabs.
async fn live_scenario(server: SocketAddr, cookie: &str) -> Result<(), BoxError> {
    // d. Grant → frame over the live WebSocket.
    println!("\n## d. grant -> frame over the live WebSocket (one user, N tabs, 32 per session)");
    let most_tabs = TAB_RUNS.iter().map(|(tabs, _)| *tabs).max().unwrap_or(0);
    if let Some(limit) = open_files_limit()
        && limit < 2 * most_tabs + 256
    {
        return Err(format!(
            "the open-files limit is {limit}; {most_tabs} tabs need about {}: run `ulimit -n 4096` first",
            2 * most_tabs + 256
        )
        .into());
    }
    // A session holds at most `DEFAULT_MAX_SOCKETS_PER_SESSION` sockets:
    // the user signs in again for the others, as more browsers would.
    let more = most_tabs
        .div_ceil(DEFAULT_MAX_SOCKETS_PER_SESSION)
        .saturating_sub(1);
    let mut cookies: Vec<Arc<str>> = vec![Arc::from(cookie)];
    cookies.extend(
        pages::sign_in_sessions(server, VIEWER, more)
            .await?
            .into_iter()
            .map(Arc::from),
    );
    for (count, rounds) in TAB_RUNS {
        let sessions = count.div_ceil(DEFAULT_MAX_SOCKETS_PER_SESSION);
        let (mut tabs, opening) =
            live::open_tabs(server, &cookies[..sessions], count, TAB_PARALLEL).await?;
        println!(
            "{count} tabs open in {:.2} s; {rounds} grants/revokes through POST /live/grant-admin and /live/revoke-admin",
            opening.as_secs_f64()
        );
        let grants = live::grant_rounds(server, cookie, &mut tabs, rounds).await?;
        drop(tabs);
        println!("  POST answered:     {}", brief(&grants.answered.summary()));
        println!("  first tab's frame: {}", brief(&grants.first.summary()));
        println!("  last tab's frame:  {}", brief(&grants.last.summary()));
    }
    Ok(())
}

/// A page loop: a warm-up, then the measured run.
async fn page_loop(
    server: SocketAddr,
    path: &'static str,
    cookie: Option<Arc<str>>,
) -> Result<Summary, BoxError> {
    pages::closed_loop(
        server,
        path,
        cookie.clone(),
        PAGE_CONNECTIONS,
        PAGE_WARM_UP,
        PAGE_MAX_EACH,
    )
    .await?;
    Ok(pages::closed_loop(
        server,
        path,
        cookie,
        PAGE_CONNECTIONS,
        PAGE_DURATION,
        PAGE_MAX_EACH,
    )
    .await?
    .summary())
}

/// Latency percentiles without the throughput.
fn brief(summary: &Summary) -> String {
    let mut text = format!(
        "n={} p50 {} p99 {} max {}, errors {}",
        summary.count,
        ms(summary.p50),
        ms(summary.p99),
        ms(summary.max),
        summary.errors
    );
    if let Some(error) = &summary.first_error {
        let _ = write!(text, " (first: {error})");
    }
    text
}
