//! The second-factor routes under `{prefix}/mfa/`: enrol and confirm TOTP,
//! disable it, regenerate recovery codes, the second step of sign-in and
//! step-up; and what pages and guards ask about a user's factors. See
//! `docs/mfa.md`.

mod check;
mod handlers;

use std::sync::Arc;

use auth_core::throttle::ThrottleDecision;
use auth_core::{Factor, Principal, SessionKey, StoreError, unix_now};
use auth_local_idp::LocalIdP;
use http::StatusCode;

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::mfa::{Enrolment, SecondFactors, enrolment};
use crate::redirect::{safe_path, same_host_referer, with_param};
use crate::rejection::Rejection;
use crate::request::{AuthRequest, RequestAuth};
use crate::response::{Response, refused, see_other};

/// The claim an account with an active authenticator app holds
/// (`mfa=totp`), set and removed through the three layers so open tabs
/// follow.
pub(crate) const MFA_CLAIM: &str = "mfa";
/// The claim holding how many unused recovery codes the account has.
pub(crate) const RECOVERY_CODES_CLAIM: &str = "mfa_recovery_codes";

/// What a user has of second factors, for a security page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FactorStatus {
    /// An authenticator app guards the account.
    pub totp_active: bool,
    /// An enrolment was begun and waits for its confirming code.
    pub totp_pending: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: usize,
}

/// Whether a signed-in session may go on where a recent second factor is
/// asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepUp {
    /// The session verified a second factor within the configured age.
    Fresh,
    /// The account has a second factor, and the session has not verified
    /// it recently: send the user to the step-up page.
    Needed,
    /// The account has no second factor to ask for.
    NotEnrolled,
}

/// The outcome of checking a typed code.
enum Checked {
    Passed(Factor),
    Wrong,
    Throttled,
    Failed,
}

/// The key of the user's second-factor throttle.
fn throttle_key(user_id: &str) -> String {
    format!("mfa:{user_id}")
}

/// Counts one attempt at a second factor; the refusal when it is over the
/// throttle (or the throttle failed).
async fn count_attempt(factors: &SecondFactors, key: &str) -> Option<Checked> {
    match factors.throttle.attempt(key).await {
        Ok(ThrottleDecision::Allowed { .. }) => None,
        Ok(ThrottleDecision::Refused { .. }) => Some(Checked::Throttled),
        Err(error) => {
            tracing::error!(%error, "the second-factor throttle failed");
            Some(Checked::Failed)
        }
    }
}

impl LiveAuth {
    pub(super) fn second_factors(&self) -> Option<&Arc<SecondFactors>> {
        self.inner.second_factors.as_ref()
    }

    /// [`Self::prepare`]'s checks, then the factor settings (404 without).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    fn prepare_factors(
        &self,
        request: &AuthRequest,
    ) -> Result<(Form, Arc<LocalIdP>, Arc<SecondFactors>), Response> {
        let (form, idp) = self.prepare(request)?;
        let factors = self
            .second_factors()
            .cloned()
            .ok_or_else(|| refused(StatusCode::NOT_FOUND, "not found"))?;
        Ok((form, idp, factors))
    }

    /// The user's second factors; all off when none are configured.
    pub async fn factor_status(&self, user_id: &str) -> Result<FactorStatus, StoreError> {
        let Some(factors) = self.second_factors() else {
            return Ok(FactorStatus {
                totp_active: false,
                totp_pending: false,
                recovery_codes_left: 0,
            });
        };
        let totp = factors.store.totp(user_id).await?;
        Ok(FactorStatus {
            totp_active: totp.as_ref().is_some_and(auth_core::TotpRecord::is_active),
            totp_pending: totp.as_ref().is_some_and(|record| !record.is_active()),
            recovery_codes_left: factors.store.recovery_codes_left(user_id).await?,
        })
    }

    /// What an enrolment page shows for the user's pending secret (the
    /// otpauth URI, its QR code as SVG, the base32 secret); `None` when no
    /// enrolment waits. The page showing it must not be cached.
    pub async fn totp_enrolment(
        &self,
        principal: &Principal,
    ) -> Result<Option<Enrolment>, StoreError> {
        let (Some(factors), Some(user_id)) = (self.second_factors(), principal.user_id()) else {
            return Ok(None);
        };
        let Some(record) = factors.store.totp(user_id).await? else {
            return Ok(None);
        };
        if record.is_active() {
            return Ok(None);
        }
        let Some(secret) = factors.keys.open(user_id, &record.secret) else {
            tracing::error!("a pending TOTP secret does not open with the configured key");
            return Ok(None);
        };
        let account = principal
            .claim("email")
            .or_else(|| principal.display_name())
            .unwrap_or(user_id);
        Ok(enrolment(&secret, &factors.issuer, account))
    }

    /// Whether the signed-in session `key` of `user_id` verified a second
    /// factor recently enough for a step-up policy.
    pub async fn step_up_state(
        &self,
        key: &SessionKey,
        user_id: &str,
    ) -> Result<StepUp, auth_core::AuthError> {
        let Some(factors) = self.second_factors() else {
            return Ok(StepUp::NotEnrolled);
        };
        let active = factors.store.totp(user_id).await?;
        if !active.is_some_and(|record| record.is_active()) {
            return Ok(StepUp::NotEnrolled);
        }
        let proof = self
            .sessions()
            .peek(key)
            .await?
            .and_then(|session| session.record.second_factor);
        Ok(match proof {
            Some(proof) if proof.is_fresh(factors.step_up_max_age, unix_now()) => StepUp::Fresh,
            _ => StepUp::Needed,
        })
    }

    /// A guard for sensitive pages (an admin console): signed in, and a
    /// second factor verified within the configured age when the account
    /// has one; else a redirect to the login page or to the step-up page
    /// (with `next` back to this request).
    pub async fn require_recent_second_factor(
        &self,
        request: &RequestAuth,
    ) -> Result<(), Rejection> {
        let (principal, key) = request.load().await.map_err(|error| {
            tracing::error!(%error, "session could not be loaded");
            Rejection::Unavailable
        })?;
        let (Some(user_id), Some(key)) = (principal.user_id(), key) else {
            return Err(Rejection::Redirect(request.login_redirect()));
        };
        match self.step_up_state(&key, user_id).await {
            Ok(StepUp::Fresh | StepUp::NotEnrolled) => Ok(()),
            Ok(StepUp::Needed) => Err(Rejection::Redirect(
                self.step_up_redirect(request.return_path()),
            )),
            Err(error) => {
                tracing::error!(%error, "the step-up state could not be read");
                Err(Rejection::Unavailable)
            }
        }
    }

    /// The step-up page, with `next` when there is somewhere to go back to.
    fn step_up_redirect(&self, back: Option<&str>) -> String {
        let page = self
            .second_factors()
            .map_or(self.login_path(), |factors| factors.step_up_page.as_str());
        match back {
            Some(back) => with_param(page, "next", back),
            None => page.to_owned(),
        }
    }

    /// Where a form route that needs a step-up sends the browser: the
    /// step-up page, back to the form's page afterwards; `None` when the
    /// request may go on.
    pub(super) async fn step_up_refusal(
        &self,
        request: &AuthRequest,
        form: &Form,
        key: &SessionKey,
        user_id: &str,
    ) -> Option<Response> {
        match self.step_up_state(key, user_id).await {
            Ok(StepUp::Fresh | StepUp::NotEnrolled) => None,
            Ok(StepUp::Needed) => {
                let back = form
                    .get("error_next")
                    .and_then(safe_path)
                    .map(str::to_owned)
                    .or_else(|| same_host_referer(&request.headers));
                Some(see_other(&self.step_up_redirect(back.as_deref())))
            }
            Err(error) => {
                tracing::error!(%error, "the step-up state could not be read");
                Some(self.fail(&request.headers, form, ErrorCode::Unknown))
            }
        }
    }
}
