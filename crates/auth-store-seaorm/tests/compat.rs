//! A SQLite database written by the Python original (pywire-auth 0.4.0,
//! `tests/fixtures/make_python_fixture.py`) opens unchanged: its users are
//! found, their passwords verify through `auth-local-idp`, their claims and
//! links read back, the store writes to it, and its users get one-time
//! tokens in a table added beside the original's.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_core::{
    AuthStore, Claim, ClaimChange, Extras, OneTimeToken, OneTimeTokenStore, TokenPurpose,
    TokenRecord, UserRecord,
};
use auth_local_idp::{Argon2Hasher, LocalIdP, LocalIdpError, TokenIssuer};
use auth_store_seaorm::SeaOrmAuthStore;
use auth_store_seaorm::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

const ADA_ID: &str = "919504da-3545-4aaa-a19c-8527c8b8fa9e";
const GRACE_ID: &str = "b05d993a-d599-471a-89ab-62bbb8ae9cf0";
const ADA_PASSWORD: &str = "correct horse battery staple";
const GRACE_PASSWORD: &str = "hopper-1906-cobol";

/// A private copy of the committed fixture.
fn fixture_copy() -> PathBuf {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python-original.sqlite");
    let copy = common::temp_db_path();
    std::fs::copy(&fixture, &copy).expect("copy the fixture");
    copy
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn sorted(mut claims: Vec<Claim>) -> Vec<Claim> {
    claims.sort_by(|a, b| (&a.kind, &a.value).cmp(&(&b.kind, &b.value)));
    claims
}

fn ada_claims() -> Vec<Claim> {
    sorted(vec![
        Claim::new("email", "ada@example.com"),
        Claim::new("email_verified", "true"),
        Claim::new("role", "admin"),
    ])
}

async fn table_sql(store: &SeaOrmAuthStore) -> Vec<String> {
    let stmt = Statement::from_string(
        DatabaseBackend::Sqlite,
        "SELECT sql FROM sqlite_master WHERE name LIKE 'pywire_auth_%' OR name LIKE 'ix_pywire_auth_%' ORDER BY name",
    );
    store
        .connection()
        .query_all_raw(stmt)
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_users_claims_and_links_read_back() {
    let path = fixture_copy();
    let store = SeaOrmAuthStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let before = table_sql(&store).await;
    assert_eq!(
        before.len(),
        5,
        "the original's three tables and two indexes"
    );

    let ada = store
        .find_by_provider("local", "ada@example.com")
        .await
        .unwrap()
        .expect("ada is linked");
    assert_eq!(ada.user_id, ADA_ID);
    assert_eq!(ada.email.as_deref(), Some("ada@example.com"));
    assert_eq!(ada.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(sorted(ada.claims.clone()), ada_claims());
    assert_eq!(ada.extras, Extras::new());
    assert_eq!(store.get_user(ADA_ID).await.unwrap().as_ref(), Some(&ada));

    let grace = store.get_user(GRACE_ID).await.unwrap().expect("grace");
    let mut expected = UserRecord::new(GRACE_ID);
    expected.email = Some("grace@example.com".to_owned());
    // The original stores an empty name rather than none.
    expected.name = Some(String::new());
    expected.claims = vec![Claim::new("email", "grace@example.com")];
    assert_eq!(grace, expected);

    let links = store.links_of(ADA_ID).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        (
            links[0].provider.as_str(),
            links[0].subject.as_str(),
            links[0].user_id.as_str()
        ),
        ("local", "ada@example.com", ADA_ID)
    );
    // The original's JSON object has no order to keep: compare as sets.
    assert_eq!(sorted(links[0].claims.clone()), ada_claims());

    for id in [ADA_ID, GRACE_ID] {
        let hash = store.password_hash(id).await.unwrap().expect("a hash");
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=65536,t=3,p=4$"),
            "an argon2-cffi PHC string"
        );
    }

    // Writing through this store keeps the original's tables as they were.
    let updated = store
        .update_claims(ADA_ID, ClaimChange::Set(Claim::new("role", "editor")))
        .await
        .unwrap();
    assert!(updated.claims.contains(&Claim::new("role", "editor")));
    assert!(!updated.claims.contains(&Claim::new("role", "admin")));
    assert_eq!(updated.claims.len(), 3);
    store.session_backend().init_schema().await.unwrap();
    let (tokens, original): (Vec<String>, Vec<String>) =
        table_sql(&store).await.into_iter().partition(|sql| {
            [
                "pywire_auth_one_time_tokens",
                "pywire_auth_audit_log",
                "pywire_auth_totp_secrets",
                "pywire_auth_recovery_codes",
            ]
            .iter()
            .any(|table| sql.contains(table))
        });
    assert_eq!(original, before, "the original's DDL is untouched");
    assert_eq!(
        tokens.len(),
        6,
        "the token table, the audit log, their indexes and the two second-factor tables, beside them"
    );

    store.close().await.unwrap();
    remove(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_passwords_verify_through_the_local_idp() {
    let path = fixture_copy();
    let store = Arc::new(
        SeaOrmAuthStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap(),
    );
    let tokens = TokenIssuer::hs256(b"compat-test-secret-compat-test-secret".as_slice())
        .build()
        .unwrap();
    // Fast parameters for the re-hash after login; verification uses the
    // parameters inside each stored hash.
    let hasher = Argon2Hasher::builder()
        .with_params(64, 1, 1)
        .build()
        .unwrap();
    let idp = LocalIdP::builder(store.clone(), tokens)
        .with_hasher(hasher)
        .build()
        .unwrap();

    let ada = idp
        .verify_credentials("ada@example.com", ADA_PASSWORD)
        .await
        .unwrap();
    assert_eq!(ada.user_id(), Some(ADA_ID));
    assert!(ada.has_claim("role", Some("admin")));
    let grace = idp
        .verify_credentials("Grace@Example.com", GRACE_PASSWORD)
        .await
        .unwrap();
    assert_eq!(grace.user_id(), Some(GRACE_ID));

    let wrong = idp
        .verify_credentials("ada@example.com", GRACE_PASSWORD)
        .await;
    assert!(matches!(wrong, Err(LocalIdpError::InvalidCredentials)));

    // The login re-hashed with the current parameters, through this store,
    // and the new hash verifies too.
    let rehashed = store.password_hash(ADA_ID).await.unwrap().unwrap();
    assert!(!rehashed.as_str().contains("m=65536"));
    idp.verify_credentials("ada@example.com", ADA_PASSWORD)
        .await
        .unwrap();

    drop(idp);
    SeaOrmAuthStore::clone(&store).close().await.unwrap();
    remove(&path);
}

/// The original's users get one-time tokens, tied to its users table by a
/// foreign key: deleting a user there deletes its tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_users_get_one_time_tokens_that_die_with_them() {
    let path = fixture_copy();
    let store = SeaOrmAuthStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let hour = std::time::Duration::from_secs(3600);
    let (reset, verify) = (OneTimeToken::generate(), OneTimeToken::generate());
    let record = TokenRecord::new(TokenPurpose::ResetPassword, ADA_ID, "state", hour);
    store.save_token(&reset.hash(), &record).await.unwrap();
    let taken = store
        .take_token(&reset.hash(), TokenPurpose::ResetPassword)
        .await
        .unwrap();
    assert_eq!(taken, Some(record));

    let record = TokenRecord::new(
        TokenPurpose::VerifyEmail,
        GRACE_ID,
        "grace@example.com",
        hour,
    );
    store.save_token(&verify.hash(), &record).await.unwrap();
    // A delete in the original's own way, a bare row delete, still takes
    // the token with it: the foreign key does it, not this store.
    store
        .connection()
        .execute_unprepared(&format!(
            "DELETE FROM pywire_auth_users WHERE user_id = '{GRACE_ID}'"
        ))
        .await
        .unwrap();
    let taken = store
        .take_token(&verify.hash(), TokenPurpose::VerifyEmail)
        .await
        .unwrap();
    assert_eq!(taken, None, "the deleted user's token");
    store.close().await.unwrap();
    remove(&path);
}
