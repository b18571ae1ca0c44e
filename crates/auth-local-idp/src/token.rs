//! The JWT issuer: HS256 (or RS256) tokens with pinned verification.

use std::fmt;
use std::time::Duration;

use auth_core::unix_now;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::error::ConfigError;

/// The default issuer (`iss`), the Python original's, so tokens stay
/// interchangeable.
pub const DEFAULT_ISSUER: &str = "pywire-auth-local";
/// The shortest HMAC secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// The default token lifetime.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(600);
/// The default clock-skew allowance on `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Longest token accepted for verification, in bytes; longer input is
/// refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The claims the issuer sets itself; caller claims may not use these names.
pub const REGISTERED_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "iat", "exp", "nbf", "jti"];
/// Header fields refused on sight: each either names or embeds a key
/// (`jwk`, `jku`, `x5u`, `x5c`) or demands extensions this issuer does not
/// implement (`crit`). The key is fixed by configuration; `kid` is kept as
/// data and never used to pick a key or a path.
pub const REFUSED_HEADERS: [&str; 5] = ["jwk", "jku", "x5u", "x5c", "crit"];
/// Time claims that, when present, must be whole non-negative numbers; a
/// string such as `"9999999999"` is malformed.
const TIME_CLAIMS: [&str; 3] = ["exp", "nbf", "iat"];

/// Why a token was not issued or did not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a JWT: bad shape, bad base64, bad JSON, a claim of the wrong
    /// type, or longer than [`MAX_TOKEN_LEN`].
    #[error("the token is malformed")]
    Malformed,
    /// The header names `none`, an unknown algorithm, or another algorithm
    /// than the one this issuer uses.
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    /// The header carries a field that points at or embeds a key or
    /// demands extensions (`jwk`, `jku`, `x5u`, `x5c`, `crit`): refused
    /// whatever its value, since this issuer's key is fixed (RFC 8725).
    #[error("the token's header carries the `{0}` field, which is refused")]
    Header(&'static str),
    /// The signature does not match the header and payload.
    #[error("the token's signature does not verify")]
    Signature,
    /// The token has expired (past `exp` plus the leeway).
    #[error("the token has expired")]
    Expired,
    /// The token is not valid yet (`nbf` in the future).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is another issuer's.
    #[error("the token's issuer is not accepted")]
    Issuer,
    /// `aud` does not name this audience.
    #[error("the token's audience is not accepted")]
    Audience,
    /// A claim that must be present is not (`exp`, `iss`, `aud`, `sub`).
    #[error("the token lacks the `{0}` claim")]
    MissingClaim(String),
    /// Issuing: a caller claim uses a registered name (`iss`, `sub`, ...).
    #[error("the claim `{0}` is set by the issuer and cannot be overridden")]
    ReservedClaim(String),
    /// Issuing: the subject is empty or too long, or the ttl is zero or too
    /// large.
    #[error("cannot issue the token: {0}")]
    InvalidInput(&'static str),
    /// Signing failed.
    #[error("signing the token failed")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

impl TokenError {
    fn from_jwt(error: &jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(claim.clone()),
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm
            | ErrorKind::MissingAlgorithm => Self::Algorithm,
            _ => Self::Malformed,
        }
    }
}

/// The payload of a token that verified.
#[derive(Clone, Debug, PartialEq)]
pub struct IdToken {
    claims: Map<String, Value>,
}

impl IdToken {
    /// The subject (`sub`): the user id.
    pub fn subject(&self) -> &str {
        self.claims.get("sub").and_then(Value::as_str).unwrap_or("")
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        self.claims.get("iss").and_then(Value::as_str).unwrap_or("")
    }

    /// The expiry (`exp`), in seconds since the Unix epoch.
    pub fn expires_at(&self) -> Option<u64> {
        self.claims.get("exp").and_then(Value::as_u64)
    }

    /// The issue time (`iat`), in seconds since the Unix epoch.
    pub fn issued_at(&self) -> Option<u64> {
        self.claims.get("iat").and_then(Value::as_u64)
    }

    /// One claim by name (registered or the caller's).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// Every claim: what `/verify-token` answers as `decoded`.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The claims, owned.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }
}

enum KeySource {
    Hs256(Zeroizing<Vec<u8>>),
    Rs256(Zeroizing<Vec<u8>>),
}

/// Builds a [`TokenIssuer`]; see [`TokenIssuer::hs256`].
#[must_use]
pub struct TokenIssuerBuilder {
    key: KeySource,
    issuer: String,
    audience: Option<String>,
    ttl: Duration,
    leeway: Duration,
}

impl TokenIssuerBuilder {
    /// Sets the issuer (`iss`); default [`DEFAULT_ISSUER`].
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = issuer.into();
        self
    }

    /// Sets the audience (`aud`) issued and required; default: the issuer.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Sets the default lifetime; default [`DEFAULT_TOKEN_TTL`].
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the clock-skew allowance; default [`DEFAULT_LEEWAY`]. A larger
    /// leeway keeps expired tokens usable for longer.
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Checks the key and settings and builds the issuer.
    pub fn build(self) -> Result<TokenIssuer, ConfigError> {
        if self.issuer.is_empty() {
            return Err(ConfigError::Invalid("the issuer must not be empty"));
        }
        if self.ttl.is_zero() {
            return Err(ConfigError::Invalid("the token ttl must not be zero"));
        }
        let audience = self.audience.unwrap_or_else(|| self.issuer.clone());
        if audience.is_empty() {
            return Err(ConfigError::Invalid("the audience must not be empty"));
        }
        let (algorithm, encoding, decoding, jwk) = match &self.key {
            KeySource::Hs256(secret) => {
                if secret.len() < MIN_SECRET_LEN {
                    return Err(ConfigError::SecretTooShort {
                        len: secret.len(),
                        min: MIN_SECRET_LEN,
                    });
                }
                (
                    Algorithm::HS256,
                    EncodingKey::from_secret(secret),
                    DecodingKey::from_secret(secret),
                    None,
                )
            }
            KeySource::Rs256(pem) => {
                let encoding =
                    EncodingKey::from_rsa_pem(pem).map_err(|e| ConfigError::Key(Box::new(e)))?;
                let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
                    .map_err(|e| ConfigError::Key(Box::new(e)))?;
                let kid = jwk
                    .thumbprint(ThumbprintHash::SHA256)
                    .map_err(|e| ConfigError::Key(Box::new(e)))?;
                jwk.common.key_id = Some(kid);
                jwk.common.public_key_use = Some(PublicKeyUse::Signature);
                let decoding =
                    DecodingKey::from_jwk(&jwk).map_err(|e| ConfigError::Key(Box::new(e)))?;
                (Algorithm::RS256, encoding, decoding, Some(jwk))
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        Ok(TokenIssuer {
            algorithm,
            encoding,
            decoding,
            validation,
            issuer: self.issuer,
            audience,
            ttl: self.ttl,
            leeway: self.leeway,
            jwk,
        })
    }
}

impl fmt::Debug for TokenIssuerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.key {
            KeySource::Hs256(_) => "HS256(<redacted>)",
            KeySource::Rs256(_) => "RS256(<redacted>)",
        };
        f.debug_struct("TokenIssuerBuilder")
            .field("key", &key)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// Issues and verifies the local IdP's JWTs.
///
/// Tokens carry `iss`, `sub`, `aud`, `iat`, `exp` and a random `jti`, plus
/// the caller's claims, which may not use those names. Verification pins
/// the algorithm (HS256, or RS256 when built from a PEM key), and checks the
/// signature, `iss`, `aud`, `exp` and `nbf` (with a small leeway, default
/// [`DEFAULT_LEEWAY`]); `alg: none`, another algorithm, a tampered token, a
/// foreign issuer or audience, an expired token and garbage are all refused
/// with a [`TokenError`].
///
/// ```
/// use auth_local_idp::{TokenError, TokenIssuer};
/// use serde_json::{Map, json};
///
/// let issuer = TokenIssuer::hs256("0123456789abcdef0123456789abcdef").build()?;
/// let mut claims = Map::new();
/// claims.insert("role".into(), json!("admin"));
/// let token = issuer.issue("local:42", &claims, None)?;
///
/// let verified = issuer.verify(&token)?;
/// assert_eq!(verified.subject(), "local:42");
/// assert_eq!(verified.issuer(), "pywire-auth-local");
/// assert_eq!(verified.claim("role"), Some(&json!("admin")));
///
/// assert!(matches!(issuer.verify("not.a.token"), Err(TokenError::Malformed)));
/// assert!(TokenIssuer::hs256("too short").build().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TokenIssuer {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
    leeway: Duration,
    jwk: Option<Jwk>,
}

impl TokenIssuer {
    /// An HS256 issuer with a shared secret of at least [`MIN_SECRET_LEN`]
    /// bytes (checked by `build`).
    pub fn hs256(secret: impl AsRef<[u8]>) -> TokenIssuerBuilder {
        Self::builder(KeySource::Hs256(Zeroizing::new(secret.as_ref().to_vec())))
    }

    /// An RS256 issuer with an RSA private key in PEM (PKCS#1 or PKCS#8).
    /// The public half is derived from it and published by
    /// [`TokenIssuer::jwks`].
    pub fn rs256_pem(private_key_pem: impl AsRef<[u8]>) -> TokenIssuerBuilder {
        Self::builder(KeySource::Rs256(Zeroizing::new(
            private_key_pem.as_ref().to_vec(),
        )))
    }

    fn builder(key: KeySource) -> TokenIssuerBuilder {
        TokenIssuerBuilder {
            key,
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: None,
            ttl: DEFAULT_TOKEN_TTL,
            leeway: DEFAULT_LEEWAY,
        }
    }

    /// The issuer (`iss`) this issuer writes and requires.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience (`aud`) this issuer writes and requires.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The lifetime of tokens issued without a per-call ttl.
    pub fn default_ttl(&self) -> Duration {
        self.ttl
    }

    /// The clock-skew allowance.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// The algorithm name: `HS256` or `RS256`.
    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::RS256 => "RS256",
            _ => "HS256",
        }
    }

    /// Issues a token for `subject` with the caller's `claims`, living
    /// `ttl` (else the default ttl).
    ///
    /// [`TokenError::ReservedClaim`] when a claim uses a name in
    /// [`REGISTERED_CLAIMS`]; [`TokenError::InvalidInput`] for an empty or
    /// over-long subject, a zero ttl, or claims so large the token would
    /// exceed [`MAX_TOKEN_LEN`].
    pub fn issue(
        &self,
        subject: &str,
        claims: &Map<String, Value>,
        ttl: Option<Duration>,
    ) -> Result<String, TokenError> {
        if subject.is_empty() || subject.len() > 255 {
            return Err(TokenError::InvalidInput(
                "the subject must be 1 to 255 bytes",
            ));
        }
        if let Some(name) = claims
            .keys()
            .find(|name| REGISTERED_CLAIMS.contains(&name.as_str()))
        {
            return Err(TokenError::ReservedClaim(name.clone()));
        }
        let ttl = ttl.unwrap_or(self.ttl);
        if ttl.is_zero() {
            return Err(TokenError::InvalidInput("the ttl must not be zero"));
        }
        let now = unix_now();
        let exp = now
            .checked_add(ttl.as_secs().max(1))
            .filter(|exp| *exp < 1 << 53)
            .ok_or(TokenError::InvalidInput("the ttl is too large"))?;
        let mut payload = claims.clone();
        payload.insert("iss".into(), Value::from(self.issuer.as_str()));
        payload.insert("sub".into(), Value::from(subject));
        payload.insert("aud".into(), Value::from(self.audience.as_str()));
        payload.insert("iat".into(), Value::from(now));
        payload.insert("exp".into(), Value::from(exp));
        payload.insert(
            "jti".into(),
            Value::from(uuid::Uuid::new_v4().simple().to_string()),
        );
        let mut header = Header::new(self.algorithm);
        header.kid = self.jwk.as_ref().and_then(|jwk| jwk.common.key_id.clone());
        let token =
            jsonwebtoken::encode(&header, &payload, &self.encoding).map_err(TokenError::Signing)?;
        if token.len() > MAX_TOKEN_LEN {
            // It would never verify; say so now rather than at the reader.
            return Err(TokenError::InvalidInput(
                "the claims make the token longer than MAX_TOKEN_LEN",
            ));
        }
        Ok(token)
    }

    /// Verifies a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<IdToken, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        self.check_header(token)?;
        let claims =
            jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &self.validation)
                .map_err(|e| TokenError::from_jwt(&e))?
                .claims;
        // The JWT crate reads a time claim it cannot parse as absent; an
        // absent `nbf` is allowed, so `"nbf": "..."` would pass. Refuse any
        // time claim that is not a plain integer.
        if TIME_CLAIMS
            .iter()
            .any(|name| claims.get(*name).is_some_and(|v| v.as_u64().is_none()))
            // `iss` and `sub` are single strings (RFC 7519 4.1.1, 4.1.2); the
            // crate also takes a list for `iss`.
            || ["iss", "sub"]
                .iter()
                .any(|name| !claims.get(*name).is_some_and(Value::is_string))
        {
            return Err(TokenError::Malformed);
        }
        Ok(IdToken { claims })
    }

    /// Reads the header before anything else: exactly three segments, no
    /// refused field ([`REFUSED_HEADERS`]), and the pinned `alg`, so `none`
    /// and unknown algorithms are named as such rather than as malformed
    /// JSON.
    fn check_header(&self, token: &str) -> Result<(), TokenError> {
        if token.split('.').count() != 3 {
            return Err(TokenError::Malformed);
        }
        let encoded = token.split('.').next().unwrap_or_default();
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| TokenError::Malformed)?;
        let header: Map<String, Value> =
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
        if let Some(field) = REFUSED_HEADERS
            .iter()
            .find(|field| header.contains_key(**field))
        {
            return Err(TokenError::Header(field));
        }
        match header.get("alg").and_then(Value::as_str) {
            Some(alg) if alg == self.algorithm() => Ok(()),
            Some(_) => Err(TokenError::Algorithm),
            None => Err(TokenError::Malformed),
        }
    }

    /// The public key as a JWKS document (`{"keys": [...]}`) for RS256
    /// issuers; `None` for HS256, whose key is a shared secret.
    pub fn jwks(&self) -> Option<JwkSet> {
        self.jwk.as_ref().map(|jwk| JwkSet {
            keys: vec![jwk.clone()],
        })
    }
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("algorithm", &self.algorithm())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}
