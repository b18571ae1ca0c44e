//! Second factors over HTTP: every case serves the app with
//! [`SecondFactors`] on the app's own user store, enrols an authenticator
//! app the way a browser would (the enrolment view is what the app's page
//! shows), and computes its codes in the test with `totp-rs` from the
//! otpauth URI, as an authenticator app does.

use std::sync::Arc;
use std::time::Duration;

use auth_core::memory::{MemoryStore, MemoryTokenStore};
use auth_core::{SessionKey, SessionToken, unix_now};
use auth_http::{AccountFlows, SecondFactors};
use auth_mail_smtp::SmtpMailer;
use auth_mail_smtp::testkit::{Received, SmtpServer};
use http::StatusCode;
use totp_rs::Totp;

use super::{ADA, register_ada, signed_in_socket, whoami};
use crate::client::{Answer, WAIT, connect, form, frame_within, get, refused_status};
use crate::{Adapter, Served, live_auth_on};

/// The secret the second-factor keys derive from.
const FACTOR_SECRET: &[u8] = b"the second-factor secret of the suite, 32+ bytes";
const ADA_EMAIL: &str = "ada@example.com";
const ADA_PASSWORD: &str = "correct horse battery";

/// Serves the app with second factors as `configure` sets them.
fn start<A: Adapter>(configure: impl FnOnce(SecondFactors) -> SecondFactors) -> Served {
    let store = Arc::new(MemoryStore::new());
    let factors = SecondFactors::new(store.clone(), FACTOR_SECRET).expect("a long secret");
    let factors = configure(factors);
    let auth = live_auth_on(store, |builder| builder.with_second_factors(factors))
        .expect("valid test settings");
    Served::serve::<A>(auth)
}

async fn post(
    served: &Served,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> Answer {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    form(served.addr, path, fields, &headers).await
}

fn assert_error(answer: &Answer, code: &str) {
    assert_eq!(answer.status, 303, "{answer:?}");
    assert!(
        answer.location().ends_with(&format!("error={code}")),
        "expected error={code}: {answer:?}"
    );
}

/// The session key a `Cookie` value names.
fn key_of(served: &Served, cookie: &str) -> SessionKey {
    let (_, value) = cookie.split_once('=').expect("name=value");
    let token = SessionToken::parse(value).expect("a session token");
    served.auth.sessions().key_of(&token)
}

/// Ada, enrolled: her signed-in cookie, her authenticator and the
/// recovery codes the confirmation showed.
struct Enrolled {
    cookie: String,
    app: Totp,
    codes: Vec<String>,
}

impl Enrolled {
    /// The app's code for the time step `offset` seconds from now.
    fn code(&self, offset: i64) -> String {
        let at = unix_now().saturating_add_signed(offset);
        self.app.generate(at).to_string()
    }
}

/// Registers Ada, begins an enrolment, reads the pending secret off the
/// enrolment view (URI and QR code) and confirms it with the current code.
async fn enrol(served: &Served) -> Enrolled {
    let cookie = register_ada(served).await.cookie();
    let fields = [("next", "/profile/security")];
    let begun = post(served, "/auth/mfa/totp/begin", &fields, Some(&cookie)).await;
    assert_eq!(begun.status, 303, "{begun:?}");
    assert_eq!(begun.location(), "/profile/security");
    let principal = served.principal(&key_of(served, &cookie)).await;
    let view = served
        .auth
        .totp_enrolment(&principal)
        .await
        .expect("store works")
        .expect("an enrolment waits");
    assert!(view.uri.starts_with("otpauth://totp/"), "{}", view.uri);
    assert!(view.qr_svg.starts_with("<?xml") || view.qr_svg.contains("<svg"));
    let app = Totp::from_url(&view.uri).expect("a valid otpauth URI");
    assert_eq!(app.generate(0).to_string().len(), 6);

    let now = app.generate(unix_now()).to_string();
    let fields = [("code", now.as_str()), ("next", "/profile/security")];
    let confirmed = post(served, "/auth/mfa/totp/confirm", &fields, Some(&cookie)).await;
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    assert_eq!(confirmed.header("cache-control"), "no-store");
    let codes: Vec<String> = confirmed
        .body
        .split("<code>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</code>").map(|(code, _)| code.to_owned()))
        .collect();
    assert_eq!(codes.len(), 10, "{}", confirmed.body);
    Enrolled { cookie, app, codes }
}

/// Logs Ada in with her password; the answer is the detour to the
/// second-factor page, with the waiting session's cookie.
async fn password_step(served: &Served) -> String {
    password_step_with(served, ADA_PASSWORD).await
}

/// [`password_step`] with `password`.
async fn password_step_with(served: &Served, password: &str) -> String {
    let fields = [
        ("email", ADA_EMAIL),
        ("password", password),
        ("next", "/live"),
    ];
    let answer = post(served, "/auth/local/login", &fields, None).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert!(
        answer.location().starts_with("/login/second-factor?next="),
        "{answer:?}"
    );
    answer.cookie()
}

/// `code` at the second-factor route with the waiting session's cookie.
async fn second_step(served: &Served, waiting: &str, code: &str) -> Answer {
    let fields = [("code", code), ("next", "/live")];
    post(served, "/auth/mfa/verify", &fields, Some(waiting)).await
}

/// Enrolling sets `mfa=totp` through the three layers (the open tab shows
/// it); from then on the password alone signs nobody in: the session waits
/// for the code, and the code completes it under a new session id.
pub async fn enrolled_accounts_sign_in_in_two_steps_under_a_new_session_id<A: Adapter>() {
    let served = &start::<A>(|factors| factors);
    let cookie = register_ada(served).await.cookie();
    let mut tab = signed_in_socket(served, &cookie).await;
    // Enrol with the tab open: begin, read the view, confirm.
    let begun = post(served, "/auth/mfa/totp/begin", &[], Some(&cookie)).await;
    assert_eq!(begun.status, 303, "{begun:?}");
    let principal = served.principal(&key_of(served, &cookie)).await;
    let view = served
        .auth
        .totp_enrolment(&principal)
        .await
        .expect("the backend works")
        .expect("it is there");
    let app = Totp::from_url(&view.uri).expect("a valid URI");
    let code = app.generate(unix_now()).to_string();
    let confirmed = post(
        served,
        "/auth/mfa/totp/confirm",
        &[("code", &code)],
        Some(&cookie),
    )
    .await;
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    let mut saw_claim = false;
    while let Some(frame) = frame_within(&mut tab, WAIT).await {
        if frame["regions"]["claims"]
            .as_str()
            .is_some_and(|claims| claims.contains("mfa=totp"))
        {
            saw_claim = true;
            break;
        }
    }
    assert!(saw_claim, "the open tab saw mfa=totp");

    let waiting = password_step(served).await;
    assert_eq!(whoami(served, &waiting).await, "anonymous");
    let next = app.generate(unix_now() + 30).to_string();
    let done = second_step(served, &waiting, &next).await;
    assert_eq!(done.status, 303, "{done:?}");
    assert_eq!(done.location(), "/live");
    let signed_in = done.cookie();
    assert_ne!(signed_in, waiting, "a new session id");
    assert_eq!(whoami(served, &signed_in).await, "Ada");
    assert_eq!(whoami(served, &waiting).await, "anonymous");
    let proof = served
        .auth
        .sessions()
        .load(&key_of(served, &signed_in))
        .await
        .expect("the backend works")
        .expect("it is there")
        .record
        .second_factor
        .expect("the session records its second factor");
    assert_eq!(proof.factor, auth_core::Factor::Totp);
}

/// A code used once is refused the second time (and so is an earlier
/// step's), and a code of a step outside the one-step window is refused.
pub async fn replayed_and_out_of_window_codes_are_refused<A: Adapter>() {
    let served = &start::<A>(|factors| factors);
    let ada = enrol(served).await;
    // The confirmation used the current step: it cannot sign in.
    let waiting = password_step(served).await;
    assert_error(
        &second_step(served, &waiting, &ada.code(0)).await,
        "invalid",
    );
    assert_error(
        &second_step(served, &waiting, &ada.code(-90)).await,
        "invalid",
    );
    assert_error(
        &second_step(served, &waiting, &ada.code(90)).await,
        "invalid",
    );
    let done = second_step(served, &waiting, &ada.code(30)).await;
    assert_eq!(done.status, 303, "{done:?}");
    assert_eq!(done.location(), "/live");

    let waiting = password_step(served).await;
    assert_error(
        &second_step(served, &waiting, &ada.code(30)).await,
        "invalid",
    );
    assert_error(
        &second_step(served, &waiting, &ada.code(-30)).await,
        "invalid",
    );
    assert_error(&second_step(served, &waiting, "12345").await, "invalid");
    assert_eq!(whoami(served, &waiting).await, "anonymous");
}

/// A recovery code signs in once; the count left goes down through the
/// three layers; the same code is refused afterwards.
pub async fn a_recovery_code_works_once<A: Adapter>() {
    let served = &start::<A>(|factors| factors);
    let ada = enrol(served).await;
    let waiting = password_step(served).await;
    let typed = ada.codes[0].to_uppercase();
    let done = second_step(served, &waiting, &typed).await;
    assert_eq!(done.status, 303, "{done:?}");
    let signed_in = done.cookie();
    let principal = served.principal(&key_of(served, &signed_in)).await;
    assert_eq!(principal.claim("mfa_recovery_codes"), Some("9"));
    assert_eq!(principal.claim("mfa"), Some("totp"));

    let waiting = password_step(served).await;
    assert_error(
        &second_step(served, &waiting, &ada.codes[0]).await,
        "invalid",
    );
    let done = second_step(served, &waiting, &ada.codes[1]).await;
    assert_eq!(done.status, 303, "{done:?}");
}

/// A session waiting for its second factor is anonymous to every guard,
/// page, token route and the live socket, and to every signed-in route;
/// only the second-factor route answers it.
pub async fn skipping_the_second_step_reaches_nothing<A: Adapter>() {
    let served = &start::<A>(|factors| factors);
    let _ada = enrol(served).await;
    let waiting = password_step(served).await;
    let page = get(served.addr, "/live", Some(&waiting)).await;
    assert_eq!(page.status, 303, "{page:?}");
    assert!(page.location().starts_with("/login_local"), "{page:?}");
    let admin = get(served.addr, "/admin", Some(&waiting)).await;
    assert_eq!(admin.status, 303, "{admin:?}");
    assert_eq!(whoami(served, &waiting).await, "anonymous");
    let token = post(served, "/auth/local/token", &[], Some(&waiting)).await;
    assert_eq!(token.status, 401, "{token:?}");
    let origin = served.origin();
    let socket = connect(served.addr, Some(&waiting), Some(&origin)).await;
    assert_eq!(refused_status(socket), 401);
    let fields = [("current_password", ADA_PASSWORD)];
    for path in [
        "/auth/mfa/totp/disable",
        "/auth/mfa/recovery-codes",
        "/auth/local/delete-account",
    ] {
        let answer = post(served, path, &fields, Some(&waiting)).await;
        assert_error(&answer, "signed_out");
    }
    assert_error(
        &post(
            served,
            "/auth/mfa/step-up",
            &[("code", "123456")],
            Some(&waiting),
        )
        .await,
        "signed_out",
    );
    // The second-factor route wants a waiting sign-in, not a signed-in one.
    let (signed_in, _) = served.sign_in("local:someone").await;
    assert_error(
        &second_step(served, &signed_in, "123456").await,
        "signed_out",
    );
    assert_error(
        &second_step(served, "live_auth=garbage", "123456").await,
        "signed_out",
    );
    let user = served
        .auth
        .actions()
        .store()
        .find_by_provider("local", ADA_EMAIL)
        .await;
    assert!(user.expect("store works").is_some(), "nothing was deleted");
}

/// Wrong codes count against the user's throttle: past it even the right
/// code is refused with `throttled`.
pub async fn second_factor_attempts_are_throttled<A: Adapter>() {
    let served = &start::<A>(|factors| factors);
    let ada = enrol(served).await;
    let waiting = password_step(served).await;
    let right = [ada.code(-30), ada.code(0), ada.code(30)];
    let wrong = [
        "000000", "111111", "222222", "333333", "444444", "555555", "666666",
    ];
    let wrong: Vec<&str> = wrong
        .into_iter()
        .filter(|code| !right.iter().any(|r| r == code))
        .take(5)
        .collect();
    assert_eq!(wrong.len(), 5);
    for code in wrong {
        assert_error(&second_step(served, &waiting, code).await, "invalid");
    }
    assert_error(
        &second_step(served, &waiting, &ada.code(30)).await,
        "throttled",
    );
    assert_error(
        &second_step(served, &waiting, &ada.codes[0]).await,
        "throttled",
    );
}

/// Deleting the account asks for a second factor again once the last one
/// is older than the step-up age; a recovery code at the step-up route
/// lets it through.
pub async fn step_up_expires_and_guards_account_deletion<A: Adapter>() {
    let served = &start::<A>(|factors| factors.with_step_up_max_age(Duration::from_secs(1)));
    let ada = enrol(served).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let fields = [("current_password", ADA_PASSWORD), ("next", "/bye")];
    let refused = post(
        served,
        "/auth/local/delete-account",
        &fields,
        Some(&ada.cookie),
    )
    .await;
    assert_eq!(refused.status, 303, "{refused:?}");
    assert!(refused.location().starts_with("/step-up"), "{refused:?}");
    let store = served.auth.actions().store();
    assert!(
        store
            .find_by_provider("local", ADA_EMAIL)
            .await
            .expect("the store works")
            .is_some()
    );

    let wrong = [("code", "aaaaa-aaaaa"), ("next", "/profile")];
    let answer = post(served, "/auth/mfa/step-up", &wrong, Some(&ada.cookie)).await;
    assert_error(&answer, "invalid");
    let step_up = [("code", ada.codes[2].as_str()), ("next", "/profile")];
    let answer = post(served, "/auth/mfa/step-up", &step_up, Some(&ada.cookie)).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(answer.location(), "/profile");
    let deleted = post(
        served,
        "/auth/local/delete-account",
        &fields,
        Some(&ada.cookie),
    )
    .await;
    assert_eq!(deleted.status, 303, "{deleted:?}");
    assert_eq!(deleted.location(), "/bye");
    assert!(
        store
            .find_by_provider("local", ADA_EMAIL)
            .await
            .expect("the store works")
            .is_none()
    );
}

/// New recovery codes need the password and replace the old ones;
/// disabling needs it too, removes the factor and its claim, and the
/// password alone signs in again.
pub async fn regenerating_and_disabling_need_the_password<A: Adapter>() {
    let served = &start::<A>(|factors| factors);
    let ada = enrol(served).await;
    let wrong = [("current_password", "not the password")];
    let answer = post(
        served,
        "/auth/mfa/recovery-codes",
        &wrong,
        Some(&ada.cookie),
    )
    .await;
    assert_error(&answer, "invalid");
    let right = [
        ("current_password", ADA_PASSWORD),
        ("next", "/profile/security"),
    ];
    let fresh = post(
        served,
        "/auth/mfa/recovery-codes",
        &right,
        Some(&ada.cookie),
    )
    .await;
    assert_eq!(fresh.status, 200, "{fresh:?}");
    assert_eq!(fresh.header("cache-control"), "no-store");
    assert_eq!(fresh.body.matches("<code>").count(), 10);
    assert!(!fresh.body.contains(&ada.codes[0]));
    let waiting = password_step(served).await;
    assert_error(
        &second_step(served, &waiting, &ada.codes[0]).await,
        "invalid",
    );

    let answer = post(served, "/auth/mfa/totp/disable", &wrong, Some(&ada.cookie)).await;
    assert_error(&answer, "invalid");
    let answer = post(served, "/auth/mfa/totp/disable", &right, Some(&ada.cookie)).await;
    assert_eq!(answer.status, 303, "{answer:?}");
    let principal = served.principal(&key_of(served, &ada.cookie)).await;
    assert_eq!(principal.claim("mfa"), None);
    let user_id = principal.user_id().expect("signed in").to_owned();
    let status = served
        .auth
        .factor_status(&user_id)
        .await
        .expect("the store works");
    assert!(!status.totp_active && !status.totp_pending);
    assert_eq!(status.recovery_codes_left, 0);
    let login = form(served.addr, "/auth/local/login", ADA, &[]).await;
    assert_eq!(login.status, 303, "{login:?}");
    assert_eq!(login.location(), "/live");
}

/// Serves the app with second factors and the account flows on one user
/// store, mailing through a real SMTP server.
async fn start_with_mail<A: Adapter>() -> (Served, SmtpServer) {
    let smtp = SmtpServer::plain().await;
    let mailer = SmtpMailer::from_url(&smtp.url(), "Accounts <accounts@example.com>")
        .expect("a valid URL")
        .with_timeout(Duration::from_secs(3))
        .build()
        .expect("valid mailer settings");
    let flows = AccountFlows::new(
        Arc::new(mailer),
        Arc::new(MemoryTokenStore::new()),
        "https://app.example",
    )
    .expect("a valid base URL")
    .with_app_name("Suite");
    let store = Arc::new(MemoryStore::new());
    let factors = SecondFactors::new(store.clone(), FACTOR_SECRET).expect("a long secret");
    let auth = live_auth_on(store, |builder| {
        builder
            .with_account_flows(flows)
            .with_second_factors(factors)
    })
    .expect("valid test settings");
    (Served::serve::<A>(auth), smtp)
}

/// With the account flows configured, enrolling and using a recovery code
/// each mail the account a notice, through the flows' outbox.
pub async fn factor_changes_mail_a_notice<A: Adapter>() {
    let (served, smtp) = start_with_mail::<A>().await;
    let served = &served;
    let ada = enrol(served).await;
    // The verification link of the registration, and the notice.
    let mails = smtp.wait_for_to(ADA_EMAIL, 2).await;
    let notice = |mails: &[Received], what: &str| {
        mails.iter().any(|mail| {
            mail.raw
                .contains("Subject: Your sign-in security changed (Suite)")
                && mail.text.as_deref().is_some_and(|text| text.contains(what))
        })
    };
    assert!(
        notice(&mails, "An authenticator app was added"),
        "{mails:?}"
    );
    let waiting = password_step(served).await;
    let done = second_step(served, &waiting, &ada.codes[0]).await;
    assert_eq!(done.status, 303, "{done:?}");
    let mails = smtp.wait_for_to(ADA_EMAIL, 3).await;
    assert!(notice(&mails, "A recovery code was used"), "{mails:?}");
}

/// A password reset changes the password only: the authenticator stays,
/// and signing in with the new password still waits for its code.
pub async fn a_reset_does_not_bypass_the_second_factor<A: Adapter>() {
    let (served, smtp) = start_with_mail::<A>().await;
    let served = &served;
    let ada = enrol(served).await;
    let fields = [("email", ADA_EMAIL), ("next", "/forgot-password")];
    let asked = post(served, "/auth/local/forgot-password", &fields, None).await;
    assert_eq!(asked.status, 303, "{asked:?}");
    // The registration's verification, the enrolment notice, the reset.
    let mails = smtp.wait_for_to(ADA_EMAIL, 3).await;
    let prefix = "https://app.example/reset-password?token=";
    let link = mails
        .iter()
        .find_map(|mail| mail.link(prefix))
        .unwrap_or_else(|| panic!("no reset link in {mails:?}"));
    let new_password = "a brand new passphrase";
    let fields = [
        ("token", &link[prefix.len()..]),
        ("password", new_password),
        ("next", "/login_local"),
    ];
    let reset = post(served, "/auth/local/reset-password", &fields, None).await;
    assert_eq!(
        (reset.status, reset.location()),
        (StatusCode::SEE_OTHER, "/login_local"),
        "{reset:?}"
    );
    assert_eq!(whoami(served, &ada.cookie).await, "anonymous");

    let waiting = password_step_with(served, new_password).await;
    assert_eq!(whoami(served, &waiting).await, "anonymous");
    let done = second_step(served, &waiting, &ada.code(30)).await;
    assert_eq!(
        (done.status, done.location()),
        (StatusCode::SEE_OTHER, "/live"),
        "{done:?}"
    );
    assert_eq!(whoami(served, &done.cookie()).await, "Ada");
}

/// The cases of this module, for [`adapter_suite!`](crate::adapter_suite).
#[macro_export]
macro_rules! mfa_cases {
    ($adapter:ty) => {
        $crate::adapter_suite!(@module $adapter, mfa;
            enrolled_accounts_sign_in_in_two_steps_under_a_new_session_id,
            replayed_and_out_of_window_codes_are_refused,
            a_recovery_code_works_once,
            skipping_the_second_step_reaches_nothing,
            second_factor_attempts_are_throttled,
            step_up_expires_and_guards_account_deletion,
            regenerating_and_disabling_need_the_password,
            factor_changes_mail_a_notice,
            a_reset_does_not_bypass_the_second_factor,
        );
    };
}
