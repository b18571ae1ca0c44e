//! What the demo's pages and buttons answer, on `http` types: each demo's
//! router checks the request (same origin, signed in) with its framework's
//! extractors and calls these.

use live_auth::auth_core::{self, Principal};
use live_auth::auth_http::http::header::{CONTENT_TYPE, LOCATION};
use live_auth::auth_http::http::{self, HeaderValue, StatusCode};
use live_auth::auth_http::{self, Auth, Response};

use crate::admin_pages::{self, AdminQuery};
use crate::pages;

/// An HTML page.
pub fn html(page: String) -> Response {
    let mut response = http::Response::new(page.into());
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The stylesheet.
pub fn style() -> Response {
    let mut response = http::Response::new(pages::STYLE.into());
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}

/// `GET /live`, for a signed-in principal.
pub fn live(auth: &Auth, principal: &Principal) -> Response {
    html(pages::live(auth.live_auth(), principal))
}

/// `GET /profile`: who the user is, where they are signed in and which
/// providers are linked; `error` is a `?error=` code to show.
pub async fn profile(auth: &Auth, error: Option<&str>) -> Response {
    let sessions = match auth.sessions().await {
        Ok(sessions) => sessions,
        Err(error) => return failed(&error),
    };
    let web = auth.live_auth();
    let user_id = auth.principal().user_id().unwrap_or_default();
    let links = match web.actions().store().links_of(user_id).await {
        Ok(links) => links,
        Err(error) => return failed(&auth_core::AuthError::from(error)),
    };
    html(pages::profile(
        auth.principal(),
        &sessions,
        auth.session(),
        &web.oidc_providers(),
        &links,
        error,
    ))
}

/// `GET /admin`, for a principal the `AdminOnly` guard let through.
pub async fn admin_users(auth: &Auth, query: &AdminQuery) -> Response {
    let web = auth.live_auth();
    match web
        .admin_users(query.q.as_deref(), query.after.as_deref())
        .await
    {
        Ok(list) => html(admin_pages::users(auth.principal(), &list, query)),
        Err(auth_core::AuthError::Invalid(_)) => status(StatusCode::BAD_REQUEST, "Bad request."),
        Err(error) => failed(&error),
    }
}

/// `GET /admin/users/{id}`, for a principal the `AdminOnly` guard let
/// through: 404 for a user that does not exist (or an id that cannot be
/// one).
pub async fn admin_user(auth: &Auth, user_id: &str, query: &AdminQuery) -> Response {
    let web = auth.live_auth();
    match web.admin_user(user_id, query.audit_page()).await {
        Ok(Some(detail)) => html(admin_pages::user(web, auth.principal(), &detail, query)),
        Ok(None) | Err(auth_core::AuthError::Invalid(_)) => {
            status(StatusCode::NOT_FOUND, "No such user.")
        }
        Err(error) => failed(&error),
    }
}

/// `GET /profile/security`: the user's second factors, and the QR code of
/// an enrolment that waits for its code.
pub async fn security(auth: &Auth, query: &crate::account_pages::PageQuery) -> Response {
    let web = auth.live_auth();
    let principal = auth.principal();
    let user_id = principal.user_id().unwrap_or_default();
    let found = async {
        let status = web.factor_status(user_id).await?;
        let enrolment = web.totp_enrolment(principal).await?;
        Ok::<_, auth_core::StoreError>((status, enrolment))
    };
    match found.await {
        Ok((status, enrolment)) => html(crate::security_pages::security(
            principal,
            status,
            enrolment.as_ref(),
            query,
        )),
        Err(error) => failed(&error.into()),
    }
}

/// `POST /live/grant-admin`.
pub async fn grant_admin(auth: &Auth) -> Response {
    match auth.grant("role", "admin").await {
        Ok(_) => see_other("/live"),
        Err(error) => failed(&error),
    }
}

/// `POST /live/revoke-admin`.
pub async fn revoke_admin(auth: &Auth) -> Response {
    match auth.revoke_claim("role").await {
        Ok(_) => see_other("/live"),
        Err(error) => failed(&error),
    }
}

/// `POST /live/sign-out`: this browser only.
pub async fn sign_out(auth: &Auth) -> Response {
    match auth.revoke_session().await {
        Ok(()) => signed_out(auth),
        Err(error) => failed(&error),
    }
}

/// `POST /live/sign-out-everywhere`: every session of the user.
pub async fn sign_out_everywhere(auth: &Auth) -> Response {
    match auth.revoke_all_sessions().await {
        Ok(_) => signed_out(auth),
        Err(error) => failed(&error),
    }
}

fn see_other(path: &'static str) -> Response {
    let mut response = http::Response::new(auth_http::Body::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static(path));
    response
}

fn signed_out(auth: &Auth) -> Response {
    let mut response = see_other("/login_local");
    auth.live_auth().mark_signed_out(response.headers_mut());
    response
}

fn failed(error: &auth_core::AuthError) -> Response {
    tracing::error!(%error, "demo action failed");
    status(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong. Please try again.",
    )
}

fn status(code: StatusCode, text: &'static str) -> Response {
    let mut response = http::Response::new(auth_http::Body::from_static(text.as_bytes()));
    *response.status_mut() = code;
    response
}
