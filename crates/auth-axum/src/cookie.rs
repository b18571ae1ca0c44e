//! The session cookie: issuing it at sign-in and clearing it at sign-out.

use auth_core::{Principal, SessionError, SessionKey};
use http::HeaderValue;

use crate::config::LiveAuth;

impl LiveAuth {
    /// Signs `principal` in under a new session (deleting `previous`, so a
    /// planted session id is never promoted) and returns the `Set-Cookie`
    /// value for the response. For apps with their own identity providers;
    /// the local routes use it too.
    pub async fn sign_in(
        &self,
        previous: Option<&SessionKey>,
        principal: Principal,
    ) -> Result<HeaderValue, SessionError> {
        let (token, _) = self.sessions().sign_in(previous, principal).await?;
        let value = format!(
            "{}={}; {}",
            self.cookie_name(),
            token.as_str(),
            self.attributes()
        );
        HeaderValue::from_str(&value)
            .map_err(|error| SessionError::backend("formatting the session cookie", error))
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clear_cookie(&self) -> HeaderValue {
        let value = format!("{}=; Max-Age=0; {}", self.cookie_name(), self.attributes());
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
    }

    /// Makes `response` a sign-out: clears the session cookie and asks the
    /// browser to drop this site's cached pages and storage
    /// (`Clear-Site-Data: "cache", "storage"`), so nothing of the signed-out
    /// user stays readable in this browser. Cookies are not cleared
    /// wholesale: the app's other cookies are not ours to delete.
    pub fn mark_signed_out(&self, response: &mut axum::response::Response) {
        let headers = response.headers_mut();
        headers.insert(http::header::SET_COOKIE, self.clear_cookie());
        headers.insert(
            http::header::HeaderName::from_static("clear-site-data"),
            HeaderValue::from_static("\"cache\", \"storage\""),
        );
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }

    fn attributes(&self) -> &'static str {
        if self.inner.cookie.secure {
            "Path=/; HttpOnly; SameSite=Lax; Secure"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }
}
