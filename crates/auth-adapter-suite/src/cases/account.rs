//! The account lifecycle over real mail: every case serves the app with
//! [`AccountFlows`] over an SMTP mailer talking to a real SMTP server
//! (aiosmtpd), reads the message the server received, takes the link out
//! of it and follows it, as the user would. Links point at the configured
//! public base URL ([`BASE`]); the cases post their tokens to the server.

use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::MemoryTokenStore;
use auth_core::{OneTimeToken, OneTimeTokenStore, TokenPurpose, TokenRecord, unix_now};
use auth_http::{AccountFlows, RegistrationMode};
use auth_mail_smtp::SmtpMailer;
use auth_mail_smtp::testkit::{Received, SmtpServer};

use super::{ADA, register_ada, signed_in_socket, whoami};
use crate::client::{Answer, form, frame_within, next_frame};
use crate::{Adapter, Served, live_auth_with};

/// The public base URL every link must start with.
pub const BASE: &str = "https://app.example";

const ADA_EMAIL: &str = "ada@example.com";
const ADA_PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// The app with account flows, its SMTP server and its token store.
struct Mailroom {
    served: Served,
    smtp: SmtpServer,
    tokens: Arc<MemoryTokenStore>,
}

impl Mailroom {
    /// Serves the app through `A` with the flows `configure` returns.
    async fn start<A: Adapter>(configure: impl FnOnce(AccountFlows) -> AccountFlows) -> Self {
        let smtp = SmtpServer::plain().await;
        let mailer = SmtpMailer::from_url(&smtp.url(), "Accounts <accounts@example.com>")
            .expect("a valid URL")
            .with_timeout(Duration::from_secs(3))
            .build()
            .expect("valid mailer settings");
        let tokens = Arc::new(MemoryTokenStore::new());
        let flows = AccountFlows::new(Arc::new(mailer), tokens.clone(), BASE)
            .expect("a valid base URL")
            .with_app_name("Suite");
        let flows = configure(flows);
        let auth = live_auth_with(|builder| builder.with_account_flows(flows))
            .expect("valid test settings");
        Self {
            served: Served::serve::<A>(auth),
            smtp,
            tokens,
        }
    }

    /// `POST {path}` with `fields` and an optional cookie.
    async fn post(&self, path: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Answer {
        let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
        form(self.served.addr, path, fields, &headers).await
    }

    /// The `n`th message (1-based) to `to`, waiting for it.
    async fn mail(&self, to: &str, n: usize) -> Received {
        let mine = self.smtp.wait_for_to(to, n).await;
        mine[n - 1].clone()
    }

    /// Messages to `to` so far.
    fn count(&self, to: &str) -> usize {
        self.smtp
            .received()
            .iter()
            .filter(|r| r.to.iter().any(|rcpt| rcpt == to))
            .count()
    }

    /// Logs in; returns the answer.
    async fn login(&self, email: &str, password: &str) -> Answer {
        let fields = [("email", email), ("password", password), ("next", "/live")];
        self.post("/auth/local/login", &fields, None).await
    }
}

/// The token of a mailed link to `{BASE}{page}`.
fn token_in(mail: &Received, page: &str) -> String {
    let prefix = format!("{BASE}{page}?token=");
    let link = mail
        .link(&prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {:?}", mail.text));
    link[prefix.len()..].to_owned()
}

/// Lets background work that should not happen have its chance.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

fn assert_error(answer: &Answer, code: &str) {
    assert_eq!(answer.status, 303, "{answer:?}");
    assert!(
        answer.location().ends_with(&format!("error={code}")),
        "expected error={code}: {answer:?}"
    );
}

/// Registering mails a link that verifies the address; following it sets
/// `email_verified` through the three layers, so the open tab shows it at
/// once; the link works once.
pub async fn a_mailed_link_verifies_the_address_and_open_tabs_see_it<A: Adapter>() {
    let room = Mailroom::start::<A>(|flows| flows).await;
    let cookie = register_ada(&room.served).await.cookie();
    let mut tab = signed_in_socket(&room.served, &cookie).await;
    let mail = room.mail(ADA_EMAIL, 1).await;
    assert_eq!(mail.from, "accounts@example.com");
    assert!(
        mail.raw
            .contains("Subject: Confirm your email address (Suite)")
    );
    assert!(mail.html.as_deref().is_some_and(|h| h.contains("href=")));
    let token = token_in(&mail, "/verify-email");

    let fields = [("token", token.as_str()), ("next", "/verified")];
    let answer = room.post("/auth/local/verify-email", &fields, None).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(answer.location(), "/verified");
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "update", "{frame}");
    assert_eq!(frame["regions"]["claims"], "email_verified=true");

    let again = room.post("/auth/local/verify-email", &fields, None).await;
    assert_error(&again, "invalid_token");
}

/// "Forgot password" answers alike for an address with an account and one
/// without; only the account's owner gets mail; the reset ends every
/// session (the open tab goes to the login page), the link works once,
/// and only the new password signs in.
pub async fn a_reset_answers_alike_ends_every_session_and_works_once<A: Adapter>() {
    let room = &Mailroom::start::<A>(|flows| flows).await;
    let first = register_ada(&room.served).await.cookie();
    let second = room.login(ADA_EMAIL, ADA_PASSWORD).await.cookie();
    let mut tab = signed_in_socket(&room.served, &second).await;
    room.mail(ADA_EMAIL, 1).await; // the verification

    let ask = |email: &'static str| async move {
        let fields = [
            ("email", email),
            ("next", "/forgot-password?sent=1"),
            ("error_next", "/forgot-password"),
        ];
        room.post("/auth/local/forgot-password", &fields, None)
            .await
    };
    let known = ask(ADA_EMAIL).await;
    let unknown = ask("nobody@example.com").await;
    assert_eq!(known.status, 303, "{known:?}");
    assert_eq!(
        (known.status, known.location(), known.body.as_str()),
        (unknown.status, unknown.location(), unknown.body.as_str())
    );
    assert_eq!(known.location(), "/forgot-password?sent=1");
    let mail = room.mail(ADA_EMAIL, 2).await;
    assert!(mail.raw.contains("Subject: Reset your password"));
    settle().await;
    assert_eq!(room.count("nobody@example.com"), 0);
    let token = token_in(&mail, "/reset-password");

    let fields = [
        ("token", token.as_str()),
        ("password", NEW_PASSWORD),
        ("next", "/login_local?reset=1"),
    ];
    let answer = room.post("/auth/local/reset-password", &fields, None).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(answer.location(), "/login_local?reset=1");
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert_eq!(frame["to"], "/login_local");
    for cookie in [&first, &second] {
        assert_eq!(whoami(&room.served, cookie).await, "anonymous");
    }
    assert_error(
        &room.post("/auth/local/reset-password", &fields, None).await,
        "invalid_token",
    );
    assert_error(&room.login(ADA_EMAIL, ADA_PASSWORD).await, "invalid");
    let signed_in = room.login(ADA_EMAIL, NEW_PASSWORD).await;
    assert_eq!(signed_in.location(), "/live", "{signed_in:?}");
}

/// Tampered, malformed, cross-purpose and expired tokens, and a reset link
/// whose password changed since, all answer the one code; a password the
/// policy refuses leaves the link usable.
pub async fn hostile_tokens_are_refused_alike<A: Adapter>() {
    let room = &Mailroom::start::<A>(|flows| flows).await;
    let cookie = register_ada(&room.served).await.cookie();
    let verify = token_in(&room.mail(ADA_EMAIL, 1).await, "/verify-email");
    let fields = [("email", ADA_EMAIL)];
    room.post("/auth/local/forgot-password", &fields, None)
        .await;
    let reset = token_in(&room.mail(ADA_EMAIL, 2).await, "/reset-password");

    let reset_with = |token: String| async move {
        let fields = [("token", token.as_str()), ("password", NEW_PASSWORD)];
        room.post("/auth/local/reset-password", &fields, None).await
    };
    let mut tampered = reset.clone().into_bytes();
    tampered[10] = if tampered[10] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).expect("hex");
    for token in [
        tampered,
        reset.to_uppercase(),
        format!("{reset}0"),
        String::new(),
        "../../etc/passwd".to_owned(),
        verify.clone(), // a verification token is no reset token
    ] {
        assert_error(&reset_with(token).await, "invalid_token");
    }
    // The verification token was not spent by the wrong route.
    let fields = [("token", verify.as_str())];
    let verified = room.post("/auth/local/verify-email", &fields, None).await;
    assert_eq!(verified.location(), "/", "{verified:?}");

    // A weak password is refused and the link survives it.
    let fields = [("token", reset.as_str()), ("password", "short")];
    assert_error(
        &room.post("/auth/local/reset-password", &fields, None).await,
        "invalid",
    );

    // The password changes another way: the reset link dies with it.
    let fields = [
        ("current_password", ADA_PASSWORD),
        ("password", "another fine passphrase"),
    ];
    let changed = room
        .post("/auth/local/change-password", &fields, Some(&cookie))
        .await;
    assert_eq!(changed.location(), "/", "{changed:?}");
    assert_error(&reset_with(reset).await, "invalid_token");

    // An expired token, stored as the flow would have.
    let user = room
        .served
        .auth
        .actions()
        .store()
        .find_by_provider("local", ADA_EMAIL)
        .await
        .expect("store works")
        .expect("Ada exists");
    let token = OneTimeToken::generate();
    let hash = room
        .served
        .auth
        .actions()
        .store()
        .password_hash(&user.user_id)
        .await
        .expect("store works")
        .expect("a password");
    let mut record = TokenRecord::new(
        TokenPurpose::ResetPassword,
        user.user_id.clone(),
        auth_core::state_binding(&["password", hash.as_str()]),
        Duration::from_secs(60),
    );
    // Sanity: the same record, unexpired, resets.
    let fresh = OneTimeToken::generate();
    room.tokens
        .save_token(&fresh.hash(), &record)
        .await
        .expect("saved");
    record.expires_at = unix_now() - 1;
    room.tokens
        .save_token(&token.hash(), &record)
        .await
        .expect("saved");
    assert_error(
        &reset_with(token.as_str().to_owned()).await,
        "invalid_token",
    );
    // Saving the expired one replaced the fresh one: one link of a kind.
    assert_error(
        &reset_with(fresh.as_str().to_owned()).await,
        "invalid_token",
    );
}

/// Links are built from the configured base URL, whatever `Host` or
/// `X-Forwarded-Host` the request names.
pub async fn links_never_follow_the_host_header<A: Adapter>() {
    let room = Mailroom::start::<A>(|flows| flows).await;
    register_ada(&room.served).await;
    room.mail(ADA_EMAIL, 1).await;
    let body = serde_urlencoded::to_string([("email", ADA_EMAIL)]).expect("a form");
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("origin", "http://evil.example"),
    ];
    let answer = crate::client::send(
        room.served.addr,
        http::Method::POST,
        "/auth/local/forgot-password",
        &headers,
        body,
    )
    .await;
    assert_eq!(answer.status, 303, "{answer:?}");
    let mail = room.mail(ADA_EMAIL, 2).await;
    let text = mail.text.clone().unwrap_or_default();
    let html = mail.html.clone().unwrap_or_default();
    assert!(!text.contains("evil.example") && !html.contains("evil.example"));
    token_in(&mail, "/reset-password");
}

/// Line breaks in names and addresses never reach a header: the forms
/// refuse them and no message goes to the injected address.
pub async fn header_injection_through_names_and_addresses_sends_nothing<A: Adapter>() {
    let room = Mailroom::start::<A>(|flows| flows).await;
    let injected = [
        vec![
            ("email", "ada@example.com\r\nBcc: eve@example.com"),
            ("password", ADA_PASSWORD),
        ],
        vec![
            ("email", ADA_EMAIL),
            ("password", ADA_PASSWORD),
            ("name", "Ada\r\nBcc: eve@example.com"),
        ],
        vec![
            ("email", "ada@example.com, eve@example.com"),
            ("password", ADA_PASSWORD),
        ],
    ];
    for fields in &injected {
        let answer = room.post("/auth/local/register", fields, None).await;
        assert_error(&answer, "invalid");
    }
    for email in [
        "ada@example.com\r\nBcc: eve@example.com",
        "ada@example.com\nCc: eve@example.com",
        "eve@example.com>, <ada@example.com",
    ] {
        let fields = [("email", email)];
        let answer = room
            .post("/auth/local/forgot-password", &fields, None)
            .await;
        assert_error(&answer, "invalid");
    }
    settle().await;
    assert!(
        room.smtp.received().is_empty(),
        "{:?}",
        room.smtp.received()
    );
}

/// Changing the password needs the current one, ends the user's other
/// sessions (their tabs leave), keeps this one, and tells the owner.
pub async fn changing_the_password_ends_the_other_sessions<A: Adapter>() {
    let room = Mailroom::start::<A>(|flows| flows).await;
    let mine = register_ada(&room.served).await.cookie();
    let other = room.login(ADA_EMAIL, ADA_PASSWORD).await.cookie();
    let mut my_tab = signed_in_socket(&room.served, &mine).await;
    let mut other_tab = signed_in_socket(&room.served, &other).await;
    room.mail(ADA_EMAIL, 1).await;

    let wrong = [
        ("current_password", "not my password"),
        ("password", NEW_PASSWORD),
    ];
    let refused = room
        .post("/auth/local/change-password", &wrong, Some(&mine))
        .await;
    assert_error(&refused, "invalid");
    let anonymous = [
        ("current_password", ADA_PASSWORD),
        ("password", NEW_PASSWORD),
    ];
    assert_error(
        &room
            .post("/auth/local/change-password", &anonymous, None)
            .await,
        "signed_out",
    );

    let fields = [
        ("current_password", ADA_PASSWORD),
        ("password", NEW_PASSWORD),
        ("next", "/account?changed=1"),
    ];
    let answer = room
        .post("/auth/local/change-password", &fields, Some(&mine))
        .await;
    assert_eq!(answer.location(), "/account?changed=1", "{answer:?}");
    let frame = next_frame(&mut other_tab).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert_eq!(whoami(&room.served, &other).await, "anonymous");
    assert_eq!(whoami(&room.served, &mine).await, "Ada");
    assert_eq!(
        frame_within(&mut my_tab, Duration::from_millis(300)).await,
        None
    );
    let notice = room.mail(ADA_EMAIL, 2).await;
    assert!(notice.raw.contains("Subject: Your password was changed"));
    assert_error(&room.login(ADA_EMAIL, ADA_PASSWORD).await, "invalid");
    assert_eq!(
        room.login(ADA_EMAIL, NEW_PASSWORD).await.location(),
        "/live"
    );
}

/// Changing the email mails a link to the new address and a notice to the
/// old one; following it moves the account's sign-in and address, marked
/// verified. A taken new address is answered alike, and its owner gets a
/// notice instead of a link.
pub async fn changing_the_email_confirms_the_new_address<A: Adapter>() {
    let room = &Mailroom::start::<A>(|flows| flows).await;
    let cookie = register_ada(&room.served).await.cookie();
    let bob = [
        ("email", "bob@example.com"),
        ("password", "bob's own passphrase"),
    ];
    room.post("/auth/local/register", &bob, None).await;
    room.mail(ADA_EMAIL, 1).await;
    room.mail("bob@example.com", 1).await;

    let change = |email: &'static str| {
        let cookie = cookie.clone();
        async move {
            let fields = [
                ("email", email),
                ("current_password", ADA_PASSWORD),
                ("next", "/account?sent=1"),
            ];
            room.post("/auth/local/change-email", &fields, Some(&cookie))
                .await
        }
    };
    let to_bob = change("bob@example.com").await;
    let to_free = change("ada@new.example").await;
    assert_eq!(to_bob.location(), "/account?sent=1", "{to_bob:?}");
    assert_eq!(
        (to_bob.status, to_bob.location()),
        (to_free.status, to_free.location())
    );
    let notice_to_bob = room.mail("bob@example.com", 2).await;
    assert!(
        notice_to_bob
            .link(&format!("{BASE}/confirm-email"))
            .is_none(),
        "a taken address got a link"
    );
    let link_mail = room.mail("ada@new.example", 1).await;
    let token = token_in(&link_mail, "/confirm-email");
    let old_notices = room.smtp.wait_for_to(ADA_EMAIL, 3).await;
    assert!(
        old_notices
            .iter()
            .filter(|m| m
                .raw
                .contains("Subject: Your email address is being changed"))
            .count()
            == 2
    );

    let wrong = [
        ("email", "ada@other.example"),
        ("current_password", "not it at all"),
    ];
    assert_error(
        &room
            .post("/auth/local/change-email", &wrong, Some(&cookie))
            .await,
        "invalid",
    );

    let fields = [("token", token.as_str()), ("next", "/account")];
    let answer = room.post("/auth/local/confirm-email", &fields, None).await;
    assert_eq!(answer.location(), "/account", "{answer:?}");
    let store = room.served.auth.actions().store();
    let moved = store
        .find_by_provider("local", "ada@new.example")
        .await
        .expect("store works")
        .expect("the new address signs in");
    assert_eq!(moved.email.as_deref(), Some("ada@new.example"));
    assert!(
        moved
            .claims
            .iter()
            .any(|c| c.kind == "email_verified" && c.value == "true")
    );
    assert!(
        store
            .find_by_provider("local", ADA_EMAIL)
            .await
            .expect("store works")
            .is_none()
    );
    assert_error(&room.login(ADA_EMAIL, ADA_PASSWORD).await, "invalid");
    assert_eq!(
        room.login("ada@new.example", ADA_PASSWORD).await.location(),
        "/live"
    );
    assert_error(
        &room.post("/auth/local/confirm-email", &fields, None).await,
        "invalid_token",
    );
}

/// Deleting the account needs the password, removes the user, their
/// sessions and tokens, sends the open tab away and signs the browser out.
pub async fn deleting_the_account_removes_everything<A: Adapter>() {
    let room = Mailroom::start::<A>(|flows| flows).await;
    let cookie = register_ada(&room.served).await.cookie();
    let mut tab = signed_in_socket(&room.served, &cookie).await;
    room.mail(ADA_EMAIL, 1).await;
    let store = room.served.auth.actions().store().clone();
    let user = store
        .find_by_provider("local", ADA_EMAIL)
        .await
        .expect("store works")
        .expect("Ada exists");
    assert_eq!(room.tokens.len(), 1, "the verification token");

    let wrong = [("current_password", "not my password")];
    assert_error(
        &room
            .post("/auth/local/delete-account", &wrong, Some(&cookie))
            .await,
        "invalid",
    );
    assert!(
        store
            .get_user(&user.user_id)
            .await
            .expect("works")
            .is_some()
    );

    let fields = [("current_password", ADA_PASSWORD), ("next", "/goodbye")];
    let answer = room
        .post("/auth/local/delete-account", &fields, Some(&cookie))
        .await;
    assert_eq!(answer.location(), "/goodbye", "{answer:?}");
    assert!(
        answer.header("set-cookie").contains("Max-Age=0"),
        "{answer:?}"
    );
    let frame = next_frame(&mut tab).await;
    assert_eq!(frame["type"], "navigate", "{frame}");
    assert!(
        store
            .get_user(&user.user_id)
            .await
            .expect("works")
            .is_none()
    );
    assert!(room.tokens.is_empty());
    assert_eq!(whoami(&room.served, &cookie).await, "anonymous");
    assert_error(&room.login(ADA_EMAIL, ADA_PASSWORD).await, "invalid");
}

/// Registration that reveals nothing: a new and a taken address get the
/// same answer and no session; the new one gets a verification link, the
/// taken one's owner a notice; sign-in waits for the verified address.
pub async fn registration_that_reveals_nothing_answers_alike<A: Adapter>() {
    let room =
        Mailroom::start::<A>(|flows| flows.with_registration(RegistrationMode::RevealNothing))
            .await;
    let fresh = room.post("/auth/local/register", ADA, None).await;
    let link = token_in(&room.mail(ADA_EMAIL, 1).await, "/verify-email");
    let again = room.post("/auth/local/register", ADA, None).await;
    assert_eq!(fresh.status, 303, "{fresh:?}");
    assert_eq!(
        (fresh.status, fresh.location(), fresh.body.as_str()),
        (again.status, again.location(), again.body.as_str())
    );
    for answer in [&fresh, &again] {
        assert!(answer.header("set-cookie").is_empty(), "{answer:?}");
    }
    let notice = room.mail(ADA_EMAIL, 2).await;
    assert!(notice.raw.contains("Subject: You already have an account"));
    assert!(notice.link(&format!("{BASE}/verify-email")).is_none());

    // Not verified yet: no session, and a fresh link instead.
    assert_error(&room.login(ADA_EMAIL, ADA_PASSWORD).await, "unverified");
    let relink = token_in(&room.mail(ADA_EMAIL, 3).await, "/verify-email");
    assert_ne!(relink, link);
    // Only the newest link of a kind works.
    let fields = [("token", link.as_str())];
    assert_error(
        &room.post("/auth/local/verify-email", &fields, None).await,
        "invalid_token",
    );
    let fields = [("token", relink.as_str())];
    let verified = room.post("/auth/local/verify-email", &fields, None).await;
    assert_eq!(verified.location(), "/", "{verified:?}");
    assert_eq!(
        room.login(ADA_EMAIL, ADA_PASSWORD).await.location(),
        "/live"
    );
}

/// Mail requests are throttled per address, and a full outbox (a mail
/// server that never answers) is a 503 for the next one, whatever address
/// it names.
pub async fn mail_requests_are_throttled_and_the_outbox_bounded<A: Adapter>() {
    let room = Mailroom::start::<A>(|flows| flows).await;
    let fields = [("email", "nobody@example.com")];
    for _ in 0..5 {
        let answer = room
            .post("/auth/local/forgot-password", &fields, None)
            .await;
        assert_eq!(answer.location(), "/", "{answer:?}");
    }
    assert_error(
        &room
            .post("/auth/local/forgot-password", &fields, None)
            .await,
        "throttled",
    );

    // A mail server that accepts connections and never says a word.
    let tarpit = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let port = tarpit.local_addr().expect("bound").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = tarpit.accept().await {
            open.push(socket);
        }
    });
    let mailer = SmtpMailer::from_url(
        &format!("smtp+plain://127.0.0.1:{port}"),
        "accounts@example.com",
    )
    .expect("a valid URL")
    .with_timeout(Duration::from_secs(5))
    .build()
    .expect("valid settings");
    let flows = AccountFlows::new(Arc::new(mailer), Arc::new(MemoryTokenStore::new()), BASE)
        .expect("valid")
        .with_max_pending_mail(1);
    let auth = live_auth_with(|builder| builder.with_account_flows(flows)).expect("valid");
    let stuck = Served::serve::<A>(auth);
    register_ada(&stuck).await; // its verification mail now holds the slot
    let fields = [("email", "someone@example.com")];
    let answer = form(stuck.addr, "/auth/local/forgot-password", &fields, &[]).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert!(!answer.header("retry-after").is_empty());
    held.abort();
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[macro_export]
macro_rules! account_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, account;
            a_mailed_link_verifies_the_address_and_open_tabs_see_it,
            a_reset_answers_alike_ends_every_session_and_works_once,
            hostile_tokens_are_refused_alike,
            links_never_follow_the_host_header,
            header_injection_through_names_and_addresses_sends_nothing,
            changing_the_password_ends_the_other_sessions,
            changing_the_email_confirms_the_new_address,
            deleting_the_account_removes_everything,
            registration_that_reveals_nothing_answers_alike,
            mail_requests_are_throttled_and_the_outbox_bounded,
        );
    };
}
