//! The second-factor routes under `{prefix}/mfa/`: enrol and confirm TOTP,
//! disable it, regenerate recovery codes, the second step of sign-in and
//! step-up; and what pages and guards ask about a user's factors. See
//! `docs/mfa.md`.

use std::sync::Arc;

use auth_core::throttle::ThrottleDecision;
use auth_core::{Factor, Principal, SessionKey, StoreError, UserRecord, unix_now};
use auth_local_idp::LocalIdP;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use http::{HeaderValue, StatusCode};

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::mfa::{
    Enrolment, SecondFactors, enrolment, generate_recovery_code, generate_secret, matching_step,
    normalize_recovery_code, normalize_totp_code,
};
use crate::redirect::{safe_path, same_host_referer, with_param};
use crate::rejection::Rejection;
use crate::request::{AuthRequest, RequestAuth};
use crate::response::{Body, Response, refused, see_other};

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

    /// After the password: signs in at once, or, for an account with an
    /// active second factor, starts a sign-in that waits for it (a new
    /// session id, anonymous until the factor) and sends the browser to the
    /// second-factor page, keeping `next`.
    pub(super) async fn after_first_factor(
        &self,
        request: &AuthRequest,
        form: &Form,
        principal: Principal,
    ) -> Option<Response> {
        let factors = self.second_factors()?;
        let user_id = principal.user_id()?;
        let active = match factors.store.totp(user_id).await {
            Ok(record) => record.is_some_and(|record| record.is_active()),
            Err(error) => {
                tracing::error!(%error, "reading the second factors failed");
                return Some(self.fail(&request.headers, form, ErrorCode::Unknown));
            }
        };
        if !active {
            return None;
        }
        let previous = request.session.cookie_key();
        let cookie = match self
            .sessions()
            .begin_second_factor(previous.as_ref(), user_id)
            .await
            .and_then(|(token, _)| self.cookie_for(&token))
        {
            Ok(cookie) => cookie,
            Err(error) => {
                tracing::error!(%error, "starting a second-factor sign-in failed");
                return Some(self.fail(&request.headers, form, ErrorCode::Unknown));
            }
        };
        let next = self.next_path(form);
        let mut response = see_other(&with_param(&factors.verify_page, "next", next));
        response.headers_mut().insert(SET_COOKIE, cookie);
        Some(response)
    }

    /// Checks `typed` (a TOTP code or a recovery code) for `user_id`,
    /// counting the attempt against the user's throttle. A TOTP code is
    /// good once, within a step of the current time; a recovery code once
    /// at all, and using one lowers the `mfa_recovery_codes` claim through
    /// the three layers and mails a notice.
    async fn check_code(&self, factors: &SecondFactors, user: &UserRecord, typed: &str) -> Checked {
        let user_id = user.user_id.as_str();
        let key = format!("mfa:{user_id}");
        match factors.throttle.attempt(&key).await {
            Ok(ThrottleDecision::Allowed { .. }) => {}
            Ok(ThrottleDecision::Refused { .. }) => return Checked::Throttled,
            Err(error) => {
                tracing::error!(%error, "the second-factor throttle failed");
                return Checked::Failed;
            }
        }
        let checked = if let Some(code) = normalize_totp_code(typed) {
            self.check_totp(factors, user_id, &code).await
        } else if let Some(code) = normalize_recovery_code(typed) {
            self.check_recovery_code(factors, user, &code).await
        } else {
            Ok(Checked::Wrong)
        };
        match checked {
            Ok(Checked::Passed(factor)) => {
                if let Err(error) = factors.throttle.reset(&key).await {
                    tracing::warn!(%error, "resetting the second-factor throttle failed");
                }
                Checked::Passed(factor)
            }
            Ok(other) => other,
            Err(error) => {
                tracing::error!(%error, "checking a second factor failed");
                Checked::Failed
            }
        }
    }

    async fn check_totp(
        &self,
        factors: &SecondFactors,
        user_id: &str,
        code: &str,
    ) -> Result<Checked, StoreError> {
        let Some(record) = factors.store.totp(user_id).await? else {
            return Ok(Checked::Wrong);
        };
        if !record.is_active() {
            return Ok(Checked::Wrong);
        }
        let Some(secret) = factors.keys.open(user_id, &record.secret) else {
            tracing::error!("a TOTP secret does not open with the configured key");
            return Ok(Checked::Failed);
        };
        let Some(step) = matching_step(&secret, code, unix_now()) else {
            return Ok(Checked::Wrong);
        };
        // The store takes the step only when it is later than the last one
        // used: a replayed code (or one of an earlier step) fails here.
        if factors.store.use_totp_step(user_id, step).await? {
            Ok(Checked::Passed(Factor::Totp))
        } else {
            tracing::debug!("a TOTP code of a used step was refused");
            Ok(Checked::Wrong)
        }
    }

    async fn check_recovery_code(
        &self,
        factors: &SecondFactors,
        user: &UserRecord,
        code: &str,
    ) -> Result<Checked, StoreError> {
        let user_id = user.user_id.as_str();
        let Some(hash) = factors.keys.code_hash(user_id, code) else {
            return Ok(Checked::Failed);
        };
        if !factors.store.use_recovery_code(user_id, &hash).await? {
            return Ok(Checked::Wrong);
        }
        let left = factors.store.recovery_codes_left(user_id).await?;
        self.set_codes_claim(user, left).await;
        self.notify(user, "A recovery code was used to sign in");
        Ok(Checked::Passed(Factor::RecoveryCode))
    }

    /// Sets `mfa_recovery_codes` to `left` through the three layers.
    async fn set_codes_claim(&self, user: &UserRecord, left: usize) {
        let principal = Principal::for_user(user);
        let granted = self
            .actions()
            .grant(&principal, None, RECOVERY_CODES_CLAIM, &left.to_string())
            .await;
        if let Err(error) = granted {
            tracing::error!(%error, "updating the recovery code claim failed");
        }
    }

    /// Mails the account a notice that its factors changed, when the
    /// account flows (and so a mailer) are configured.
    fn notify(&self, user: &UserRecord, what: &'static str) {
        let (Some(lifecycle), Some(email)) = (self.lifecycle(), user.email.clone()) else {
            return;
        };
        let Some(slot) = lifecycle.outbox.reserve() else {
            tracing::warn!("the account outbox is full: no notice of a second-factor change");
            return;
        };
        let lifecycle = lifecycle.clone();
        slot.run(async move {
            let forgot = lifecycle.flows.forgot_link();
            super::account::send(
                &lifecycle.flows,
                &email,
                crate::account::Message::SecondFactorChanged {
                    what,
                    forgot: &forgot,
                },
            )
            .await;
        });
    }

    /// The answer to a code that did not pass.
    fn code_refused(&self, request: &AuthRequest, form: &Form, checked: &Checked) -> Response {
        let code = match checked {
            Checked::Throttled => ErrorCode::Throttled,
            Checked::Failed => ErrorCode::Unknown,
            Checked::Wrong | Checked::Passed(_) => ErrorCode::Invalid,
        };
        self.fail(&request.headers, form, code)
    }

    /// `POST {prefix}/mfa/verify` with `code`: completes a sign-in waiting
    /// for its second factor under a NEW session id.
    pub(super) async fn mfa_verify(&self, request: AuthRequest) -> Response {
        let (form, _, factors) = match self.prepare_factors(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let Some(typed) = form.get("code") else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let pending = match request.session.load().await {
            Ok((_, Some(key))) => match self.sessions().peek(&key).await {
                Ok(active) => active
                    .and_then(|active| active.record.pending)
                    .map(|pending| (key, pending)),
                Err(error) => {
                    tracing::error!(%error, "session could not be loaded");
                    return self.fail(&request.headers, &form, ErrorCode::Unknown);
                }
            },
            Ok(_) => None,
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        };
        let Some((key, pending)) = pending else {
            return self.fail(&request.headers, &form, ErrorCode::SignedOut);
        };
        let user = match self.actions().store().get_user(&pending.user_id).await {
            Ok(Some(user)) => user,
            Ok(None) => return self.fail(&request.headers, &form, ErrorCode::SignedOut),
            Err(error) => {
                tracing::error!(%error, "the user could not be loaded");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        };
        let factor = match self.check_code(&factors, &user, typed).await {
            Checked::Passed(factor) => factor,
            other => return self.code_refused(&request, &form, &other),
        };
        match self
            .sign_in_with_factor(Some(&key), Principal::for_user(&user), factor)
            .await
        {
            Ok(cookie) => {
                tracing::info!(user_id = %user.user_id, %factor, "signed in with a second factor");
                let mut response = see_other(self.next_path(&form));
                response.headers_mut().insert(SET_COOKIE, cookie);
                response
            }
            Err(auth_core::SessionError::AccountDisabled) => {
                self.fail(&request.headers, &form, ErrorCode::Invalid)
            }
            Err(error) => {
                tracing::error!(%error, "signing in failed");
                self.fail(&request.headers, &form, ErrorCode::Unknown)
            }
        }
    }

    /// `POST {prefix}/mfa/step-up` with `code`: records a fresh second
    /// factor on this signed-in session.
    pub(super) async fn mfa_step_up(&self, request: AuthRequest) -> Response {
        let (form, _, factors) = match self.prepare_factors(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let Some(typed) = form.get("code") else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let (_, key, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        let factor = match self.check_code(&factors, &user, typed).await {
            Checked::Passed(factor) => factor,
            other => return self.code_refused(&request, &form, &other),
        };
        match self.sessions().record_second_factor(&key, factor).await {
            Ok(true) => see_other(self.next_path(&form)),
            Ok(false) => self.fail(&request.headers, &form, ErrorCode::SignedOut),
            Err(error) => {
                tracing::error!(%error, "recording a step-up failed");
                self.fail(&request.headers, &form, ErrorCode::Unknown)
            }
        }
    }

    /// `POST {prefix}/mfa/totp/begin`: a new pending secret for the
    /// signed-in user (`?error=exists` when one is active already); the
    /// enrolment page then shows it ([`LiveAuth::totp_enrolment`]).
    pub(super) async fn totp_begin(&self, request: AuthRequest) -> Response {
        let (form, _, factors) = match self.prepare_factors(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (_, _, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        let sealed = generate_secret().and_then(|secret| factors.keys.seal(&user.user_id, &secret));
        let Some(sealed) = sealed else {
            tracing::error!("making a TOTP secret failed");
            return self.fail(&request.headers, &form, ErrorCode::Unknown);
        };
        match factors.store.begin_totp(&user.user_id, &sealed).await {
            Ok(()) => see_other(self.next_path(&form)),
            Err(StoreError::Conflict { .. }) => {
                self.fail(&request.headers, &form, ErrorCode::Exists)
            }
            Err(error) => {
                tracing::error!(%error, "storing a TOTP secret failed");
                self.fail(&request.headers, &form, ErrorCode::Unknown)
            }
        }
    }

    /// `POST {prefix}/mfa/totp/confirm` with `code`: the pending secret
    /// becomes active when the code is right; ten recovery codes are made
    /// and shown this once; `mfa=totp` is set through the three layers.
    pub(super) async fn totp_confirm(&self, request: AuthRequest) -> Response {
        let (form, _, factors) = match self.prepare_factors(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let Some(typed) = form.get("code") else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let (principal, key, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        let user_id = user.user_id.as_str();
        let throttle_key = format!("mfa:{user_id}");
        match factors.throttle.attempt(&throttle_key).await {
            Ok(ThrottleDecision::Allowed { .. }) => {}
            Ok(ThrottleDecision::Refused { .. }) => {
                return self.fail(&request.headers, &form, ErrorCode::Throttled);
            }
            Err(error) => {
                tracing::error!(%error, "the second-factor throttle failed");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        }
        let pending = match factors.store.totp(user_id).await {
            Ok(Some(record)) if !record.is_active() => record,
            Ok(_) => return self.fail(&request.headers, &form, ErrorCode::NoFactor),
            Err(error) => {
                tracing::error!(%error, "reading a TOTP secret failed");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        };
        let step = normalize_totp_code(typed).and_then(|code| {
            let secret = factors.keys.open(user_id, &pending.secret)?;
            matching_step(&secret, &code, unix_now())
        });
        let Some(step) = step else {
            return self.fail(&request.headers, &form, ErrorCode::Invalid);
        };
        match factors.store.confirm_totp(user_id, step).await {
            Ok(true) => {}
            Ok(false) => return self.fail(&request.headers, &form, ErrorCode::NoFactor),
            Err(error) => {
                tracing::error!(%error, "confirming a TOTP secret failed");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        }
        if let Err(error) = factors.throttle.reset(&throttle_key).await {
            tracing::warn!(%error, "resetting the second-factor throttle failed");
        }
        if let Err(error) = self
            .actions()
            .grant(&principal, Some(&key), MFA_CLAIM, Factor::Totp.as_str())
            .await
        {
            tracing::error!(%error, "setting the mfa claim failed");
        }
        // The confirming code was this session's second factor.
        if let Err(error) = self
            .sessions()
            .record_second_factor(&key, Factor::Totp)
            .await
        {
            tracing::warn!(%error, "recording the confirming code failed");
        }
        tracing::info!(%user_id, "authenticator app enrolled");
        self.notify(&user, "An authenticator app was added to your account");
        self.fresh_codes(&request, &form, &factors, &user).await
    }

    /// `POST {prefix}/mfa/totp/disable` with `current_password` or `code`:
    /// removes the authenticator app and the recovery codes; `mfa` is
    /// removed through the three layers.
    pub(super) async fn totp_disable(&self, request: AuthRequest) -> Response {
        let (form, idp, factors) = match self.prepare_factors(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (principal, key, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = self.reentered(&request, &form, &idp, &factors, &user).await {
            return refusal;
        }
        let user_id = user.user_id.as_str();
        let removed = match factors.store.delete_totp(user_id).await {
            Ok(removed) => removed,
            Err(error) => {
                tracing::error!(%error, "deleting a TOTP secret failed");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        };
        if let Err(error) = factors.store.delete_recovery_codes(user_id).await {
            tracing::error!(%error, "deleting recovery codes failed");
        }
        for claim in [MFA_CLAIM, RECOVERY_CODES_CLAIM] {
            if let Err(error) = self
                .actions()
                .revoke_claim(&principal, Some(&key), claim)
                .await
            {
                tracing::error!(%error, "removing a second-factor claim failed");
            }
        }
        if removed {
            tracing::info!(%user_id, "authenticator app removed");
            self.notify(&user, "The authenticator app was removed from your account");
        }
        see_other(self.next_path(&form))
    }

    /// `POST {prefix}/mfa/recovery-codes` with `current_password` or
    /// `code`: ten new recovery codes replace the old ones, shown this once.
    pub(super) async fn recovery_codes(&self, request: AuthRequest) -> Response {
        let (form, idp, factors) = match self.prepare_factors(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (_, _, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        match factors.store.totp(&user.user_id).await {
            Ok(Some(record)) if record.is_active() => {}
            Ok(_) => return self.fail(&request.headers, &form, ErrorCode::NoFactor),
            Err(error) => {
                tracing::error!(%error, "reading a TOTP secret failed");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        }
        if let Err(refusal) = self.reentered(&request, &form, &idp, &factors, &user).await {
            return refusal;
        }
        self.notify(&user, "New recovery codes were made for your account");
        self.fresh_codes(&request, &form, &factors, &user).await
    }

    /// The re-entry a change of factors asks for: the password
    /// (`current_password`), or a code of a factor (`code`).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    async fn reentered(
        &self,
        request: &AuthRequest,
        form: &Form,
        idp: &LocalIdP,
        factors: &SecondFactors,
        user: &UserRecord,
    ) -> Result<(), Response> {
        if let Some(password) = form.get("current_password") {
            return idp
                .confirm_password(&user.user_id, password)
                .await
                .map_err(|error| self.failed(&request.headers, form, &error));
        }
        let Some(typed) = form.get("code") else {
            return Err(self.fail(&request.headers, form, ErrorCode::Missing));
        };
        match self.check_code(factors, user, typed).await {
            Checked::Passed(_) => Ok(()),
            other => Err(self.code_refused(request, form, &other)),
        }
    }

    /// Makes ten recovery codes, stores their hashes in place of the old
    /// ones, sets `mfa_recovery_codes` and answers with the page showing
    /// them, uncached.
    async fn fresh_codes(
        &self,
        request: &AuthRequest,
        form: &Form,
        factors: &SecondFactors,
        user: &UserRecord,
    ) -> Response {
        let user_id = user.user_id.as_str();
        let codes: Option<Vec<String>> = (0..auth_core::RECOVERY_CODE_COUNT)
            .map(|_| generate_recovery_code())
            .collect();
        let hashes = codes.as_ref().and_then(|codes| {
            codes
                .iter()
                .map(|code| {
                    let typed = normalize_recovery_code(code)?;
                    factors.keys.code_hash(user_id, &typed)
                })
                .collect::<Option<Vec<_>>>()
        });
        let (Some(codes), Some(hashes)) = (codes, hashes) else {
            tracing::error!("making recovery codes failed");
            return self.fail(&request.headers, form, ErrorCode::Unknown);
        };
        if let Err(error) = factors.store.replace_recovery_codes(user_id, &hashes).await {
            tracing::error!(%error, "storing recovery codes failed");
            return self.fail(&request.headers, form, ErrorCode::Unknown);
        }
        self.set_codes_claim(user, codes.len()).await;
        let page = (factors.codes_page)(&codes, self.next_path(form));
        let mut response = http::Response::new(Body::from(page));
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
