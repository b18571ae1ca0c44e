//! OpenID Connect: discovery, the authorization URL, the code exchange, ID
//! token checks with key rotation, and userinfo.

use std::time::Instant;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJwsSigningAlgorithm,
    CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    JsonWebKeySet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, SignatureVerificationError, TokenResponse,
};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, RwLock};

use crate::config::ProviderConfig;
use crate::error::{OidcError, TokenRejection};
use crate::http::Http;
use crate::provider::FlowSecrets;

/// The signature algorithms an ID token may use: asymmetric ones only, so
/// `none` and an `HS256` token keyed with the provider's public key are
/// refused before any key is tried.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// One OpenID Connect provider: its discovered metadata (fetched on first
/// use, so the app starts while the provider is down) and key set.
#[derive(Debug)]
pub(crate) struct OpenId {
    issuer: String,
    metadata: RwLock<Option<CoreProviderMetadata>>,
    last_key_fetch: Mutex<Option<Instant>>,
}

impl OpenId {
    pub(crate) fn new(issuer: &str) -> Result<Self, OidcError> {
        IssuerUrl::new(issuer.to_owned())
            .map_err(|error| OidcError::Setup(format!("issuer URL: {error}")))?;
        Ok(Self {
            issuer: issuer.to_owned(),
            metadata: RwLock::new(None),
            last_key_fetch: Mutex::new(None),
        })
    }

    /// The metadata, discovered once (a failed discovery is tried again
    /// next time).
    async fn metadata(&self, http: &Http) -> Result<CoreProviderMetadata, OidcError> {
        if let Some(found) = self.metadata.read().await.as_ref() {
            return Ok(found.clone());
        }
        let mut slot = self.metadata.write().await;
        if let Some(found) = slot.as_ref() {
            return Ok(found.clone());
        }
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|error| OidcError::Setup(format!("issuer URL: {error}")))?;
        let found = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|error| OidcError::Discovery(error.to_string()))?;
        *slot = Some(found.clone());
        Ok(found)
    }

    /// Fetches the key set again, unless that was done less than the
    /// configured interval ago; `true` when it was fetched.
    async fn refresh_keys(
        &self,
        http: &Http,
        config: &ProviderConfig,
        metadata: &CoreProviderMetadata,
    ) -> Result<bool, OidcError> {
        let mut last = self.last_key_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < config.jwks_refresh_interval) {
            return Ok(false);
        }
        *last = Some(Instant::now());
        let keys = JsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
            .await
            .map_err(|error| OidcError::Discovery(format!("key set: {error}")))?;
        tracing::info!(issuer = %self.issuer, "fetched the provider's signing keys again");
        let mut slot = self.metadata.write().await;
        if let Some(current) = slot.take() {
            *slot = Some(current.set_jwks(keys));
        }
        Ok(true)
    }

    /// The authorization URL and the flow's secrets.
    pub(crate) async fn start(
        &self,
        http: &Http,
        config: &ProviderConfig,
    ) -> Result<(url::Url, FlowSecrets), OidcError> {
        let metadata = self.metadata(http).await?;
        let client = client(metadata, config)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in config.scopes.iter().filter(|scope| *scope != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        request = request.set_pkce_challenge(challenge);
        if config.form_post {
            request = request.add_extra_param("response_mode", "form_post");
        }
        let (url, state, nonce) = request.url();
        Ok((
            url,
            FlowSecrets {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Exchanges the code, checks the ID token and returns its claims,
    /// merged with userinfo when the token lacks the email.
    pub(crate) async fn finish(
        &self,
        http: &Http,
        config: &ProviderConfig,
        code: &auth_core::AuthorizationCode,
    ) -> Result<Map<String, Value>, OidcError> {
        let metadata = self.metadata(http).await?;
        let rp = client(metadata.clone(), config)?;
        let response = rp
            .exchange_code(openidconnect::AuthorizationCode::new(
                code.code.expose().to_owned(),
            ))
            .map_err(|error| OidcError::Setup(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(
                code.pkce_verifier.expose().to_owned(),
            ))
            .request_async(http)
            .await
            .map_err(OidcError::exchange)?;
        let token = response
            .id_token()
            .ok_or(OidcError::Missing("an ID token"))?;
        let nonce = Nonce::new(code.nonce.expose().to_owned());
        let mut claims = match check(
            &rp.id_token_verifier(),
            token,
            &nonce,
            response.access_token(),
        ) {
            Err(OidcError::IdToken(TokenRejection::UnknownKey))
                if self.refresh_keys(http, config, &metadata).await? =>
            {
                let refreshed = client(self.metadata(http).await?, config)?;
                check(
                    &refreshed.id_token_verifier(),
                    token,
                    &nonce,
                    response.access_token(),
                )
            }
            other => other,
        }?;
        let wants_email = config.scopes.iter().any(|scope| scope == "email");
        if wants_email
            && !claims.contains_key("email")
            && let Some(endpoint) = self.metadata(http).await?.userinfo_endpoint()
        {
            let info = http
                .get_json(
                    endpoint.url().as_str(),
                    response.access_token().secret(),
                    "application/json",
                )
                .await?;
            merge_userinfo(&mut claims, info)?;
        }
        Ok(claims)
    }
}

/// A client for `metadata` with the configured credentials.
fn client(
    metadata: CoreProviderMetadata,
    config: &ProviderConfig,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    OidcError,
> {
    let redirect = RedirectUrl::new(config.redirect_uri.clone())
        .map_err(|error| OidcError::Setup(format!("redirect URI: {error}")))?;
    let secret = config
        .client_secret
        .as_ref()
        .map(|secret| ClientSecret::new(secret.expose().to_owned()));
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        secret,
    )
    .set_redirect_uri(redirect))
}

/// Checks `token` (issuer, audience, expiry, nonce, signature with an
/// allowed algorithm, `at_hash`) and returns its claims as JSON.
fn check(
    verifier: &CoreIdTokenVerifier<'_>,
    token: &CoreIdToken,
    nonce: &Nonce,
    access_token: &openidconnect::AccessToken,
) -> Result<Map<String, Value>, OidcError> {
    let verifier = verifier.clone().set_allowed_algs(ALLOWED_ALGS);
    let claims = token.claims(&verifier, nonce).map_err(rejection)?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = token
            .signing_alg()
            .map_err(|_| OidcError::IdToken(TokenRejection::Algorithm))?;
        let key = token
            .signing_key(&verifier)
            .map_err(|_| OidcError::IdToken(TokenRejection::Signature))?;
        let actual = AccessTokenHash::from_token(access_token, alg, key)
            .map_err(|_| OidcError::IdToken(TokenRejection::AccessTokenHash))?;
        if actual != *expected {
            return Err(OidcError::IdToken(TokenRejection::AccessTokenHash));
        }
    }
    payload(&token.to_string())
}

/// The (already verified) payload of a compact JWT.
fn payload(jwt: &str) -> Result<Map<String, Value>, OidcError> {
    use base64::Engine;
    let malformed = || OidcError::IdToken(TokenRejection::Malformed);
    let part = jwt.split('.').nth(1).ok_or_else(malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| malformed())?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

/// Why the verifier refused a token.
fn rejection(error: ClaimsVerificationError) -> OidcError {
    use ClaimsVerificationError as E;
    use SignatureVerificationError as S;
    let reason = match error {
        E::Expired(_) => TokenRejection::Expired,
        E::InvalidAudience(_) => TokenRejection::Audience,
        E::InvalidIssuer(_) => TokenRejection::Issuer,
        E::InvalidNonce(_) => TokenRejection::Nonce,
        E::SignatureVerification(S::NoMatchingKey) => TokenRejection::UnknownKey,
        E::SignatureVerification(S::DisallowedAlg(_) | S::UnsupportedAlg(_) | S::NoSignature) => {
            TokenRejection::Algorithm
        }
        E::SignatureVerification(_) => TokenRejection::Signature,
        other => {
            tracing::debug!(error = %other, "ID token refused");
            TokenRejection::Malformed
        }
    };
    OidcError::IdToken(reason)
}

/// Adds the userinfo answer's claims the ID token lacks; its `sub` must be
/// the token's.
fn merge_userinfo(claims: &mut Map<String, Value>, info: Value) -> Result<(), OidcError> {
    let Value::Object(info) = info else {
        return Err(OidcError::UserInfo("userinfo is not a JSON object".into()));
    };
    if info.get("sub") != claims.get("sub") {
        return Err(OidcError::UserInfo(
            "userinfo names another subject than the ID token".into(),
        ));
    }
    for (key, value) in info {
        claims.entry(key).or_insert(value);
    }
    Ok(())
}
