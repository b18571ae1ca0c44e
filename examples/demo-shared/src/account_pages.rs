//! The account lifecycle's pages: forgot and reset password, the pages the
//! mailed links open (each a button that posts the token, so a mail
//! scanner opening the link changes nothing), and the account settings.

use live_auth::auth_core::Principal;
use live_auth::auth_http::escape_html;
use serde::Deserialize;

use crate::pages::{error_message, layout};

/// What these pages read from the query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// `?error=<code>` from a failed form.
    pub error: Option<String>,
    /// `?token=` from a mailed link.
    pub token: Option<String>,
    /// `?done=<what>` after a form succeeded.
    pub done: Option<String>,
}

/// A notice for `?done=<what>`.
fn done_message(done: Option<&str>) -> String {
    let text = match done {
        Some("sent") => {
            "If that address has an account, a message is on its way. Check your inbox (or, without SMTP_URL, the demo's log)."
        }
        Some("password") => "Your password was changed; your other sessions were signed out.",
        Some("email-sent") => {
            "A confirmation link went to the new address. Nothing changes until you follow it."
        }
        Some("verification-sent") => "A new verification link is on its way.",
        _ => return String::new(),
    };
    format!("<p class=\"notice\" role=\"status\">{text}</p>")
}

/// A form posting one token with one button, for a page a link opens.
fn token_form(action: &str, token: &str, next: &str, error_next: &str, label: &str) -> String {
    format!(
        r#"<form method="post" action="{action}" class="card">
  <input type="hidden" name="token" value="{token}">
  <input type="hidden" name="next" value="{next}">
  <input type="hidden" name="error_next" value="{error_next}">
  <button type="submit">{label}</button>
</form>"#,
        token = escape_html(token),
        error_next = escape_html(error_next),
    )
}

/// `GET /forgot-password`.
pub fn forgot_password(principal: &Principal, query: &PageQuery) -> String {
    let body = format!(
        r#"<h1>Forgot your password?</h1>
{error}{done}
<form method="post" action="/auth/local/forgot-password" class="card">
  <input type="hidden" name="next" value="/forgot-password?done=sent">
  <input type="hidden" name="error_next" value="/forgot-password">
  <label>Email <input type="email" name="email" required autocomplete="email"></label>
  <button type="submit">Send me a reset link</button>
</form>
<p><a href="/login_local">Back to log in</a></p>"#,
        error = error_message(query.error.as_deref()),
        done = done_message(query.done.as_deref()),
    );
    layout("Forgot password", principal, &body)
}

/// `GET /reset-password?token=`.
pub fn reset_password(principal: &Principal, query: &PageQuery) -> String {
    let token = token_of(query);
    let error_next = format!("/reset-password?token={token}");
    let body = format!(
        r#"<h1>Choose a new password</h1>
{error}
<form method="post" action="/auth/local/reset-password" class="card">
  <input type="hidden" name="token" value="{token}">
  <input type="hidden" name="next" value="/login_local?done=reset">
  <input type="hidden" name="error_next" value="{error_next}">
  <label>New password <input type="password" name="password" required minlength="8" autocomplete="new-password"></label>
  <button type="submit">Set the new password</button>
</form>
<p class="hint">Setting it signs the account out everywhere.</p>"#,
        error = error_message(query.error.as_deref()),
        token = escape_html(token),
        error_next = escape_html(&error_next),
    );
    layout("Reset password", principal, &body)
}

/// `GET /verify-email?token=`.
pub fn verify_email(principal: &Principal, query: &PageQuery) -> String {
    let token = token_of(query);
    let body = format!(
        "<h1>Confirm your email address</h1>\n{error}\n{form}",
        error = error_message(query.error.as_deref()),
        form = token_form(
            "/auth/local/verify-email",
            token,
            "/login_local?done=verified",
            "/verify-email",
            "Confirm my address",
        ),
    );
    layout("Confirm your email", principal, &body)
}

/// `GET /confirm-email?token=`.
pub fn confirm_email(principal: &Principal, query: &PageQuery) -> String {
    let token = token_of(query);
    let body = format!(
        "<h1>Use your new email address</h1>\n{error}\n{form}",
        error = error_message(query.error.as_deref()),
        form = token_form(
            "/auth/local/confirm-email",
            token,
            "/login_local?done=email",
            "/confirm-email",
            "Use this address",
        ),
    );
    layout("Confirm your new email", principal, &body)
}

/// `GET /account`, for a signed-in user: change the password or the
/// email, ask for a new verification link, delete the account.
pub fn account(principal: &Principal, query: &PageQuery) -> String {
    let verified = principal.has_claim("email_verified", Some("true"));
    let verification = if verified {
        "<p>Your email address is verified.</p>".to_owned()
    } else {
        r#"<form method="post" action="/auth/local/verify-email/send">
  <input type="hidden" name="next" value="/account?done=verification-sent">
  <input type="hidden" name="error_next" value="/account">
  <p>Your email address is not verified yet. <button type="submit" class="secondary">Send a new link</button></p>
</form>"#
            .to_owned()
    };
    let body = format!(
        r#"<h1>Account</h1>
{error}{done}
<section class="card">
  <h2>Email</h2>
  {verification}
  <form method="post" action="/auth/local/change-email">
    <input type="hidden" name="next" value="/account?done=email-sent">
    <input type="hidden" name="error_next" value="/account">
    <label>New email <input type="email" name="email" required autocomplete="email"></label>
    <label>Current password <input type="password" name="current_password" required autocomplete="current-password"></label>
    <button type="submit">Change email</button>
  </form>
</section>
<section class="card">
  <h2>Password</h2>
  <form method="post" action="/auth/local/change-password">
    <input type="hidden" name="next" value="/account?done=password">
    <input type="hidden" name="error_next" value="/account">
    <label>Current password <input type="password" name="current_password" required autocomplete="current-password"></label>
    <label>New password <input type="password" name="password" required minlength="8" autocomplete="new-password"></label>
    <button type="submit">Change password</button>
  </form>
</section>
<section class="card">
  <h2>Delete the account</h2>
  <form method="post" action="/auth/local/delete-account">
    <input type="hidden" name="next" value="/?done=deleted">
    <input type="hidden" name="error_next" value="/account">
    <label>Current password <input type="password" name="current_password" required autocomplete="current-password"></label>
    <button type="submit" class="danger">Delete my account for good</button>
  </form>
</section>
<p><a href="/profile">Back to the profile</a></p>"#,
        error = error_message(query.error.as_deref()),
        done = done_message(query.done.as_deref()),
    );
    layout("Account", principal, &body)
}

/// The query's token when it can be one (letters and digits, at most 128
/// of them), else empty: the route refuses a bad one anyway, and this one
/// goes into a URL and an attribute unescaped by construction.
fn token_of(query: &PageQuery) -> &str {
    query
        .token
        .as_deref()
        .filter(|token| token.len() <= 128 && token.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_default()
}
