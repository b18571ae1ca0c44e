//! The built binary against a SQLite file the test seeds through the stack,
//! and against PostgreSQL with Redis, where a grant reaches a live
//! subscriber of the Redis channel at once.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use auth_core::testkit::services;
use auth_core::{
    ActiveSession, AuthChannel, AuthEvent, Claim, Principal, SessionConfig, Sessions, UserRecord,
};
use auth_local_idp::{LocalIdP, LocalIdpError, Registration};
use futures_util::StreamExt;
use live_auth::Stack;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "a session secret of at least thirty-two bytes";

/// Runs the tool with only the given environment.
fn admin(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_live-auth-admin"));
    command.env_clear().env("USER", "ops").args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(output)
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&ok(output)).expect("JSON output")
}

/// A fresh SQLite file under the target directory.
fn sqlite_url() -> (String, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("live-auth-admin");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()));
    (format!("sqlite://{}", path.display()), path)
}

fn sessions_of(stack: &Stack) -> Sessions {
    let config = SessionConfig::new().with_secret(SECRET);
    Sessions::new(
        stack.session_backend().clone(),
        stack.store().clone(),
        config,
    )
    .expect("config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_against_a_seeded_sqlite_file() {
    let (url, path) = sqlite_url();
    let stack = Stack::builder(url.as_str())
        .with_session_secret(SECRET)
        .build()
        .await
        .expect("stack");
    let idp = stack.local_idp().clone();
    let ada = idp
        .create_user(Registration::new("ada@example.com", PASSWORD).with_name("Ada"))
        .await
        .unwrap();
    let bob = idp
        .create_user(Registration::new("bob@example.com", PASSWORD))
        .await
        .unwrap();
    let sessions = sessions_of(&stack);
    let (_, first) = sessions
        .sign_in(None, Principal::for_user(&ada))
        .await
        .unwrap();
    let (_, second) = sessions
        .sign_in(None, Principal::for_user(&ada))
        .await
        .unwrap();
    let env = [("LOCAL_AUTH_DB", url.as_str())];

    listing(&env, &ada, &bob);
    claims_and_sessions(&env, &sessions, &stack, &ada, [&first, &second]).await;
    disabling(&env, &sessions, &idp, &bob).await;
    audit_and_exit_codes(&env, &ada, &bob);

    drop(stack);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

type Env<'a> = [(&'a str, &'a str); 1];

fn listing(env: &Env<'_>, ada: &UserRecord, bob: &UserRecord) {
    let env = &env[..];
    // users list, table and JSON.
    let listed = ok(&admin(env, &["users", "list"]));
    assert!(listed.starts_with("USER ID"), "{listed}");
    assert!(listed.contains("ada@example.com") && listed.contains("bob@example.com"));
    let users = json(&admin(env, &["users", "list", "--json"]));
    let ids: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap())
        .collect();
    let mut expected = vec![ada.user_id.as_str(), bob.user_id.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);

    // show, by email (normalised) and by id.
    let shown = json(&admin(
        env,
        &["users", "show", "  ADA@Example.com ", "--json"],
    ));
    assert_eq!(shown["user_id"], ada.user_id.as_str());
    assert_eq!(shown["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(shown["links"][0]["subject"], "ada@example.com");
    let text = ok(&admin(env, &["users", "show", &ada.user_id]));
    assert!(text.contains("status:   active"), "{text}");
}

async fn claims_and_sessions(
    env: &Env<'_>,
    sessions: &Sessions,
    stack: &Stack,
    ada: &UserRecord,
    [first, second]: [&ActiveSession; 2],
) {
    let env = &env[..];
    // grant: the store has it and each session reads it on its next load.
    let granted = ok(&admin(env, &["grant", "ada@example.com", "role", "admin"]));
    assert!(granted.contains("granted role=admin"), "{granted}");
    assert!(
        granted.contains("REDIS_URL is not set"),
        "it says how far it reached: {granted}"
    );
    for session in [first, second] {
        let loaded = sessions.load(&session.key).await.unwrap().expect("live");
        assert!(loaded.principal().has_claim("role", Some("admin")));
    }
    ok(&admin(env, &["revoke", &ada.user_id, "role"]));
    let ada_now = stack.store().get_user(&ada.user_id).await.unwrap().unwrap();
    assert!(!ada_now.claims.iter().any(|c| c.kind == "role"));

    // sessions, then sign-out of every session.
    let listed = json(&admin(env, &["sessions", "ada@example.com", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let table = ok(&admin(env, &["sessions", "ada@example.com"]));
    assert!(
        !table.contains(first.key.as_str()),
        "no session key is printed"
    );
    let signed_out = ok(&admin(env, &["sign-out", "ada@example.com"]));
    assert!(signed_out.contains("2 sessions"), "{signed_out}");
    assert!(sessions.load(&first.key).await.unwrap().is_none());
}

async fn disabling(env: &Env<'_>, sessions: &Sessions, idp: &LocalIdP, bob: &UserRecord) {
    let env = &env[..];
    // disable: sessions end and the right password no longer signs in.
    let (_, bobs) = sessions
        .sign_in(None, Principal::for_user(bob))
        .await
        .unwrap();
    let disabled = ok(&admin(env, &["disable", "bob@example.com"]));
    assert!(disabled.contains("1 sessions ended"), "{disabled}");
    assert!(sessions.load(&bobs.key).await.unwrap().is_none());
    assert!(matches!(
        idp.verify_credentials("bob@example.com", PASSWORD).await,
        Err(LocalIdpError::InvalidCredentials)
    ));
    let shown = json(&admin(env, &["users", "show", "bob@example.com", "--json"]));
    assert_eq!(shown["disabled"], true);
    ok(&admin(env, &["enable", "bob@example.com"]));
    idp.verify_credentials("bob@example.com", PASSWORD)
        .await
        .expect("enabled again");
}

fn audit_and_exit_codes(env: &Env<'_>, ada: &UserRecord, bob: &UserRecord) {
    let env = &env[..];
    // The audit log, newest first, per user.
    let entries = json(&admin(env, &["audit", "--json"]));
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "enable",
            "disable",
            "sign-out-everywhere",
            "revoke",
            "grant"
        ]
    );
    assert_eq!(entries[0]["actor"], "cli:ops");
    assert_eq!(entries[0]["source"], "cli");
    let adas = json(&admin(
        env,
        &["audit", "--user", "ada@example.com", "--json"],
    ));
    assert_eq!(adas.as_array().unwrap().len(), 3);
    assert_eq!(adas[2]["detail"], "role=admin");
    let table = ok(&admin(env, &["audit", "--user", &bob.user_id]));
    assert!(
        table.starts_with("WHEN") && table.contains("disable"),
        "{table}"
    );

    // Exit codes: unknown user 3, bad input 2, usage 2, reserved claim 2.
    for (args, code) in [
        (&["grant", "nobody@example.com", "role", "x"][..], 3),
        (&["users", "show", "local:nobody"][..], 3),
        (&["grant", "not an email@", "role", "x"][..], 2),
        (&["grant", &ada.user_id, "", "x"][..], 2),
        (
            &["grant", &ada.user_id, auth_core::DISABLED_CLAIM, "false"][..],
            2,
        ),
        (&["sign-out"][..], 2),
        (&["no-such-command"][..], 2),
    ] {
        let output = admin(env, args);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {output:?}");
        assert!(!output.stderr.is_empty(), "{args:?} says why");
    }
    // A refused grant wrote nothing.
    let entries = json(&admin(env, &["audit", "--json"]));
    assert_eq!(entries.as_array().unwrap().len(), 5);
}

#[test]
fn an_unreachable_backend_exits_with_4() {
    let output = admin(
        &[("LOCAL_AUTH_DB", "postgres://postgres@127.0.0.1:9/none")],
        &["users", "list"],
    );
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let output = admin(
        &[
            ("LOCAL_AUTH_DB", "sqlite::memory:"),
            ("REDIS_URL", "redis://127.0.0.1:9"),
        ],
        &["users", "list"],
    );
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let output = admin(&[("LOCAL_AUTH_DB", "ftp://nowhere")], &["users", "list"]);
    assert_eq!(output.status.code(), Some(2), "a bad setting: {output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_through_the_cli_reaches_a_live_redis_subscriber_at_once() {
    let (Some(postgres), Some(redis)) = (services::postgres_url(), services::redis_url()) else {
        return;
    };
    let prefix = services::unique_prefix("admin-cli");
    let stack = Stack::builder(postgres.as_str())
        .with_redis_url(redis.as_str())
        .with_redis_prefix(prefix.as_str())
        .with_session_secret(SECRET)
        .build()
        .await
        .expect("stack");
    let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
    let user = stack
        .local_idp()
        .create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    // A worker's subscription, on a channel of its own.
    let settings =
        auth_channel_redis::RedisSettings::new(redis.as_str()).with_prefix(prefix.as_str());
    let channel = auth_channel_redis::RedisAuthChannel::connect(&settings)
        .await
        .expect("channel");
    let mut tab = channel.subscribe(&user.user_id).await.expect("subscribe");

    let env = [
        ("LOCAL_AUTH_DB".to_owned(), postgres.clone()),
        ("REDIS_URL".to_owned(), redis.clone()),
        ("REDIS_PREFIX".to_owned(), prefix.clone()),
    ];
    let granted = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ok(&admin(&env, &["grant", &email, "role", "admin"]))
    })
    .await
    .unwrap();
    assert!(granted.contains("told at once (Redis)"), "{granted}");
    let event = tokio::time::timeout(Duration::from_secs(10), tab.next())
        .await
        .expect("the event arrives")
        .expect("the stream is open");
    assert_eq!(
        event,
        AuthEvent::update_claims(vec![Claim::new("role", "admin")])
    );
}
