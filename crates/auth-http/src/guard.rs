//! Guards: "signed in, else the login page" and "policy X, else 403".

use auth_core::Principal;

use crate::config::LiveAuth;
use crate::rejection::Rejection;
use crate::request::RequestAuth;

#[derive(Clone, Debug)]
enum Rule {
    Authenticated,
    Policy(String),
}

/// Who may see a page or route.
///
/// An anonymous visitor who fails is sent to the login path (or the guard's
/// own redirect); a signed-in one who fails a policy gets 403 (or the
/// redirect, when one is set).
///
/// ```
/// use auth_http::Guard;
///
/// let members = Guard::login_required();
/// let admins = Guard::policy("AdminOnly").redirect_to("/live");
/// # let _ = (members, admins);
/// ```
#[derive(Clone, Debug)]
pub struct Guard {
    rule: Rule,
    redirect: Option<String>,
}

/// What a guard decides for one principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuardOutcome {
    /// Let it through.
    Allow,
    /// Send the browser here.
    Redirect(String),
    /// Refuse with 403.
    Forbidden,
}

impl Guard {
    /// Signed-in principals only.
    pub fn login_required() -> Self {
        Self {
            rule: Rule::Authenticated,
            redirect: None,
        }
    }

    /// Principals that pass the named policy (which must be defined on the
    /// builder; `build()` checks pages; elsewhere an undefined policy
    /// denies and logs).
    pub fn policy(name: impl Into<String>) -> Self {
        Self {
            rule: Rule::Policy(name.into()),
            redirect: None,
        }
    }

    /// Sends failures here instead (a path on this site).
    #[must_use]
    pub fn redirect_to(mut self, path: impl Into<String>) -> Self {
        self.redirect = Some(path.into());
        self
    }

    /// The policy this guard names, if any.
    pub fn policy_name(&self) -> Option<&str> {
        match &self.rule {
            Rule::Policy(name) => Some(name),
            Rule::Authenticated => None,
        }
    }

    /// The decision for `principal`. An undefined policy denies (and logs).
    pub fn decide(&self, auth: &LiveAuth, principal: &Principal) -> GuardOutcome {
        let allowed = principal.is_authenticated()
            && match &self.rule {
                Rule::Authenticated => true,
                Rule::Policy(name) => {
                    auth.policies()
                        .check(name, principal)
                        .unwrap_or_else(|error| {
                            tracing::error!(%error, "guard names an undefined policy");
                            false
                        })
                }
            };
        if allowed {
            return GuardOutcome::Allow;
        }
        match (&self.redirect, principal.is_authenticated()) {
            (Some(path), _) => GuardOutcome::Redirect(path.clone()),
            (None, false) => GuardOutcome::Redirect(auth.login_path().to_owned()),
            (None, true) => GuardOutcome::Forbidden,
        }
    }

    /// Loads the request's session and decides: `Ok` to let it through,
    /// else the rejection to answer with.
    pub async fn check(&self, request: &RequestAuth) -> Result<(), Rejection> {
        let principal = request.principal().await?;
        match self.decide(request.live_auth(), &principal) {
            GuardOutcome::Allow => Ok(()),
            GuardOutcome::Redirect(_) if self.redirect.is_none() => {
                Err(Rejection::Redirect(request.login_redirect()))
            }
            GuardOutcome::Redirect(path) => Err(Rejection::Redirect(path)),
            GuardOutcome::Forbidden => Err(Rejection::Forbidden),
        }
    }

    /// Where a live connection that fails this guard is sent.
    pub(crate) fn navigate_to<'a>(&'a self, auth: &'a LiveAuth) -> &'a str {
        self.redirect.as_deref().unwrap_or(auth.login_path())
    }
}
