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
