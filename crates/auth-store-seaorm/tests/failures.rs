//! Failures: malformed JSON columns, hostile input and a closed pool are
//! typed errors with context, never panics, and write nothing.

// Helpers outside `#[test]` functions unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use auth_core::{
    AuthStore, Claim, NewUser, PasswordHash, SessionBackend, SessionError, SessionToken,
    StoreError, UserUpdate,
};
use auth_store_seaorm::sea_orm::{ConnectionTrait, Database};
use auth_store_seaorm::{MAX_EMAIL_LEN, SeaOrmAuthStore, SeaOrmSessionBackend};
use common::{Db, user};

#[tokio::test]
async fn calls_on_a_closed_pool_are_backend_errors() {
    let conn = Database::connect("sqlite::memory:").await.unwrap();
    let store = SeaOrmAuthStore::new(conn.clone());
    let sessions = SeaOrmSessionBackend::new(conn.clone());
    store.init_schema().await.unwrap();
    sessions.init_schema().await.unwrap();
    conn.close().await.unwrap();

    let (id, new) = user("closed");
    let error = store.create_user(new).await.unwrap_err();
    assert!(matches!(error, StoreError::Backend { .. }), "{error}");
    let error = store.get_user(&id).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Backend {
                context: "reading a user",
                ..
            }
        ),
        "{error}"
    );
    let error = sessions.bump_user_stamp(&id).await.unwrap_err();
    assert!(matches!(error, SessionError::Backend { .. }), "{error}");
    let key = SessionToken::generate().key();
    let error = sessions.load(&key).await.unwrap_err();
    assert!(matches!(error, SessionError::Backend { .. }), "{error}");
}

/// Writes a row behind the store's back.
async fn raw(store: &SeaOrmAuthStore, sql: &str) {
    store.connection().execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn malformed_json_columns_are_corrupt_not_panics_sqlite() {
    let store = SeaOrmAuthStore::connect("sqlite::memory:").await.unwrap();
    store.init_schema().await.unwrap();
    let sessions = store.session_backend();
    sessions.init_schema().await.unwrap();
    let cases = [
        ("not-json", "'{\"role\": '", "'{}'"),
        ("claims-number", "'42'", "'{}'"),
        ("extras-array", "'[]'", "'[1, 2]'"),
        ("claims-items", "'[{\"value\": \"no type\"}]'", "'{}'"),
    ];
    for (tag, claims, extras) in cases {
        let id = format!("corrupt-{tag}");
        raw(
            &store,
            &format!(
                "INSERT INTO pywire_auth_users (user_id, email, name, claims, extras) \
                 VALUES ('{id}', NULL, NULL, {claims}, {extras})"
            ),
        )
        .await;
        raw(
            &store,
            &format!(
                "INSERT INTO pywire_auth_provider_links (provider, subject, user_id, claims) \
                 VALUES ('local', '{id}', '{id}', {claims})"
            ),
        )
        .await;
        let error = store.get_user(&id).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{tag}: {error}"
        );
        let error = store.find_by_provider("local", &id).await.unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{tag}: {error}"
        );
        let error = store
            .update_claims(&id, auth_core::ClaimChange::Remove("x".to_owned()))
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{tag}: {error}"
        );
    }
    let error = store.links_of("corrupt-not-json").await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error}");
    // The other columns of the row are still usable.
    store
        .set_password_hash("corrupt-not-json", PasswordHash::new("$argon2id$x"))
        .await
        .unwrap();

    let key = SessionToken::generate().key();
    raw(
        &store,
        &format!(
            "INSERT INTO auth_sessions (session_key, user_id, record, expires_at) \
             VALUES ('{key}', 'corrupt-session', 'garbage', 99999999999999)"
        ),
    )
    .await;
    let error = sessions.load(&key).await.unwrap_err();
    assert!(matches!(error, SessionError::Corrupt(_)), "{error}");
    let error = sessions.sessions_of("corrupt-session").await.unwrap_err();
    assert!(matches!(error, SessionError::Corrupt(_)), "{error}");
    assert!(
        sessions.delete(&key).await.unwrap(),
        "a corrupt session can be deleted"
    );
}

async fn misshapen_json_is_corrupt(db: Db) {
    // PostgreSQL and MariaDB refuse invalid JSON in their JSON columns, so
    // only valid JSON of the wrong shape can be stored there.
    let Some(store) = common::store(db).await else {
        return;
    };
    store.init_schema().await.unwrap();
    let id = format!("corrupt-{}", common::fresh());
    raw(
        &store,
        &format!(
            "INSERT INTO pywire_auth_users (user_id, claims, extras) VALUES ('{id}', '42', '[1]')"
        ),
    )
    .await;
    let error = store.get_user(&id).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Corrupt { .. }),
        "{db:?}: {error}"
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn misshapen_json_is_corrupt_postgres() {
    misshapen_json_is_corrupt(Db::Postgres).await;
}

#[tokio::test]
async fn misshapen_json_is_corrupt_mysql() {
    misshapen_json_is_corrupt(Db::Mysql).await;
}

fn invalid<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Invalid(_)))
}

async fn hostile_text_is_invalid(db: Db) {
    let Some(store) = common::store(db).await else {
        return;
    };
    let (id, _) = user("hostile");
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_name("nul\0name"))
            .await
    ));
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_email("nul\0@x"))
            .await
    ));
    let long_email = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN));
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_email(long_email))
            .await
    ));
    assert!(invalid(
        &store
            .create_user(NewUser::new(&id).with_link("local", "a\0b"))
            .await
    ));
    assert!(invalid(&store.find_by_provider("lo\0cal", "x").await));
    assert_eq!(
        store.get_user(&id).await.unwrap(),
        None,
        "nothing was written"
    );

    store.create_user(NewUser::new(&id)).await.unwrap();
    let update = UserUpdate::new().name(Some("bad\0".to_owned()));
    assert!(invalid(&store.update_user(&id, update).await));
    // A NUL inside a claim is JSON-escaped, so it is stored as it is.
    let claim = Claim::new("k", "v\0v");
    let user = store
        .update_claims(&id, auth_core::ClaimChange::Set(claim.clone()))
        .await
        .unwrap();
    assert_eq!(user.claims, vec![claim.clone()]);
    assert_eq!(
        store.get_user(&id).await.unwrap().unwrap().claims,
        vec![claim]
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn hostile_text_is_invalid_sqlite() {
    hostile_text_is_invalid(Db::SqliteMemory).await;
}

#[tokio::test]
async fn hostile_text_is_invalid_postgres() {
    hostile_text_is_invalid(Db::Postgres).await;
}

#[tokio::test]
async fn hostile_text_is_invalid_mysql() {
    hostile_text_is_invalid(Db::Mysql).await;
}
