//! GitHub: OAuth 2.0 (with PKCE) and its REST API, `/user` for the id and
//! name, `/user/emails` for the primary verified address.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};
use serde_json::{Map, Value};

use crate::config::{GitHubEndpoints, ProviderConfig};
use crate::error::OidcError;
use crate::http::Http;
use crate::provider::FlowSecrets;

/// The media type GitHub's REST API answers in.
const GITHUB_JSON: &str = "application/vnd.github+json";

fn client(
    endpoints: &GitHubEndpoints,
    config: &ProviderConfig,
) -> Result<
    BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    OidcError,
> {
    let setup = |what: &str, error: url::ParseError| OidcError::Setup(format!("{what}: {error}"));
    let mut client = BasicClient::new(ClientId::new(config.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(endpoints.authorize.clone()).map_err(|e| setup("authorize URL", e))?,
        )
        .set_token_uri(TokenUrl::new(endpoints.token.clone()).map_err(|e| setup("token URL", e))?)
        .set_redirect_uri(
            RedirectUrl::new(config.redirect_uri.clone()).map_err(|e| setup("redirect URI", e))?,
        );
    if let Some(secret) = &config.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    Ok(client)
}

/// The authorization URL and the flow's secrets (GitHub has no nonce; one
/// is kept anyway so every flow looks alike).
pub(crate) fn start(
    endpoints: &GitHubEndpoints,
    config: &ProviderConfig,
) -> Result<(url::Url, FlowSecrets), OidcError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client(endpoints, config)?
        .authorize_url(CsrfToken::new_random)
        .add_scopes(config.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge)
        .url();
    Ok((
        url,
        FlowSecrets {
            state: state.secret().clone(),
            nonce: CsrfToken::new_random().secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        },
    ))
}

/// Exchanges the code and reads the user: `sub` is the numeric id, the
/// email the primary verified address (else any verified one; an
/// unverified address is never used).
pub(crate) async fn finish(
    http: &Http,
    endpoints: &GitHubEndpoints,
    config: &ProviderConfig,
    code: &auth_core::AuthorizationCode,
) -> Result<Map<String, Value>, OidcError> {
    let token = client(endpoints, config)?
        .exchange_code(oauth2::AuthorizationCode::new(
            code.code.expose().to_owned(),
        ))
        .set_pkce_verifier(PkceCodeVerifier::new(
            code.pkce_verifier.expose().to_owned(),
        ))
        .request_async(http)
        .await
        .map_err(OidcError::exchange)?;
    let bearer = token.access_token().secret();
    let user = http
        .get_json(&format!("{}/user", endpoints.api), bearer, GITHUB_JSON)
        .await?;
    let emails = http
        .get_json(
            &format!("{}/user/emails", endpoints.api),
            bearer,
            GITHUB_JSON,
        )
        .await?;
    user_claims(user, &emails)
}

/// The claims of a GitHub user and its email list.
fn user_claims(user: Value, emails: &Value) -> Result<Map<String, Value>, OidcError> {
    let Value::Object(mut claims) = user else {
        return Err(OidcError::UserInfo("/user is not a JSON object".into()));
    };
    let id = claims
        .get("id")
        .and_then(Value::as_u64)
        .ok_or(OidcError::Missing("a numeric user id"))?;
    claims.insert("sub".into(), Value::String(id.to_string()));
    let verified: Vec<&Map<String, Value>> = emails
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .filter(|entry| entry.get("verified") == Some(&Value::Bool(true)))
                .collect()
        })
        .unwrap_or_default();
    let chosen = verified
        .iter()
        .find(|entry| entry.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| verified.first())
        .and_then(|entry| entry.get("email").cloned());
    if let Some(email) = chosen {
        claims.insert("email".into(), email);
        claims.insert("email_verified".into(), Value::Bool(true));
    } else {
        // The profile's public email is not known to be verified.
        claims.remove("email");
        claims.insert("email_verified".into(), Value::Bool(false));
    }
    Ok(claims)
}
