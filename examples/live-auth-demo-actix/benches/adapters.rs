//! Both demos in one run: the same signed-in page and the same static file,
//! served by the axum demo and by the actix-web demo, each on a fresh
//! SQLite file and a loopback port, driven by the same keep-alive HTTP/1.1
//! clients (the live-auth load driver's).
//!
//! Run with `cargo bench -p live-auth-demo-actix --bench adapters`. Each
//! loop is bounded in count and time; the run takes about half a minute.
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    reason = "a bench prints its report; counts stay far below 2^52"
)]

#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/client.rs"]
mod client;
#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/pages.rs"]
mod pages;
#[allow(dead_code, unreachable_pub)]
#[path = "../../live-auth-demo/benches/load/stats.rs"]
mod stats;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use live_auth_demo_actix::{Settings, app, build};

use crate::client::Http;
use crate::pages::PAGE_CLIENT;
use crate::stats::{Summary, ratio, ratio_of};

/// An error of the driver itself.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

const CONNECTIONS: usize = 16;
const WARM_UP: Duration = Duration::from_secs(1);
const DURATION: Duration = Duration::from_secs(5);
const MAX_EACH: usize = 200_000;

/// A temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn settings(dir: &std::path::Path, name: &str) -> Result<Settings, BoxError> {
    let url = format!("sqlite://{}/{name}.db", dir.display());
    Ok(Settings::from_lookup(|var| {
        (var == "LOCAL_AUTH_DB").then(|| url.clone())
    })?)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            println!("adapters bench failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let dir = TempDir(std::env::temp_dir().join(format!("live-auth-adapters-{nanos}")));
    std::fs::create_dir_all(&dir.0)?;

    // axum as `live-auth`'s main serves it: a multi-threaded runtime.
    let axum_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let axum_settings = settings(&dir.0, "axum")?;
    let axum_addr = axum_runtime.block_on(async {
        let auth = live_auth_demo::build(&axum_settings).await?;
        let listener = tokio::net::TcpListener::bind((PAGE_CLIENT, 0)).await?;
        let addr = listener.local_addr()?;
        let app = live_auth_demo::router(&auth).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok::<_, BoxError>(addr)
    })?;

    // actix-web as this demo's main serves it: one worker per core.
    let actix_settings = settings(&dir.0, "actix")?;
    let listener = std::net::TcpListener::bind((PAGE_CLIENT, 0))?;
    let actix_addr = listener.local_addr()?;
    let (ready, started) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let served = actix_web::rt::System::new().block_on(async move {
            let auth = build(&actix_settings).await?;
            let server = actix_web::HttpServer::new(move || app(&auth))
                .listen(listener)?
                .shutdown_timeout(0)
                .run();
            let _ = ready.send(());
            server.await?;
            Ok::<_, BoxError>(())
        });
        if let Err(error) = served {
            println!("actix server failed: {error}");
        }
    });
    started.recv_timeout(Duration::from_secs(30))?;

    let clients = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    clients.block_on(async {
        println!(
            "both demos, {CONNECTIONS} keep-alive connections, {DURATION:?} per loop, \
             cores: {}",
            std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
        );
        let axum = measure("axum", axum_addr).await?;
        let actix = measure("actix-web", actix_addr).await?;
        println!(
            "\nactix-web vs axum: GET /live requests/s {}, p99 {}; GET /style.css requests/s {}",
            ratio(actix.1.per_second, axum.1.per_second),
            ratio_of(actix.1.p99, axum.1.p99),
            ratio(actix.0.per_second, axum.0.per_second)
        );
        Ok::<_, BoxError>(())
    })?;
    clients.shutdown_timeout(Duration::from_secs(2));
    axum_runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

/// The static file without a cookie, then the signed-in page, on one demo.
async fn measure(name: &str, server: SocketAddr) -> Result<(Summary, Summary), BoxError> {
    let mut http = Http::connect(server, PAGE_CLIENT).await?;
    let cookie: Arc<str> = pages::register(&mut http, &format!("viewer@{name}.example"))
        .await?
        .into();
    drop(http);
    println!("\n## {name} on http://{server}");
    let style = page_loop(server, "/style.css", None).await?;
    println!("GET /style.css (no cookie):  {style}");
    let live = page_loop(server, "/live", Some(cookie)).await?;
    println!("GET /live (session cookie): {live}");
    println!(
        "/live vs /style.css: requests/s {}",
        ratio(live.per_second, style.per_second)
    );
    Ok((style, live))
}

async fn page_loop(
    server: SocketAddr,
    path: &'static str,
    cookie: Option<Arc<str>>,
) -> Result<Summary, BoxError> {
    pages::closed_loop(server, path, cookie.clone(), CONNECTIONS, WARM_UP, MAX_EACH).await?;
    Ok(
        pages::closed_loop(server, path, cookie, CONNECTIONS, DURATION, MAX_EACH)
            .await?
            .summary(),
    )
}
