//! The throttle inside the login path (`MemoryThrottle` on its own is
//! tested in `auth-core`, where it lives).

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::MemoryStore;
use auth_core::throttle::{MemoryThrottle, Throttle, ThrottleDecision, ThrottleError};
use auth_local_idp::{LocalIdP, LocalIdpError, Registration, TokenIssuer};

const WINDOW: Duration = Duration::from_secs(60);
const PASSWORD: &str = "correct horse battery staple";

fn idp_with_throttles(email_limit: u32, address_limit: u32) -> LocalIdP {
    let tokens = TokenIssuer::hs256(common::SECRET).build().expect("issuer");
    LocalIdP::builder(Arc::new(MemoryStore::new()), tokens)
        .with_hasher(common::fast_hasher())
        .with_email_throttle(Arc::new(MemoryThrottle::new(email_limit, WINDOW)))
        .with_address_throttle(Arc::new(MemoryThrottle::new(address_limit, WINDOW)))
        .build()
        .expect("idp")
}

#[tokio::test(start_paused = true)]
async fn logins_are_throttled_per_email_and_reset_on_success() {
    let idp = idp_with_throttles(3, 1000);
    let email = common::email();
    idp.create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    // Two misses, then a success resets the count.
    for _ in 0..2 {
        assert!(matches!(
            idp.verify_credentials(&email, "wrong").await,
            Err(LocalIdpError::InvalidCredentials)
        ));
    }
    idp.verify_credentials(&email, PASSWORD).await.unwrap();
    for _ in 0..3 {
        assert!(idp.verify_credentials(&email, "wrong").await.is_err());
    }
    // The fourth attempt in the window is refused, even with the right
    // password, and costs no hashing; any spelling counts as the same email.
    let before = idp.hasher().stats();
    let err = idp
        .verify_credentials(&email.to_uppercase(), PASSWORD)
        .await
        .unwrap_err();
    assert!(matches!(err, LocalIdpError::Throttled { .. }));
    assert_eq!(idp.hasher().stats(), before);
    // Unknown emails are throttled alike (no account enumeration by throttle).
    for _ in 0..3 {
        let _ = idp.verify_credentials("ghost@example.com", "x").await;
    }
    assert!(matches!(
        idp.verify_credentials("ghost@example.com", "x").await,
        Err(LocalIdpError::Throttled { .. })
    ));
    // After the window, the right password works again.
    tokio::time::advance(WINDOW).await;
    idp.verify_credentials(&email, PASSWORD).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_address_throttle_counts_failures_only() {
    let idp = idp_with_throttles(1000, 4);
    let client = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    let other = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    let email = common::email();
    idp.create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    // Fifty people of one office signing in use none of the budget.
    for _ in 0..50 {
        idp.verify_credentials_from(client, &email, PASSWORD)
            .await
            .unwrap();
    }
    // Spraying different emails from one address uses it up ...
    for i in 0..3 {
        let _ = idp
            .verify_credentials_from(client, &format!("victim{i}@example.com"), "guess")
            .await;
    }
    // ... a success in between neither counts nor resets the count ...
    idp.verify_credentials_from(client, &email, PASSWORD)
        .await
        .unwrap();
    let _ = idp
        .verify_credentials_from(client, "victim3@example.com", "guess")
        .await;
    assert!(matches!(
        idp.verify_credentials_from(client, &email, PASSWORD).await,
        Err(LocalIdpError::Throttled { .. })
    ));
    // ... and another address is unaffected.
    idp.verify_credentials_from(other, &email, PASSWORD)
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn ipv6_clients_are_counted_per_prefix() {
    let idp = idp_with_throttles(1000, 3);
    let email = common::email();
    idp.create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    // One host rotating through its /64 shares one budget.
    for i in 0..3u16 {
        let rotated = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 7, i, 0, 0, 1));
        let _ = idp
            .verify_credentials_from(rotated, "victim@example.com", "guess")
            .await;
    }
    let next = IpAddr::V6(std::net::Ipv6Addr::new(
        0x2001, 0xdb8, 0, 7, 0xffff, 1, 2, 3,
    ));
    assert!(matches!(
        idp.verify_credentials_from(next, &email, PASSWORD).await,
        Err(LocalIdpError::Throttled { .. })
    ));
    // The neighbouring /64 is another client.
    let neighbour = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 8, 0, 0, 0, 1));
    idp.verify_credentials_from(neighbour, &email, PASSWORD)
        .await
        .unwrap();

    // A /128 setting counts each address alone (weaker, but configurable).
    let tokens = TokenIssuer::hs256(common::SECRET).build().expect("issuer");
    let per_address = LocalIdP::builder(Arc::new(MemoryStore::new()), tokens)
        .with_hasher(common::fast_hasher())
        .with_address_throttle(Arc::new(MemoryThrottle::new(1, WINDOW)))
        .with_ipv6_prefix(128)
        .build()
        .expect("idp");
    for i in 0..3u16 {
        let rotated = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 7, i, 0, 0, 1));
        assert!(matches!(
            per_address
                .verify_credentials_from(rotated, "victim@example.com", "guess")
                .await,
            Err(LocalIdpError::InvalidCredentials)
        ));
    }
    for prefix in [0, 129] {
        let tokens = TokenIssuer::hs256(common::SECRET).build().expect("issuer");
        let built = LocalIdP::builder(Arc::new(MemoryStore::new()), tokens)
            .with_ipv6_prefix(prefix)
            .build();
        assert!(built.is_err(), "prefix {prefix} must be refused");
    }
}

#[tokio::test(start_paused = true)]
async fn registrations_are_throttled_per_email_and_per_address() {
    let idp = idp_with_throttles(3, 5);
    let client = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
    let email = common::email();
    idp.create_user_from(client, Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    // Asking again and again whether one address is taken: three answers
    // per window (every spelling is the same email), then refusals that
    // cost no hashing.
    for _ in 0..2 {
        assert!(matches!(
            idp.create_user(Registration::new(email.to_uppercase(), PASSWORD))
                .await,
            Err(LocalIdpError::EmailTaken)
        ));
    }
    let before = idp.hasher().stats();
    assert!(matches!(
        idp.create_user(Registration::new(&email, PASSWORD)).await,
        Err(LocalIdpError::Throttled { .. })
    ));
    assert_eq!(idp.hasher().stats(), before);
    // One address creating accounts: every registration counts.
    for i in 0..4 {
        idp.create_user_from(client, Registration::new(format!("n{i}-{email}"), PASSWORD))
            .await
            .unwrap();
    }
    assert!(matches!(
        idp.create_user_from(client, Registration::new(format!("late-{email}"), PASSWORD))
            .await,
        Err(LocalIdpError::Throttled { .. })
    ));
    // Logins from that address have a budget of their own.
    idp.verify_credentials_from(client, &email, PASSWORD)
        .await
        .unwrap();
    tokio::time::advance(WINDOW).await;
    idp.create_user_from(client, Registration::new(format!("late-{email}"), PASSWORD))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_taken_email_costs_the_same_hash_as_a_new_one() {
    let idp = idp_with_throttles(1000, 1000);
    let email = common::email();
    let before = idp.hasher().stats();
    idp.create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    let new_cost = idp.hasher().stats().hashes - before.hashes;
    let before = idp.hasher().stats();
    assert!(matches!(
        idp.create_user(Registration::new(&email, PASSWORD)).await,
        Err(LocalIdpError::EmailTaken)
    ));
    let taken_cost = idp.hasher().stats().hashes - before.hashes;
    assert_eq!((new_cost, taken_cost), (1, 1));
}

/// A throttle whose backend is down.
struct Broken;

#[async_trait::async_trait]
impl Throttle for Broken {
    async fn attempt(&self, _key: &str) -> Result<ThrottleDecision, ThrottleError> {
        Err(ThrottleError::new("counting", "connection refused"))
    }
    async fn reset(&self, _key: &str) -> Result<(), ThrottleError> {
        Err(ThrottleError::new("resetting", "connection refused"))
    }
    async fn forgive(&self, _key: &str) -> Result<(), ThrottleError> {
        Err(ThrottleError::new("forgiving", "connection refused"))
    }
}

#[tokio::test]
async fn a_failing_throttle_fails_closed() {
    let store = Arc::new(MemoryStore::new());
    let email = common::email();
    common::idp_with(store.clone(), 1000)
        .create_user(Registration::new(&email, PASSWORD))
        .await
        .unwrap();
    let tokens = TokenIssuer::hs256(common::SECRET).build().unwrap();
    let idp = LocalIdP::builder(store, tokens)
        .with_hasher(common::fast_hasher())
        .with_email_throttle(Arc::new(Broken))
        .build()
        .unwrap();
    let err = idp.verify_credentials(&email, PASSWORD).await.unwrap_err();
    assert!(matches!(err, LocalIdpError::Throttle(_)));
    let err = idp
        .create_user(Registration::new(format!("new-{email}"), PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, LocalIdpError::Throttle(_)));
}

#[tokio::test]
async fn the_core_throttle_types_are_reexported_for_existing_imports() {
    // Code written against the provider's old paths keeps compiling, and
    // gets the very same types.
    let throttle: MemoryThrottle = auth_local_idp::MemoryThrottle::new(1, WINDOW);
    let shared: Arc<dyn auth_local_idp::Throttle> = Arc::new(throttle);
    let decision: auth_local_idp::ThrottleDecision = shared.attempt("k").await.unwrap();
    assert_eq!(decision, ThrottleDecision::Allowed { remaining: 0 });
    let error: auth_local_idp::ThrottleError = ThrottleError::new("counting", "down");
    assert_eq!(error.context(), "counting");
}
