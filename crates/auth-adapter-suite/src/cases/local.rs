//! The local account routes beyond the basic forms: every error code, where
//! a failure returns to, which claims a registration may set, session
//! rotation, throttling by account and by client address, equal answers for
//! unknown accounts and wrong passwords, the password policy, a full
//! hashing queue.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::MemoryStore;
use auth_core::throttle::MemoryThrottle;
use auth_http::LiveAuthBuilder;
use auth_http::auth_local_idp::{Argon2Hasher, Registration};

use super::tokens::token_for;
use super::{ADA, register_ada, whoami};
use crate::client::{Answer, form};
use crate::{Adapter, Served, live_auth_with, local_idp};

/// A wrong-password login for `email`, sent with `X-Forwarded-For: xff`;
/// returns where it redirects to.
async fn login_from(served: &Served, email: &str, xff: &str) -> String {
    let fields = [("email", email), ("password", "wrong password!")];
    let headers = [("x-forwarded-for", xff)];
    let answer = form(served.addr, "/auth/local/login", &fields, &headers).await;
    answer.location().to_owned()
}

/// An app whose provider allows 3 login attempts per client address (and
/// has no per-email limit that could interfere), with more settings.
fn served_with_address_limit<A: Adapter>(
    configure: impl FnOnce(LiveAuthBuilder) -> LiveAuthBuilder,
) -> Served {
    let idp = local_idp(Arc::new(MemoryStore::new()))
        .with_address_throttle(Arc::new(MemoryThrottle::new(3, Duration::from_secs(60))))
        .build()
        .expect("valid provider");
    let auth = live_auth_with(move |builder| configure(builder.with_local_idp(Arc::new(idp))))
        .expect("valid test settings");
    Served::serve::<A>(auth)
}

/// Register answers each error code, without a session.
pub async fn register_answers_each_error_code<A: Adapter>() {
    let served = Served::start::<A>();
    register_ada(&served).await;
    let back = [("error_next", "/register")];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("password", "correct horse battery")],
            "/register?error=missing",
        ),
        (vec![("email", "x@example.com")], "/register?error=missing"),
        (
            vec![("email", ""), ("password", "")],
            "/register?error=missing",
        ),
        (
            vec![
                ("email", " ADA@EXAMPLE.COM "),
                ("password", "another good one"),
            ],
            "/register?error=exists",
        ),
        (
            vec![("email", "bob@example.com"), ("password", "short")],
            "/register?error=invalid",
        ),
        (
            vec![("email", "not an email"), ("password", "long enough pw")],
            "/register?error=invalid",
        ),
    ];
    for (mut fields, expected) in cases {
        fields.extend(back);
        let answer = form(served.addr, "/auth/local/register", &fields, &[]).await;
        assert_eq!(answer.status, 303, "{fields:?}");
        assert_eq!(answer.location(), expected, "{fields:?}");
        assert_eq!(answer.header("set-cookie"), "", "{fields:?}");
    }
}

/// Failures return to `error_next`, then a same-origin referer, then `/`.
pub async fn failures_return_to_error_next_then_referer_then_fallback<A: Adapter>() {
    let served = Served::start::<A>();
    let missing = [("email", "")];
    let referer = format!("{}/login_local?error=invalid&x=1", served.origin());
    let answer = form(
        served.addr,
        "/auth/local/login",
        &missing,
        &[("referer", &referer)],
    )
    .await;
    assert_eq!(answer.location(), "/login_local?x=1&error=missing");
    let answer = form(
        served.addr,
        "/auth/local/login",
        &missing,
        &[("referer", "http://evil.example/login_local")],
    )
    .await;
    assert_eq!(answer.location(), "/?error=missing");
    let answer = form(served.addr, "/auth/local/login", &missing, &[]).await;
    assert_eq!(answer.location(), "/?error=missing");
}

/// Registration cannot assign claims unless the app allows them.
pub async fn registration_cannot_assign_claims_unless_the_app_allows_them<A: Adapter>() {
    let mut fields = ADA.to_vec();
    fields.extend([
        ("role", "admin"),
        ("email_verified", "on"),
        ("tier", "gold"),
    ]);
    let served = Served::start::<A>();
    let answer = form(served.addr, "/auth/local/register", &fields, &[]).await;
    let token = token_for(&served, &answer.cookie()).await;
    assert_eq!(token["decoded"]["claims"], serde_json::json!([]));

    let auth = live_auth_with(|b| b.with_registration_claims(["role", "email_verified"]))
        .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    let answer = form(served.addr, "/auth/local/register", &fields, &[]).await;
    let token = token_for(&served, &answer.cookie()).await;
    assert_eq!(
        token["decoded"]["claims"],
        serde_json::json!([
            {"type": "email_verified", "value": "true"},
            {"type": "role", "value": "admin"}
        ])
    );
}

/// Login issues a new session and kills the planted one.
pub async fn login_issues_a_new_session_and_kills_the_planted_one<A: Adapter>() {
    let served = Served::start::<A>();
    let first = register_ada(&served).await.cookie();
    let fields = [
        ("email", "ada@example.com"),
        ("password", "correct horse battery"),
        ("next", "/profile"),
    ];
    let answer = form(
        served.addr,
        "/auth/local/login",
        &fields,
        &[("cookie", &first)],
    )
    .await;
    assert_eq!(answer.location(), "/profile");
    let second = answer.cookie();
    assert_ne!(first, second, "sign-in must rotate the session id");
    assert_eq!(whoami(&served, &first).await, "anonymous");
    assert_eq!(whoami(&served, &second).await, "Ada");
}

/// Too many attempts on one account are throttled.
pub async fn too_many_attempts_are_throttled<A: Adapter>() {
    let served = Served::start::<A>();
    register_ada(&served).await;
    let bad = [
        ("email", "ada@example.com"),
        ("password", "wrong password!"),
    ];
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        let answer = form(served.addr, "/auth/local/login", &bad, &[]).await;
        outcomes.push(answer.location().to_owned());
    }
    assert_eq!(
        outcomes.last().map(String::as_str),
        Some("/?error=throttled"),
        "{outcomes:?}"
    );
}

/// Revoking again, with a dead or no session, is harmless.
pub async fn revoking_again_is_harmless<A: Adapter>() {
    let served = Served::start::<A>();
    let session = register_ada(&served).await.cookie();
    let headers = [("cookie", session.as_str())];
    let answer = form(served.addr, "/auth/local/revoke", &[], &headers).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(whoami(&served, &session).await, "anonymous");
    let again = form(served.addr, "/auth/local/revoke", &[], &headers).await;
    assert_eq!(again.status, 303, "{again:?}");
    assert_eq!(again.location(), "/");
    let anonymous = form(served.addr, "/auth/local/revoke", &[], &[]).await;
    assert_eq!(anonymous.status, 303, "{anonymous:?}");
    assert_eq!(anonymous.location(), "/");
}

/// Concurrent registrations of one email create one account.
pub async fn concurrent_registrations_of_one_email_create_one_account<A: Adapter>() {
    // A per-email budget above the 20 attempts: this is about the race.
    let idp = local_idp(Arc::new(MemoryStore::new()))
        .with_email_throttle(Arc::new(MemoryThrottle::new(100, Duration::from_secs(60))))
        .build()
        .expect("valid provider");
    let auth = live_auth_with(move |builder| builder.with_local_idp(Arc::new(idp)))
        .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    let attempts = (0..20).map(|_| form(served.addr, "/auth/local/register", ADA, &[]));
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers.iter().filter(|a| a.location() == "/live").count();
    let exists = answers
        .iter()
        .filter(|a| a.location() == "/?error=exists")
        .count();
    assert_eq!((created, exists), (1, 19));
}

/// An answer as the client sees it, but for the `Date` header (the clock's,
/// not the account's): status, sorted headers, body.
fn comparable(answer: &Answer) -> (u16, Vec<(String, String)>, String) {
    let mut headers: Vec<(String, String)> = answer
        .headers
        .iter()
        .filter(|(name, _)| *name != http::header::DATE)
        .map(|(name, value)| {
            let value = value.to_str().expect("text header");
            (name.to_string(), value.to_owned())
        })
        .collect();
    headers.sort();
    (answer.status.as_u16(), headers, answer.body.clone())
}

/// Unknown account and wrong password are identical and cost one Argon2 each.
pub async fn unknown_account_and_wrong_password_are_identical_and_cost_one_argon2_each<
    A: Adapter,
>() {
    let idp = Arc::new(
        local_idp(Arc::new(MemoryStore::new()))
            .build()
            .expect("valid provider"),
    );
    let auth = live_auth_with({
        let idp = idp.clone();
        move |builder| builder.with_local_idp(idp)
    })
    .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    idp.create_user(Registration::new(
        "grace@example.com",
        "correct horse battery",
    ))
    .await
    .expect("registered");
    idp.warm_up().await.expect("warmed up");

    let mut answers = Vec::new();
    for email in [
        "grace@example.com",
        "nobody@example.com",
        "GRACE@example.com ",
    ] {
        let fields = [("email", email), ("password", "wrong password!")];
        let before = idp.hasher().stats().verifications;
        let answer = form(served.addr, "/auth/local/login", &fields, &[]).await;
        let after = idp.hasher().stats().verifications;
        assert_eq!(
            after - before,
            1,
            "{email}: exactly one Argon2 verification"
        );
        answers.push(comparable(&answer));
    }
    assert_eq!(answers[0].0, 303);
    assert!(answers[0].1.iter().all(|(name, _)| name != "set-cookie"));
    assert_eq!(answers[0], answers[1], "wrong password vs unknown account");
    assert_eq!(
        answers[0], answers[2],
        "wrong password vs the same account, other spelling"
    );
}

/// Registration refuses common and short passwords but keeps spaces.
pub async fn registration_refuses_common_and_short_passwords_but_keeps_spaces<A: Adapter>() {
    let served = Served::start::<A>();
    for password in ["Password1", "qwertyuiop", "ILOVEYOU", "1234567"] {
        let fields = [
            ("email", "weak@example.com"),
            ("password", password),
            ("error_next", "/register"),
        ];
        let answer = form(served.addr, "/auth/local/register", &fields, &[]).await;
        assert_eq!(answer.location(), "/register?error=invalid", "{password}");
        assert_eq!(answer.header("set-cookie"), "", "{password}");
    }
    // Spaces around a password are part of it, over HTTP too.
    let spaced = [
        ("email", "spaces@example.com"),
        ("password", "  plum crater violet  "),
    ];
    let answer = form(served.addr, "/auth/local/register", &spaced, &[]).await;
    assert_ne!(answer.header("set-cookie"), "", "{answer:?}");
    let fields = [
        ("email", "spaces@example.com"),
        ("password", "plum crater violet"),
    ];
    let trimmed = form(served.addr, "/auth/local/login", &fields, &[]).await;
    assert_eq!(trimmed.location(), "/?error=invalid");
    let exact = form(served.addr, "/auth/local/login", &spaced, &[]).await;
    assert_ne!(exact.header("set-cookie"), "", "{exact:?}");
}

/// Login counts the real peer despite a spoofed forwarded-for.
pub async fn login_counts_the_real_peer_despite_a_spoofed_forwarded_for<A: Adapter>() {
    let served = served_with_address_limit::<A>(|builder| builder);
    let mut outcomes = Vec::new();
    for i in 0..5 {
        // A new account and a new fake address each time: only the
        // address throttle can stop this.
        let email = format!("victim{i}@example.com");
        let xff = format!("203.0.113.{i}");
        outcomes.push(login_from(&served, &email, &xff).await);
    }
    assert_eq!(
        outcomes,
        [
            "/?error=invalid",
            "/?error=invalid",
            "/?error=invalid",
            "/?error=throttled",
            "/?error=throttled"
        ]
    );
}

/// Login behind a trusted proxy counts each forwarded client.
pub async fn login_behind_a_trusted_proxy_counts_each_forwarded_client<A: Adapter>() {
    let proxy = IpAddr::from([127, 0, 0, 1]);
    let served = served_with_address_limit::<A>(|builder| builder.with_trusted_proxies([proxy]));
    for i in 0..5 {
        let email = format!("victim{i}@example.com");
        let xff = format!("203.0.113.{i}");
        assert_eq!(
            login_from(&served, &email, &xff).await,
            "/?error=invalid",
            "each client has its own count"
        );
    }
    let mut outcomes = Vec::new();
    for i in 0..4 {
        let email = format!("other{i}@example.com");
        outcomes.push(login_from(&served, &email, "203.0.113.200").await);
    }
    assert_eq!(
        outcomes,
        [
            "/?error=invalid",
            "/?error=invalid",
            "/?error=invalid",
            "/?error=throttled"
        ]
    );
}

/// A registration flood is answered 503 with `Retry-After` at once.
pub async fn a_registration_flood_is_answered_503_with_retry_after<A: Adapter>() {
    // The default Argon2 parameters (tens of milliseconds a hash), one
    // hashing thread and two places, of which one for new hashes: of 24
    // registrations at once, at most two are hashed together.
    let hasher = Argon2Hasher::builder()
        .with_concurrency(1)
        .with_queue_capacity(2)
        .build()
        .expect("valid hasher");
    let idp = local_idp(Arc::new(MemoryStore::new()))
        .with_hasher(hasher)
        .build()
        .expect("valid provider");
    let auth = live_auth_with(move |builder| builder.with_local_idp(Arc::new(idp)))
        .expect("valid test settings");
    let served = Served::serve::<A>(auth);
    let emails: Vec<String> = (0..24).map(|i| format!("flood{i}@example.com")).collect();
    let attempts = emails.iter().map(|email| {
        let fields = [
            ("email", email.as_str()),
            ("password", "correct horse battery"),
        ];
        async move { form(served.addr, "/auth/local/register", &fields, &[]).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut busy = 0;
    for answer in &answers {
        match answer.status.as_u16() {
            303 => assert_ne!(answer.header("set-cookie"), "", "{answer:?}"),
            503 => {
                busy += 1;
                let seconds: u64 = answer
                    .header("retry-after")
                    .parse()
                    .unwrap_or_else(|_| panic!("Retry-After in seconds: {answer:?}"));
                assert!(seconds >= 1, "{answer:?}");
                assert_eq!(answer.header("cache-control"), "no-store", "{answer:?}");
                assert_eq!(answer.header("set-cookie"), "", "{answer:?}");
                assert!(answer.body.contains("busy"), "{answer:?}");
                // The adapter's secure headers are on this answer too.
                assert_eq!(answer.header("x-content-type-options"), "nosniff");
                assert_eq!(answer.header("x-frame-options"), "DENY");
            }
            _ => panic!("neither a redirect nor 503: {answer:?}"),
        }
    }
    assert!(busy >= 1, "no registration of 24 was refused");
    // The refused ones were not created: once the flood is over, each
    // registers.
    let refused = answers.iter().zip(&emails).filter(|(a, _)| a.status == 503);
    for (_, email) in refused {
        let fields = [
            ("email", email.as_str()),
            ("password", "correct horse battery"),
        ];
        let again = form(served.addr, "/auth/local/register", &fields, &[]).await;
        assert_eq!(again.status, 303, "{again:?}");
        assert_ne!(again.header("set-cookie"), "", "{again:?}");
    }
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[doc(hidden)]
#[macro_export]
macro_rules! local_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, local;
            register_answers_each_error_code,
            failures_return_to_error_next_then_referer_then_fallback,
            registration_cannot_assign_claims_unless_the_app_allows_them,
            login_issues_a_new_session_and_kills_the_planted_one,
            too_many_attempts_are_throttled,
            revoking_again_is_harmless,
            concurrent_registrations_of_one_email_create_one_account,
            unknown_account_and_wrong_password_are_identical_and_cost_one_argon2_each,
            registration_refuses_common_and_short_passwords_but_keeps_spaces,
            login_counts_the_real_peer_despite_a_spoofed_forwarded_for,
            login_behind_a_trusted_proxy_counts_each_forwarded_client,
            a_registration_flood_is_answered_503_with_retry_after,
        );
    };
}
