//! Nothing secret reaches the logs: passwords, hashes, token secrets,
//! tokens, or the emails people typed.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth_core::AuthStore;
use auth_local_idp::Registration;
use tracing_subscriber::fmt::MakeWriter;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn auth_paths_log_no_secrets() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (idp, store) = common::idp();
    let email = common::email();
    let password = "correct horse battery staple";
    let user = idp
        .create_user(Registration::new(&email, password))
        .await
        .unwrap();
    let _ = idp.create_user(Registration::new(&email, password)).await;
    idp.verify_credentials(&email, password).await.unwrap();
    let _ = idp.verify_credentials(&email, "guess-93xk-q7").await;
    let _ = idp.verify_credentials("ghost@example.com", password).await;
    idp.change_password(&user.user_id, password, "new password 1")
        .await
        .unwrap();
    idp.reset_password(&user.user_id, "new password 2")
        .await
        .unwrap();
    let token = idp
        .issue_id_token(&user.user_id, &serde_json::Map::new(), None)
        .unwrap();
    let _ = idp.principal_from_id_token(&token).await;
    let _ = idp.principal_from_id_token("garbage.token.here").await;
    let hash = store.password_hash(&user.user_id).await.unwrap().unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // Something was logged, so the checks below mean something.
    assert!(logs.contains("login refused"), "{logs}");
    assert!(logs.contains("password changed"), "{logs}");
    for secret in [
        password,
        "guess-93xk-q7",
        "new password 1",
        "new password 2",
        common::SECRET,
        hash.as_str(),
        token.as_str(),
        email.as_str(),
        "ghost@example.com",
    ] {
        assert!(!logs.contains(secret), "logs contain {secret:?}:\n{logs}");
    }
}
