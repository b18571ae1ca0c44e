//! Password changes (with the old password) and resets (without).

mod common;

use std::sync::Arc;

use auth_core::memory::MemoryStore;
use auth_local_idp::{LocalIdpError, Registration};
use common::{email, idp};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn change_password_checks_the_old_one() {
    let (idp, _) = idp();
    let email = email();
    let user = idp
        .create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    assert!(matches!(
        idp.change_password(&user.user_id, "wrong password", "new password 1")
            .await,
        Err(LocalIdpError::InvalidCredentials)
    ));
    assert!(matches!(
        idp.change_password(&user.user_id, PASSWORD, "short").await,
        Err(LocalIdpError::Invalid(_))
    ));
    idp.change_password(&user.user_id, PASSWORD, "new password 1")
        .await
        .unwrap();
    assert!(idp.verify_credentials(&email, PASSWORD).await.is_err());
    idp.verify_credentials(&email, "new password 1")
        .await
        .unwrap();
    assert!(matches!(
        idp.change_password("local:nobody", "x", "new password 2")
            .await,
        Err(LocalIdpError::UnknownUser)
    ));
}

#[tokio::test]
async fn change_password_is_throttled() {
    let store = Arc::new(MemoryStore::new());
    let idp = common::idp_with(store, 3);
    let user = idp
        .create_user(Registration::new(email(), PASSWORD))
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(
            idp.change_password(&user.user_id, "guess", "new password 1")
                .await,
            Err(LocalIdpError::InvalidCredentials)
        ));
    }
    assert!(matches!(
        idp.change_password(&user.user_id, PASSWORD, "new password 1")
            .await,
        Err(LocalIdpError::Throttled { .. })
    ));
}

#[tokio::test]
async fn reset_password_needs_no_old_password() {
    let (idp, _) = idp();
    let email = email();
    let user = idp
        .create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    idp.reset_password(&user.user_id, "reset password 1")
        .await
        .unwrap();
    idp.verify_credentials(&email, "reset password 1")
        .await
        .unwrap();
    assert!(idp.verify_credentials(&email, PASSWORD).await.is_err());
    assert!(matches!(
        idp.reset_password(&user.user_id, "short").await,
        Err(LocalIdpError::Invalid(_))
    ));
    assert!(matches!(
        idp.reset_password("local:nobody", "reset password 2").await,
        Err(LocalIdpError::UnknownUser)
    ));
}

#[tokio::test]
async fn common_passwords_are_refused_in_any_case_on_every_path() {
    let (idp, _) = idp();
    assert!(idp.password_policy().refuses_common_passwords());
    for common in [
        "password1",
        "Password1",
        "QWERTYUIOP",
        "iloveyou",
        "baseball1",
    ] {
        let outcome = idp.create_user(Registration::new(email(), common)).await;
        assert!(
            matches!(outcome, Err(LocalIdpError::Invalid(_))),
            "{common} registered"
        );
    }
    let user = idp
        .create_user(Registration::new(email(), PASSWORD))
        .await
        .unwrap();
    assert!(matches!(
        idp.change_password(&user.user_id, PASSWORD, "Sunshine1")
            .await,
        Err(LocalIdpError::Invalid(_))
    ));
    assert!(matches!(
        idp.reset_password(&user.user_id, "trustno1").await,
        Err(LocalIdpError::Invalid(_))
    ));
}

#[tokio::test]
async fn the_common_list_can_be_turned_off_and_the_minimum_raised() {
    let store = Arc::new(MemoryStore::new());
    let tokens = auth_local_idp::TokenIssuer::hs256(common::SECRET)
        .build()
        .unwrap();
    let relaxed = auth_local_idp::LocalIdP::builder(store.clone(), tokens)
        .with_hasher(common::fast_hasher())
        .with_password_policy(
            auth_local_idp::PasswordPolicy::new()
                .with_common_password_check(false)
                .with_min_chars(15),
        )
        .build()
        .unwrap();
    assert!(matches!(
        relaxed
            .create_user(Registration::new(email(), "fourteen chars"))
            .await,
        Err(LocalIdpError::Invalid(_))
    ));
    // On no list check, a common but long enough password passes.
    relaxed
        .create_user(Registration::new(email(), "passwordpassword"))
        .await
        .unwrap();
}

#[tokio::test]
async fn passwords_are_never_trimmed_or_truncated() {
    let (idp, _) = idp();

    // Leading and trailing spaces are part of the password.
    let spaced = email();
    idp.create_user(Registration::new(&spaced, "  plum crater violet  "))
        .await
        .unwrap();
    assert!(matches!(
        idp.verify_credentials(&spaced, "plum crater violet").await,
        Err(LocalIdpError::InvalidCredentials)
    ));
    idp.verify_credentials(&spaced, "  plum crater violet  ")
        .await
        .unwrap();

    // A 1,000-character password works (and 64 with room to spare).
    let long = "q7 ".repeat(333) + "end";
    assert_eq!(long.chars().count(), 1002);
    let long_email = email();
    idp.create_user(Registration::new(&long_email, long.as_str()))
        .await
        .unwrap();
    idp.verify_credentials(&long_email, &long).await.unwrap();

    // Two passwords equal in their first 72 bytes (where bcrypt stops)
    // are different passwords.
    let prefix = "a".repeat(72);
    let (first, second) = (format!("{prefix}first"), format!("{prefix}second"));
    let truncated = email();
    idp.create_user(Registration::new(&truncated, first.as_str()))
        .await
        .unwrap();
    assert!(matches!(
        idp.verify_credentials(&truncated, &second).await,
        Err(LocalIdpError::InvalidCredentials)
    ));
    assert!(matches!(
        idp.verify_credentials(&truncated, &prefix).await,
        Err(LocalIdpError::InvalidCredentials)
    ));
    idp.verify_credentials(&truncated, &first).await.unwrap();
}

#[tokio::test]
async fn length_limits_are_eight_characters_and_at_least_64() {
    let (idp, _) = idp();
    let policy = idp.password_policy();
    assert_eq!(policy.min_chars(), 8);
    assert!(policy.max_bytes() >= 64);
    assert!(matches!(
        idp.create_user(Registration::new(email(), "7 chars")).await,
        Err(LocalIdpError::Invalid(_))
    ));
    idp.create_user(Registration::new(email(), "8 chars!"))
        .await
        .unwrap();
    idp.create_user(Registration::new(email(), "z".repeat(64)))
        .await
        .unwrap();
    assert!(matches!(
        idp.create_user(Registration::new(
            email(),
            "z".repeat(policy.max_bytes() + 1)
        ))
        .await,
        Err(LocalIdpError::Invalid(_))
    ));
}
