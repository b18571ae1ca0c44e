//! What both demos share, on the `live-auth` facade without a framework: the
//! settings, the demo's web layer on the stack, the pages, and what the
//! buttons do. Each demo (`live-auth-demo` on axum, `live-auth-demo-actix` on
//! actix-web) only routes its framework's requests to these.

pub mod account_pages;
pub mod actions;
pub mod admin_pages;
pub mod pages;
pub mod security_pages;
pub mod settings;

use std::sync::Arc;

use live_auth::auth_core::{Policies, Policy};
use live_auth::auth_http::{self, Guard, LiveAuth, LivePage, Region};
use live_auth::auth_oidc::{ClaimMap, ProviderConfig};
use live_auth::{Stack, StackError};

pub use live_auth::redact_url;
pub use settings::{OidcSettings, Settings, SettingsError};

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The stack (database, Redis, identity provider) could not start.
    #[error("starting the auth stack failed")]
    Stack(#[from] StackError),
    /// The web layer refused its settings.
    #[error("the auth web layer refused its settings")]
    Auth(#[from] auth_http::ConfigError),
    /// The OpenID Connect provider refused its settings.
    #[error("the OpenID Connect provider refused its settings")]
    Oidc(#[from] live_auth::auth_oidc::OidcError),
}

/// The secure headers of the demo's pages: the default policy, with the
/// provider's sign-in origin added to `form-action` when one is configured
/// (the link button's form is redirected there).
pub fn secure_headers(auth: &LiveAuth) -> auth_http::SecureHeaders {
    let origins = auth.oidc_form_action_origins();
    if origins.is_empty() {
        return auth_http::SecureHeaders::new();
    }
    let policy = auth_http::DEFAULT_CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", origins.join(" ")),
    );
    auth_http::SecureHeaders::new()
        .with_content_security_policy(&policy)
        .unwrap_or_else(|_| auth_http::SecureHeaders::new())
}

/// The demo's one live page: the claims, and the `AdminOnly` region.
fn live_page() -> LivePage {
    LivePage::new("live")
        .with_guard(Guard::login_required())
        .with_region(Region::new("claims", pages::claims))
        .with_region(
            Region::new("admin", pages::admin_visible)
                .with_policy("AdminOnly")
                .otherwise(pages::admin_hidden),
        )
}

/// TOTP and recovery codes on the stack's store, their keys derived from
/// the session secret (a real app gives them a secret of their own: a new
/// session secret then signs everyone out without losing enrolments).
fn second_factors(stack: &Stack) -> Result<auth_http::SecondFactors, auth_http::ConfigError> {
    let secret = stack
        .session_config()
        .secret
        .as_ref()
        .map(|secret| secret.expose().as_bytes().to_vec())
        .unwrap_or_default();
    Ok(
        auth_http::SecondFactors::new(stack.second_factor_store().clone(), &secret)?
            .with_issuer("live-auth demo")
            .with_verify_page("/login/second-factor")?
            .with_step_up_page("/step-up")?
            .with_codes_page(security_pages::recovery_codes),
    )
}

/// Builds the stack from the settings, then the demo's web layer on it.
pub async fn build(settings: &Settings) -> Result<LiveAuth, StartError> {
    // One process: SQL sessions and the in-process channel. Several worker
    // processes (REDIS_URL set): sessions and live events through Redis.
    let stack: Stack = settings.stack.clone().build().await?;
    let mut builder = stack.live_auth();
    if let Some(oidc) = &settings.oidc {
        let config = ProviderConfig::issuer(
            "oidc",
            &oidc.issuer,
            &oidc.client_id,
            oidc.client_secret.as_str(),
            &oidc.redirect_uri,
        )
        .with_name(&oidc.name)
        .with_claim_map(ClaimMap::new().map("email_verified", "email_verified"));
        let provider = stack.oidc_provider(config)?;
        builder = builder.with_oidc(stack.oidc_routes()?.with_provider(Arc::new(provider)));
    }
    let auth = builder
        // The demo lets the register form set these two claims, so that a
        // visitor can try claims at once. Apps allow none by default: a form
        // that assigns claims is a privilege escalation waiting to happen.
        .with_registration_claims(["role", "email_verified"])
        .with_policies(
            Policies::new().with("AdminOnly", Policy::requires_claim("role", Some("admin"))),
        )
        .with_page(live_page())
        // The console at /admin: its actions and reads for `AdminOnly`.
        .with_admin("AdminOnly", stack.user_directory().clone())
        .with_page(admin_pages::user_page())
        .with_secure_cookie(settings.secure_cookies)
        .with_second_factors(second_factors(&stack)?)
        .build()?;
    Ok(auth)
}
