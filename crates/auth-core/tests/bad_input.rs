//! Bad input to the writer and sessions: typed errors, never a panic, and
//! nothing written in any layer.

mod support;

use auth_core::{
    AuthError, ClaimChange, MAX_CLAIM_TYPE_LEN, MAX_CLAIM_VALUE_LEN, Principal, SessionError,
    SessionToken, StoreError,
};
use support::{Stack, assert_quiet};

/// What every layer holds for a user, to compare before and after.
async fn layers(stack: &Stack, user_id: &str, session: &auth_core::SessionKey) -> String {
    let stored = stack.store.get_user(user_id).await.expect("get_user");
    let snapshot = stack.backend.load(session).await.expect("load");
    let stamp = stack.backend.user_stamp(user_id).await.expect("user_stamp");
    format!("{stored:?} {snapshot:?} {stamp}")
}

#[tokio::test]
async fn malformed_claims_are_invalid_and_write_nothing() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();
    let before = layers(&stack, &user.user_id, &session.key).await;
    let (principal, key) = (session.principal(), Some(&session.key));
    let actions = &stack.actions;

    let long_type = "t".repeat(MAX_CLAIM_TYPE_LEN + 1);
    let long_value = "v".repeat(MAX_CLAIM_VALUE_LEN + 1);
    let results = [
        actions.grant(principal, key, "", "admin").await,
        actions.grant(principal, key, &long_type, "x").await,
        actions.grant(principal, key, "role", &long_value).await,
        actions.grant(principal, key, "ro\u{7}le", "x").await,
        actions.revoke_claim(principal, key, "").await,
        actions
            .update_claims(principal, key, vec![auth_core::Claim::new("", "x")])
            .await,
        actions
            .change_claims(principal, key, ClaimChange::Remove(long_type.clone()))
            .await,
    ];
    for result in results {
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
    }
    assert_eq!(layers(&stack, &user.user_id, &session.key).await, before);
    assert_quiet(&mut tab).await;
}

#[tokio::test]
async fn the_longest_valid_claims_are_accepted() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let kind = "ü".repeat(MAX_CLAIM_TYPE_LEN / 2);
    let value = "<script>alert('x')</script>".repeat(100);
    let value = &value[..MAX_CLAIM_VALUE_LEN.min(value.len())];
    let granted = stack
        .actions
        .grant(session.principal(), Some(&session.key), &kind, value)
        .await
        .unwrap();
    assert_eq!(granted.claim(&kind), Some(value));
    assert_eq!(stack.principal_of(&session).await.claim(&kind), Some(value));
}

#[tokio::test]
async fn an_unknown_user_is_not_found_and_nothing_is_written() {
    let stack = Stack::memory();
    let ghost_id = format!("local:{}", uuid::Uuid::new_v4());
    let ghost = Principal::authenticated(&ghost_id, "Ghost", vec![]);
    let mut tab = stack.channel.subscribe(&ghost_id).await.unwrap();

    let result = stack.actions.grant(&ghost, None, "role", "admin").await;
    assert!(
        matches!(result, Err(AuthError::Store(StoreError::NotFound))),
        "{result:?}"
    );
    assert!(stack.store.get_user(&ghost_id).await.unwrap().is_none());
    assert_eq!(stack.backend.user_stamp(&ghost_id).await.unwrap(), 0);
    assert_quiet(&mut tab).await;

    // Signing out sessions a user does not have is harmless.
    let removed = stack.actions.revoke_all_sessions(&ghost).await.unwrap();
    assert_eq!(removed, 0);
}

#[tokio::test]
async fn malformed_user_ids_are_invalid_in_every_layer() {
    let stack = Stack::memory();
    let too_long = format!("local:{}", "x".repeat(300));
    for bad in ["", "local:\n1", too_long.as_str()] {
        let principal = Principal::authenticated(bad, "Bad", vec![]);
        let result = stack.actions.grant(&principal, None, "role", "admin").await;
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
        let result = stack.actions.revoke_all_sessions(&principal).await;
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
        let result = stack.sessions.sessions_of(bad).await;
        assert!(
            matches!(result, Err(SessionError::Invalid(_))),
            "{result:?}"
        );
        let result = stack.store.get_user(bad).await;
        assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    }
}

#[tokio::test]
async fn an_anonymous_principal_cannot_change_anything() {
    let stack = Stack::memory();
    let anonymous = Principal::anonymous();
    let (token, session) = stack
        .sessions
        .sign_in(None, anonymous.clone())
        .await
        .unwrap();
    let actions = &stack.actions;
    let key = Some(&session.key);
    let claims = vec![auth_core::Claim::new("role", "admin")];
    let results = [
        actions.grant(&anonymous, key, "role", "admin").await,
        actions.revoke_claim(&anonymous, key, "role").await,
        actions.update_claims(&anonymous, key, claims).await,
    ];
    for result in results {
        assert!(matches!(result, Err(AuthError::Anonymous)), "{result:?}");
    }
    let result = actions.revoke_session(&anonymous, &session.key).await;
    assert!(matches!(result, Err(AuthError::Anonymous)), "{result:?}");
    let result = actions.revoke_all_sessions(&anonymous).await;
    assert!(matches!(result, Err(AuthError::Anonymous)), "{result:?}");

    let loaded = stack.sessions.load_token(&token).await.unwrap().unwrap();
    assert_eq!(loaded.principal(), &anonymous, "the session is untouched");
}

#[tokio::test]
async fn unknown_and_forged_tokens_load_nothing() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (real, _) = stack.sign_in(&user.user_id).await;
    assert!(
        stack
            .sessions
            .load_token(&SessionToken::generate())
            .await
            .unwrap()
            .is_none()
    );
    // The key is not the token: presenting the stored key as a cookie fails.
    let key_as_cookie = SessionToken::parse(real.key().as_str()).unwrap();
    assert!(
        stack
            .sessions
            .load_token(&key_as_cookie)
            .await
            .unwrap()
            .is_none()
    );
}
