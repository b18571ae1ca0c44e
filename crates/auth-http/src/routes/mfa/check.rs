//! Checking a typed code, and what follows a first or second factor:
//! the waiting sign-in, the claims, the notice mail.

use auth_core::{Factor, Principal, StoreError, UserRecord, unix_now};
use http::header::SET_COOKIE;

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::mfa::{SecondFactors, matching_step, normalize_recovery_code, normalize_totp_code};
use crate::redirect::with_param;
use crate::request::AuthRequest;
use crate::response::{Response, see_other};

use super::{Checked, RECOVERY_CODES_CLAIM, count_attempt, throttle_key};

impl LiveAuth {
    /// After the password: signs in at once, or, for an account with an
    /// active second factor, starts a sign-in that waits for it (a new
    /// session id, anonymous until the factor) and sends the browser to the
    /// second-factor page, keeping `next`.
    pub(in crate::routes) async fn after_first_factor(
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
    pub(super) async fn check_code(
        &self,
        factors: &SecondFactors,
        user: &UserRecord,
        typed: &str,
    ) -> Checked {
        let user_id = user.user_id.as_str();
        let key = throttle_key(user_id);
        if let Some(refusal) = count_attempt(factors, &key).await {
            return refusal;
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
    pub(super) async fn set_codes_claim(&self, user: &UserRecord, left: usize) {
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
    pub(super) fn notify(&self, user: &UserRecord, what: &'static str) {
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
            crate::routes::account::send(
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
    pub(super) fn code_refused(
        &self,
        request: &AuthRequest,
        form: &Form,
        checked: &Checked,
    ) -> Response {
        let code = match checked {
            Checked::Throttled => ErrorCode::Throttled,
            Checked::Failed => ErrorCode::Unknown,
            Checked::Wrong | Checked::Passed(_) => ErrorCode::Invalid,
        };
        self.fail(&request.headers, form, code)
    }
}
