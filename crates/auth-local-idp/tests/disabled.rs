//! A disabled account cannot sign in, and is answered exactly like a wrong
//! password; a registration cannot claim the reserved claim.

mod common;

use auth_core::{AuthStore, Claim, ClaimChange, DISABLED_CLAIM};
use auth_local_idp::{LocalIdpError, Registration};
use common::{email, idp};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_disabled_account_is_refused_like_a_wrong_password_at_the_same_cost() {
    let (idp, store) = idp();
    let email = email();
    let user = idp
        .create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    idp.verify_credentials(&email, PASSWORD).await.unwrap();
    let disable = ClaimChange::Set(Claim::new(DISABLED_CLAIM, "true"));
    store.update_claims(&user.user_id, disable).await.unwrap();

    let before = idp.hasher().stats();
    let right = idp.verify_credentials(&email, PASSWORD).await;
    let after_right = idp.hasher().stats();
    let wrong = idp.verify_credentials(&email, "wrong password").await;
    let after_wrong = idp.hasher().stats();
    assert!(
        matches!(right, Err(LocalIdpError::InvalidCredentials)),
        "{right:?}"
    );
    assert!(
        matches!(wrong, Err(LocalIdpError::InvalidCredentials)),
        "{wrong:?}"
    );
    assert_eq!(
        right.unwrap_err().to_string(),
        wrong.unwrap_err().to_string(),
        "the same answer"
    );
    for (from, to) in [(before, after_right), (after_right, after_wrong)] {
        assert_eq!(
            to.verifications - from.verifications,
            1,
            "one verification each"
        );
        assert_eq!(to.hashes, from.hashes, "no re-hash for a disabled account");
    }
    let from = "192.0.2.1".parse().unwrap();
    assert!(matches!(
        idp.verify_credentials_from(from, &email, PASSWORD).await,
        Err(LocalIdpError::InvalidCredentials)
    ));

    let enable = ClaimChange::Remove(DISABLED_CLAIM.to_owned());
    store.update_claims(&user.user_id, enable).await.unwrap();
    let back = idp.verify_credentials(&email, PASSWORD).await.unwrap();
    assert_eq!(back.user_id(), Some(user.user_id.as_str()));
}

#[tokio::test]
async fn a_registration_cannot_claim_the_reserved_claim() {
    let (idp, store) = idp();
    let email = email();
    for value in ["true", "false", ""] {
        let registration = Registration::new(&email, PASSWORD)
            .with_claims(vec![Claim::new(DISABLED_CLAIM, value)]);
        let refused = idp.create_user(registration).await;
        assert!(
            matches!(refused, Err(LocalIdpError::Invalid(_))),
            "{refused:?}"
        );
    }
    assert!(
        store
            .find_by_provider("local", &email)
            .await
            .unwrap()
            .is_none()
    );
}
