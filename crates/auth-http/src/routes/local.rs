//! The `/local/*` routes of the local identity provider: register, login,
//! token, verify-token and revoke.

use std::sync::Arc;
use std::time::Duration;

use auth_core::throttle::ThrottleDecision;
use auth_core::{AuthError, Claim, Principal, SessionKey};
use auth_local_idp::{IdToken, LocalIdP, LocalIdpError, Registration, SESSION_CLAIM};
use http::header::SET_COOKIE;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::account::RegistrationMode;
use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::csrf::same_origin;
use crate::form::Form;
use crate::request::{AuthRequest, RequestBody};
use crate::response::{Response, busy, json, refused, see_other, too_many};

/// Whether the token's `claims` list names the same claims as `current`,
/// in any order. A missing or malformed list holds none.
fn same_claims(token: &IdToken, current: &[Claim]) -> bool {
    let carried = token
        .claim("claims")
        .and_then(|list| serde_json::from_value::<Vec<Claim>>(list.clone()).ok())
        .unwrap_or_default();
    let key = |claim: &Claim| (claim.kind.clone(), claim.value.clone());
    let mut carried: Vec<_> = carried.iter().map(key).collect();
    let mut current: Vec<_> = current.iter().map(key).collect();
    carried.sort();
    current.sort();
    carried == current
}

/// Lifetime of the token `POST /local/token` issues.
const TOKEN_TTL: Duration = Duration::from_secs(600);

impl LiveAuth {
    /// `POST {prefix}/local/register`.
    pub(super) async fn register(&self, request: AuthRequest) -> Response {
        let (form, idp) = match self.prepare(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (Some(email), Some(password)) = (form.get("email"), form.get("password")) else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let mut registration =
            Registration::new(email, password).with_claims(self.registration_claims(&form));
        if let Some(name) = form.get("name") {
            registration = registration.with_name(name);
        }
        if let Some(lifecycle) = self.lifecycle().cloned()
            && lifecycle.flows.registration == RegistrationMode::RevealNothing
        {
            return self
                .register_quietly(&request, &form, idp, &lifecycle, registration)
                .await;
        }
        let created = match self.client_address(request.peer, &request.headers) {
            Some(addr) => idp.create_user_from(addr, registration).await,
            None => idp.create_user(registration).await,
        };
        match created {
            Ok(user) => {
                self.after_registration(&user);
                self.signed_in(&request, &form, Principal::for_user(&user))
                    .await
            }
            Err(error) => self.failed(&request.headers, &form, &error),
        }
    }

    /// `POST {prefix}/local/login`.
    pub(super) async fn login(&self, request: AuthRequest) -> Response {
        let (form, idp) = match self.prepare(&request) {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let (Some(email), Some(password)) = (form.get("email"), form.get("password")) else {
            return self.fail(&request.headers, &form, ErrorCode::Missing);
        };
        let verified = match self.client_address(request.peer, &request.headers) {
            Some(addr) => idp.verify_credentials_from(addr, email, password).await,
            None => idp.verify_credentials(email, password).await,
        };
        match verified {
            Ok(principal) if !self.login_allowed(&principal).await => {
                self.fail(&request.headers, &form, ErrorCode::Unverified)
            }
            Ok(principal) => self.signed_in(&request, &form, principal).await,
            Err(error) => self.failed(&request.headers, &form, &error),
        }
    }

    /// `POST {prefix}/local/revoke`: signs this session out.
    pub(super) async fn revoke(&self, request: AuthRequest) -> Response {
        let form = match self.prepare(&request) {
            Ok((form, _)) => form,
            Err(refusal) => return refusal,
        };
        let (principal, session) = match request.session.load().await {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                return self.fail(&request.headers, &form, ErrorCode::Unknown);
            }
        };
        let outcome = match (&session, principal.is_authenticated()) {
            (Some(key), true) => self.actions().revoke_session(&principal, key).await,
            (Some(key), false) => self
                .sessions()
                .sign_out(key)
                .await
                .map(drop)
                .map_err(AuthError::from),
            (None, _) => Ok(()),
        };
        if let Err(error) = outcome {
            tracing::error!(%error, "signing out failed");
            return self.fail(&request.headers, &form, ErrorCode::Unknown);
        }
        let mut response = see_other(self.next_path(&form));
        self.mark_signed_out(response.headers_mut());
        response
    }

    /// `POST {prefix}/local/token`: a JWT for the signed-in session.
    pub(super) async fn token(&self, request: AuthRequest) -> Response {
        if !same_origin(&request.headers) {
            return refused(StatusCode::FORBIDDEN, "forbidden");
        }
        let Some(idp) = self.inner.local_idp.clone() else {
            return refused(StatusCode::NOT_FOUND, "not found");
        };
        let (principal, session) = match request.session.load().await {
            Ok(found) => found,
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                return json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"error": "unavailable"}),
                );
            }
        };
        if !principal.is_authenticated() {
            return json(StatusCode::UNAUTHORIZED, &json!({"error": "unauthorized"}));
        }
        let issued = match &session {
            Some(key) => idp.issue_for_session(&principal, key.as_str(), Some(TOKEN_TTL)),
            None => idp.issue_for_principal(&principal, Some(TOKEN_TTL)),
        };
        let issued = issued.and_then(|token| {
            let decoded = idp.verify_id_token(&token)?;
            Ok((token, decoded))
        });
        match issued {
            Ok((token, decoded)) => json(
                StatusCode::OK,
                &json!({"token": token, "decoded": decoded.claims()}),
            ),
            Err(error) => {
                tracing::error!(%error, "issuing a token failed");
                json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"error": "internal"}),
                )
            }
        }
    }

    /// `POST {prefix}/local/verify-token` with `{"token": "..."}`.
    ///
    /// Throttled per client address (429 with `Retry-After` past the
    /// limit). A token carrying `sid` is valid only while that session is
    /// live and belongs to the token's subject.
    pub(super) async fn verify_token(&self, request: AuthRequest) -> Response {
        let Some(idp) = self.inner.local_idp.clone() else {
            return refused(StatusCode::NOT_FOUND, "not found");
        };
        // Without a recorded address every caller shares one count: the
        // route stays throttled rather than open.
        let key = self
            .client_address(request.peer, &request.headers)
            .map_or_else(
                || "verify:unknown".to_owned(),
                |ip| format!("verify:{}", idp.address_group(ip)),
            );
        match self.inner.verify_token_throttle.attempt(&key).await {
            Ok(ThrottleDecision::Allowed { .. }) => {}
            Ok(ThrottleDecision::Refused { retry_after }) => return too_many(retry_after),
            Err(error) => {
                tracing::error!(%error, "the verify-token throttle failed");
                return json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"error": "unavailable"}),
                );
            }
        }
        let body = match &request.body {
            RequestBody::Bytes(body) => body.as_ref(),
            RequestBody::Empty => &[],
            RequestBody::TooLarge => {
                return json(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &json!({"error": "payload_too_large"}),
                );
            }
        };
        let token = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|value| value.get("token")?.as_str().map(str::to_owned));
        let Some(token) = token else {
            return json(StatusCode::BAD_REQUEST, &json!({"error": "bad_request"}));
        };
        let decoded = match idp.verify_id_token(&token) {
            Ok(decoded) => decoded,
            Err(error) => {
                tracing::debug!(%error, "token refused");
                return json(StatusCode::OK, &json!({"valid": false}));
            }
        };
        match self.session_holds(&decoded).await {
            Ok(true) => json(
                StatusCode::OK,
                &json!({"valid": true, "decoded": decoded.claims()}),
            ),
            Ok(false) => {
                tracing::debug!("token refused: its session is gone");
                json(StatusCode::OK, &json!({"valid": false}))
            }
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &json!({"error": "unavailable"}),
                )
            }
        }
    }

    /// The checks every local form route makes first: those of
    /// [`LiveAuth::form_of`], and a configured provider (else 404).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    pub(super) fn prepare(&self, request: &AuthRequest) -> Result<(Form, Arc<LocalIdP>), Response> {
        if !same_origin(&request.headers) {
            return Err(refused(StatusCode::FORBIDDEN, "forbidden"));
        }
        let idp = self
            .inner
            .local_idp
            .clone()
            .ok_or_else(|| refused(StatusCode::NOT_FOUND, "not found"))?;
        Ok((self.form_of(request)?, idp))
    }

    /// The answer to a provider failure on a form route: 503 with
    /// `Retry-After` at once when the hashing queue is full (a redirect
    /// carries no `Retry-After`), else [`Self::fail`] with its code.
    pub(super) fn failed(
        &self,
        headers: &HeaderMap,
        form: &Form,
        error: &LocalIdpError,
    ) -> Response {
        match error {
            LocalIdpError::Busy { retry_after } => busy(*retry_after),
            other => self.fail(headers, form, other.into()),
        }
    }

    /// Signs in under a new session id (the cookie's old session, planted
    /// or not, is deleted) and redirects to `next`.
    async fn signed_in(
        &self,
        request: &AuthRequest,
        form: &Form,
        principal: Principal,
    ) -> Response {
        let previous = request.session.cookie_key();
        match self.sign_in(previous.as_ref(), principal).await {
            Ok(cookie) => {
                let mut response = see_other(self.next_path(form));
                response.headers_mut().insert(SET_COOKIE, cookie);
                response
            }
            Err(error) => {
                tracing::error!(%error, "signing in failed");
                self.fail(&request.headers, form, ErrorCode::Unknown)
            }
        }
    }

    /// The claims the registration form may set: only allowlisted types.
    fn registration_claims(&self, form: &Form) -> Vec<Claim> {
        self.inner
            .registration_claims
            .iter()
            .filter_map(|kind| {
                let value = form.get(kind)?;
                // A checked checkbox posts `on`.
                let value = if value == "on" { "true" } else { value };
                Some(Claim::new(kind.clone(), value))
            })
            .collect()
    }

    /// Whether a verified token still speaks the truth about its session
    /// (its `sid`): the session is live, still the token subject's, and
    /// its principal holds exactly the claims the token carries, so a token
    /// issued before a claim was revoked stops vouching for it. A token
    /// without `sid` (machine to machine, from `LocalIdP::issue_id_token`)
    /// has no session to lose. Peeking does not count as activity, so
    /// checking a token never keeps an idle session alive.
    async fn session_holds(&self, token: &IdToken) -> Result<bool, auth_core::SessionError> {
        let Some(sid) = token.claim(SESSION_CLAIM) else {
            return Ok(true);
        };
        let Some(key) = sid.as_str().and_then(|sid| SessionKey::parse(sid).ok()) else {
            return Ok(false);
        };
        let Some(active) = self.sessions().peek(&key).await? else {
            return Ok(false);
        };
        if active.record.user_id() != Some(token.subject()) {
            return Ok(false);
        }
        Ok(same_claims(token, active.record.principal.claims()))
    }
}
