//! The five `/local/*` routes of the local identity provider.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use auth_core::{AuthError, Claim, Principal, SessionKey};
use auth_local_idp::{
    IdToken, LocalIdP, LocalIdpError, Registration, SESSION_CLAIM, ThrottleDecision,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::config::LiveAuth;
use crate::csrf::same_origin;
use crate::redirect::{safe_path, same_host_referer, with_error};

/// Largest form body accepted, in bytes.
pub(crate) const MAX_FORM_BYTES: usize = 16 * 1024;

/// Largest `verify-token` body accepted, in bytes (a token is at most
/// [`auth_local_idp::MAX_TOKEN_LEN`]; JSON escaping may double it).
const MAX_VERIFY_BYTES: usize = 64 * 1024;

/// Most `X-Forwarded-For` entries walked; a longer chain is cut there.
const MAX_FORWARDED_HOPS: usize = 32;

/// Lifetime of the token `POST /local/token` issues.
const TOKEN_TTL: Duration = Duration::from_secs(600);

/// The `?error=` codes of the form routes.
#[derive(Clone, Copy, Debug)]
enum Code {
    Missing,
    Exists,
    Invalid,
    Throttled,
    Unknown,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Exists => "exists",
            Self::Invalid => "invalid",
            Self::Throttled => "throttled",
            Self::Unknown => "unknown",
        }
    }

    fn from_idp(error: &LocalIdpError) -> Self {
        match error {
            LocalIdpError::EmailTaken => Self::Exists,
            LocalIdpError::Throttled { .. } => Self::Throttled,
            LocalIdpError::InvalidCredentials
            | LocalIdpError::UnknownUser
            | LocalIdpError::Invalid(_) => Self::Invalid,
            other => {
                tracing::error!(error = %other, "local identity provider failed");
                Self::Unknown
            }
        }
    }
}

/// A parsed form: the first value of each field.
pub(crate) struct Form(pub(crate) HashMap<String, String>);

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body; other content
    /// types are `None` (answered with 415).
    pub(crate) fn parse(headers: &HeaderMap, body: &Bytes) -> Option<Self> {
        let content_type = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let essence = content_type.split(';').next()?.trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return None;
        }
        let mut fields = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            fields
                .entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Some(Self(fields))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Refusals shared by the form routes.
fn refused(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Origin, Sec-Fetch-Site"));
    response
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Origin, Sec-Fetch-Site"));
    response
}

impl LiveAuth {
    /// Where a form failure goes: `error_next`, else the same-host
    /// `Referer`, else the fallback path; with `?error=<code>`.
    fn fail(&self, headers: &HeaderMap, form: &Form, code: Code) -> Response {
        let target = form
            .get("error_next")
            .and_then(safe_path)
            .map(str::to_owned)
            .or_else(|| same_host_referer(headers))
            .unwrap_or_else(|| self.inner.fallback_path.clone());
        see_other(&with_error(&target, code.as_str()))
    }

    /// Where a success goes: `next` when it is a path on this site.
    fn next_path<'a>(&'a self, form: &'a Form) -> &'a str {
        form.get("next")
            .and_then(safe_path)
            .unwrap_or(&self.inner.fallback_path)
    }

    /// Signs in and redirects to `next`.
    async fn signed_in(&self, headers: &HeaderMap, form: &Form, principal: Principal) -> Response {
        let previous = self
            .token_from(headers)
            .map(|token| self.sessions().key_of(&token));
        match self.sign_in(previous.as_ref(), principal).await {
            Ok(cookie) => {
                let mut response = see_other(self.next_path(form));
                response.headers_mut().insert(SET_COOKIE, cookie);
                response
            }
            Err(error) => {
                tracing::error!(%error, "signing in failed");
                self.fail(headers, form, Code::Unknown)
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
}

impl LiveAuth {
    /// The client address the throttles count: the connection's peer (from
    /// axum's `ConnectInfo`; `None` when the server does not record it),
    /// or, only when that peer is a trusted proxy, the right-most
    /// `X-Forwarded-For` entry that is not one.
    fn client(&self, parts: &http::request::Parts) -> Option<IpAddr> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())?;
        Some(client_address(
            peer,
            &parts.headers,
            &self.inner.trusted_proxies,
        ))
    }
}

/// See [`LiveAuth::client`]. Walking right to left, each entry was added by
/// the hop after it; the first entry not added by a trusted proxy is where
/// the trusted chain starts, so it is the client. An entry that is not an
/// address stops the walk at the last address vouched for.
fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &BTreeSet<IpAddr>) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.contains(&ip.to_canonical());
    let mut current = peer.to_canonical();
    if !is_trusted(current) {
        return current;
    }
    let mut hops = 0;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return current;
        };
        for entry in value.rsplit(',') {
            hops += 1;
            let Some(ip) = parse_hop(entry.trim()) else {
                return current;
            };
            if !is_trusted(ip) || hops >= MAX_FORWARDED_HOPS {
                return ip;
            }
            current = ip;
        }
    }
    current
}

/// One `X-Forwarded-For` entry: an address, optionally with a port.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .map(|ip| ip.to_canonical())
}

/// `POST {prefix}/local/register`.
pub(crate) async fn register(
    State(auth): State<LiveAuth>,
    request: http::Request<axum::body::Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let (form, idp) = match prepare(&auth, &parts.headers, body).await {
        Ok(prepared) => prepared,
        Err(refusal) => return refusal,
    };
    let (Some(email), Some(password)) = (form.get("email"), form.get("password")) else {
        return auth.fail(&parts.headers, &form, Code::Missing);
    };
    let mut registration =
        Registration::new(email, password).with_claims(auth.registration_claims(&form));
    if let Some(name) = form.get("name") {
        registration = registration.with_name(name);
    }
    match idp.create_user(registration).await {
        Ok(user) => {
            auth.signed_in(&parts.headers, &form, Principal::for_user(&user))
                .await
        }
        Err(error) => auth.fail(&parts.headers, &form, Code::from_idp(&error)),
    }
}

/// `POST {prefix}/local/login`.
pub(crate) async fn login(
    State(auth): State<LiveAuth>,
    request: http::Request<axum::body::Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let (form, idp) = match prepare(&auth, &parts.headers, body).await {
        Ok(prepared) => prepared,
        Err(refusal) => return refusal,
    };
    let (Some(email), Some(password)) = (form.get("email"), form.get("password")) else {
        return auth.fail(&parts.headers, &form, Code::Missing);
    };
    let verified = match auth.client(&parts) {
        Some(addr) => idp.verify_credentials_from(addr, email, password).await,
        None => idp.verify_credentials(email, password).await,
    };
    match verified {
        Ok(principal) => auth.signed_in(&parts.headers, &form, principal).await,
        Err(error) => auth.fail(&parts.headers, &form, Code::from_idp(&error)),
    }
}

/// `POST {prefix}/local/revoke`: signs this session out.
pub(crate) async fn revoke(
    State(auth): State<LiveAuth>,
    request: http::Request<axum::body::Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let form = match prepare(&auth, &parts.headers, body).await {
        Ok((form, _)) => form,
        Err(refusal) => return refusal,
    };
    match auth.request_auth(&parts.headers).await {
        Ok(found) => {
            let outcome = match (found.session(), found.principal().is_authenticated()) {
                (Some(key), true) => auth.actions().revoke_session(found.principal(), key).await,
                (Some(key), false) => auth
                    .sessions()
                    .sign_out(key)
                    .await
                    .map(drop)
                    .map_err(AuthError::from),
                (None, _) => Ok(()),
            };
            if let Err(error) = outcome {
                tracing::error!(%error, "signing out failed");
                return auth.fail(&parts.headers, &form, Code::Unknown);
            }
            let mut response = see_other(auth.next_path(&form));
            auth.mark_signed_out(&mut response);
            response
        }
        Err(error) => {
            tracing::error!(%error, "session could not be loaded");
            auth.fail(&parts.headers, &form, Code::Unknown)
        }
    }
}

/// `POST {prefix}/local/token`: a JWT for the signed-in session.
pub(crate) async fn token(State(auth): State<LiveAuth>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return refused(StatusCode::FORBIDDEN, "forbidden");
    }
    let Some(idp) = auth.inner.local_idp.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = match auth.request_auth(&headers).await {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "session could not be loaded");
            return json_status(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "unavailable"}),
            );
        }
    };
    if !found.principal().is_authenticated() {
        return json_status(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}));
    }
    let issued = match found.session() {
        Some(key) => idp.issue_for_session(found.principal(), key.as_str(), Some(TOKEN_TTL)),
        None => idp.issue_for_principal(found.principal(), Some(TOKEN_TTL)),
    };
    let issued = issued.and_then(|token| {
        let decoded = idp.verify_id_token(&token)?;
        Ok((token, decoded))
    });
    match issued {
        Ok((token, decoded)) => json_status(
            StatusCode::OK,
            json!({"token": token, "decoded": decoded.claims()}),
        ),
        Err(error) => {
            tracing::error!(%error, "issuing a token failed");
            json_status(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal"}),
            )
        }
    }
}

/// `POST {prefix}/local/verify-token` with `{"token": "..."}`.
///
/// Throttled per client address (429 with `Retry-After` past the limit). A
/// token carrying `sid` is valid only while that session is live and
/// belongs to the token's subject.
pub(crate) async fn verify_token(
    State(auth): State<LiveAuth>,
    request: http::Request<axum::body::Body>,
) -> Response {
    let Some(idp) = auth.inner.local_idp.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (parts, body) = request.into_parts();
    // Without a recorded address every caller shares one count: the route
    // stays throttled rather than open.
    let key = auth
        .client(&parts)
        .map_or_else(|| "verify:unknown".to_owned(), |ip| format!("verify:{ip}"));
    match auth.inner.verify_token_throttle.attempt(&key).await {
        Ok(ThrottleDecision::Allowed { .. }) => {}
        Ok(ThrottleDecision::Refused { retry_after }) => return too_many(retry_after),
        Err(error) => {
            tracing::error!(%error, "the verify-token throttle failed");
            return json_status(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "unavailable"}),
            );
        }
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_VERIFY_BYTES).await else {
        return json_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "payload_too_large"}),
        );
    };
    let token = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|value| value.get("token")?.as_str().map(str::to_owned));
    let Some(token) = token else {
        return json_status(StatusCode::BAD_REQUEST, json!({"error": "bad_request"}));
    };
    let decoded = match idp.verify_id_token(&token) {
        Ok(decoded) => decoded,
        Err(error) => {
            tracing::debug!(%error, "token refused");
            return json_status(StatusCode::OK, json!({"valid": false}));
        }
    };
    match auth.session_holds(&decoded).await {
        Ok(true) => json_status(
            StatusCode::OK,
            json!({"valid": true, "decoded": decoded.claims()}),
        ),
        Ok(false) => {
            tracing::debug!("token refused: its session is gone");
            json_status(StatusCode::OK, json!({"valid": false}))
        }
        Err(error) => {
            tracing::error!(%error, "session could not be loaded");
            json_status(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "unavailable"}),
            )
        }
    }
}

impl LiveAuth {
    /// Whether a verified token's session (its `sid`) is still live and
    /// still the token subject's. A token without `sid` (machine to
    /// machine, from `LocalIdP::issue_id_token`) has no session to lose.
    /// Peeking does not count as activity, so checking a token never keeps
    /// an idle session alive.
    async fn session_holds(&self, token: &IdToken) -> Result<bool, auth_core::SessionError> {
        let Some(sid) = token.claim(SESSION_CLAIM) else {
            return Ok(true);
        };
        let Some(key) = sid.as_str().and_then(|sid| SessionKey::parse(sid).ok()) else {
            return Ok(false);
        };
        Ok(self
            .sessions()
            .peek(&key)
            .await?
            .is_some_and(|active| active.record.user_id() == Some(token.subject())))
    }
}

/// 429 with a JSON body and `Retry-After` in whole seconds (at least 1).
fn too_many(retry_after: Duration) -> Response {
    let seconds = retry_after
        .as_secs()
        .saturating_add(u64::from(retry_after.subsec_nanos() > 0))
        .max(1);
    let mut response = json_status(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "throttled", "retry_after": seconds}),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn json_status(status: StatusCode, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The checks every form route makes first: same origin (else 403), a
/// configured provider (else 404), a body within the limit (else 413) that
/// is a form (else 415).
async fn prepare(
    auth: &LiveAuth,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<(Form, Arc<LocalIdP>), Response> {
    if !same_origin(headers) {
        return Err(refused(StatusCode::FORBIDDEN, "forbidden"));
    }
    let idp = auth
        .inner
        .local_idp
        .clone()
        .ok_or_else(|| refused(StatusCode::NOT_FOUND, "not found"))?;
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| refused(StatusCode::PAYLOAD_TOO_LARGE, "payload too large"))?;
    let form = Form::parse(headers, &bytes)
        .ok_or_else(|| refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported media type"))?;
    Ok((form, idp))
}
