//! Where the test services are, and what a test does when one is missing.
//!
//! Backend tests ask this module for their server: [`postgres_url`],
//! [`mysql_url`] and [`redis_url`] read `AUTH_TEST_POSTGRES_URL`,
//! `AUTH_TEST_MYSQL_URL` and `AUTH_TEST_REDIS_URL` at run time, else use the
//! standard local addresses:
//!
//! | service | variable | default |
//! |---|---|---|
//! | PostgreSQL | `AUTH_TEST_POSTGRES_URL` | `postgres://postgres@127.0.0.1:5432/test` |
//! | MariaDB or MySQL | `AUTH_TEST_MYSQL_URL` | `mysql://root@127.0.0.1:3306/test` |
//! | Redis | `AUTH_TEST_REDIS_URL` | `redis://127.0.0.1:6379` |
//!
//! A test never passes by skipping. When the server does not accept a TCP
//! connection the call panics, saying how to start it. A developer without
//! the services opts out explicitly with `AUTH_TEST_SERVICES`:
//!
//! - unset, empty or `all`: every service is required;
//! - `none`: no service is used; every test that needs one returns early;
//! - a comma-separated list of `postgres`, `mysql` (or `mariadb`) and
//!   `redis`: those are required, the others are left out.
//!
//! A test left out this way returns `None` from its URL call and writes one
//! line, `SKIPPED <test>: needs <service> (AUTH_TEST_SERVICES=<value>)`,
//! straight to the process's standard error. The test harness captures only
//! the `print!` family of macros, so these lines reach the terminal even for
//! tests that pass; count them to know how many tests did not run:
//!
//! ```text
//! AUTH_TEST_SERVICES=none cargo test --workspace 2>&1 | grep -c '^SKIPPED '
//! ```
//!
//! ```no_run
//! use auth_core::testkit::services;
//!
//! # async fn connect(_: &str, _: &str) {}
//! # async fn test() {
//! // In a `#[tokio::test]`:
//! let Some(url) = services::redis_url() else { return };
//! connect(&url, &services::unique_prefix("sessions")).await;
//! # }
//! ```

use std::fmt;
use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::Duration;

/// The variable that leaves services out: `none`, `all` or a list.
pub const SERVICES_ENV: &str = "AUTH_TEST_SERVICES";

/// How long the reachability probe waits for a TCP connection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A server the backend tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// PostgreSQL.
    Postgres,
    /// MariaDB or MySQL.
    Mysql,
    /// Redis.
    Redis,
}

impl Service {
    /// Every service, in table order.
    pub const ALL: [Service; 3] = [Service::Postgres, Service::Mysql, Service::Redis];

    /// The environment variable holding the service's URL.
    pub fn env_var(self) -> &'static str {
        match self {
            Service::Postgres => "AUTH_TEST_POSTGRES_URL",
            Service::Mysql => "AUTH_TEST_MYSQL_URL",
            Service::Redis => "AUTH_TEST_REDIS_URL",
        }
    }

    /// The URL used when [`env_var`](Self::env_var) is unset.
    pub fn default_url(self) -> &'static str {
        match self {
            Service::Postgres => "postgres://postgres@127.0.0.1:5432/test",
            Service::Mysql => "mysql://root@127.0.0.1:3306/test",
            Service::Redis => "redis://127.0.0.1:6379",
        }
    }

    /// The name of the service in `AUTH_TEST_SERVICES`.
    pub fn key(self) -> &'static str {
        match self {
            Service::Postgres => "postgres",
            Service::Mysql => "mysql",
            Service::Redis => "redis",
        }
    }

    /// A way to start the service on a Debian-like machine.
    fn start_hint(self) -> &'static str {
        match self {
            Service::Postgres => "`pg_ctlcluster <version> main start`",
            Service::Mysql => "`service mariadb start`",
            Service::Redis => "`redis-server --daemonize yes`",
        }
    }

    /// The service's URL, from its variable or the default; `None` when
    /// `AUTH_TEST_SERVICES` leaves it out (after a `SKIPPED` line on
    /// standard error).
    ///
    /// # Panics
    ///
    /// When the service is required but does not accept a connection, or
    /// when `AUTH_TEST_SERVICES` names an unknown service.
    pub fn url(self) -> Option<String> {
        let selection = std::env::var(SERVICES_ENV).unwrap_or_default();
        if !selected(&selection, self) {
            report_skip(self, &selection);
            return None;
        }
        let url = match std::env::var(self.env_var()) {
            Ok(url) if !url.trim().is_empty() => url,
            _ => self.default_url().to_owned(),
        };
        if let Err(error) = reachable(self, &url) {
            panic!(
                "{self} is not reachable at {url} ({error}); start it with {} or set \
                 {SERVICES_ENV}=none to skip the tests that need it",
                self.start_hint()
            );
        }
        Some(url)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Postgres => "PostgreSQL",
            Service::Mysql => "MariaDB",
            Service::Redis => "Redis",
        })
    }
}

/// The PostgreSQL test server's URL; see [`Service::url`].
///
/// # Panics
///
/// When PostgreSQL is required but unreachable.
pub fn postgres_url() -> Option<String> {
    Service::Postgres.url()
}

/// The MariaDB (or MySQL) test server's URL; see [`Service::url`].
///
/// # Panics
///
/// When MariaDB is required but unreachable.
pub fn mysql_url() -> Option<String> {
    Service::Mysql.url()
}

/// The Redis test server's URL; see [`Service::url`].
///
/// # Panics
///
/// When Redis is required but unreachable.
pub fn redis_url() -> Option<String> {
    Service::Redis.url()
}

/// `name-<32 hex digits>`: a key prefix (or database name) no other test
/// and no other run uses, for tests sharing one persistent server.
pub fn unique_prefix(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

/// Whether `selection` (the value of `AUTH_TEST_SERVICES`) requires
/// `service`.
fn selected(selection: &str, service: Service) -> bool {
    let selection = selection.trim();
    if selection.is_empty() || selection.eq_ignore_ascii_case("all") {
        return true;
    }
    if selection.eq_ignore_ascii_case("none") {
        return false;
    }
    let mut wanted = false;
    for name in selection
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let named = match name.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Service::Postgres,
            "mysql" | "mariadb" => Service::Mysql,
            "redis" => Service::Redis,
            _ => panic!(
                "{SERVICES_ENV}={selection} names the unknown service {name:?}; use `all`, \
                 `none` or a list of postgres, mysql and redis"
            ),
        };
        wanted |= named == service;
    }
    wanted
}

/// Tells the terminal, past the harness's output capture, that the current
/// test did not run.
fn report_skip(service: Service, selection: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let crate_name = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    let line = format!(
        "SKIPPED {crate_name} {test}: needs {service} ({SERVICES_ENV}={})\n",
        selection.trim()
    );
    // `std::io::stderr()` is not redirected by the harness, unlike
    // `eprintln!`; a failed write has nowhere better to go.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Whether `url`'s host accepts a TCP connection; probed once per process
/// and service.
fn reachable(service: Service, url: &str) -> Result<(), String> {
    static PROBES: [OnceLock<Result<(), String>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = &PROBES[Service::ALL
        .iter()
        .position(|s| *s == service)
        .unwrap_or_default()];
    slot.get_or_init(|| probe(url, default_port(service)))
        .clone()
}

fn default_port(service: Service) -> u16 {
    match service {
        Service::Postgres => 5432,
        Service::Mysql => 3306,
        Service::Redis => 6379,
    }
}

/// Connects to the host and port of `url` (`scheme://[user@]host[:port]/..`).
fn probe(url: &str, default_port: u16) -> Result<(), String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let address = if host_port.starts_with('[') || host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    };
    let addrs = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {address}: {e}"))?;
    let mut last = format!("{address} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::{Service, probe, selected};

    #[test]
    fn the_selection_requires_all_none_or_the_listed_services() {
        for all in ["", " ", "all", "ALL"] {
            assert!(Service::ALL.iter().all(|s| selected(all, *s)), "{all:?}");
        }
        assert!(Service::ALL.iter().all(|s| !selected("none", *s)));
        assert!(selected("postgres, redis", Service::Redis));
        assert!(selected("postgres, redis", Service::Postgres));
        assert!(!selected("postgres, redis", Service::Mysql));
        assert!(selected("mariadb", Service::Mysql));
    }

    #[test]
    #[should_panic(expected = "unknown service \"mongo\"")]
    fn an_unknown_service_is_an_error_not_a_skip() {
        selected("redis,mongo", Service::Redis);
    }

    #[test]
    fn the_probe_finds_a_listener_and_refuses_a_closed_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        probe(&format!("redis://user:secret@127.0.0.1:{port}/0"), 1).expect("open port");
        drop(listener);
        let error = probe(&format!("postgres://127.0.0.1:{port}/test"), 1).expect_err("closed");
        assert!(error.contains(&port.to_string()), "{error}");
    }
}
