//! The routes the web layer serves under its prefix, and their dispatch.

#[cfg(feature = "local-idp")]
mod account;
mod admin;
#[cfg(feature = "local-idp")]
mod local;
#[cfg(feature = "local-idp")]
mod mfa;

#[cfg(feature = "local-idp")]
pub use mfa::{FactorStatus, StepUp};
#[cfg(feature = "oidc")]
mod oidc;

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::csrf::same_origin;
use crate::form::Form;
use crate::live::CLIENT_JS;
use crate::redirect::{safe_path, same_host_referer, with_error};
use crate::request::{AuthRequest, RequestBody};
use crate::response::{Body, Response, refused, see_other, text};

/// Largest form body the form routes read, in bytes; longer bodies are
/// refused with 413.
pub(crate) const MAX_FORM_BYTES: usize = 16 * 1024;

/// Largest `verify-token` body read, in bytes (a token is at most
/// [`auth_local_idp::MAX_TOKEN_LEN`]; JSON escaping may double it).
#[cfg(feature = "local-idp")]
const MAX_VERIFY_BYTES: usize = 64 * 1024;

/// One route of the web layer. An adapter mounts each of
/// [`LiveAuth::routes`] at its path and method, reads the body up to
/// [`Route::body_limit`], and hands the request to [`LiveAuth::handle`];
/// [`Route::LiveSocket`] it upgrades itself (see
/// [`LiveAuth::live_upgrade`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `GET {prefix}/live?page=<id>`: the live WebSocket.
    LiveSocket,
    /// `GET {prefix}/live.js`: the browser client.
    ClientJs,
    /// `POST {prefix}/admin/grant` (admin console): grant a claim.
    AdminGrant,
    /// `POST {prefix}/admin/revoke` (admin console): revoke a claim type.
    AdminRevoke,
    /// `POST {prefix}/admin/sign-out` (admin console): end one session.
    AdminSignOut,
    /// `POST {prefix}/admin/sign-out-all` (admin console): end every session.
    AdminSignOutAll,
    /// `POST {prefix}/admin/disable` (admin console).
    AdminDisable,
    /// `POST {prefix}/admin/enable` (admin console).
    AdminEnable,
    /// `POST {prefix}/local/register`.
    #[cfg(feature = "local-idp")]
    LocalRegister,
    /// `POST {prefix}/local/login`.
    #[cfg(feature = "local-idp")]
    LocalLogin,
    /// `POST {prefix}/local/token`.
    #[cfg(feature = "local-idp")]
    LocalToken,
    /// `POST {prefix}/local/verify-token`.
    #[cfg(feature = "local-idp")]
    LocalVerifyToken,
    /// `POST {prefix}/local/revoke`.
    #[cfg(feature = "local-idp")]
    LocalRevoke,
    /// `POST {prefix}/local/change-password` (signed in).
    #[cfg(feature = "local-idp")]
    ChangePassword,
    /// `POST {prefix}/local/delete-account` (signed in).
    #[cfg(feature = "local-idp")]
    DeleteAccount,
    /// `POST {prefix}/local/verify-email` (account flows).
    #[cfg(feature = "local-idp")]
    VerifyEmail,
    /// `POST {prefix}/local/verify-email/send` (account flows, signed in).
    #[cfg(feature = "local-idp")]
    SendVerification,
    /// `POST {prefix}/local/forgot-password` (account flows).
    #[cfg(feature = "local-idp")]
    ForgotPassword,
    /// `POST {prefix}/local/reset-password` (account flows).
    #[cfg(feature = "local-idp")]
    ResetPassword,
    /// `POST {prefix}/local/change-email` (account flows, signed in).
    #[cfg(feature = "local-idp")]
    ChangeEmail,
    /// `POST {prefix}/local/confirm-email` (account flows).
    #[cfg(feature = "local-idp")]
    ConfirmEmail,
    /// `POST {prefix}/mfa/verify` (second factors; a sign-in waiting for
    /// its second factor).
    #[cfg(feature = "local-idp")]
    MfaVerify,
    /// `POST {prefix}/mfa/step-up` (second factors, signed in).
    #[cfg(feature = "local-idp")]
    MfaStepUp,
    /// `POST {prefix}/mfa/totp/begin` (second factors, signed in).
    #[cfg(feature = "local-idp")]
    TotpBegin,
    /// `POST {prefix}/mfa/totp/confirm` (second factors, signed in).
    #[cfg(feature = "local-idp")]
    TotpConfirm,
    /// `POST {prefix}/mfa/totp/disable` (second factors, signed in).
    #[cfg(feature = "local-idp")]
    TotpDisable,
    /// `POST {prefix}/mfa/recovery-codes` (second factors, signed in).
    #[cfg(feature = "local-idp")]
    RecoveryCodes,
    /// `GET {prefix}/{provider}/login?next=`: starts a provider sign-in.
    #[cfg(feature = "oidc")]
    OidcLogin,
    /// `GET {prefix}/{provider}/callback`: where the provider sends the
    /// browser back.
    #[cfg(feature = "oidc")]
    OidcCallback,
    /// `POST {prefix}/{provider}/callback`: the same, for providers that
    /// post back (`response_mode=form_post`, Apple). State-bound, not
    /// same-origin: the provider's page posts it.
    #[cfg(feature = "oidc")]
    OidcCallbackPost,
    /// `POST {prefix}/{provider}/link` (signed in).
    #[cfg(feature = "oidc")]
    OidcLink,
    /// `POST {prefix}/{provider}/unlink` (signed in).
    #[cfg(feature = "oidc")]
    OidcUnlink,
}

impl Route {
    /// The method the route answers.
    pub fn method(self) -> Method {
        match self {
            Self::LiveSocket | Self::ClientJs => Method::GET,
            #[cfg(feature = "oidc")]
            Self::OidcLogin | Self::OidcCallback => Method::GET,
            _ => Method::POST,
        }
    }

    /// The path under the prefix.
    fn path(self) -> &'static str {
        match self {
            Self::LiveSocket => "/live",
            Self::ClientJs => "/live.js",
            Self::AdminGrant => "/admin/grant",
            Self::AdminRevoke => "/admin/revoke",
            Self::AdminSignOut => "/admin/sign-out",
            Self::AdminSignOutAll => "/admin/sign-out-all",
            Self::AdminDisable => "/admin/disable",
            Self::AdminEnable => "/admin/enable",
            #[cfg(feature = "local-idp")]
            Self::LocalRegister => "/local/register",
            #[cfg(feature = "local-idp")]
            Self::LocalLogin => "/local/login",
            #[cfg(feature = "local-idp")]
            Self::LocalToken => "/local/token",
            #[cfg(feature = "local-idp")]
            Self::LocalVerifyToken => "/local/verify-token",
            #[cfg(feature = "local-idp")]
            Self::LocalRevoke => "/local/revoke",
            #[cfg(feature = "local-idp")]
            Self::ChangePassword => "/local/change-password",
            #[cfg(feature = "local-idp")]
            Self::DeleteAccount => "/local/delete-account",
            #[cfg(feature = "local-idp")]
            Self::VerifyEmail => "/local/verify-email",
            #[cfg(feature = "local-idp")]
            Self::SendVerification => "/local/verify-email/send",
            #[cfg(feature = "local-idp")]
            Self::ForgotPassword => "/local/forgot-password",
            #[cfg(feature = "local-idp")]
            Self::ResetPassword => "/local/reset-password",
            #[cfg(feature = "local-idp")]
            Self::ChangeEmail => "/local/change-email",
            #[cfg(feature = "local-idp")]
            Self::ConfirmEmail => "/local/confirm-email",
            #[cfg(feature = "local-idp")]
            Self::MfaVerify => "/mfa/verify",
            #[cfg(feature = "local-idp")]
            Self::MfaStepUp => "/mfa/step-up",
            #[cfg(feature = "local-idp")]
            Self::TotpBegin => "/mfa/totp/begin",
            #[cfg(feature = "local-idp")]
            Self::TotpConfirm => "/mfa/totp/confirm",
            #[cfg(feature = "local-idp")]
            Self::TotpDisable => "/mfa/totp/disable",
            #[cfg(feature = "local-idp")]
            Self::RecoveryCodes => "/mfa/recovery-codes",
            #[cfg(feature = "oidc")]
            Self::OidcLogin => "/login",
            #[cfg(feature = "oidc")]
            Self::OidcCallback | Self::OidcCallbackPost => "/callback",
            #[cfg(feature = "oidc")]
            Self::OidcLink => "/link",
            #[cfg(feature = "oidc")]
            Self::OidcUnlink => "/unlink",
        }
    }

    /// The most body bytes the adapter reads for this route (0: it takes
    /// none); a longer body is passed on as
    /// [`RequestBody::TooLarge`](crate::RequestBody::TooLarge).
    pub fn body_limit(self) -> usize {
        match self {
            Self::LiveSocket | Self::ClientJs => 0,
            #[cfg(feature = "oidc")]
            Self::OidcLogin | Self::OidcCallback => 0,
            #[cfg(feature = "local-idp")]
            Self::LocalVerifyToken => MAX_VERIFY_BYTES,
            _ => MAX_FORM_BYTES,
        }
    }

    /// Whether the adapter upgrades this route to a WebSocket instead of
    /// calling [`LiveAuth::handle`].
    pub fn is_websocket(self) -> bool {
        self == Self::LiveSocket
    }
}

impl LiveAuth {
    /// Every route to mount, with its full path: the live socket and its
    /// client always; with an admin console configured
    /// ([`LiveAuthBuilder::with_admin`](crate::LiveAuthBuilder::with_admin)),
    /// the six admin routes; with the `local-idp` feature and a provider
    /// configured, the five local routes and the password change and
    /// account deletion; with account flows configured too, their routes
    /// (verify email, forgot and reset password, change and confirm email);
    /// with second factors configured, the six `{prefix}/mfa/*` routes.
    pub fn routes(&self) -> Vec<(String, Route)> {
        let mut routes = vec![Route::LiveSocket, Route::ClientJs];
        if self.inner.admin.is_some() {
            routes.extend([
                Route::AdminGrant,
                Route::AdminRevoke,
                Route::AdminSignOut,
                Route::AdminSignOutAll,
                Route::AdminDisable,
                Route::AdminEnable,
            ]);
        }
        #[cfg(feature = "local-idp")]
        if self.inner.local_idp.is_some() {
            routes.extend([
                Route::LocalRegister,
                Route::LocalLogin,
                Route::LocalToken,
                Route::LocalVerifyToken,
                Route::LocalRevoke,
                Route::ChangePassword,
                Route::DeleteAccount,
            ]);
            if self.inner.account.is_some() {
                routes.extend([
                    Route::VerifyEmail,
                    Route::SendVerification,
                    Route::ForgotPassword,
                    Route::ResetPassword,
                    Route::ChangeEmail,
                    Route::ConfirmEmail,
                ]);
            }
            if self.inner.second_factors.is_some() {
                routes.extend([
                    Route::MfaVerify,
                    Route::MfaStepUp,
                    Route::TotpBegin,
                    Route::TotpConfirm,
                    Route::TotpDisable,
                    Route::RecoveryCodes,
                ]);
            }
        }
        #[cfg_attr(not(feature = "oidc"), allow(unused_mut))]
        let mut mounted: Vec<(String, Route)> = routes
            .into_iter()
            .map(|route| (format!("{}{}", self.prefix(), route.path()), route))
            .collect();
        #[cfg(feature = "oidc")]
        if let Some(oidc) = &self.inner.oidc {
            for (id, provider) in &oidc.providers {
                let mut kinds = vec![
                    Route::OidcLogin,
                    Route::OidcCallback,
                    Route::OidcLink,
                    Route::OidcUnlink,
                ];
                if provider.config().uses_form_post() {
                    kinds.push(Route::OidcCallbackPost);
                }
                mounted.extend(
                    kinds
                        .into_iter()
                        .map(|route| (format!("{}/{id}{}", self.prefix(), route.path()), route)),
                );
            }
        }
        mounted
    }

    /// Answers a request for `route`. The live socket is not answered here:
    /// an upgrade request that reaches this gets 426.
    pub async fn handle(&self, route: Route, request: AuthRequest) -> Response {
        match route {
            Route::LiveSocket => text(StatusCode::UPGRADE_REQUIRED, "upgrade required"),
            Route::ClientJs => client_js(),
            Route::AdminGrant
            | Route::AdminRevoke
            | Route::AdminSignOut
            | Route::AdminSignOutAll
            | Route::AdminDisable
            | Route::AdminEnable => self.admin_action(route, request).await,
            #[cfg(feature = "local-idp")]
            Route::LocalRegister => self.register(request).await,
            #[cfg(feature = "local-idp")]
            Route::LocalLogin => self.login(request).await,
            #[cfg(feature = "local-idp")]
            Route::LocalToken => self.token(request).await,
            #[cfg(feature = "local-idp")]
            Route::LocalVerifyToken => self.verify_token(request).await,
            #[cfg(feature = "local-idp")]
            Route::LocalRevoke => self.revoke(request).await,
            #[cfg(feature = "local-idp")]
            Route::ChangePassword => self.change_password(request).await,
            #[cfg(feature = "local-idp")]
            Route::DeleteAccount => self.delete_account(request).await,
            #[cfg(feature = "local-idp")]
            Route::VerifyEmail => self.verify_email(request).await,
            #[cfg(feature = "local-idp")]
            Route::SendVerification => self.send_verification(request).await,
            #[cfg(feature = "local-idp")]
            Route::ForgotPassword => self.forgot_password(request).await,
            #[cfg(feature = "local-idp")]
            Route::ResetPassword => self.reset_password(request).await,
            #[cfg(feature = "local-idp")]
            Route::ChangeEmail => self.change_email(request).await,
            #[cfg(feature = "local-idp")]
            Route::ConfirmEmail => self.confirm_email(request).await,
            #[cfg(feature = "local-idp")]
            Route::MfaVerify => self.mfa_verify(request).await,
            #[cfg(feature = "local-idp")]
            Route::MfaStepUp => self.mfa_step_up(request).await,
            #[cfg(feature = "local-idp")]
            Route::TotpBegin => self.totp_begin(request).await,
            #[cfg(feature = "local-idp")]
            Route::TotpConfirm => self.totp_confirm(request).await,
            #[cfg(feature = "local-idp")]
            Route::TotpDisable => self.totp_disable(request).await,
            #[cfg(feature = "local-idp")]
            Route::RecoveryCodes => self.recovery_codes(request).await,
            #[cfg(feature = "oidc")]
            Route::OidcLogin => self.oidc_login(request).await,
            #[cfg(feature = "oidc")]
            Route::OidcCallback | Route::OidcCallbackPost => self.oidc_callback(request).await,
            #[cfg(feature = "oidc")]
            Route::OidcLink => self.oidc_link(request).await,
            #[cfg(feature = "oidc")]
            Route::OidcUnlink => self.oidc_unlink(request).await,
        }
    }
}

impl LiveAuth {
    /// The checks every form route makes first: same origin (else 403), a
    /// body within the limit (else 413) that is a form (else 415).
    #[allow(clippy::result_large_err)] // the refusal is the response itself
    pub(super) fn read_form(&self, request: &AuthRequest) -> Result<Form, Response> {
        if !same_origin(&request.headers) {
            return Err(refused(StatusCode::FORBIDDEN, "forbidden"));
        }
        self.inner
            .warnings
            .check_origin(self.inner.cookie.secure, &request.headers);
        let body = match &request.body {
            RequestBody::Bytes(body) => body.as_ref(),
            RequestBody::Empty => &[],
            RequestBody::TooLarge => {
                return Err(refused(StatusCode::PAYLOAD_TOO_LARGE, "payload too large"));
            }
        };
        Form::parse(&request.headers, body)
            .ok_or_else(|| refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type"))
    }

    /// Where a form failure goes: `error_next`, else the same-host
    /// `Referer`, else the fallback path; with `?error=<code>`.
    pub(super) fn fail(&self, headers: &HeaderMap, form: &Form, code: ErrorCode) -> Response {
        let target = form
            .get("error_next")
            .and_then(safe_path)
            .map(str::to_owned)
            .or_else(|| same_host_referer(headers))
            .unwrap_or_else(|| self.inner.fallback_path.clone());
        see_other(&with_error(&target, code.as_str()))
    }

    /// Where a success goes: `next` when it is a path on this site.
    pub(super) fn next_path<'a>(&'a self, form: &'a Form) -> &'a str {
        form.get("next")
            .and_then(safe_path)
            .unwrap_or(&self.inner.fallback_path)
    }
}

fn client_js() -> Response {
    let mut response = http::Response::new(Body::from_static(CLIENT_JS.as_bytes()));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
