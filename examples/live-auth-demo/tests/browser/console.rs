//! The admin console's browser test: two demo workers on PostgreSQL and
//! Redis, a user's tab in Chromium, the built `live-auth-admin` tool and
//! the `/admin` console in a second browser context (`console.mjs`).
//!
//! The services come from `auth_core::testkit::services` (an unreachable
//! one fails the test unless `AUTH_TEST_SERVICES` leaves it out, which
//! reports SKIPPED); the browser tools as in `harness.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use auth_core::testkit::services;
use live_auth::auth_store_seaorm::sea_orm::{ConnectionTrait, Database};

use crate::harness::{Server, TempDir, browser_tools, install_node_modules, run_script};

/// Both workers' session key: a session made by one loads on the other.
const SESSION_SECRET: &str = "console-test-session-key-0123456789abcdef0123456789";

/// The `live-auth-admin` binary beside this test's profile directory
/// (`target/<profile>/`), where a workspace test run builds it (the tool's
/// own tests need it). Built here with the same cargo when it is missing,
/// so that testing this package alone works too.
fn admin_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let binary = profile.join(format!("live-auth-admin{}", std::env::consts::EXE_SUFFIX));
    if binary.is_file() {
        return binary;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = profile.parent().expect("target/<profile> has a parent");
    let mut build = Command::new(cargo);
    build
        .args(["build", "-p", "live-auth-admin", "--bin", "live-auth-admin"])
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null());
    if profile.file_name().is_some_and(|name| name == "release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build for live-auth-admin");
    assert!(
        status.success(),
        "building live-auth-admin failed ({status})"
    );
    assert!(binary.is_file(), "cargo built no {}", binary.display());
    binary
}

/// A PostgreSQL database of its own, dropped on drop: the console lists
/// every user, and the shared test database holds other tests' rows
/// (some corrupt on purpose).
struct FreshDatabase {
    server: String,
    name: String,
    url: String,
    runtime: tokio::runtime::Runtime,
}

impl FreshDatabase {
    fn create(server: &str) -> Self {
        let name = services::unique_prefix("console").replace('-', "_");
        let (base, query) = server.split_once('?').unwrap_or((server, ""));
        let (root, _) = base.rsplit_once('/').expect("a database URL with a path");
        let url = if query.is_empty() {
            format!("{root}/{name}")
        } else {
            format!("{root}/{name}?{query}")
        };
        let runtime = tokio::runtime::Runtime::new().expect("a runtime for the database setup");
        runtime.block_on(async {
            let admin = Database::connect(server)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the test database");
            let _ = admin.close().await;
        });
        Self {
            server: server.to_owned(),
            name,
            url,
            runtime,
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        self.runtime.block_on(async {
            if let Ok(admin) = Database::connect(self.server.as_str()).await {
                let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
                let _ = admin.execute_unprepared(&drop).await;
                let _ = admin.close().await;
            }
        });
    }
}

/// Starts two workers of the demo `binary` on PostgreSQL and Redis and runs
/// `console.mjs` from `script_dir` against them with the built tool.
pub(crate) fn console(binary: &str, script_dir: &Path) {
    let Some(postgres) = services::postgres_url() else {
        return;
    };
    let Some(redis) = services::redis_url() else {
        return;
    };
    let Some(chromium) = browser_tools() else {
        return;
    };
    install_node_modules(script_dir);
    let admin = admin_binary();
    // Dropped last: after the workers stop.
    let fresh = FreshDatabase::create(&postgres);
    let database = fresh.url.clone();

    let prefix = services::unique_prefix("console-test");
    let env = [
        ("LOCAL_AUTH_DB", database.clone()),
        ("REDIS_URL", redis.clone()),
        ("REDIS_PREFIX", prefix.clone()),
        ("AUTH_SESSION_SECRET", SESSION_SECRET.to_owned()),
    ];
    let dir = TempDir::new();
    let a = Server::start(binary, &dir.0, "a", &env);
    // B starts once A has created the schema.
    let b = Server::start(binary, &dir.0, "b", &env);

    let mut node = Command::new("node");
    node.arg("console.mjs")
        .arg(a.base_url())
        .arg(b.base_url())
        .current_dir(script_dir)
        .env("CHROMIUM_PATH", &chromium)
        .env("ADMIN_CLI", &admin)
        // What the tool reads, as the workers do.
        .env("LOCAL_AUTH_DB", &database)
        .env("REDIS_URL", &redis)
        .env("REDIS_PREFIX", &prefix)
        .env("USER", "console-test");
    run_script(node, &[&a, &b]);
}
