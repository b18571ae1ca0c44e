//! The three-layer writer against the seeds' table: any single-layer write
//! is wrong. Each test fails if the writer skips the layer its row is about;
//! the order and the failure rules are in `three_layers_order.rs`.

mod support;

use std::sync::Arc;

use std::time::Duration;

use auth_core::{AuthError, AuthEvent, Claim, Principal, SessionRecord, SessionToken, StoreError};
use support::{Stack, next_event};

/// Row "only store: needs a reload". Without the session layer, both the
/// session that made the change and every other session of the user would
/// go on reading their old snapshot.
#[tokio::test]
async fn every_session_of_the_user_sees_the_change_on_its_next_load() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;
    let stamp_before = stack.backend.user_stamp(&user.user_id).await.unwrap();

    let granted = stack
        .actions
        .grant(current.principal(), Some(&current.key), "role", "admin")
        .await
        .unwrap();
    assert!(granted.has_claim("role", Some("admin")));
    assert!(
        !granted.has_claim("role", Some("user")),
        "grant replaces the type"
    );

    let stamp_after = stack.backend.user_stamp(&user.user_id).await.unwrap();
    assert!(
        stamp_after > stamp_before,
        "the user's change stamp was bumped"
    );
    let other_raw = stack.backend.load(&other.key).await.unwrap().unwrap();
    assert!(
        other_raw.user_stamp < stamp_after,
        "the other session's snapshot is marked stale"
    );

    for session in [&current, &other] {
        let principal = stack.principal_of(session).await;
        assert!(principal.has_claim("role", Some("admin")));
        assert!(!principal.has_claim("role", Some("user")));
        assert_eq!(principal.user_id(), Some(user.user_id.as_str()));
    }
}

/// The same row for a revoke: a claim taken away is gone from every
/// session on its next load.
#[tokio::test]
async fn a_revoked_claim_is_gone_from_every_session_on_its_next_load() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;

    let revoked = stack
        .actions
        .revoke_claim(current.principal(), Some(&current.key), "role")
        .await
        .unwrap();
    assert!(!revoked.has_claim("role", None));
    for session in [&current, &other] {
        assert!(!stack.principal_of(session).await.has_claim("role", None));
    }
    let stored = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    assert!(stored.claims.is_empty());
}

/// Row "only session: wiped on logout". Without the store layer, the claim
/// is gone once the user signs out and in again.
#[tokio::test]
async fn the_change_survives_signing_out_and_in_again() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let claims = vec![Claim::new("role", "admin"), Claim::new("tier", "beta")];
    stack
        .actions
        .update_claims(session.principal(), Some(&session.key), claims.clone())
        .await
        .unwrap();

    assert!(stack.sessions.sign_out(&session.key).await.unwrap());
    assert!(stack.sessions.load(&session.key).await.unwrap().is_none());

    let (_, again) = stack.sign_in(&user.user_id).await;
    assert_eq!(again.principal().claims(), claims.as_slice());
    assert_eq!(stack.principal_of(&again).await.claims(), claims.as_slice());
    let stored = stack.store.get_user(&user.user_id).await.unwrap().unwrap();
    assert_eq!(stored.claims, claims);
}

/// Row "only channel: the next request reads a stale session". The event
/// reaches the live tab, and the request the tab makes next reads the same
/// state from its session.
#[tokio::test]
async fn after_the_event_the_next_request_reads_the_same_state() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();

    stack
        .actions
        .grant(current.principal(), Some(&current.key), "tier", "gold")
        .await
        .unwrap();

    let event = next_event(&mut tab).await;
    let AuthEvent::Update { principal: pushed } = &event else {
        panic!("expected an update, got {event:?}");
    };
    assert!(pushed.has_claim("tier", Some("gold")));
    let in_tab = event.apply(other.principal(), Some(&other.key)).unwrap();
    assert!(in_tab.has_claim("tier", Some("gold")));

    for session in [&current, &other] {
        let next_request = stack.principal_of(session).await;
        assert_eq!(next_request.claims(), in_tab.claims());
    }
}

/// Every claim change through the writer publishes exactly one update,
/// carrying the principal the writer returned.
#[tokio::test]
async fn each_change_publishes_the_returned_principal() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();
    let actions = &stack.actions;
    let principal = session.principal();

    let granted = actions
        .grant(principal, Some(&session.key), "a", "1")
        .await
        .unwrap();
    assert_eq!(next_event(&mut tab).await, AuthEvent::update(granted));
    let revoked = actions
        .revoke_claim(principal, Some(&session.key), "a")
        .await
        .unwrap();
    assert_eq!(next_event(&mut tab).await, AuthEvent::update(revoked));
    let replaced = actions
        .update_claims(principal, None, vec![Claim::new("b", "2")])
        .await
        .unwrap();
    assert_eq!(next_event(&mut tab).await, AuthEvent::update(replaced));
    support::assert_quiet(&mut tab).await;
}

/// A change made without naming a session (an admin acting on a user)
/// still reaches every session of that user.
#[tokio::test]
async fn a_change_without_a_session_reaches_every_session() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, first) = stack.sign_in(&user.user_id).await;
    let (_, second) = stack.sign_in(&user.user_id).await;
    let target = Principal::for_user(&user);
    stack
        .actions
        .grant(&target, None, "role", "admin")
        .await
        .unwrap();
    for session in [&first, &second] {
        assert!(
            stack
                .principal_of(session)
                .await
                .has_claim("role", Some("admin"))
        );
    }
}

/// `revoke_session` signs out this session and its tabs only.
#[tokio::test]
async fn revoke_session_ends_this_session_only() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (token, current) = stack.sign_in(&user.user_id).await;
    let (_, other) = stack.sign_in(&user.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();

    stack
        .actions
        .revoke_session(current.principal(), &current.key)
        .await
        .unwrap();

    assert!(stack.sessions.load_token(&token).await.unwrap().is_none());
    assert!(stack.sessions.load(&other.key).await.unwrap().is_some());
    let event = next_event(&mut tab).await;
    assert_eq!(event, AuthEvent::revoke(Some(current.key.clone())));
    assert_eq!(event.apply(current.principal(), Some(&current.key)), None);
    assert_eq!(
        event.apply(other.principal(), Some(&other.key)).as_ref(),
        Some(other.principal())
    );

    // A repeat is harmless, and the revoked session stays gone.
    stack
        .actions
        .revoke_session(current.principal(), &current.key)
        .await
        .unwrap();
    assert!(stack.sessions.load(&current.key).await.unwrap().is_none());
    let listed = stack.sessions.sessions_of(&user.user_id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key, other.key);
}

/// `revoke_all_sessions` signs out every session and tab of the user, and
/// nobody else's.
#[tokio::test]
async fn revoke_all_sessions_ends_every_session_of_that_user_only() {
    let stack = Stack::memory();
    let (user, bystander) = (stack.user().await, stack.user().await);
    let (_, first) = stack.sign_in(&user.user_id).await;
    let (_, second) = stack.sign_in(&user.user_id).await;
    let (_, theirs) = stack.sign_in(&bystander.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();
    let mut their_tab = stack.channel.subscribe(&bystander.user_id).await.unwrap();

    let removed = stack
        .actions
        .revoke_all_sessions(first.principal())
        .await
        .unwrap();
    assert_eq!(removed, 2);
    for session in [&first, &second] {
        assert!(stack.sessions.load(&session.key).await.unwrap().is_none());
    }
    assert!(
        stack
            .sessions
            .sessions_of(&user.user_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(stack.sessions.load(&theirs.key).await.unwrap().is_some());
    let event = next_event(&mut tab).await;
    assert_eq!(event, AuthEvent::revoke(None));
    assert_eq!(event.apply(second.principal(), Some(&second.key)), None);
    support::assert_quiet(&mut their_tab).await;

    let again = stack
        .actions
        .revoke_all_sessions(first.principal())
        .await
        .unwrap();
    assert_eq!(again, 0);
}

/// The stack is shareable across tasks: the writer and sessions are cheap
/// clones over the same layers.
#[tokio::test]
async fn clones_of_the_writer_share_the_layers() {
    let stack = Stack::memory();
    let user = stack.user().await;
    let (_, session) = stack.sign_in(&user.user_id).await;
    let writer = stack.actions.clone();
    let principal = session.principal().clone();
    let key = session.key.clone();
    tokio::spawn(async move { writer.grant(&principal, Some(&key), "k", "v").await })
        .await
        .unwrap()
        .unwrap();
    assert!(stack.principal_of(&session).await.has_claim("k", Some("v")));
    assert!(Arc::ptr_eq(stack.actions.store(), &stack.store));
}

/// An admin changes another user's claims from the admin's own session:
/// the target's sessions get the change, the admin's session stays the
/// admin's.
#[tokio::test]
async fn a_change_to_another_user_never_takes_over_the_acting_session() {
    let stack = Stack::memory();
    let (admin, target) = (stack.user().await, stack.user().await);
    let (_, admin_session) = stack.sign_in(&admin.user_id).await;
    let (_, target_session) = stack.sign_in(&target.user_id).await;

    stack
        .actions
        .grant(
            &Principal::for_user(&target),
            Some(&admin_session.key),
            "role",
            "editor",
        )
        .await
        .unwrap();

    let acting = stack.principal_of(&admin_session).await;
    assert_eq!(acting.user_id(), Some(admin.user_id.as_str()));
    assert!(!acting.has_claim("role", Some("editor")));
    let changed = stack.principal_of(&target_session).await;
    assert!(changed.has_claim("role", Some("editor")));
}

#[tokio::test]
async fn delete_user_removes_the_account_and_ends_every_session_and_tab() {
    let stack = Stack::memory();
    let (user, bystander) = (stack.user().await, stack.user().await);
    let (_, first) = stack.sign_in(&user.user_id).await;
    let (_, second) = stack.sign_in(&user.user_id).await;
    let (_, theirs) = stack.sign_in(&bystander.user_id).await;
    let mut tab = stack.channel.subscribe(&user.user_id).await.unwrap();
    let mut their_tab = stack.channel.subscribe(&bystander.user_id).await.unwrap();
    // A session written with the stamp read before the deletion, as a
    // sign-in racing it would: the deletion cannot see it.
    let stamp = stack.backend.user_stamp(&user.user_id).await.unwrap();

    let removed = stack.actions.delete_user(first.principal()).await.unwrap();
    assert_eq!(removed, 2);
    assert_eq!(stack.store.get_user(&user.user_id).await.unwrap(), None);
    for session in [&first, &second] {
        assert!(stack.sessions.load(&session.key).await.unwrap().is_none());
    }
    let event = next_event(&mut tab).await;
    assert_eq!(event, AuthEvent::revoke(None));
    support::assert_quiet(&mut their_tab).await;
    assert!(stack.sessions.load(&theirs.key).await.unwrap().is_some());

    let straggler = SessionToken::generate().key();
    let record = SessionRecord::new(first.principal().clone(), stamp);
    stack
        .backend
        .save(&straggler, &record, Duration::from_secs(600))
        .await
        .unwrap();
    assert!(stack.sessions.load(&straggler).await.unwrap().is_none());

    let again = stack.actions.delete_user(first.principal()).await;
    assert!(
        matches!(again, Err(AuthError::Store(StoreError::NotFound))),
        "{again:?}"
    );
}
