//! The handlers of the six `{prefix}/mfa/*` routes.

use auth_core::{Factor, Principal, StoreError, UserRecord, unix_now};
use auth_local_idp::LocalIdP;
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::mfa::{
    SecondFactors, generate_recovery_code, generate_secret, matching_step, normalize_recovery_code,
    normalize_totp_code,
};
use crate::request::AuthRequest;
use crate::response::{Body, Response, see_other};

use super::{Checked, MFA_CLAIM, RECOVERY_CODES_CLAIM, count_attempt, throttle_key};

impl LiveAuth {
    /// `POST {prefix}/mfa/verify` with `code`: completes a sign-in waiting
    /// for its second factor under a NEW session id.
    pub(in crate::routes) async fn mfa_verify(&self, request: AuthRequest) -> Response {
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
    pub(in crate::routes) async fn mfa_step_up(&self, request: AuthRequest) -> Response {
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
    pub(in crate::routes) async fn totp_begin(&self, request: AuthRequest) -> Response {
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
    pub(in crate::routes) async fn totp_confirm(&self, request: AuthRequest) -> Response {
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
        let throttle_key = throttle_key(user_id);
        if let Some(refusal) = count_attempt(&factors, &throttle_key).await {
            return self.code_refused(&request, &form, &refusal);
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
    pub(in crate::routes) async fn totp_disable(&self, request: AuthRequest) -> Response {
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
    pub(in crate::routes) async fn recovery_codes(&self, request: AuthRequest) -> Response {
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
