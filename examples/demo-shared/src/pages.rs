//! The demo's pages: plain server-rendered HTML around one stylesheet.

use std::fmt::Write as _;

use live_auth::auth_core::{self, ActiveSession, Principal, ProviderLink, SessionKey};
use live_auth::auth_http::{LiveAuth, escape_html};

/// The page frame: title, stylesheet, a header with who is signed in.
pub fn layout(title: &str, principal: &Principal, body: &str) -> String {
    let who = match principal.display_name() {
        Some(name) if principal.is_authenticated() => format!(
            "<span class=\"who\">Signed in as <strong>{}</strong></span> <a href=\"/profile\">Profile</a>",
            escape_html(name)
        ),
        _ => "<a href=\"/login_local\">Log in</a> <a href=\"/register\">Register</a>".to_owned(),
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · live-auth</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><a class="brand" href="/">live-auth</a><nav>{who}</nav></header>
<main>
{body}
</main>
<footer>Open <a href="/live">/live</a> in two tabs, then change something in one of them. Admins manage every account at <a href="/admin">/admin</a>.</footer>
</body>
</html>"#,
        title = escape_html(title),
    )
}

/// The message a form page shows for `?error=<code>`.
pub(crate) fn error_message(code: Option<&str>) -> String {
    let text = match code {
        None => return String::new(),
        Some("missing") => "Email and password are required.",
        Some("exists") => "That email is already registered.",
        Some("invalid") => "Invalid email or password.",
        Some("throttled") => "Too many attempts. Wait a minute, then try again.",
        Some("invalid_token") => {
            "This link cannot be used: it was used already, has expired, or a newer one was sent."
        }
        Some("signed_out") => "Your session has ended. Please log in again.",
        Some("unverified") => "Please confirm your email address first: a new link is on its way.",
        Some("no_factor") => "There is no authenticator app for this step: set one up first.",
        Some("state") => "That sign-in could not be finished in this browser. Please start again.",
        Some("provider") => "The sign-in provider could not sign you in. Please try again.",
        Some("denied") => "The sign-in was cancelled at the provider.",
        Some("linked_elsewhere") => "That provider account is linked to another account.",
        Some("last_sign_in") => "This is your only way to sign in, so it cannot be unlinked.",
        Some(_) => "Something went wrong. Please try again.",
    };
    format!("<p class=\"error\" role=\"alert\">{text}</p>")
}

/// `GET /`.
pub fn home(principal: &Principal) -> String {
    let body = if principal.is_authenticated() {
        "<h1>Welcome back</h1><p>Your <a href=\"/live\">live page</a> follows every change to your account as it happens.</p>"
    } else {
        "<h1>Live auth updates</h1>\
         <p>Grant a role or sign out, and every open tab of that user reacts at once, without a reload.</p>\
         <p><a class=\"button\" href=\"/register\">Create an account</a> <a class=\"button secondary\" href=\"/login_local\">Log in</a></p>"
    };
    layout("Home", principal, body)
}

/// `GET /register`.
pub fn register(principal: &Principal, error: Option<&str>) -> String {
    let body = format!(
        r#"<h1>Register</h1>
{error}
<form method="post" action="/auth/local/register" class="card">
  <input type="hidden" name="next" value="/live">
  <input type="hidden" name="error_next" value="/register">
  <label>Email <input type="email" name="email" required autocomplete="email"></label>
  <label>Password <input type="password" name="password" required minlength="8" autocomplete="new-password"></label>
  <label>Display name <input type="text" name="name" placeholder="Ada Lovelace" autocomplete="name"></label>
  <label>Initial role <input type="text" name="role" placeholder="admin / editor"></label>
  <label class="check"><input type="checkbox" name="email_verified"> email_verified</label>
  <p class="hint">This demo lets the form set <code>role</code> and <code>email_verified</code> so you can try claims quickly. Real apps allow none by default.</p>
  <button type="submit">Register</button>
</form>
<p>Have an account? <a href="/login_local">Log in</a>.</p>"#,
        error = error_message(error),
    );
    layout("Register", principal, &body)
}

/// `GET /login_local`: after signing in, the visitor goes to `next` when
/// it is a path on this site (a guarded page sends them here with it), else
/// to `/live`. `done` is what a mailed link just did (`reset`, `verified`,
/// `email`).
pub fn login(
    principal: &Principal,
    providers: &[(String, String)],
    error: Option<&str>,
    next: Option<&str>,
    done: Option<&str>,
) -> String {
    let next = next
        .and_then(live_auth::auth_http::safe_path)
        .unwrap_or("/live");
    let body = format!(
        r#"<h1>Log in</h1>
{done}{error}
<form method="post" action="/auth/local/login" class="card">
  <input type="hidden" name="next" value="{next}">
  <input type="hidden" name="error_next" value="/login_local">
  <label>Email <input type="email" name="email" required autocomplete="email"></label>
  <label>Password <input type="password" name="password" required autocomplete="current-password"></label>
  <button type="submit">Log in</button>
</form>
{providers}<p><a href="/forgot-password">Forgot your password?</a> · No account? <a href="/register">Register</a>.</p>"#,
        providers = provider_buttons(providers, next),
        done = done_message(done),
        error = error_message(error),
        next = escape_html(next),
    );
    layout("Log in", principal, &body)
}

/// "Sign in with …" for each provider the demo serves.
fn provider_buttons(providers: &[(String, String)], next: &str) -> String {
    let mut buttons = String::new();
    for (id, name) in providers {
        let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let _ = write!(
            buttons,
            "<p><a class=\"button\" href=\"/auth/{id}/login?next={next}\">Sign in with {name}</a></p>",
            id = escape_html(id),
            next = escape_html(&next),
            name = escape_html(name),
        );
    }
    buttons
}

/// What the login page says after a mailed link did its work.
fn done_message(done: Option<&str>) -> String {
    let text = match done {
        Some("reset") => {
            "Your password was reset and every session signed out. Log in with the new one."
        }
        Some("verified") => "Your email address is verified.",
        Some("email") => "Your new email address is in use: log in with it.",
        _ => return String::new(),
    };
    format!("<p class=\"notice\" role=\"status\">{text}</p>")
}

/// The "current claims" region.
pub fn claims(principal: &Principal) -> String {
    if principal.claims().is_empty() {
        return "<p class=\"muted\">No claims yet.</p>".to_owned();
    }
    let mut items = String::new();
    for c in principal.claims() {
        let _ = write!(
            items,
            "<li><code>{}</code> = <code>{}</code></li>",
            escape_html(&c.kind),
            escape_html(&c.value)
        );
    }
    format!("<ul class=\"claims\">{items}</ul>")
}

/// The `AdminOnly` region, as its members see it.
pub fn admin_visible(_: &Principal) -> String {
    "<p class=\"admin visible\">Admin content visible.</p>".to_owned()
}

/// The `AdminOnly` region, as everyone else sees it.
pub fn admin_hidden(_: &Principal) -> String {
    "<p class=\"admin hidden\">Admin content hidden.</p>".to_owned()
}

/// `GET /live`.
pub fn live(auth: &LiveAuth, principal: &Principal) -> String {
    let Some(page) = auth.page("live") else {
        return layout(
            "Live auth",
            principal,
            "<p>The live page is not registered.</p>",
        );
    };
    let region = |id| page.render_region(auth, id, principal);
    let button = |path: &str, label: &str, class: &str| {
        format!(
            "<form method=\"post\" action=\"{path}\" data-live-submit><button type=\"submit\" class=\"{class}\">{label}</button></form>"
        )
    };
    let body = format!(
        r#"<h1>Live auth</h1>
<section class="card">
  <h2>Current claims</h2>
  {claims}
</section>
<section class="card">
  <h2>Admin area <span class="policy">policy <code>AdminOnly</code> = <code>role:admin</code></span></h2>
  {admin}
</section>
<div class="actions">
  {grant}{revoke}{sign_out}{everywhere}
</div>
<p class="hint">Open this page in a second tab. Grant or revoke admin here and watch the other tab change. Sign out ends this browser's session only; sign out everywhere ends every session of this user.</p>
{script}"#,
        claims = region("claims"),
        admin = region("admin"),
        grant = button("/live/grant-admin", "Grant admin", ""),
        revoke = button("/live/revoke-admin", "Revoke admin", "secondary"),
        sign_out = button("/live/sign-out", "Sign out", "secondary"),
        everywhere = button("/live/sign-out-everywhere", "Sign out everywhere", "danger"),
        script = page.script_tag(auth),
    );
    layout("Live auth", principal, &body)
}

/// `GET /profile`.
pub fn profile(
    principal: &Principal,
    sessions: &[ActiveSession],
    current: Option<&SessionKey>,
    providers: &[(String, String)],
    links: &[ProviderLink],
    error: Option<&str>,
) -> String {
    let email = principal
        .raw()
        .get("email")
        .and_then(|v| v.as_str())
        .unwrap_or("—");
    let mut rows = String::new();
    for s in sessions {
        let this = if Some(&s.key) == current {
            " <strong>(this browser)</strong>"
        } else {
            ""
        };
        let _ = write!(
            rows,
            "<li>signed in {} · last seen {}{this}</li>",
            ago(s.record.created_at),
            ago(s.record.last_seen)
        );
    }
    let body = format!(
        r#"<h1>Profile</h1>
{error}<section class="card">
  <dl>
    <dt>Name</dt><dd>{name}</dd>
    <dt>Email</dt><dd>{email}</dd>
    <dt>User id</dt><dd><code>{id}</code></dd>
  </dl>
  <h2>Claims</h2>
  {claims}
  <h2>Active sessions</h2>
  <ul class="sessions">{rows}</ul>
  {linked}
</section>
<p><a href="/account">Account settings</a> · <a href="/profile/security">Security</a> · <a href="/live">Back to the live page</a></p>"#,
        name = escape_html(principal.display_name().unwrap_or("—")),
        email = escape_html(email),
        id = escape_html(principal.user_id().unwrap_or("—")),
        claims = claims(principal),
        linked = linked_providers(providers, links),
        error = error_message(error),
    );
    layout("Profile", principal, &body)
}

/// The providers the demo serves, each linked (with an unlink button) or
/// not (with a link button).
fn linked_providers(providers: &[(String, String)], links: &[ProviderLink]) -> String {
    if providers.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    for (id, name) in providers {
        let linked = links.iter().any(|link| &link.provider == id);
        let (state, action, label) = if linked {
            ("linked", "unlink", "Unlink")
        } else {
            ("not linked", "link", "Link")
        };
        let _ = write!(
            rows,
            "<li>{name}: {state} <form method=\"post\" action=\"/auth/{id}/{action}\" class=\"inline\">\
             <input type=\"hidden\" name=\"next\" value=\"/profile\">\
             <input type=\"hidden\" name=\"error_next\" value=\"/profile\">\
             <button type=\"submit\">{label} {name}</button></form></li>",
            name = escape_html(name),
            id = escape_html(id),
        );
    }
    format!("<h2>Sign-in providers</h2>\n  <ul class=\"providers\">{rows}</ul>")
}

/// "3 minutes ago" for a Unix time.
pub(crate) fn ago(unix: u64) -> String {
    let seconds = auth_core::unix_now().saturating_sub(unix);
    match seconds {
        0..=59 => "just now".to_owned(),
        60..=3599 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

/// The stylesheet.
pub const STYLE: &str = include_str!("style.css");
