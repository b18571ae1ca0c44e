//! The session cookie: reading it from a request, issuing it at sign-in and
//! clearing it at sign-out.

use auth_core::{AuthEvent, Principal, SessionError, SessionKey, SessionToken};
use cookie::{Cookie, SameSite};
use http::header::{CACHE_CONTROL, COOKIE, HeaderName};
use http::{HeaderMap, HeaderValue};

use crate::config::LiveAuth;

impl LiveAuth {
    /// Signs `principal` in under a new session and returns the
    /// `Set-Cookie` value for the response. For apps with their own
    /// identity providers; the local routes use it too.
    ///
    /// The `previous` session of this browser is deleted, so a planted
    /// session id is never promoted; when it was a live session, its open
    /// tabs are told at once (a revoke through the channel, as signing out
    /// does), so they stop showing the previous user's pages.
    pub async fn sign_in(
        &self,
        previous: Option<&SessionKey>,
        principal: Principal,
    ) -> Result<HeaderValue, SessionError> {
        self.sign_in_as(previous, principal, None).await
    }

    /// [`LiveAuth::sign_in`] once `factor` completed the sign-in: the new
    /// session records it (see [`auth_core::SessionRecord::second_factor`]).
    pub async fn sign_in_with_factor(
        &self,
        previous: Option<&SessionKey>,
        principal: Principal,
        factor: auth_core::Factor,
    ) -> Result<HeaderValue, SessionError> {
        self.sign_in_as(previous, principal, Some(factor)).await
    }

    async fn sign_in_as(
        &self,
        previous: Option<&SessionKey>,
        principal: Principal,
        factor: Option<auth_core::Factor>,
    ) -> Result<HeaderValue, SessionError> {
        let replaced = match previous {
            Some(key) => self
                .sessions()
                .peek(key)
                .await?
                .and_then(|active| active.record.user_id().map(str::to_owned))
                .map(|user_id| (user_id, key.clone())),
            None => None,
        };
        let (token, _) = match factor {
            Some(factor) => {
                self.sessions()
                    .sign_in_with_factor(previous, principal, factor)
                    .await?
            }
            None => self.sessions().sign_in(previous, principal).await?,
        };
        if let Some((user_id, key)) = replaced
            && let Err(error) = self
                .channel()
                .publish(&user_id, AuthEvent::revoke(Some(key)))
                .await
        {
            // Best-effort like every live event: the session is gone, so the
            // tabs' periodic check ends them anyway.
            tracing::warn!(%error, "could not tell the replaced session's tabs");
        }
        self.cookie_for(&token)
    }

    /// The `Set-Cookie` value that carries `token`.
    pub(crate) fn cookie_for(&self, token: &SessionToken) -> Result<HeaderValue, SessionError> {
        let cookie = self.session_cookie(token.as_str().to_owned()).build();
        HeaderValue::from_str(&cookie.to_string())
            .map_err(|error| SessionError::backend("formatting the session cookie", error))
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self) -> HeaderValue {
        let cookie = self
            .session_cookie(String::new())
            .max_age(cookie::time::Duration::ZERO)
            .build();
        HeaderValue::from_str(&cookie.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
    }

    /// Makes a response a sign-out: clears the session cookie and asks the
    /// browser to drop this site's cached pages and storage
    /// (`Clear-Site-Data: "cache", "storage"`), so nothing of the signed-out
    /// user stays readable in this browser. Cookies are not cleared
    /// wholesale: the app's other cookies are not ours to delete.
    pub fn mark_signed_out(&self, headers: &mut HeaderMap) {
        headers.insert(http::header::SET_COOKIE, self.clear_cookie());
        headers.insert(
            HeaderName::from_static("clear-site-data"),
            HeaderValue::from_static("\"cache\", \"storage\""),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }

    /// The session token the request's cookie carries, if well formed.
    pub fn token_from(&self, headers: &HeaderMap) -> Option<SessionToken> {
        session_token(headers, self.cookie_name())
    }

    /// The session cookie's name, value and safe attributes: `Path=/`,
    /// `HttpOnly`, `SameSite=Lax`, and `Secure` (with the `__Host-` name)
    /// unless turned off.
    fn session_cookie(&self, value: String) -> cookie::CookieBuilder<'static> {
        Cookie::build((self.cookie_name().to_owned(), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.inner.cookie.secure)
    }
}

/// The first well-formed session token among the request's cookies named
/// `name` (in header order); malformed values are skipped.
pub(crate) fn session_token(headers: &HeaderMap, name: &str) -> Option<SessionToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|cookie| cookie.name() == name)
        .find_map(|cookie| SessionToken::parse(cookie.value_trimmed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_well_formed_token_wins() {
        let good = "0123456789abcdef".repeat(4);
        let other = "fedcba9876543210".repeat(4);
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            format!(
                "live_auth=short; live_auth={}; x={other}",
                good.to_uppercase()
            )
            .parse()
            .unwrap(),
        );
        headers.append(COOKIE, format!("live_auth=\"{good}\"").parse().unwrap());
        headers.append(COOKIE, format!("live_auth={other}").parse().unwrap());
        let found = session_token(&headers, "live_auth").map(|t| t.as_str().to_owned());
        assert_eq!(found.as_deref(), Some(good.as_str()));
        assert!(session_token(&headers, "x").is_some());
        assert!(session_token(&headers, "live").is_none());
    }

    #[test]
    fn garbage_cookie_lines_are_skipped() {
        let good = "0123456789abcdef".repeat(4);
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, "=; ;;; a".parse().unwrap());
        headers.append(COOKIE, format!("b=1;live_auth={good}").parse().unwrap());
        let found = session_token(&headers, "live_auth").map(|t| t.as_str().to_owned());
        assert_eq!(found.as_deref(), Some(good.as_str()));
    }
}
