//! The account lifecycle routes under `{prefix}/local/`: verify an email,
//! forgot and reset a password, change the password or the email, delete
//! the account. See `docs/account.md` for the flows and their settings.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use auth_core::throttle::ThrottleDecision;
use auth_core::{
    AuthStore, OneTimeToken, Principal, ProviderLink, SessionKey, StoreError, TokenPurpose,
    TokenRecord, UserRecord, UserUpdate, state_binding,
};
use auth_local_idp::{LocalIdP, LocalIdpError, PROVIDER, normalize_email};
use http::StatusCode;

use crate::account::{AccountFlows, Lifecycle, Message, send_with_retry};
use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::request::AuthRequest;
use crate::response::{Response, busy, refused, see_other};

/// The claim a verified address sets (and a changed one sets again).
pub(crate) const EMAIL_VERIFIED: &str = "email_verified";

/// How long a visitor waits when the outbox is full.
const OUTBOX_RETRY: Duration = Duration::from_secs(1);

/// The binding of a token to the account's address: it dies once the
/// address changes.
fn email_binding(email: Option<&str>) -> String {
    state_binding(&["email", email.unwrap_or("")])
}

/// The binding of a token to the account's password: it dies once the
/// password changes (a reset, a change, a re-hash).
async fn password_binding(store: &dyn AuthStore, user_id: &str) -> Result<String, StoreError> {
    let hash = store.password_hash(user_id).await?;
    Ok(state_binding(&[
        "password",
        hash.as_ref().map_or("", |hash| hash.as_str()),
    ]))
}

/// Whether the user's address is verified.
pub(crate) fn is_verified(claims: &[auth_core::Claim]) -> bool {
    claims
        .iter()
        .any(|claim| claim.kind == EMAIL_VERIFIED && claim.value == "true")
}

/// Stores a fresh token of `purpose` for `user_id` and returns its link.
async fn issue(
    flows: &AccountFlows,
    purpose: TokenPurpose,
    user_id: &str,
    binding: String,
    data: Option<&str>,
) -> Result<String, StoreError> {
    let token = OneTimeToken::generate();
    let mut record = TokenRecord::new(purpose, user_id, binding, flows.lifetime(purpose));
    if let Some(data) = data {
        record = record.with_data(data);
    }
    flows.tokens.save_token(&token.hash(), &record).await?;
    Ok(flows.link(purpose, token.as_str()))
}

/// Sends `message` to `to`, trying again while the server is unavailable;
/// a failure is logged (the visitor was answered already).
pub(super) async fn send(flows: &AccountFlows, to: &str, message: Message<'_>) {
    send_with_retry(flows.mailer.as_ref(), message.to(to, &flows.app_name)).await;
}

/// Mails `user` a link that verifies their address.
async fn send_verification(flows: &AccountFlows, user: &UserRecord) {
    let Some(email) = user.email.as_deref() else {
        return;
    };
    let purpose = TokenPurpose::VerifyEmail;
    match issue(
        flows,
        purpose,
        &user.user_id,
        email_binding(Some(email)),
        None,
    )
    .await
    {
        Ok(link) => {
            let hours = flows.lifetime(purpose).as_secs() / 3600;
            send(flows, email, Message::VerifyEmail { link: &link, hours }).await;
        }
        Err(error) => tracing::error!(%error, "storing a verification token failed"),
    }
}

impl LiveAuth {
    /// The lifecycle settings, when configured.
    pub(super) fn lifecycle(&self) -> Option<&Arc<Lifecycle>> {
        self.inner.account.as_ref()
    }

    /// [`Self::prepare`]'s checks, then the lifecycle settings (404 when
    /// the account flows are not configured).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    fn prepare_flow(
        &self,
        request: &AuthRequest,
    ) -> Result<(Form, Arc<LocalIdP>, Arc<Lifecycle>), Response> {
        let (form, idp) = self.prepare(request)?;
        let lifecycle = self
            .lifecycle()
            .cloned()
            .ok_or_else(|| refused(StatusCode::NOT_FOUND, "not found"))?;
        Ok((form, idp, lifecycle))
    }

    /// Counts a mail-sending request against the account key and the
    /// client address; a refusal is the answer to send.
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    async fn mail_allowed(
        &self,
        request: &AuthRequest,
        form: &Form,
        lifecycle: &Lifecycle,
        account_key: &str,
        idp: &LocalIdP,
    ) -> Result<(), Response> {
        let address: Option<IpAddr> = self.client_address(request.peer, &request.headers);
        let address_key = address.map_or_else(
            || "mail-addr:unknown".to_owned(),
            |ip| format!("mail-addr:{}", idp.address_group(ip)),
        );
        let checks = [
            (&lifecycle.flows.account_throttle, account_key),
            (&lifecycle.flows.address_throttle, address_key.as_str()),
        ];
        for (throttle, key) in checks {
            match throttle.attempt(key).await {
                Ok(ThrottleDecision::Allowed { .. }) => {}
                Ok(ThrottleDecision::Refused { .. }) => {
                    return Err(self.fail(&request.headers, form, ErrorCode::Throttled));
                }
                Err(error) => {
                    tracing::error!(%error, "the mail throttle failed");
                    return Err(self.fail(&request.headers, form, ErrorCode::Unknown));
                }
            }
        }
        Ok(())
    }

    /// The signed-in user of the request, or the answer for a request
    /// without one (`?error=signed_out`).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    pub(super) async fn signed_in_user(
        &self,
        request: &AuthRequest,
        form: &Form,
    ) -> Result<(Principal, SessionKey, UserRecord), Response> {
        let loaded = request.session.load().await;
        let (principal, key) = match loaded {
            Ok((principal, Some(key))) if principal.is_authenticated() => (principal, key),
            Ok(_) => return Err(self.fail(&request.headers, form, ErrorCode::SignedOut)),
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                return Err(self.fail(&request.headers, form, ErrorCode::Unknown));
            }
        };
        let user_id = principal.user_id().unwrap_or_default().to_owned();
        match self.actions().store().get_user(&user_id).await {
            Ok(Some(user)) => Ok((principal, key, user)),
            Ok(None) => Err(self.fail(&request.headers, form, ErrorCode::SignedOut)),
            Err(error) => {
                tracing::error!(%error, "the user could not be loaded");
                Err(self.fail(&request.headers, form, ErrorCode::Unknown))
            }
        }
    }

    /// Takes the token of `purpose` the form carries: the record, or the
    /// answer `?error=invalid_token` (whatever the reason).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    async fn take_token(
        &self,
        request: &AuthRequest,
        form: &Form,
        lifecycle: &Lifecycle,
        purpose: TokenPurpose,
    ) -> Result<(OneTimeToken, TokenRecord, UserRecord), Response> {
        let invalid = || self.fail(&request.headers, form, ErrorCode::InvalidToken);
        let Some(token) = form.get("token").and_then(OneTimeToken::parse) else {
            return Err(invalid());
        };
        let record = match lifecycle
            .flows
            .tokens
            .take_token(&token.hash(), purpose)
            .await
        {
            Ok(Some(record)) => record,
            Ok(None) => return Err(invalid()),
            Err(error) => {
                tracing::error!(%error, "taking a one-time token failed");
                return Err(self.fail(&request.headers, form, ErrorCode::Unknown));
            }
        };
        match self.actions().store().get_user(&record.user_id).await {
            Ok(Some(user)) => Ok((token, record, user)),
            Ok(None) => Err(invalid()),
            Err(error) => {
                tracing::error!(%error, "the user could not be loaded");
                Err(self.fail(&request.headers, form, ErrorCode::Unknown))
            }
        }
    }

    /// Registration that reveals nothing: every well-formed registration
    /// is answered alike once its password is hashed; the account (or the
    /// notice to a taken address's owner) is finished in the background.
    pub(super) async fn register_quietly(
        &self,
        request: &AuthRequest,
        form: &Form,
        idp: Arc<LocalIdP>,
        lifecycle: &Arc<Lifecycle>,
        registration: auth_local_idp::Registration,
    ) -> Response {
        let Some(slot) = lifecycle.outbox.reserve() else {
            return busy(OUTBOX_RETRY);
        };
        let client = self.client_address(request.peer, &request.headers);
        let prepared = match idp.prepare_registration(registration, client).await {
            Ok(prepared) => prepared,
            Err(error) => return self.failed(&request.headers, form, &error),
        };
        let lifecycle = lifecycle.clone();
        slot.run(async move {
            let email = prepared.email().to_owned();
            let flows = &lifecycle.flows;
            match idp.finish_registration(prepared).await {
                Ok(user) => send_verification(flows, &user).await,
                Err(LocalIdpError::EmailTaken) => {
                    // The owner hears of it, at most as often as the
                    // account throttle allows.
                    let key = format!("mail-notice:{email}");
                    if matches!(
                        flows.account_throttle.attempt(&key).await,
                        Ok(ThrottleDecision::Allowed { .. })
                    ) {
                        let forgot = flows.forgot_link();
                        send(
                            flows,
                            &email,
                            Message::AlreadyRegistered { forgot: &forgot },
                        )
                        .await;
                    }
                }
                Err(error) => tracing::error!(%error, "finishing a registration failed"),
            }
        });
        see_other(self.next_path(form))
    }

    /// After an immediate registration: the verification mail, if the
    /// lifecycle is on and the outbox has room (else the user asks again).
    pub(super) fn after_registration(&self, user: &UserRecord) {
        let Some(lifecycle) = self.lifecycle() else {
            return;
        };
        let Some(slot) = lifecycle.outbox.reserve() else {
            tracing::warn!("the account outbox is full: no verification mail for a new account");
            return;
        };
        let lifecycle = lifecycle.clone();
        let user = user.clone();
        slot.run(async move { send_verification(&lifecycle.flows, &user).await });
    }

    /// Whether a login of `principal` may go on; with registration that
    /// reveals nothing an unverified account may not, and gets a fresh
    /// link instead (throttled like any mail).
    pub(super) async fn login_allowed(&self, principal: &Principal) -> bool {
        let Some(lifecycle) = self.lifecycle() else {
            return true;
        };
        if lifecycle.flows.registration != crate::account::RegistrationMode::RevealNothing
            || is_verified(principal.claims())
        {
            return true;
        }
        let user_id = principal.user_id().unwrap_or_default();
        let key = format!("mail-verify:{user_id}");
        let allowed = matches!(
            lifecycle.flows.account_throttle.attempt(&key).await,
            Ok(ThrottleDecision::Allowed { .. })
        );
        if allowed
            && let Ok(Some(user)) = self.actions().store().get_user(user_id).await
            && let Some(slot) = lifecycle.outbox.reserve()
        {
            let lifecycle = lifecycle.clone();
            slot.run(async move { send_verification(&lifecycle.flows, &user).await });
        }
        false
    }

    /// `POST {prefix}/local/verify-email/send`: a new verification link
    /// for the signed-in user (nothing when the address is verified).
    pub(super) async fn send_verification(&self, request: AuthRequest) -> Response {
        let (form, idp, lifecycle) = match self.prepare_flow(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (_, _, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        if is_verified(&user.claims) || user.email.is_none() {
            return see_other(self.next_path(&form));
        }
        let key = format!("mail-verify:{}", user.user_id);
        if let Err(refusal) = self
            .mail_allowed(&request, &form, &lifecycle, &key, &idp)
            .await
        {
            return refusal;
        }
        let Some(slot) = lifecycle.outbox.reserve() else {
            return busy(OUTBOX_RETRY);
        };
        let job = lifecycle.clone();
        slot.run(async move { send_verification(&job.flows, &user).await });
        see_other(self.next_path(&form))
    }

    /// `POST {prefix}/local/verify-email` with `token`: sets
    /// `email_verified=true` through the three layers, so open tabs see it
    /// at once.
    pub(super) async fn verify_email(&self, request: AuthRequest) -> Response {
        let (form, _, lifecycle) = match self.prepare_flow(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (_, record, user) = match self
            .take_token(&request, &form, &lifecycle, TokenPurpose::VerifyEmail)
            .await
        {
            Ok(taken) => taken,
            Err(refusal) => return refusal,
        };
        if !record.binds(&email_binding(user.email.as_deref())) {
            tracing::debug!("verification refused: the address changed since");
            return self.fail(&request.headers, &form, ErrorCode::InvalidToken);
        }
        let granted = self
            .actions()
            .grant(&Principal::for_user(&user), None, EMAIL_VERIFIED, "true")
            .await;
        if let Err(error) = granted {
            tracing::error!(%error, "marking the address verified failed");
            return self.fail(&request.headers, &form, ErrorCode::Unknown);
        }
        tracing::info!(user_id = %user.user_id, "email verified");
        see_other(self.next_path(&form))
    }

    /// `POST {prefix}/local/forgot-password` with `email`: answered the
    /// same whether or not the address has an account; the reset link is
    /// stored and mailed in the background.
    pub(super) async fn forgot_password(&self, request: AuthRequest) -> Response {
        let (form, idp, lifecycle) = match self.prepare_flow(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let Some(email) = form.get("email") else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let Ok(email) = normalize_email(email) else {
            return self.fail(&request.headers, &form, ErrorCode::Invalid);
        };
        let key = format!("mail-reset:{email}");
        if let Err(refusal) = self
            .mail_allowed(&request, &form, &lifecycle, &key, &idp)
            .await
        {
            return refusal;
        }
        let Some(slot) = lifecycle.outbox.reserve() else {
            return busy(OUTBOX_RETRY);
        };
        let store = self.actions().store().clone();
        slot.run(async move {
            let flows = &lifecycle.flows;
            let user = match store.find_by_provider(PROVIDER, &email).await {
                Ok(Some(user)) => user,
                Ok(None) => return,
                Err(error) => {
                    tracing::error!(%error, "looking up a reset address failed");
                    return;
                }
            };
            let purpose = TokenPurpose::ResetPassword;
            let issued = match password_binding(&*store, &user.user_id).await {
                Ok(binding) => issue(flows, purpose, &user.user_id, binding, None).await,
                Err(error) => Err(error),
            };
            match issued {
                Ok(link) => {
                    let minutes = flows.lifetime(purpose).as_secs() / 60;
                    send(
                        flows,
                        &email,
                        Message::ResetPassword {
                            link: &link,
                            minutes,
                        },
                    )
                    .await;
                }
                Err(error) => tracing::error!(%error, "storing a reset token failed"),
            }
        });
        see_other(self.next_path(&form))
    }

    /// `POST {prefix}/local/reset-password` with `token` and `password`:
    /// sets the password, ends every session of the user (their live tabs
    /// go to the login page) and signs this browser out.
    pub(super) async fn reset_password(&self, request: AuthRequest) -> Response {
        let (form, idp, lifecycle) = match self.prepare_flow(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let Some(password) = form.get("password") else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        // A password the policy refuses leaves the link usable.
        if idp.password_policy().check(password).is_err() {
            return self.fail(&request.headers, &form, ErrorCode::Invalid);
        }
        let (token, record, user) = match self
            .take_token(&request, &form, &lifecycle, TokenPurpose::ResetPassword)
            .await
        {
            Ok(taken) => taken,
            Err(refusal) => return refusal,
        };
        let store = self.actions().store();
        match password_binding(&**store, &user.user_id).await {
            Ok(binding) if record.binds(&binding) => {}
            Ok(_) => {
                tracing::debug!("reset refused: the password changed since the link was sent");
                return self.fail(&request.headers, &form, ErrorCode::InvalidToken);
            }
            Err(error) => {
                tracing::error!(%error, "reading the password state failed");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        }
        if let Err(error) = idp.reset_password(&user.user_id, password).await {
            if matches!(error, LocalIdpError::Busy { .. }) {
                // Nothing changed: the link stays good for a retry.
                if let Err(error) = lifecycle
                    .flows
                    .tokens
                    .save_token(&token.hash(), &record)
                    .await
                {
                    tracing::warn!(%error, "restoring a reset token failed");
                }
            }
            return self.failed(&request.headers, &form, &error);
        }
        let principal = Principal::for_user(&user);
        if let Err(error) = self.actions().revoke_all_sessions(&principal).await {
            tracing::error!(%error, "ending the sessions after a reset failed");
        }
        if let Err(error) = lifecycle
            .flows
            .tokens
            .delete_tokens_of(&user.user_id, Some(TokenPurpose::ResetPassword))
            .await
        {
            tracing::warn!(%error, "deleting the other reset tokens failed");
        }
        let mut response = see_other(self.next_path(&form));
        self.mark_signed_out(response.headers_mut());
        response
    }

    /// `POST {prefix}/local/change-password` with `current_password` and
    /// `password`: the user's other sessions end; this one stays.
    pub(super) async fn change_password(&self, request: AuthRequest) -> Response {
        let (form, idp) = match self.prepare(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (Some(current), Some(new)) = (form.get("current_password"), form.get("password"))
        else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let (principal, key, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        if let Err(error) = idp.change_password(&user.user_id, current, new).await {
            return self.failed(&request.headers, &form, &error);
        }
        if let Err(error) = self.actions().revoke_other_sessions(&principal, &key).await {
            tracing::error!(%error, "ending the other sessions after a password change failed");
        }
        if let (Some(lifecycle), Some(email)) = (self.lifecycle(), user.email.clone())
            && let Some(slot) = lifecycle.outbox.reserve()
        {
            let lifecycle = lifecycle.clone();
            slot.run(async move {
                let forgot = lifecycle.flows.forgot_link();
                send(
                    &lifecycle.flows,
                    &email,
                    Message::PasswordChanged { forgot: &forgot },
                )
                .await;
            });
        }
        see_other(self.next_path(&form))
    }

    /// `POST {prefix}/local/change-email` with `email` and
    /// `current_password`: mails a confirmation link to the new address and
    /// a notice to the old one; answered the same whether or not the new
    /// address has an account.
    pub(super) async fn change_email(&self, request: AuthRequest) -> Response {
        let (form, idp, lifecycle) = match self.prepare_flow(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (Some(new), Some(password)) = (form.get("email"), form.get("current_password")) else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let (_, _, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        let new = match normalize_email(new) {
            Ok(new) if user.email.as_deref() != Some(new.as_str()) => new,
            _ => return self.fail(&request.headers, &form, ErrorCode::Invalid),
        };
        if let Err(error) = idp.confirm_password(&user.user_id, password).await {
            return self.failed(&request.headers, &form, &error);
        }
        let key = format!("mail-change:{}", user.user_id);
        if let Err(refusal) = self
            .mail_allowed(&request, &form, &lifecycle, &key, &idp)
            .await
        {
            return refusal;
        }
        let Some(slot) = lifecycle.outbox.reserve() else {
            return busy(OUTBOX_RETRY);
        };
        let store = self.actions().store().clone();
        slot.run(async move {
            let flows = &lifecycle.flows;
            let old = user.email.as_deref();
            match store.find_by_provider(PROVIDER, &new).await {
                Ok(Some(_)) => {
                    let forgot = flows.forgot_link();
                    send(flows, &new, Message::AddressInUse { forgot: &forgot }).await;
                }
                Ok(None) => {
                    let purpose = TokenPurpose::ChangeEmail;
                    let binding = email_binding(old);
                    match issue(flows, purpose, &user.user_id, binding, Some(&new)).await {
                        Ok(link) => {
                            let hours = flows.lifetime(purpose).as_secs() / 3600;
                            send(flows, &new, Message::ConfirmNewEmail { link: &link, hours })
                                .await;
                        }
                        Err(error) => {
                            tracing::error!(%error, "storing an email-change token failed");
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "looking up a new address failed");
                    return;
                }
            }
            if let Some(old) = old {
                send(flows, old, Message::EmailChangeRequested { new: &new }).await;
            }
        });
        see_other(self.next_path(&form))
    }

    /// `POST {prefix}/local/confirm-email` with `token`: the account's
    /// address (and its local sign-in) becomes the new one, verified.
    pub(super) async fn confirm_email(&self, request: AuthRequest) -> Response {
        let (form, _, lifecycle) = match self.prepare_flow(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (_, record, user) = match self
            .take_token(&request, &form, &lifecycle, TokenPurpose::ChangeEmail)
            .await
        {
            Ok(taken) => taken,
            Err(refusal) => return refusal,
        };
        let new = match record.data.as_deref() {
            Some(new) if record.binds(&email_binding(user.email.as_deref())) => new,
            _ => return self.fail(&request.headers, &form, ErrorCode::InvalidToken),
        };
        match self.move_email(&user, new).await {
            Ok(()) => see_other(self.next_path(&form)),
            Err(StoreError::Conflict { .. }) => {
                self.fail(&request.headers, &form, ErrorCode::Exists)
            }
            Err(error) => {
                tracing::error!(%error, "changing the address failed");
                self.fail(&request.headers, &form, ErrorCode::Unknown)
            }
        }
    }

    /// Moves the user's address and local sign-in to `new`: the new link
    /// first (a taken address is `Conflict` and nothing changes), then the
    /// record, then the old link goes; the address is marked verified
    /// through the three layers.
    async fn move_email(&self, user: &UserRecord, new: &str) -> Result<(), StoreError> {
        let store = self.actions().store();
        let user_id = user.user_id.as_str();
        store
            .link_provider(ProviderLink::new(PROVIDER, new, user_id))
            .await?;
        let updated = store
            .update_user(user_id, UserUpdate::new().email(Some(new.to_owned())))
            .await?;
        if let Some(old) = user.email.as_deref() {
            store.unlink_provider(user_id, PROVIDER, old).await?;
        }
        let granted = self
            .actions()
            .grant(&Principal::for_user(&updated), None, EMAIL_VERIFIED, "true")
            .await;
        if let Err(error) = granted {
            tracing::error!(%error, "marking the new address verified failed");
        }
        tracing::info!(%user_id, "email changed");
        Ok(())
    }

    /// `POST {prefix}/local/delete-account` with `current_password`:
    /// deletes the user and everything of theirs; every session and tab
    /// ends, and this browser is signed out.
    pub(super) async fn delete_account(&self, request: AuthRequest) -> Response {
        let (form, idp) = match self.prepare(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let Some(password) = form.get("current_password") else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let (principal, key, user) = match self.signed_in_user(&request, &form).await {
            Ok(found) => found,
            Err(refusal) => return refusal,
        };
        if let Some(refusal) = self
            .step_up_refusal(&request, &form, &key, &user.user_id)
            .await
        {
            return refusal;
        }
        if let Err(error) = idp.confirm_password(&user.user_id, password).await {
            return self.failed(&request.headers, &form, &error);
        }
        if let Err(error) = self.actions().delete_user(&principal).await {
            tracing::error!(%error, "deleting the account failed");
            return self.fail(&request.headers, &form, ErrorCode::Unknown);
        }
        if let Some(lifecycle) = self.lifecycle()
            && let Err(error) = lifecycle
                .flows
                .tokens
                .delete_tokens_of(&user.user_id, None)
                .await
        {
            tracing::warn!(%error, "deleting a deleted user's tokens failed");
        }
        let mut response = see_other(self.next_path(&form));
        self.mark_signed_out(response.headers_mut());
        response
    }
}
