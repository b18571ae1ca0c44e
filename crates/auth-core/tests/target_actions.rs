//! Acting on any user for an actor: the target's sessions and live tabs
//! react as for self-service changes, a disabled account cannot sign in and
//! its sessions end at once, the reserved claim is refused, and every change
//! lands in the audit log.

mod support;

use std::sync::Arc;

use auth_channel_memory::MemoryChannel;
use auth_core::memory::MemoryStore;
use auth_core::{
    Actor, AuditAction, AuditLog, AuthError, AuthEvent, Claim, DISABLED_CLAIM, Page, Principal,
    SessionError, SessionToken, StoreError,
};
use support::{Stack, assert_quiet, next_event};

/// A memory stack whose writer records into the memory store's audit log.
fn audited() -> (Stack, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let mut stack = Stack::with(store.clone(), Arc::new(MemoryChannel::new()));
    stack.actions = stack.actions.clone().with_audit(store.clone());
    (stack, store)
}

fn admin() -> Actor {
    Actor::new("local:the-admin", "198.51.100.7")
}

#[tokio::test]
async fn a_grant_for_an_actor_reaches_every_session_and_live_tab_and_is_audited() {
    let (stack, store) = audited();
    let user = stack.user().await;
    let (_, first) = stack.sign_in(&user.user_id).await;
    let (_, second) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();

    let record = stack
        .actions
        .grant_to(&admin(), &user.user_id, "role", "admin")
        .await
        .unwrap();
    assert_eq!(record.claims, vec![Claim::new("role", "admin")]);

    match next_event(&mut tab).await {
        AuthEvent::UpdateClaims { claims } => {
            assert_eq!(claims, vec![Claim::new("role", "admin")]);
        }
        other => panic!("expected the new claims, got {other:?}"),
    }
    for session in [&first, &second] {
        let principal = stack.principal_of(session).await;
        assert!(principal.has_claim("role", Some("admin")));
        assert!(!principal.has_claim("role", Some("user")));
    }

    let log = store
        .entries(Some(&user.user_id), Page::first(10))
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, "local:the-admin");
    assert_eq!(log[0].source, "198.51.100.7");
    assert_eq!(log[0].action, AuditAction::Grant);
    assert_eq!(log[0].detail, "role=admin");
}

#[tokio::test]
async fn revoke_and_replace_for_an_actor_go_through_the_three_layers() {
    let (stack, store) = audited();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();

    let replaced = stack
        .actions
        .replace_claims_of(
            &admin(),
            &user.user_id,
            vec![Claim::new("plan", "pro"), Claim::new("team", "ops")],
        )
        .await
        .unwrap();
    assert_eq!(replaced.claims.len(), 2);
    assert!(matches!(
        next_event(&mut tab).await,
        AuthEvent::UpdateClaims { .. }
    ));
    let revoked = stack
        .actions
        .revoke_from(&admin(), &user.user_id, "plan")
        .await
        .unwrap();
    assert_eq!(revoked.claims, vec![Claim::new("team", "ops")]);
    assert!(matches!(
        next_event(&mut tab).await,
        AuthEvent::UpdateClaims { .. }
    ));
    let principal = stack.principal_of(&session).await;
    assert_eq!(principal.claims(), &[Claim::new("team", "ops")][..]);

    let actions: Vec<AuditAction> = store
        .entries(Some(&user.user_id), Page::first(10))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, [AuditAction::Revoke, AuditAction::ReplaceClaims]);
}

#[tokio::test]
async fn an_unknown_target_is_not_found_and_nothing_is_recorded() {
    let (stack, store) = audited();
    let ghost = "local:nobody-here";
    let mut tab = stack.channel.subscribe(ghost).await.unwrap();
    let results = [
        stack
            .actions
            .grant_to(&admin(), ghost, "role", "admin")
            .await
            .map(drop),
        stack
            .actions
            .revoke_from(&admin(), ghost, "role")
            .await
            .map(drop),
        stack
            .actions
            .sign_out_everywhere_of(&admin(), ghost)
            .await
            .map(drop),
        stack.actions.disable(&admin(), ghost).await.map(drop),
        stack.actions.enable(&admin(), ghost).await.map(drop),
        stack
            .actions
            .sign_out_session_of(&admin(), ghost, &SessionToken::generate().key())
            .await
            .map(drop),
    ];
    for result in results {
        assert!(
            matches!(result, Err(AuthError::Store(StoreError::NotFound))),
            "{result:?}"
        );
    }
    assert_quiet(&mut tab).await;
    assert!(
        store
            .entries(None, Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_reserved_claim_and_bad_actors_are_refused_before_any_layer() {
    let (stack, store) = audited();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let refused = [
        stack
            .actions
            .grant_to(&admin(), &user.user_id, DISABLED_CLAIM, "false")
            .await
            .map(drop),
        stack
            .actions
            .revoke_from(&admin(), &user.user_id, DISABLED_CLAIM)
            .await
            .map(drop),
        stack
            .actions
            .replace_claims_of(
                &admin(),
                &user.user_id,
                vec![Claim::new(DISABLED_CLAIM, "true")],
            )
            .await
            .map(drop),
        // Self-service cannot touch it either.
        stack
            .actions
            .grant(
                session.principal(),
                Some(&session.key),
                DISABLED_CLAIM,
                "true",
            )
            .await
            .map(drop),
        stack
            .actions
            .grant_to(&Actor::new("", "cli"), &user.user_id, "role", "admin")
            .await
            .map(drop),
        stack
            .actions
            .disable(&Actor::new("cli:x\u{1b}[2J", "cli"), &user.user_id)
            .await
            .map(drop),
        stack.actions.disable(&admin(), "").await.map(drop),
    ];
    for result in refused {
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
    }
    let after = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    assert_eq!(after.claims, user.claims);
    assert!(
        store
            .entries(None, Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn disabling_ends_every_session_at_once_and_refuses_sign_in_until_enabled() {
    let (stack, store) = audited();
    let user = stack.user().await;
    let (_, first) = stack.sign_in(&user.user_id).await;
    let (_, second) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();

    let ended = stack
        .actions
        .disable(&admin(), &user.user_id)
        .await
        .unwrap();
    assert_eq!(ended, 2);
    assert_eq!(next_event(&mut tab).await, AuthEvent::revoke(None));
    for session in [&first, &second] {
        assert!(stack.sessions.load(&session.key).await.unwrap().is_none());
    }
    let disabled = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    assert!(disabled.is_disabled());
    let refused = stack
        .sessions
        .sign_in(None, Principal::for_user(&disabled))
        .await;
    assert!(
        matches!(refused, Err(SessionError::AccountDisabled)),
        "{refused:?}"
    );

    // A replace of every claim keeps the account disabled.
    stack
        .actions
        .replace_claims_of(&admin(), &user.user_id, vec![Claim::new("role", "x")])
        .await
        .unwrap();
    let still = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    assert!(still.is_disabled());

    let enabled = stack.actions.enable(&admin(), &user.user_id).await.unwrap();
    assert!(!enabled.is_disabled());
    assert_eq!(enabled.claims, vec![Claim::new("role", "x")]);
    let (_, back) = stack.sign_in(&user.user_id).await;
    assert!(stack.sessions.load(&back.key).await.unwrap().is_some());

    let actions: Vec<AuditAction> = store
        .entries(Some(&user.user_id), Page::first(10))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            AuditAction::Enable,
            AuditAction::ReplaceClaims,
            AuditAction::Disable
        ]
    );
}

/// A session saved while the account was being disabled (a sign-in racing
/// `disable`) still ends on its next load.
#[tokio::test]
async fn a_session_that_escaped_the_disable_ends_on_its_next_load() {
    let (stack, _) = audited();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let escaped = stack.backend.load(&session.key).await.unwrap().unwrap();
    stack
        .actions
        .disable(&admin(), &user.user_id)
        .await
        .unwrap();
    // Put it back as the racing sign-in would have, with its old stamp.
    stack
        .backend
        .save(&session.key, &escaped, std::time::Duration::from_secs(600))
        .await
        .unwrap();
    assert!(stack.sessions.load(&session.key).await.unwrap().is_none());
    assert!(stack.backend.load(&session.key).await.unwrap().is_none());
}

#[tokio::test]
async fn signing_out_one_session_of_a_target_leaves_the_others_and_other_users() {
    let (stack, store) = audited();
    let user = stack.user().await;
    let bystander = stack.user().await;
    let (_, kept) = stack.sign_in(&user.user_id).await;
    let (_, ended) = stack.sign_in(&user.user_id).await;
    let (_, theirs) = stack.sign_in(&bystander.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();

    let done = stack
        .actions
        .sign_out_session_of(&admin(), &user.user_id, &ended.key)
        .await
        .unwrap();
    assert!(done);
    assert_eq!(
        next_event(&mut tab).await,
        AuthEvent::revoke(Some(ended.key.clone()))
    );
    assert!(stack.sessions.load(&ended.key).await.unwrap().is_none());
    assert!(stack.sessions.load(&kept.key).await.unwrap().is_some());

    // Another user's key under this user's id is left alone.
    let other = stack
        .actions
        .sign_out_session_of(&admin(), &user.user_id, &theirs.key)
        .await
        .unwrap();
    assert!(!other);
    assert!(stack.sessions.load(&theirs.key).await.unwrap().is_some());

    let all = stack
        .actions
        .sign_out_everywhere_of(&admin(), &user.user_id)
        .await
        .unwrap();
    assert_eq!(all, 1);
    assert!(stack.sessions.load(&kept.key).await.unwrap().is_none());

    let log = store
        .entries(Some(&user.user_id), Page::first(10))
        .await
        .unwrap();
    let details: Vec<&str> = log.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details, ["1 sessions", "no such session", "one session"]);
    for entry in &log {
        assert!(
            !entry.detail.contains(ended.key.as_str()),
            "no key in the log"
        );
    }
}

#[tokio::test]
async fn without_an_audit_log_changes_still_go_through() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let record = stack
        .actions
        .grant_to(&Actor::cli("ops"), &user.user_id, "role", "admin")
        .await
        .unwrap();
    assert!(record.claims.contains(&Claim::new("role", "admin")));
    assert!(stack.actions.audit_log().is_none());
}

#[tokio::test]
async fn an_over_long_claim_value_is_cut_in_the_audit_detail() {
    let (stack, store) = audited();
    let user = stack.user().await;
    let value = "é".repeat(2000);
    stack
        .actions
        .grant_to(&admin(), &user.user_id, "note", &value)
        .await
        .unwrap();
    let log = store
        .entries(Some(&user.user_id), Page::first(1))
        .await
        .unwrap();
    assert!(log[0].detail.len() <= auth_core::MAX_AUDIT_DETAIL_LEN);
    assert!(log[0].detail.starts_with("note=éé") && log[0].detail.ends_with("..."));
}
