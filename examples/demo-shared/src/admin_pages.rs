//! The admin console: `/admin` (every user, with a search and paging) and
//! `/admin/users/{id}` (one user's claims, sessions and audit entries, and
//! the buttons that change them). The buttons post to the web layer's
//! `{prefix}/admin/*` routes; the user page is live, its regions following
//! the user it shows.

use std::fmt::Write as _;

use live_auth::auth_core::{DISABLED_CLAIM, Page, Principal};
use live_auth::auth_http::{
    ADMIN_AUDIT_PER_PAGE, LiveAuth, LivePage, TargetRegion, UserDetail, UserList, escape_html,
};
use serde::Deserialize;

use crate::pages::{ago, layout};

/// The id of the user page's live page.
pub const USER_PAGE: &str = "admin-user";

/// The query of both admin pages.
#[derive(Debug, Default, Deserialize)]
pub struct AdminQuery {
    /// The search (`/admin`).
    pub q: Option<String>,
    /// Where the list page starts (`/admin`).
    pub after: Option<String>,
    /// The first audit entry shown (`/admin/users/{id}`).
    pub audit: Option<u64>,
    /// The `?error=` code an action came back with.
    pub error: Option<String>,
}

impl AdminQuery {
    /// The audit page the query asks for.
    pub fn audit_page(&self) -> Page {
        Page::new(self.audit.unwrap_or(0), ADMIN_AUDIT_PER_PAGE)
    }
}

/// The live page of `/admin/users/{id}`: its regions follow the user shown.
pub fn user_page() -> LivePage {
    LivePage::new(USER_PAGE)
        .with_guard(live_auth::auth_http::Guard::policy("AdminOnly"))
        .with_target_region(TargetRegion::new("target-account", account))
        .with_target_region(TargetRegion::new("target-claims", claims))
        .with_target_region(TargetRegion::new("target-sessions", sessions))
        .with_target_region(TargetRegion::new("target-audit", audit))
}

/// `/admin/users/{id}`, the path of a user's page (the id encoded).
pub fn user_path(user_id: &str) -> String {
    let id: String = url_component(user_id);
    format!("/admin/users/{id}")
}

fn url_component(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What an admin action's `?error=` code means.
fn error_message(code: Option<&str>) -> String {
    let text = match code {
        None => return String::new(),
        Some("unknown_user") => "That user does not exist.",
        Some("missing") => "Fill in every field.",
        Some("invalid") => {
            "That value cannot be used (a reserved or malformed claim, or an unknown session)."
        }
        Some("signed_out") => "Your session has ended. Please log in again.",
        Some(_) => "Something went wrong. Please try again.",
    };
    format!("<p class=\"error\" role=\"alert\">{text}</p>")
}

/// A form posting to `{prefix}/admin/{action}` for `user_id`, back to its
/// page, with a button and hidden fields.
fn action_form(
    user_id: &str,
    action: &str,
    fields: &[(&str, &str)],
    label: &str,
    class: &str,
) -> String {
    let back = escape_html(&user_path(user_id));
    let mut hidden = String::new();
    for (name, value) in fields {
        let _ = write!(
            hidden,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape_html(value)
        );
    }
    format!(
        "<form method=\"post\" action=\"/auth/admin/{action}\" class=\"inline\">\
         <input type=\"hidden\" name=\"user_id\" value=\"{id}\">\
         <input type=\"hidden\" name=\"next\" value=\"{back}\">\
         <input type=\"hidden\" name=\"error_next\" value=\"{back}\">{hidden}\
         <button type=\"submit\" class=\"{class}\">{label}</button></form>",
        id = escape_html(user_id),
        label = escape_html(label),
    )
}

/// `GET /admin`.
pub fn users(principal: &Principal, list: &UserList, query: &AdminQuery) -> String {
    let search = query.q.as_deref().unwrap_or("");
    let mut rows = String::new();
    for summary in &list.users {
        let user = &summary.user;
        let _ = write!(
            rows,
            "<tr><td><a href=\"{path}\">{email}</a></td><td>{name}</td><td>{providers}</td><td>{state}</td></tr>",
            path = escape_html(&user_path(&user.user_id)),
            email = escape_html(user.email.as_deref().unwrap_or(&user.user_id)),
            name = escape_html(user.name.as_deref().unwrap_or("—")),
            providers = escape_html(&summary.providers.join(", ")),
            state = if user.is_disabled() {
                "disabled"
            } else {
                "active"
            },
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"4\">No users found.</td></tr>");
    }
    let more = match &list.next {
        Some(next) => format!(
            "<p><a href=\"/admin?q={q}&amp;after={after}\">Next page</a></p>",
            q = escape_html(&url_component(search)),
            after = escape_html(&url_component(next)),
        ),
        None => String::new(),
    };
    let body = format!(
        r#"<h1>Users</h1>
{error}
<form method="get" action="/admin" class="card search" role="search">
  <label>Search by email, name or id <input type="text" name="q" value="{search}"></label>
  <button type="submit">Search</button>
</form>
<table class="card users">
  <caption>Accounts{caption}</caption>
  <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Providers</th><th scope="col">State</th></tr></thead>
  <tbody>{rows}</tbody>
</table>
{more}"#,
        error = error_message(query.error.as_deref()),
        search = escape_html(search),
        caption = if search.is_empty() {
            String::new()
        } else {
            format!(" matching “{}”", escape_html(search))
        },
    );
    layout("Users", principal, &body)
}

/// `GET /admin/users/{id}`: the regions, the grant form, the live script.
pub fn user(
    auth: &LiveAuth,
    principal: &Principal,
    detail: &UserDetail,
    query: &AdminQuery,
) -> String {
    let Some(page) = auth.page(USER_PAGE) else {
        return layout(
            "User",
            principal,
            "<p>The admin page is not registered.</p>",
        );
    };
    let user = &detail.user;
    let region = |id| page.render_target_region(id, detail);
    let links: Vec<String> = detail
        .links
        .iter()
        .map(|link| format!("{} ({})", link.provider, link.subject))
        .collect();
    let back = escape_html(&user_path(&user.user_id));
    let body = format!(
        r#"<h1>{title}</h1>
{error}
<section class="card" aria-labelledby="account-heading">
  <h2 id="account-heading">Account</h2>
  <dl>
    <dt>Name</dt><dd>{name}</dd>
    <dt>Email</dt><dd>{email}</dd>
    <dt>User id</dt><dd><code>{id}</code></dd>
    <dt>Sign-in methods</dt><dd>{links}</dd>
  </dl>
  {account}
</section>
<section class="card" aria-labelledby="claims-heading">
  <h2 id="claims-heading">Claims</h2>
  {claims}
  <form method="post" action="/auth/admin/grant" class="grant">
    <input type="hidden" name="user_id" value="{id}">
    <input type="hidden" name="next" value="{back}">
    <input type="hidden" name="error_next" value="{back}">
    <label>Claim type <input type="text" name="kind" required></label>
    <label>Value <input type="text" name="value" required></label>
    <button type="submit">Grant claim</button>
  </form>
</section>
<section class="card" aria-labelledby="sessions-heading">
  <h2 id="sessions-heading">Sessions</h2>
  {sessions}
</section>
<section class="card" aria-labelledby="audit-heading">
  <h2 id="audit-heading">Audit log</h2>
  {audit}
  {more}
</section>
<p><a href="/admin">All users</a></p>
{script}"#,
        title = escape_html(user.email.as_deref().unwrap_or(&user.user_id)),
        error = error_message(query.error.as_deref()),
        name = escape_html(user.name.as_deref().unwrap_or("—")),
        email = escape_html(user.email.as_deref().unwrap_or("—")),
        id = escape_html(&user.user_id),
        links = escape_html(&links.join(", ")),
        account = region("target-account"),
        claims = region("target-claims"),
        sessions = region("target-sessions"),
        audit = region("target-audit"),
        more = match detail.audit_next {
            Some(next) => format!(
                "<p><a href=\"{back}?audit={}\">Older entries</a></p>",
                next.offset()
            ),
            None => String::new(),
        },
        script = page.script_tag_for(auth, &user.user_id),
    );
    layout("User", principal, &body)
}

/// The account state and the disable or enable button.
fn account(detail: &UserDetail) -> String {
    let id = &detail.user.user_id;
    if detail.user.is_disabled() {
        format!(
            "<p class=\"state disabled\">This account is disabled.</p>{}",
            action_form(id, "enable", &[], "Enable account", "")
        )
    } else {
        format!(
            "<p class=\"state\">This account is active.</p>{}",
            action_form(id, "disable", &[], "Disable account", "danger")
        )
    }
}

/// The claims, each with its revoke button.
fn claims(detail: &UserDetail) -> String {
    let id = &detail.user.user_id;
    let mut items = String::new();
    for claim in detail
        .user
        .claims
        .iter()
        .filter(|c| c.kind != DISABLED_CLAIM)
    {
        let _ = write!(
            items,
            "<li><code>{kind}</code> = <code>{value}</code> {revoke}</li>",
            kind = escape_html(&claim.kind),
            value = escape_html(&claim.value),
            revoke = action_form(
                id,
                "revoke",
                &[("kind", &claim.kind)],
                &format!("Revoke {}", claim.kind),
                "secondary"
            ),
        );
    }
    if items.is_empty() {
        return "<p class=\"muted\">No claims.</p>".to_owned();
    }
    format!("<ul class=\"claims\">{items}</ul>")
}

/// The sessions, each with its sign-out button, and "sign out everywhere".
fn sessions(detail: &UserDetail) -> String {
    let id = &detail.user.user_id;
    if detail.sessions.is_empty() {
        return "<p class=\"muted\">Not signed in anywhere.</p>".to_owned();
    }
    let mut items = String::new();
    for (n, session) in detail.sessions.iter().enumerate() {
        let _ = write!(
            items,
            "<li>Session {n}: signed in {signed_in} · last seen {seen} {button}</li>",
            n = n + 1,
            signed_in = ago(session.created_at),
            seen = ago(session.last_seen),
            button = action_form(
                id,
                "sign-out",
                &[("session", session.key.as_str())],
                &format!("Sign out session {}", n + 1),
                "secondary"
            ),
        );
    }
    format!(
        "<ul class=\"sessions\">{items}</ul>{}",
        action_form(id, "sign-out-all", &[], "Sign out everywhere", "danger")
    )
}

/// The first page of audit entries.
fn audit(detail: &UserDetail) -> String {
    if detail.audit.is_empty() {
        return "<p class=\"muted\">No changes recorded.</p>".to_owned();
    }
    let mut rows = String::new();
    for entry in &detail.audit {
        let _ = write!(
            rows,
            "<tr><td>{when}</td><td>{action}</td><td>{detail}</td><td>{actor}</td><td>{source}</td></tr>",
            when = ago(entry.at),
            action = entry.action,
            detail = escape_html(&entry.detail),
            actor = escape_html(&entry.actor),
            source = escape_html(&entry.source),
        );
    }
    format!(
        "<table class=\"audit\"><caption>Changes, newest first</caption>\
         <thead><tr><th scope=\"col\">When</th><th scope=\"col\">Action</th><th scope=\"col\">Detail</th><th scope=\"col\">By</th><th scope=\"col\">From</th></tr></thead>\
         <tbody>{rows}</tbody></table>"
    )
}
