//! Bad settings are typed errors, and no error or `Debug` shows the URL's
//! password. Nothing here connects.

use std::error::Error as _;
use std::fmt::Write as _;
use std::time::Duration;

use auth_redis::{MAX_POOL_SIZE, MAX_PREFIX_LEN, RedisSettings, RedisSettingsError};

const URL: &str = "redis://app:hunter2@cache:6379/0";

/// The error's message, its `Debug` and every source's message.
fn everything_said(error: &RedisSettingsError) -> String {
    let mut said = format!("{error} {error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(said, " {cause} {cause:?}");
        source = cause.source();
    }
    said
}

fn refused(settings: &RedisSettings) -> RedisSettingsError {
    let error = settings
        .validate()
        .expect_err(&format!("accepted {settings:?}"));
    let said = everything_said(&error);
    assert!(!said.contains("hunter2"), "{said}");
    // Building a pool checks the same way.
    assert!(settings.build_pool().is_err(), "{settings:?}");
    error
}

#[test]
fn urls_other_than_one_plain_server_are_refused() {
    for url in [
        "",
        "cache:6379",
        "app:hunter2@cache:6379",
        "http://app:hunter2@cache:6379",
        "redis-cluster://app:hunter2@cache:6379",
        "redis-sentinel://app:hunter2@cache:26379/0",
        "redis+unix:///tmp/redis.sock",
    ] {
        let error = refused(&RedisSettings::new(url));
        assert!(
            matches!(error, RedisSettingsError::Scheme { .. }),
            "{url}: {error:?}"
        );
    }
    for url in [
        "rediss://app:hunter2@cache:6379",
        "REDISS://app:hunter2@cache",
    ] {
        let error = refused(&RedisSettings::new(url));
        assert!(
            matches!(error, RedisSettingsError::Tls { .. }),
            "{url}: {error:?}"
        );
        assert!(error.to_string().contains("app:***@cache"), "{error}");
    }
    for url in [
        "redis://app:hunter2@cache:notaport",
        "redis://app:hunter2@cache:6379/not-a-db",
        "redis://app:hunter2@cache:6379/0/1",
        "redis://app:hunter2@:6379",
        "redis://app:hunter2@cache:99999",
    ] {
        let error = refused(&RedisSettings::new(url));
        assert!(
            matches!(error, RedisSettingsError::Url { .. }),
            "{url}: {error:?}"
        );
        assert!(error.source().is_some(), "the client's reason is kept");
    }
}

#[test]
fn bad_values_are_refused_by_name() {
    let base = RedisSettings::new(URL);
    assert!(base.validate().is_ok());

    let long = "p".repeat(MAX_PREFIX_LEN + 1);
    for prefix in ["", "has space", "tab\t", "é", "new\nline", long.as_str()] {
        let error = refused(&base.clone().with_prefix(prefix));
        assert!(matches!(error, RedisSettingsError::Prefix), "{prefix:?}");
    }
    assert!(
        base.clone()
            .with_prefix("p".repeat(MAX_PREFIX_LEN))
            .validate()
            .is_ok()
    );

    let zero_connect = refused(&base.clone().with_connect_timeout(Duration::ZERO));
    assert!(matches!(
        zero_connect,
        RedisSettingsError::ZeroTimeout("connect timeout")
    ));
    let zero_command = refused(&base.clone().with_command_timeout(Duration::ZERO));
    assert_eq!(
        zero_command.to_string(),
        "the Redis command timeout must be above zero"
    );

    for (idle, interval) in [
        (Duration::ZERO, Duration::from_secs(10)),
        (Duration::from_millis(500), Duration::from_secs(10)),
        (Duration::from_secs(30), Duration::ZERO),
        (Duration::from_secs(32_768), Duration::from_secs(10)),
    ] {
        let error = refused(&base.clone().with_tcp_keepalive(idle, interval));
        assert!(
            matches!(error, RedisSettingsError::Keepalive),
            "{idle:?} {interval:?}"
        );
    }
    assert!(base.clone().without_tcp_keepalive().validate().is_ok());

    for (min, max) in [
        (Duration::ZERO, Duration::from_secs(1)),
        (Duration::from_secs(2), Duration::from_secs(1)),
    ] {
        let error = refused(&base.clone().with_reconnect_backoff(min, max));
        assert!(
            matches!(error, RedisSettingsError::Backoff),
            "{min:?} {max:?}"
        );
    }

    for size in [0, MAX_POOL_SIZE + 1, usize::MAX] {
        let error = refused(&base.clone().with_pool_size(size));
        assert!(matches!(error, RedisSettingsError::PoolSize(n) if n == size));
    }
    assert!(
        base.clone()
            .with_pool_size(MAX_POOL_SIZE)
            .validate()
            .is_ok()
    );
}

#[test]
fn debug_and_accessors_show_the_settings_but_not_the_password() {
    let settings = RedisSettings::new(URL)
        .with_prefix("shop")
        .with_connect_timeout(Duration::from_millis(700))
        .with_command_timeout(Duration::from_millis(300))
        .with_tcp_keepalive(Duration::from_secs(5), Duration::from_secs(1))
        .with_reconnect_backoff(Duration::from_millis(10), Duration::from_millis(80))
        .with_pool_size(3);
    let debug = format!("{settings:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("redis://app:***@cache:6379/0"), "{debug}");
    assert!(
        debug.contains("shop") && debug.contains("pool_size: 3"),
        "{debug}"
    );
    assert_eq!(settings.prefix(), "shop");
    assert_eq!(settings.connect_timeout(), Duration::from_millis(700));
    assert_eq!(settings.command_timeout(), Duration::from_millis(300));
    assert_eq!(
        settings.tcp_keepalive(),
        Some((Duration::from_secs(5), Duration::from_secs(1)))
    );
    assert_eq!(
        settings.reconnect_backoff(),
        (Duration::from_millis(10), Duration::from_millis(80))
    );
    assert_eq!(settings.pool_size(), 3);
    // A pool is built (not connected) with the size asked for.
    assert_eq!(settings.build_pool().unwrap().size(), 3);
}
