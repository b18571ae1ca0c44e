//! The admin console's routes under `{prefix}/admin/`: grant or revoke a
//! claim, sign out one session or every session, disable or enable the
//! account of a target user. See `docs/admin.md`.

use auth_core::{Actor, AuthError, Principal, SessionKey, StoreError};
use http::StatusCode;

use crate::code::ErrorCode;
use crate::config::LiveAuth;
use crate::form::Form;
use crate::request::AuthRequest;
use crate::response::{Response, refused, see_other};
use crate::routes::Route;

impl LiveAuth {
    /// `POST {prefix}/admin/*`: the form checks of every form route, then
    /// the admin policy on the request's session as it is now (a principal
    /// whose admin claim was revoked since the page was served is refused
    /// with 403), then the action on the form's `user_id` for an actor of
    /// the admin's user id and client address. Answers 303 to `next`, or
    /// to `error_next` with `?error=` (`signed_out`, `missing`, `invalid`,
    /// `unknown_user`, `unknown`).
    pub(super) async fn admin_action(&self, route: Route, request: AuthRequest) -> Response {
        if self.admin_policy().is_none() {
            return refused(StatusCode::NOT_FOUND, "not found");
        }
        let form = match self.read_form(&request) {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
        let fail = |code| self.fail(&request.headers, &form, code);
        let admin = match request.session.load().await {
            Ok((principal, Some(_))) if principal.is_authenticated() => principal,
            Ok(_) => return fail(ErrorCode::SignedOut),
            Err(error) => {
                tracing::error!(%error, "session could not be loaded");
                return fail(ErrorCode::Unknown);
            }
        };
        if !self.is_admin(&admin) {
            tracing::warn!("admin action refused: the principal fails the admin policy");
            return refused(StatusCode::FORBIDDEN, "forbidden");
        }
        let Some(user_id) = form.get("user_id") else {
            return fail(ErrorCode::Missing);
        };
        let actor = self.actor(&admin, &request);
        match self.run_admin(route, &actor, user_id, &form).await {
            Ok(()) => see_other(self.next_path(&form)),
            Err(code) => fail(code),
        }
    }

    /// The actor of an admin request: the admin's user id, from the
    /// request's client address (`unknown` when the server records none).
    fn actor(&self, admin: &Principal, request: &AuthRequest) -> Actor {
        let source = self
            .client_address(request.peer, &request.headers)
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        Actor::new(admin.user_id().unwrap_or_default(), source)
    }

    async fn run_admin(
        &self,
        route: Route,
        actor: &Actor,
        user_id: &str,
        form: &Form,
    ) -> Result<(), ErrorCode> {
        let actions = self.actions();
        let field = |name| form.get(name).ok_or(ErrorCode::Missing);
        let outcome = match route {
            Route::AdminGrant => {
                let (kind, value) = (field("kind")?, field("value")?);
                actions
                    .grant_to(actor, user_id, kind, value)
                    .await
                    .map(drop)
            }
            Route::AdminRevoke => actions
                .revoke_from(actor, user_id, field("kind")?)
                .await
                .map(drop),
            Route::AdminSignOut => {
                let key = SessionKey::parse(field("session")?).map_err(|_| ErrorCode::Invalid)?;
                actions
                    .sign_out_session_of(actor, user_id, &key)
                    .await
                    .map(drop)
            }
            Route::AdminSignOutAll => actions
                .sign_out_everywhere_of(actor, user_id)
                .await
                .map(drop),
            Route::AdminDisable => actions.disable(actor, user_id).await.map(drop),
            Route::AdminEnable => actions.enable(actor, user_id).await.map(drop),
            _ => return Err(ErrorCode::Unknown),
        };
        outcome.map_err(|error| match error {
            AuthError::Invalid(_) => ErrorCode::Invalid,
            AuthError::Store(StoreError::NotFound) => ErrorCode::UnknownUser,
            other => {
                tracing::error!(error = %other, "admin action failed");
                ErrorCode::Unknown
            }
        })
    }
}
