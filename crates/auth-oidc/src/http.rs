//! The HTTP client every provider call goes through: rustls, no redirects
//! (a redirect from a token endpoint is an SSRF lever), a timeout, and a cap
//! on every response body so a hostile endpoint cannot exhaust memory.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};

use crate::error::OidcError;

/// The most bytes read from any provider response (discovery, keys, token,
/// userinfo, GitHub's API).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// How long one provider call may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The connection or the request failed.
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
    /// The body was longer than [`MAX_RESPONSE_BYTES`].
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The response could not be rebuilt as an `http` response.
    #[error("malformed response: {0}")]
    Malformed(#[from] http::Error),
}

/// The shared client (cheap to clone).
#[derive(Clone, Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
}

impl Http {
    pub(crate) fn new() -> Result<Self, OidcError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .user_agent(concat!("live-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| OidcError::Setup(format!("HTTP client: {error}")))?;
        Ok(Self { client })
    }

    /// Sends `request` and reads at most [`MAX_RESPONSE_BYTES`] of the answer.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let mut response = self
            .client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let mut built = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            built = built.header(name, value);
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
        {
            return Err(HttpError::TooLarge);
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(built.body(bytes)?)
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

impl Http {
    /// `GET url` with a bearer token and `accept`; the JSON body of a 2xx
    /// answer.
    pub(crate) async fn get_json(
        &self,
        url: &str,
        bearer: &str,
        accept: &'static str,
    ) -> Result<serde_json::Value, OidcError> {
        let request = http::Request::get(url)
            .header(http::header::AUTHORIZATION, format!("Bearer {bearer}"))
            .header(http::header::ACCEPT, accept)
            .body(Vec::new())
            .map_err(|error| OidcError::UserInfo(format!("bad request for {url}: {error}")))?;
        let response = self
            .send(request)
            .await
            .map_err(|error| OidcError::UserInfo(error.to_string()))?;
        if !response.status().is_success() {
            return Err(OidcError::UserInfo(format!(
                "{url} answered {}",
                response.status()
            )));
        }
        serde_json::from_slice(response.body())
            .map_err(|error| OidcError::UserInfo(format!("{url} sent malformed JSON: {error}")))
    }
}
