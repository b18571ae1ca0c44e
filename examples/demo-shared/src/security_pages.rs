//! The second factors' pages: `/profile/security` (enrol an authenticator
//! app with its QR code, regenerate recovery codes, remove the app), the
//! second step of logging in, the step-up page, and the page that shows
//! fresh recovery codes once. Pages showing a secret are never cached: the
//! auth layer marks every page that read the session `no-store`, and the
//! recovery codes come from the route with `no-store` of its own.

use std::fmt::Write as _;

use live_auth::auth_core::Principal;
use live_auth::auth_http::{Enrolment, FactorStatus, escape_html, safe_path};

use crate::account_pages::PageQuery;
use crate::pages::{error_message, layout};

/// A form that posts `fields` and one button to `action`, back here.
fn post_form(action: &str, fields: &str, label: &str, class: &str) -> String {
    format!(
        r#"<form method="post" action="{action}">
  <input type="hidden" name="next" value="/profile/security">
  <input type="hidden" name="error_next" value="/profile/security">
  {fields}
  <button type="submit" class="{class}">{label}</button>
</form>"#
    )
}

const PASSWORD_FIELD: &str = r#"<label>Current password <input type="password" name="current_password" required autocomplete="current-password"></label>"#;
const CODE_FIELD: &str = r#"<label>Code from the app <input type="text" name="code" required inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7"></label>"#;

/// The QR code as inline SVG, without its XML prologue.
fn qr(enrolment: &Enrolment) -> &str {
    let svg = enrolment.qr_svg.as_str();
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}

/// `GET /profile/security`.
pub fn security(
    principal: &Principal,
    status: FactorStatus,
    enrolment: Option<&Enrolment>,
    query: &PageQuery,
) -> String {
    let app = if status.totp_active {
        format!(
            "<p>An authenticator app guards this account. {left} recovery codes are left.</p>
<h3>New recovery codes</h3>
<p>The old codes stop working; the new ones are shown once.</p>
{regenerate}
<h3>Remove the authenticator app</h3>
{disable}",
            left = status.recovery_codes_left,
            regenerate = post_form(
                "/auth/mfa/recovery-codes",
                PASSWORD_FIELD,
                "Make new recovery codes",
                "secondary"
            ),
            disable = post_form(
                "/auth/mfa/totp/disable",
                PASSWORD_FIELD,
                "Remove the app",
                "danger"
            ),
        )
    } else if let Some(enrolment) = enrolment {
        format!(
            r#"<p>Scan this code with your authenticator app, then enter the code it shows.</p>
<figure>
  <div class="qr" role="img" aria-label="QR code of the authenticator link">{svg}</div>
  <figcaption>Or type in this key: <code>{secret}</code></figcaption>
</figure>
{confirm}"#,
            svg = qr(enrolment),
            secret = escape_html(&enrolment.secret_base32),
            confirm = post_form("/auth/mfa/totp/confirm", CODE_FIELD, "Turn on", "primary"),
        )
    } else {
        format!(
            "<p>Add an authenticator app: logging in then asks for a code from it after the password.</p>{}",
            post_form(
                "/auth/mfa/totp/begin",
                "",
                "Set up an authenticator app",
                "primary"
            )
        )
    };
    let body = format!(
        r#"<h1>Security</h1>
{error}
<section class="card">
  <h2>Authenticator app</h2>
  {app}
</section>
<p><a href="/profile">Back to the profile</a></p>"#,
        error = error_message(query.error.as_deref()),
    );
    layout("Security", principal, &body)
}

/// A page asking for a code, posting it to `action` and going on to `next`.
fn code_page(
    principal: &Principal,
    title: &str,
    intro: &str,
    action: &str,
    next: Option<&str>,
    error: Option<&str>,
    back: &str,
) -> String {
    let next = next.and_then(safe_path).unwrap_or("/live");
    let body = format!(
        r#"<h1>{title}</h1>
{error}
<p>{intro}</p>
<form method="post" action="{action}" class="card">
  <input type="hidden" name="next" value="{next}">
  <input type="hidden" name="error_next" value="{back}">
  <label>Code from the app, or a recovery code <input type="text" name="code" required autocomplete="one-time-code" maxlength="32"></label>
  <button type="submit">Continue</button>
</form>"#,
        title = escape_html(title),
        error = code_error(error),
        next = escape_html(next),
        back = escape_html(back),
    );
    layout(title, principal, &body)
}

/// `value` for a query string: everything but letters, digits, `/`, `-`,
/// `_`, `.` and `~` percent-encoded.
fn query_value(value: &str) -> String {
    value.bytes().fold(String::new(), |mut out, b| {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
        out
    })
}

/// The message a code page shows for `?error=<code>`.
fn code_error(code: Option<&str>) -> String {
    match code {
        Some("invalid") => "<p class=\"error\" role=\"alert\">That code is not right, or was used already. Try the next one.</p>".to_owned(),
        Some("signed_out") => "<p class=\"error\" role=\"alert\">The sign-in waited too long. Please <a href=\"/login_local\">log in</a> again.</p>".to_owned(),
        other => error_message(other),
    }
}

/// `GET /login/second-factor`: the second step of logging in.
pub fn second_factor(principal: &Principal, next: Option<&str>, error: Option<&str>) -> String {
    let back = match next.and_then(safe_path) {
        Some(next) => format!("/login/second-factor?next={}", query_value(next)),
        None => "/login/second-factor".to_owned(),
    };
    code_page(
        principal,
        "Second step",
        "Enter the code your authenticator app shows, or one of your recovery codes.",
        "/auth/mfa/verify",
        next,
        error,
        &back,
    )
}

/// `GET /step-up`: a fresh second factor before a sensitive change.
pub fn step_up(principal: &Principal, next: Option<&str>, error: Option<&str>) -> String {
    code_page(
        principal,
        "Confirm it is you",
        "This change needs a fresh code from your authenticator app (or a recovery code). Then do it again.",
        "/auth/mfa/step-up",
        next,
        error,
        "/step-up",
    )
}

/// The page showing fresh recovery codes, once.
pub fn recovery_codes(codes: &[String], next: &str) -> String {
    let items = codes.iter().fold(String::new(), |mut items, code| {
        let _ = write!(items, "<li><code>{}</code></li>", escape_html(code));
        items
    });
    let body = format!(
        r#"<h1>Your recovery codes</h1>
<section class="card">
  <p>Each code logs you in once when your authenticator app is not at hand. Keep them somewhere safe: they are not shown again.</p>
  <ol class="codes">{items}</ol>
  <p><a href="{next}">Continue</a></p>
</section>"#,
        next = escape_html(next),
    );
    layout("Recovery codes", &Principal::anonymous(), &body)
}
