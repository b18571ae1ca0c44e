//! The test services helper never lets a test pass silently: a service left
//! out says so on the terminal past the harness's capture, and an
//! unreachable one fails with how to start it. Each case reruns this test
//! binary on one test with a chosen environment.

use std::process::{Command, Output};

use auth_core::testkit::services;

/// Asks for Redis: `None` exactly when `AUTH_TEST_SERVICES` leaves it out.
#[test]
fn redis_url_follows_the_selection() {
    let selection = std::env::var(services::SERVICES_ENV).unwrap_or_default();
    let url = services::redis_url();
    // The selections the cases below use that leave Redis out.
    if matches!(selection.as_str(), "none" | "postgres,mysql") {
        assert_eq!(url, None);
    } else {
        assert!(url.is_some_and(|url| url.starts_with("redis://")));
    }
}

/// Runs [`redis_url_follows_the_selection`] alone in a child process.
fn child(envs: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = Command::new(exe);
    command.args(["--exact", "redis_url_follows_the_selection"]);
    command.env_remove(services::SERVICES_ENV);
    command.env_remove("AUTH_TEST_REDIS_URL");
    command.envs(envs.iter().copied());
    command.output().expect("running the test binary")
}

#[test]
fn a_left_out_service_is_reported_even_though_the_test_passes() {
    let output = child(&[(services::SERVICES_ENV, "none")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Without `--nocapture`: the line is not held back with the test's
    // captured output.
    let line = stderr
        .lines()
        .find(|line| line.contains("SKIPPED "))
        .unwrap_or_else(|| panic!("no SKIPPED line in: {stderr}"));
    assert!(line.contains("redis_url_follows_the_selection"), "{line}");
    assert!(
        line.contains("needs Redis (AUTH_TEST_SERVICES=none)"),
        "{line}"
    );
}

#[test]
fn an_unreachable_service_fails_saying_how_to_start_it() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("redis://127.0.0.1:{closed}");
    let output = child(&[("AUTH_TEST_REDIS_URL", &url)]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("Redis is not reachable at {url}")),
        "{stdout}"
    );
    assert!(stdout.contains("redis-server"), "{stdout}");
    assert!(stdout.contains("AUTH_TEST_SERVICES=none"), "{stdout}");
    assert!(!stdout.contains("SKIPPED"), "{stdout}");
}

#[test]
fn a_list_requires_only_the_services_it_names() {
    let output = child(&[(services::SERVICES_ENV, "postgres,mysql")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Redis is not named: left out, so the child asserts `None` and passes.
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("needs Redis (AUTH_TEST_SERVICES=postgres,mysql)"),
        "{stderr}"
    );
}

#[test]
fn prefixes_are_unique_and_keep_their_name() {
    let (a, b) = (services::unique_prefix("t"), services::unique_prefix("t"));
    assert_ne!(a, b);
    assert!(a.starts_with("t-") && a.len() == 2 + 32, "{a}");
}
