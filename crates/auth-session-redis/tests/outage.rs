//! Redis going away under the backend: every call fails with a typed
//! error within the command timeout, never a panic or a hang, and the
//! backend works again once Redis is back. The outage is a TCP proxy in
//! front of the shared Redis taken down, so the server itself is untouched.

use std::time::{Duration, Instant};

use auth_core::testkit::services::redis_url;
use auth_core::{Principal, SessionBackend, SessionError, SessionRecord, SessionToken};
use auth_session_redis::{RedisSessionBackend, RedisSettings};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// `host:port` of a Redis URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Forwards connections on `listener` to `target` until aborted; aborting
/// closes every forwarded connection.
fn proxy(listener: TcpListener, target: String) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            connections.spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    })
}

#[tokio::test]
async fn calls_fail_typed_while_redis_is_down_and_work_once_it_is_back() {
    let Some(url) = redis_url() else { return };
    let target = host_port(&url);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = proxy(listener, target.clone());
    let via = url.replacen(&target, &format!("127.0.0.1:{port}"), 1);
    let prefix = auth_core::testkit::services::unique_prefix("test");
    let settings = RedisSettings::new(via).with_prefix(prefix);
    let backend = RedisSessionBackend::connect(&settings).await.unwrap();

    let key = SessionToken::generate().key();
    let record = SessionRecord::new(Principal::authenticated("local:1", "Ada", vec![]), 0);
    let long = Duration::from_secs(600);
    backend.save(&key, &record, long).await.unwrap();

    task.abort();
    let _ = task.await;
    let started = Instant::now();
    let (load, save, listed, bumped) = tokio::join!(
        backend.load(&key),
        backend.save(&key, &record, long),
        backend.sessions_of("local:1"),
        backend.bump_user_stamp("local:1"),
    );
    let down = |error: &SessionError| matches!(error, SessionError::Backend { .. });
    assert!(load.as_ref().is_err_and(down), "{load:?}");
    assert!(save.as_ref().is_err_and(down), "{save:?}");
    assert!(listed.as_ref().is_err_and(down), "{listed:?}");
    assert!(bumped.as_ref().is_err_and(down), "{bumped:?}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );

    // Back on the same port: the backend reconnects by itself.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let task = proxy(listener, target);
    let started = Instant::now();
    loop {
        match backend.load(&key).await {
            Ok(loaded) => {
                assert_eq!(loaded, Some(record));
                break;
            }
            Err(_) if started.elapsed() < Duration::from_secs(15) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("never recovered: {error}"),
        }
    }
    task.abort();
}
