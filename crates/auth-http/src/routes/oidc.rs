//! The `{prefix}/{provider}/*` routes of the OpenID Connect and OAuth 2.0
//! providers: login, callback, link and unlink.

use std::sync::Arc;

use auth_core::AuthorizationCode;
use auth_oidc::{AccountError, FlowPurpose, OidcError, OidcProvider, PendingFlow};
use cookie::{Cookie, SameSite};
use http::header::{CACHE_CONTROL, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::redirect::{safe_path, with_error};
use crate::request::AuthRequest;
use crate::response::{Response, refused, see_other};

/// The flow cookie's name without the `__Host-` prefix.
const FLOW_COOKIE: &str = "live_auth_oidc";

/// What a callback brought back: from the query, or from the form a
/// `form_post` provider posted.
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

impl LiveAuth {
    /// `GET {prefix}/{provider}/login?next=`: starts a sign-in.
    pub(super) async fn oidc_login(&self, request: AuthRequest) -> Response {
        let Some(provider) = self.provider_of(&request) else {
            return refused(StatusCode::NOT_FOUND, "not found");
        };
        let next = request
            .query("next")
            .filter(|next| safe_path(next).is_some())
            .unwrap_or_else(|| self.inner.fallback_path.clone());
        self.redirect_to_provider(&provider, FlowPurpose::SignIn, &next, self.login_path())
            .await
    }

    /// `POST {prefix}/{provider}/link` (signed in, same origin): starts a
    /// flow that links the provider to the signed-in user.
    pub(super) async fn oidc_link(&self, request: AuthRequest) -> Response {
        let (provider, form, user_id) = match self.prepare_provider_form(&request).await {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        let next = self.next_path(&form).to_owned();
        let failure_page = form
            .get("error_next")
            .and_then(safe_path)
            .unwrap_or(&next)
            .to_owned();
        self.redirect_to_provider(
            &provider,
            FlowPurpose::Link { user_id },
            &next,
            &failure_page,
        )
        .await
    }

    /// `POST {prefix}/{provider}/unlink` (signed in, same origin).
    pub(super) async fn oidc_unlink(&self, request: AuthRequest) -> Response {
        let (provider, form, user_id) = match self.prepare_provider_form(&request).await {
            Ok(prepared) => prepared,
            Err(refusal) => return refusal,
        };
        match provider.unlink(&user_id).await {
            Ok(()) => {
                tracing::info!(provider = provider.id(), %user_id, "provider unlinked");
                see_other(self.next_path(&form))
            }
            Err(error) => self.fail(
                &request.headers,
                &form,
                ErrorCode::from(&OidcError::from(error)),
            ),
        }
    }

    /// `GET` (or, for `form_post` providers, `POST`) `{prefix}/{provider}/callback`.
    pub(super) async fn oidc_callback(&self, request: AuthRequest) -> Response {
        let Some(provider) = self.provider_of(&request) else {
            return refused(StatusCode::NOT_FOUND, "not found");
        };
        let Some(callback) = Self::callback_params(&request, &provider) else {
            return refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type");
        };
        let mut response = match self.checked_flow(&request.headers, &provider, &callback) {
            Err(code) => see_other(&with_error(self.login_path(), code.as_str())),
            Ok(flow) => {
                let failure_page = match &flow.purpose {
                    FlowPurpose::SignIn => self.login_path().to_owned(),
                    _ => flow.next.clone(),
                };
                match self.finish_flow(&request, &provider, &callback, flow).await {
                    Ok(response) => response,
                    Err(code) => see_other(&with_error(&failure_page, code.as_str())),
                }
            }
        };
        let headers = response.headers_mut();
        headers.append(SET_COOKIE, self.flow_cookie(&provider, None));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// The flow this callback finishes: its cookie opens, it is for this
    /// provider, its `state` is the one returned, and it was not used yet.
    fn checked_flow(
        &self,
        headers: &HeaderMap,
        provider: &OidcProvider,
        callback: &Callback,
    ) -> Result<PendingFlow, ErrorCode> {
        let oidc = self.inner.oidc.as_ref().ok_or(ErrorCode::Unknown)?;
        let sealed =
            flow_cookie_value(headers, &self.flow_cookie_name()).ok_or(ErrorCode::State)?;
        let flow = oidc.key.open(&sealed).map_err(|reason| {
            tracing::debug!(reason, "provider callback refused");
            ErrorCode::State
        })?;
        let state_ok = callback
            .state
            .as_deref()
            .is_some_and(|state| flow.state_matches(state));
        if flow.provider != provider.id() || !state_ok {
            tracing::debug!("provider callback refused: state mismatch");
            return Err(ErrorCode::State);
        }
        if !oidc.used.first_use(&flow) {
            tracing::debug!("provider callback refused: state used before");
            return Err(ErrorCode::State);
        }
        if callback.error.is_some() {
            return Err(ErrorCode::Denied);
        }
        Ok(flow)
    }

    /// Exchanges the code and signs in or links.
    async fn finish_flow(
        &self,
        request: &AuthRequest,
        provider: &OidcProvider,
        callback: &Callback,
        flow: PendingFlow,
    ) -> Result<Response, ErrorCode> {
        let code = callback.code.clone().ok_or(ErrorCode::Missing)?;
        let code = AuthorizationCode::new(code, flow.pkce_verifier, flow.nonce);
        match flow.purpose {
            FlowPurpose::SignIn => {
                let authenticated = provider
                    .sign_in(&code)
                    .await
                    .map_err(|e| ErrorCode::from(&e))?;
                let previous = request.session.cookie_key();
                let cookie = self
                    .sign_in(previous.as_ref(), authenticated.principal)
                    .await
                    .map_err(|error| {
                        tracing::error!(%error, "signing in failed");
                        ErrorCode::Unknown
                    })?;
                let mut response = see_other(&flow.next);
                response.headers_mut().insert(SET_COOKIE, cookie);
                Ok(response)
            }
            FlowPurpose::Link { user_id } => {
                let (principal, _) = request.session.load().await.map_err(|error| {
                    tracing::error!(%error, "session could not be loaded");
                    ErrorCode::Unknown
                })?;
                if principal.user_id() != Some(user_id.as_str()) {
                    return Err(ErrorCode::SignedOut);
                }
                provider
                    .link(&user_id, &code)
                    .await
                    .map_err(|e| ErrorCode::from(&e))?;
                tracing::info!(provider = provider.id(), %user_id, "provider linked");
                Ok(see_other(&flow.next))
            }
            _ => Err(ErrorCode::Unknown),
        }
    }

    /// 303 to the provider with the sealed flow in its cookie; a provider
    /// that cannot be reached sends the browser to `failure_page` with
    /// `?error=provider`.
    async fn redirect_to_provider(
        &self,
        provider: &OidcProvider,
        purpose: FlowPurpose,
        next: &str,
        failure_page: &str,
    ) -> Response {
        let Some(oidc) = self.inner.oidc.as_ref() else {
            return refused(StatusCode::NOT_FOUND, "not found");
        };
        match provider.start(purpose, next).await {
            Ok((url, flow)) => {
                let mut response = see_other(url.as_str());
                let headers = response.headers_mut();
                headers.insert(
                    SET_COOKIE,
                    self.flow_cookie(provider, Some(oidc.key.seal(&flow))),
                );
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
            Err(error) => {
                tracing::error!(provider = provider.id(), %error, "could not start a provider sign-in");
                see_other(&with_error(failure_page, ErrorCode::Provider.as_str()))
            }
        }
    }

    /// The provider, the same-origin form and the signed-in user of a link
    /// or unlink request.
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    async fn prepare_provider_form(
        &self,
        request: &AuthRequest,
    ) -> Result<(Arc<OidcProvider>, Form, String), Response> {
        let form = self.read_form(request)?;
        let provider = self
            .provider_of(request)
            .ok_or_else(|| refused(StatusCode::NOT_FOUND, "not found"))?;
        let principal = match request.session.load().await {
            Ok((principal, _)) => principal,
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                return Err(self.fail(&request.headers, &form, ErrorCode::Unknown));
            }
        };
        let Some(user_id) = principal.user_id().map(str::to_owned) else {
            return Err(self.fail(&request.headers, &form, ErrorCode::SignedOut));
        };
        Ok((provider, form, user_id))
    }

    /// The provider whose route this request is on.
    fn provider_of(&self, request: &AuthRequest) -> Option<Arc<OidcProvider>> {
        let rest = request.uri.path().strip_prefix(self.prefix())?;
        let id = rest.strip_prefix('/')?.split('/').next()?;
        self.inner.oidc.as_ref()?.providers.get(id).cloned()
    }

    /// The callback's parameters: the query of a `GET`, the form of a
    /// `POST` (only `form_post` providers get that route).
    fn callback_params(request: &AuthRequest, provider: &OidcProvider) -> Option<Callback> {
        if request.method == Method::POST && provider.config().uses_form_post() {
            let crate::request::RequestBody::Bytes(body) = &request.body else {
                return None;
            };
            let form = Form::parse(&request.headers, body)?;
            return Some(Callback {
                code: form.get("code").map(str::to_owned),
                state: form.get("state").map(str::to_owned),
                error: form.get("error").map(str::to_owned),
            });
        }
        Some(Callback {
            code: request.query("code").filter(|v| !v.is_empty()),
            state: request.query("state").filter(|v| !v.is_empty()),
            error: request.query("error"),
        })
    }

    fn flow_cookie_name(&self) -> String {
        if self.inner.cookie.secure {
            format!("__Host-{FLOW_COOKIE}")
        } else {
            FLOW_COOKIE.to_owned()
        }
    }

    /// The flow cookie carrying `sealed`, or its removal: `HttpOnly`,
    /// `Path=/`, ten minutes; `SameSite=Lax` so the provider's redirect
    /// back brings it, `None` (with `Secure`) for providers that post back.
    fn flow_cookie(&self, provider: &OidcProvider, sealed: Option<String>) -> HeaderValue {
        let same_site = if provider.config().uses_form_post() && self.inner.cookie.secure {
            SameSite::None
        } else {
            SameSite::Lax
        };
        let max_age = if sealed.is_some() {
            cookie::time::Duration::seconds(
                i64::try_from(auth_oidc::FLOW_LIFETIME.as_secs()).unwrap_or(600),
            )
        } else {
            cookie::time::Duration::ZERO
        };
        let cookie = Cookie::build((self.flow_cookie_name(), sealed.unwrap_or_default()))
            .path("/")
            .http_only(true)
            .same_site(same_site)
            .secure(self.inner.cookie.secure)
            .max_age(max_age)
            .build();
        HeaderValue::from_str(&cookie.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("live_auth_oidc=; Max-Age=0"))
    }
}

/// The first flow cookie named `name`.
fn flow_cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value_trimmed().to_owned())
}

impl From<&OidcError> for ErrorCode {
    /// The code of a provider flow failure; server failures are logged.
    fn from(error: &OidcError) -> Self {
        match error {
            OidcError::Account(AccountError::EmailInUse) => Self::Exists,
            OidcError::Account(AccountError::LinkedElsewhere) => Self::LinkedElsewhere,
            OidcError::Account(AccountError::LastSignIn) => Self::LastSignIn,
            OidcError::Account(
                AccountError::NotLinked | AccountError::Disabled | AccountError::Invalid(_),
            ) => Self::Invalid,
            OidcError::Flow(_) => Self::State,
            OidcError::Account(other) => {
                tracing::error!(error = %other, "provider account step failed");
                Self::Unknown
            }
            other => {
                tracing::warn!(error = %other, "provider sign-in refused");
                Self::Provider
            }
        }
    }
}
