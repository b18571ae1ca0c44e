//! What a hostile client cannot make the server do: register or guess
//! without limit, open sockets or send messages without limit, keep a
//! socket past its session; and what must end at once: the tabs of a
//! replaced session, a token's claims once revoked, everything of a deleted
//! user.

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::memory::MemoryStore;
use auth_core::throttle::MemoryThrottle;
use auth_core::{Principal, SessionConfig};
use auth_http::LiveAuthBuilder;
use auth_http::auth_local_idp::{LocalIdpBuilder, Registration};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::tokens::{token_for, token_of, verify};
use super::{ADA, register_ada, signed_in_socket, whoami};
use crate::client::{Socket, connect, form, frame_within, next_frame, refused_status};
use crate::{Adapter, Served, live_auth_with, local_idp};

const MINUTE: Duration = Duration::from_secs(60);

/// An app whose provider is `idp` (over a store of its own) with more
/// settings.
fn served_with<A: Adapter>(
    idp: impl FnOnce(LocalIdpBuilder) -> LocalIdpBuilder,
    configure: impl FnOnce(LiveAuthBuilder) -> LiveAuthBuilder,
) -> Served {
    let idp = idp(local_idp(Arc::new(MemoryStore::new())))
        .build()
        .expect("valid provider");
    let auth = live_auth_with(move |builder| configure(builder.with_local_idp(Arc::new(idp))))
        .expect("valid test settings");
    Served::serve::<A>(auth)
}

/// Registers `email` through the form; returns where it went.
async fn register(served: &Served, email: &str) -> String {
    let fields = [
        ("email", email),
        ("password", "correct horse battery"),
        ("next", "/live"),
    ];
    let answer = form(served.addr, "/auth/local/register", &fields, &[]).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    answer.location().to_owned()
}

/// Signs `email` in through the form with `password`; returns where it went.
async fn login(served: &Served, email: &str, password: &str) -> String {
    let fields = [("email", email), ("password", password), ("next", "/live")];
    let answer = form(served.addr, "/auth/local/login", &fields, &[]).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    answer.location().to_owned()
}

/// The principal of the local account `email` in the app's store.
async fn principal_of(served: &Served, email: &str) -> Principal {
    let user = served
        .auth
        .actions()
        .store()
        .find_by_provider("local", email)
        .await
        .expect("store works")
        .expect("the account exists");
    Principal::for_user(&user)
}

/// Asking again and again whether an address has an account is throttled
/// per normalised email, and an address registering account after account
/// is throttled per client; a taken email costs the hash a new one costs.
pub async fn registration_is_throttled_per_email_and_per_client<A: Adapter>() {
    let served = served_with::<A>(
        |idp| idp.with_email_throttle(Arc::new(MemoryThrottle::new(3, MINUTE))),
        |builder| builder,
    );
    let idp = served.auth.local_idp().expect("a provider").clone();
    let before = idp.hasher().stats().hashes;
    assert_eq!(register(&served, "ada@example.com").await, "/live");
    let new_cost = idp.hasher().stats().hashes - before;
    let before = idp.hasher().stats().hashes;
    assert_eq!(register(&served, "ADA@example.com").await, "/?error=exists");
    assert_eq!(idp.hasher().stats().hashes - before, new_cost);
    assert_eq!(register(&served, "ada@example.com").await, "/?error=exists");
    assert_eq!(
        register(&served, "ada@example.com").await,
        "/?error=throttled"
    );

    let served = served_with::<A>(
        |idp| idp.with_address_throttle(Arc::new(MemoryThrottle::new(3, MINUTE))),
        |builder| builder,
    );
    for i in 0..3 {
        assert_eq!(
            register(&served, &format!("n{i}@example.com")).await,
            "/live"
        );
    }
    assert_eq!(
        register(&served, "n3@example.com").await,
        "/?error=throttled"
    );
    assert_eq!(
        login(&served, "n3@example.com", "correct horse battery").await,
        "/?error=invalid",
        "the throttled registration wrote nothing"
    );
}

/// Successful sign-ins from one address use none of its budget: only
/// failures count.
pub async fn the_address_throttle_counts_failures_not_sign_ins<A: Adapter>() {
    let served = served_with::<A>(
        |idp| idp.with_address_throttle(Arc::new(MemoryThrottle::new(3, MINUTE))),
        |builder| builder,
    );
    let idp = served.auth.local_idp().expect("a provider").clone();
    idp.create_user(Registration::new(
        "office@example.com",
        "correct horse battery",
    ))
    .await
    .expect("registered");
    for _ in 0..20 {
        assert_eq!(
            login(&served, "office@example.com", "correct horse battery").await,
            "/live"
        );
    }
    for i in 0..3 {
        let email = format!("victim{i}@example.com");
        assert_eq!(login(&served, &email, "guess").await, "/?error=invalid");
    }
    assert_eq!(
        login(&served, "office@example.com", "correct horse battery").await,
        "/?error=throttled"
    );
}

/// A session opens at most its sockets; closing one frees its place, and
/// another session of the same user has places of its own.
pub async fn a_session_opens_at_most_its_live_sockets<A: Adapter>() {
    let served = served_with::<A>(|idp| idp, |b| b.with_max_sockets_per_session(3));
    let (cookie, _) = served.sign_in("local:ada").await;
    let (other, _) = served.sign_in("local:ada").await;
    let origin = served.origin();
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(signed_in_socket(&served, &cookie).await);
    }
    let refused = connect(served.addr, Some(&cookie), Some(&origin)).await;
    assert_eq!(refused_status(refused), 429);
    let _theirs = signed_in_socket(&served, &other).await;

    let mut first = open.remove(0);
    first.close(None).await.expect("closed");
    while first.next().await.is_some() {}
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match connect(served.addr, Some(&cookie), Some(&origin)).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("the closed socket's place was not freed: {error}"),
        }
    }
}

/// Reads until the socket closes; returns the text frames seen and the
/// close code.
async fn drain(socket: &mut Socket, wait: Duration) -> (usize, Option<CloseCode>) {
    let mut frames = 0;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, socket.next()).await else {
            panic!("the socket stayed open for {wait:?} ({frames} frames)");
        };
        match next {
            Some(Ok(Message::Text(_))) => frames += 1,
            Some(Ok(Message::Close(close))) => return (frames, close.map(|c| c.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (frames, None),
        }
    }
}

/// A tab flooding its socket with `resync` is answered a burst's worth of
/// times, then closed with 1008 (policy violation).
pub async fn a_flood_of_messages_closes_the_socket<A: Adapter>() {
    let served = Served::start::<A>();
    let (cookie, _) = served.sign_in("local:ada").await;
    let mut socket = signed_in_socket(&served, &cookie).await;
    for _ in 0..200 {
        if socket.send(Message::text("resync")).await.is_err() {
            break;
        }
    }
    let (frames, code) = drain(&mut socket, Duration::from_secs(5)).await;
    assert!(
        frames <= auth_http::MAX_MESSAGE_BURST as usize + 2,
        "{frames} state frames for a flood"
    );
    assert_eq!(code, Some(CloseCode::Policy));
}

/// A tab whose session expires is sent away at the expiry, without an
/// event and long before the periodic check.
pub async fn a_socket_ends_when_its_session_expires<A: Adapter>() {
    let auth = live_auth_with(|builder| {
        builder
            .with_session_check_interval(Duration::from_secs(3600))
            .with_session_config(
                SessionConfig::new()
                    .with_touch_interval(Duration::from_secs(1))
                    .with_idle_timeout(Duration::from_secs(2)),
            )
    })
    .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    let (cookie, _) = served.sign_in("local:ada").await;
    let started = Instant::now();
    let mut tab = signed_in_socket(&served, &cookie).await;
    let frame = frame_within(&mut tab, Duration::from_secs(6))
        .await
        .expect("the tab was told");
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// Signing in again in a browser replaces its session: the old session's
/// tabs are sent away at once (not at the periodic check), as on sign-out.
pub async fn signing_in_again_sends_the_replaced_sessions_tabs_away<A: Adapter>() {
    let auth =
        live_auth_with(|builder| builder.with_session_check_interval(Duration::from_secs(3600)))
            .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    let ada = register_ada(&served).await.cookie();
    let mut tab = signed_in_socket(&served, &ada).await;
    let grace = [
        ("email", "grace@example.com"),
        ("password", "another good one"),
        ("next", "/live"),
    ];
    let answer = form(
        served.addr,
        "/auth/local/register",
        &grace,
        &[("cookie", &ada)],
    )
    .await;
    assert_eq!(answer.location(), "/live", "{answer:?}");
    let frame = frame_within(&mut tab, Duration::from_secs(2))
        .await
        .expect("the replaced session's tab was told at once");
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert_eq!(whoami(&served, &ada).await, "anonymous");
}

/// A token issued while the user held a claim stops vouching for it once
/// the claim is revoked; a fresh token tells the truth.
pub async fn a_token_stops_vouching_for_a_revoked_claim<A: Adapter>() {
    let served = Served::start::<A>();
    let cookie = register_ada(&served).await.cookie();
    let granted = form(served.addr, "/grant", &[], &[("cookie", &cookie)]).await;
    assert_eq!(granted.status, 303, "{granted:?}");
    let issued = token_for(&served, &cookie).await;
    assert_eq!(
        issued["decoded"]["claims"],
        serde_json::json!([{"type": "role", "value": "admin"}])
    );
    let token = token_of(&issued);
    assert_eq!(verify(&served, &token).await["valid"], true);

    // Revoked from elsewhere (another session, an admin).
    let principal = principal_of(&served, "ada@example.com").await;
    served
        .auth
        .actions()
        .revoke_claim(&principal, None, "role")
        .await
        .expect("revoked");
    assert_eq!(
        verify(&served, &token).await,
        serde_json::json!({"valid": false})
    );
    let fresh = token_for(&served, &cookie).await;
    assert_eq!(fresh["decoded"]["claims"], serde_json::json!([]));
    assert_eq!(verify(&served, &token_of(&fresh)).await["valid"], true);
}

/// Deleting a user ends everything at once: its tabs are sent away, its
/// cookie is anonymous, its token is refused, it cannot sign in, and its
/// email is free again.
pub async fn deleting_a_user_ends_its_sessions_tokens_and_tabs<A: Adapter>() {
    let auth =
        live_auth_with(|builder| builder.with_session_check_interval(Duration::from_secs(3600)))
            .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    let cookie = register_ada(&served).await.cookie();
    let token = token_of(&token_for(&served, &cookie).await);
    let mut tab = signed_in_socket(&served, &cookie).await;

    let principal = principal_of(&served, "ada@example.com").await;
    let ended = served
        .auth
        .actions()
        .delete_user(&principal)
        .await
        .expect("deleted");
    assert_eq!(ended, 1);
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert_eq!(whoami(&served, &cookie).await, "anonymous");
    assert_eq!(
        verify(&served, &token).await,
        serde_json::json!({"valid": false})
    );
    let refused = form(
        served.addr,
        "/auth/local/token",
        &[],
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_eq!(
        login(&served, "ada@example.com", "correct horse battery").await,
        "/?error=invalid"
    );
    let again = form(served.addr, "/auth/local/register", ADA, &[]).await;
    assert_eq!(again.location(), "/live", "{again:?}");
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! limits_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, limits;
            registration_is_throttled_per_email_and_per_client,
            the_address_throttle_counts_failures_not_sign_ins,
            a_session_opens_at_most_its_live_sockets,
            a_flood_of_messages_closes_the_socket,
            a_socket_ends_when_its_session_expires,
            signing_in_again_sends_the_replaced_sessions_tabs_away,
            a_token_stops_vouching_for_a_revoked_claim,
            deleting_a_user_ends_its_sessions_tokens_and_tabs,
        );
    };
}
