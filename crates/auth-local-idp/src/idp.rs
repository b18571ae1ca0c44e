//! The local identity provider: configuration, tokens, and the
//! `IdentityProvider` impl. Registration and login live in their own files.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    AuthStore, Authenticated, IdentityProvider, IdpError, InvalidInput, Principal, Proof,
    ProviderLink,
};
use serde_json::{Map, Value};

use crate::address::{DEFAULT_IPV6_PREFIX, address_group};
use crate::error::{ConfigError, LocalIdpError};
use crate::hasher::Argon2Hasher;
use crate::policy::PasswordPolicy;
use crate::token::{IdToken, TokenError, TokenIssuer};
use auth_core::throttle::{MemoryThrottle, Throttle};

/// The provider name in links and user ids (`local:<uuid>`).
pub const PROVIDER: &str = "local";

/// The environment variable holding the HS256 secret (at least 32 bytes).
pub const SECRET_VAR: &str = "LOCAL_IDP_SECRET";
/// The optional environment variable overriding the issuer.
pub const ISSUER_VAR: &str = "LOCAL_IDP_ISSUER";
/// The optional environment variable overriding the audience.
pub const AUDIENCE_VAR: &str = "LOCAL_IDP_AUDIENCE";

/// The claim naming the session a token was issued for; see
/// [`LocalIdP::issue_for_session`].
pub const SESSION_CLAIM: &str = "sid";

/// Default attempts per normalised email per window.
pub const DEFAULT_EMAIL_LIMIT: u32 = 10;
/// Default failed attempts per client address (or IPv6 prefix) per window.
/// Only failures count, so people sharing one office address do not lock
/// each other out by signing in.
pub const DEFAULT_ADDRESS_LIMIT: u32 = 50;
/// Default throttle window.
pub const DEFAULT_THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The built-in password identity provider.
///
/// Accounts live in any [`AuthStore`]: registration writes the user, its
/// Argon2id hash and its (`local`, email) link in one atomic
/// [`AuthStore::create_user`]. Emails are normalised with
/// [`normalize_email`](crate::normalize_email) before every lookup. Logins
/// are throttled per email and per client address, hashing runs off the
/// async runtime, and an unknown email costs one Argon2 verification like a
/// wrong password does. The same provider issues and verifies the JWTs of
/// its users.
///
/// See the crate documentation for a walk from environment variables to a
/// first login.
pub struct LocalIdP {
    pub(crate) store: Arc<dyn AuthStore>,
    pub(crate) hasher: Argon2Hasher,
    pub(crate) tokens: TokenIssuer,
    pub(crate) policy: PasswordPolicy,
    pub(crate) email_throttle: Arc<dyn Throttle>,
    pub(crate) address_throttle: Arc<dyn Throttle>,
    pub(crate) ipv6_prefix: u8,
}

/// Builds a [`LocalIdP`]; see [`LocalIdP::builder`].
#[must_use]
pub struct LocalIdpBuilder {
    store: Arc<dyn AuthStore>,
    tokens: TokenIssuer,
    hasher: Option<Argon2Hasher>,
    policy: PasswordPolicy,
    email_throttle: Option<Arc<dyn Throttle>>,
    address_throttle: Option<Arc<dyn Throttle>>,
    ipv6_prefix: u8,
}

impl LocalIdpBuilder {
    /// Sets the password hasher (default: [`Argon2Hasher::builder`]'s
    /// defaults).
    pub fn with_hasher(mut self, hasher: Argon2Hasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// Sets the rules new passwords must pass.
    pub fn with_password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the throttle keyed by normalised email (default: a
    /// [`MemoryThrottle`] of [`DEFAULT_EMAIL_LIMIT`] attempts per
    /// [`DEFAULT_THROTTLE_WINDOW`]).
    pub fn with_email_throttle(mut self, throttle: Arc<dyn Throttle>) -> Self {
        self.email_throttle = Some(throttle);
        self
    }

    /// Sets the throttle keyed by client address (default: a
    /// [`MemoryThrottle`] of [`DEFAULT_ADDRESS_LIMIT`] attempts per
    /// [`DEFAULT_THROTTLE_WINDOW`]).
    pub fn with_address_throttle(mut self, throttle: Arc<dyn Throttle>) -> Self {
        self.address_throttle = Some(throttle);
        self
    }

    /// Sets the length of the IPv6 prefix client addresses are counted by
    /// (default [`DEFAULT_IPV6_PREFIX`], a /64; 1 to 128). Longer prefixes
    /// weaken the per-address throttle: a host holding a /64 gets a budget
    /// per address it rotates through.
    pub fn with_ipv6_prefix(mut self, prefix: u8) -> Self {
        self.ipv6_prefix = prefix;
        self
    }

    /// Builds the provider.
    pub fn build(self) -> Result<LocalIdP, ConfigError> {
        if !(1..=128).contains(&self.ipv6_prefix) {
            return Err(ConfigError::Invalid(
                "the IPv6 prefix length must be 1 to 128",
            ));
        }
        let hasher = match self.hasher {
            Some(hasher) => hasher,
            None => Argon2Hasher::builder().build()?,
        };
        Ok(LocalIdP {
            store: self.store,
            hasher,
            tokens: self.tokens,
            policy: self.policy,
            email_throttle: self.email_throttle.unwrap_or_else(|| {
                Arc::new(MemoryThrottle::new(
                    DEFAULT_EMAIL_LIMIT,
                    DEFAULT_THROTTLE_WINDOW,
                ))
            }),
            address_throttle: self.address_throttle.unwrap_or_else(|| {
                Arc::new(MemoryThrottle::new(
                    DEFAULT_ADDRESS_LIMIT,
                    DEFAULT_THROTTLE_WINDOW,
                ))
            }),
            ipv6_prefix: self.ipv6_prefix,
        })
    }
}

impl fmt::Debug for LocalIdpBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalIdpBuilder")
            .field("tokens", &self.tokens)
            .field("hasher", &self.hasher)
            .field("policy", &self.policy)
            .field("ipv6_prefix", &self.ipv6_prefix)
            .finish_non_exhaustive()
    }
}

impl LocalIdP {
    /// A builder over `store`, issuing tokens with `tokens`.
    pub fn builder(store: Arc<dyn AuthStore>, tokens: TokenIssuer) -> LocalIdpBuilder {
        LocalIdpBuilder {
            store,
            tokens,
            hasher: None,
            policy: PasswordPolicy::new(),
            email_throttle: None,
            address_throttle: None,
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
        }
    }

    /// A provider with the defaults over `store`, configured from the
    /// environment: [`SECRET_VAR`] (`LOCAL_IDP_SECRET`, required, at least
    /// 32 bytes), and optionally [`ISSUER_VAR`] and [`AUDIENCE_VAR`].
    pub fn from_env(store: Arc<dyn AuthStore>) -> Result<Self, ConfigError> {
        Self::from_lookup(store, |name| std::env::var(name).ok())
    }

    /// [`LocalIdP::from_env`] with the variables read through `lookup`
    /// (a `.env` parser, a config map, a test).
    pub fn from_lookup(
        store: Arc<dyn AuthStore>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let secret = lookup(SECRET_VAR).ok_or(ConfigError::MissingVar(SECRET_VAR))?;
        let secret = zeroize::Zeroizing::new(secret);
        let mut tokens = TokenIssuer::hs256(secret.as_bytes());
        if let Some(issuer) = lookup(ISSUER_VAR).filter(|v| !v.is_empty()) {
            tokens = tokens.with_issuer(issuer);
        }
        if let Some(audience) = lookup(AUDIENCE_VAR).filter(|v| !v.is_empty()) {
            tokens = tokens.with_audience(audience);
        }
        Self::builder(store, tokens.build()?).build()
    }

    /// The group `client` is throttled in: see [`address_group`], with this
    /// provider's IPv6 prefix length.
    pub fn address_group(&self, client: IpAddr) -> String {
        address_group(client, self.ipv6_prefix)
    }

    /// The store the accounts live in.
    pub fn store(&self) -> &Arc<dyn AuthStore> {
        &self.store
    }

    /// The password hasher.
    pub fn hasher(&self) -> &Argon2Hasher {
        &self.hasher
    }

    /// The token issuer.
    pub fn tokens(&self) -> &TokenIssuer {
        &self.tokens
    }

    /// The rules new passwords must pass.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    /// Prepares the hasher's dummy hash (see [`Argon2Hasher::warm_up`]);
    /// call it once at startup so the first failed login costs what every
    /// later one does.
    pub async fn warm_up(&self) -> Result<(), LocalIdpError> {
        self.hasher.warm_up().await
    }

    /// The principal of a stored user; `Ok(None)` when there is none.
    #[tracing::instrument(skip_all)]
    pub async fn principal_for_user(
        &self,
        user_id: &str,
    ) -> Result<Option<Principal>, LocalIdpError> {
        Ok(self
            .store
            .get_user(user_id)
            .await?
            .map(|user| Principal::for_user(&user)))
    }

    /// Issues a token for `user_id` with extra `claims` (which may not use
    /// the registered names), living `ttl` or the issuer's default.
    pub fn issue_id_token(
        &self,
        user_id: &str,
        claims: &Map<String, Value>,
        ttl: Option<Duration>,
    ) -> Result<String, LocalIdpError> {
        Ok(self.tokens.issue(user_id, claims, ttl)?)
    }

    /// Issues a token for a signed-in principal: `sub` is its user id,
    /// `name` its display name, and `claims` its claims as a list of
    /// `{"type", "value"}` objects. An anonymous principal is refused.
    pub fn issue_for_principal(
        &self,
        principal: &Principal,
        ttl: Option<Duration>,
    ) -> Result<String, LocalIdpError> {
        self.principal_token(principal, None, ttl)
    }

    /// [`LocalIdP::issue_for_principal`] for a principal signed in through a
    /// session: the token also carries the session's id as `sid`
    /// ([`SESSION_CLAIM`]), so a verifier that knows the sessions (the axum
    /// adapter's `verify-token` route) can refuse it once that session is
    /// signed out, revoked or expired. `sid` must be 1 to 128 bytes.
    pub fn issue_for_session(
        &self,
        principal: &Principal,
        sid: &str,
        ttl: Option<Duration>,
    ) -> Result<String, LocalIdpError> {
        if sid.is_empty() || sid.len() > 128 {
            return Err(InvalidInput::new("the session id must be 1 to 128 bytes").into());
        }
        self.principal_token(principal, Some(sid), ttl)
    }

    fn principal_token(
        &self,
        principal: &Principal,
        sid: Option<&str>,
        ttl: Option<Duration>,
    ) -> Result<String, LocalIdpError> {
        let user_id = principal
            .user_id()
            .filter(|_| principal.is_authenticated())
            .ok_or_else(|| InvalidInput::new("cannot issue a token for an anonymous principal"))?;
        let mut claims = Map::new();
        if let Some(name) = principal.display_name() {
            claims.insert("name".into(), Value::from(name));
        }
        let list = serde_json::to_value(principal.claims())
            .map_err(|_| InvalidInput::new("claims cannot be encoded"))?;
        claims.insert("claims".into(), list);
        if let Some(sid) = sid {
            claims.insert(SESSION_CLAIM.into(), Value::from(sid));
        }
        self.issue_id_token(user_id, &claims, ttl)
    }

    /// Verifies a token issued by this provider (or by anything holding
    /// the same key, issuer and audience).
    pub fn verify_id_token(&self, token: &str) -> Result<IdToken, TokenError> {
        self.tokens.verify(token)
    }

    /// The principal a token speaks for, read fresh from the store (so
    /// claims revoked since the token was issued are gone).
    ///
    /// `Ok(None)` when the token does not verify or its user no longer
    /// exists; an error only when the store fails.
    #[tracing::instrument(skip_all)]
    pub async fn principal_from_id_token(
        &self,
        token: &str,
    ) -> Result<Option<Principal>, LocalIdpError> {
        let verified = match self.tokens.verify(token) {
            Ok(verified) => verified,
            Err(error) => {
                tracing::debug!(%error, "token refused");
                return Ok(None);
            }
        };
        match self.store.get_user(verified.subject()).await {
            Ok(user) => Ok(user.map(|user| Principal::for_user(&user))),
            // A subject that is not a valid user id names no user.
            Err(auth_core::StoreError::Invalid(_)) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}

impl fmt::Debug for LocalIdP {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalIdP")
            .field("tokens", &self.tokens)
            .field("hasher", &self.hasher)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl IdentityProvider for LocalIdP {
    fn provider(&self) -> &str {
        PROVIDER
    }

    /// Verifies a [`Proof::Password`]; see [`LocalIdP::verify_credentials`].
    async fn authenticate(&self, proof: Proof) -> Result<Authenticated, IdpError> {
        match proof {
            Proof::Password { email, password } => {
                let (user, email) = self.login(&email, password.expose(), None).await?;
                let link = ProviderLink::new(PROVIDER, email, user.user_id.clone());
                Ok(Authenticated::new(Principal::for_user(&user), link))
            }
            _ => Err(IdpError::UnsupportedProof),
        }
    }
}
