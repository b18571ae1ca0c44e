//! The built-in password identity provider of the live-auth stack: accounts
//! with Argon2id password hashes in any [`AuthStore`](auth_core::AuthStore),
//! a JWT issuer, and login throttling.
//!
//! | piece | what it is |
//! |---|---|
//! | [`LocalIdP`] | registration, login, password change and reset, tokens; an [`IdentityProvider`](auth_core::IdentityProvider) named `local` |
//! | [`Argon2Hasher`] | Argon2id PHC hashes on N dedicated threads with bounded memory and a bounded, login-first queue; re-hashing of old parameters |
//! | [`TokenIssuer`] | HS256 (or RS256) JWTs with a pinned algorithm, issuer, audience and expiry |
//! | [`Throttle`], [`MemoryThrottle`] | at most N attempts per key per window, in bounded memory (from `auth-core`, re-exported) |
//! | [`PasswordPolicy`], [`PasswordRule`], [`CommonPasswords`] | what a new password must satisfy: 8 to 1,024 bytes, not one of the 10,000 most common |
//! | [`normalize_email`] | the one email rule applied before every lookup |
//!
//! Secrets (passwords, hashes, keys, tokens) never appear in `Debug` output
//! or in logs.
//!
//! # From the environment to a first login
//!
//! [`LocalIdP::from_env`] reads `LOCAL_IDP_SECRET` (at least 32 bytes;
//! `openssl rand -hex 32` makes one) and optionally `LOCAL_IDP_ISSUER` and
//! `LOCAL_IDP_AUDIENCE`. Here the variables come from a map through
//! [`LocalIdP::from_lookup`], which `from_env` uses with the process
//! environment.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//!
//! use auth_core::memory::MemoryStore;
//! use auth_core::{Claim, IdentityProvider, Proof};
//! use auth_local_idp::{LocalIdP, LocalIdpError, Registration};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let env = HashMap::from([(
//!     "LOCAL_IDP_SECRET",
//!     "6f0d4c1e9a7b3f28d5e0c4b1a9f7e3d26c8b0a4f1e9d7c5b3a2f0e8d6c4b2a19",
//! )]);
//! let store = Arc::new(MemoryStore::new());
//! let idp = LocalIdP::from_lookup(store, |name| env.get(name).map(ToString::to_string))?;
//!
//! // Register: user, Argon2id hash and (local, email) link in one write.
//! let user = idp
//!     .create_user(
//!         Registration::new(" Ada@Example.com ", "correct horse battery staple")
//!             .with_name("Ada")
//!             .with_claims(vec![Claim::new("role", "admin")]),
//!     )
//!     .await?;
//! assert!(user.user_id.starts_with("local:"));
//! assert_eq!(user.email.as_deref(), Some("ada@example.com"));
//!
//! // A second registration of the same (normalised) email is refused.
//! let again = idp.create_user(Registration::new("ada@example.com", "another password")).await;
//! assert!(matches!(again, Err(LocalIdpError::EmailTaken)));
//!
//! // Log in, directly or through the IdentityProvider trait.
//! let principal = idp.verify_credentials("ada@example.com", "correct horse battery staple").await?;
//! assert!(principal.has_claim("role", Some("admin")));
//! let signed_in = idp.authenticate(Proof::password("ADA@example.com", "correct horse battery staple")).await?;
//! assert_eq!(signed_in.link.subject, "ada@example.com");
//!
//! let wrong = idp.verify_credentials("ada@example.com", "wrong password").await;
//! assert!(matches!(wrong, Err(LocalIdpError::InvalidCredentials)));
//!
//! // A short-lived token for the user, and back.
//! let token = idp.issue_for_principal(&principal, None)?;
//! let decoded = idp.verify_id_token(&token)?;
//! assert_eq!(decoded.issuer(), "pywire-auth-local");
//! let from_token = idp.principal_from_id_token(&token).await?;
//! assert_eq!(from_token.and_then(|p| p.user_id().map(str::to_owned)), Some(user.user_id));
//! # Ok(()) }
//! ```

mod address;
mod common;
mod email;
mod error;
mod hasher;
mod idp;
mod login;
mod policy;
mod pool;
mod registration;
mod token;

pub use address::{DEFAULT_IPV6_PREFIX, address_group};
/// The throttle trait and its in-memory implementation live in `auth-core`
/// (so a throttle backend needs no password hashing or JWT code); they are
/// re-exported here, where the provider takes them.
pub use auth_core::throttle::{MemoryThrottle, Throttle, ThrottleDecision, ThrottleError};
pub use common::CommonPasswords;
pub use email::{MAX_EMAIL_LEN, normalize_email};
pub use error::{ConfigError, LocalIdpError};
pub use hasher::{
    Argon2Hasher, Argon2HasherBuilder, DEFAULT_M_COST, DEFAULT_P_COST, DEFAULT_QUEUE_PER_THREAD,
    DEFAULT_T_COST, HasherStats, MAX_CONCURRENCY, MAX_QUEUE_CAPACITY, MAX_VERIFY_M_COST,
    MAX_VERIFY_P_COST, MAX_VERIFY_T_COST, Verification,
};
pub use idp::{
    AUDIENCE_VAR, DEFAULT_ADDRESS_LIMIT, DEFAULT_EMAIL_LIMIT, DEFAULT_THROTTLE_WINDOW, ISSUER_VAR,
    LocalIdP, LocalIdpBuilder, PROVIDER, SECRET_VAR, SESSION_CLAIM,
};
pub use policy::{PasswordPolicy, PasswordRule};
pub use registration::{MAX_NAME_LEN, PreparedRegistration, Registration};
pub use token::{
    DEFAULT_ISSUER, DEFAULT_LEEWAY, DEFAULT_TOKEN_TTL, IdToken, MAX_TOKEN_LEN, MIN_SECRET_LEN,
    REFUSED_HEADERS, REGISTERED_CLAIMS, TokenError, TokenIssuer, TokenIssuerBuilder,
};

/// The JWT crate this one's API exposes ([`TokenIssuer::jwks`]), so users
/// get the matching version.
pub use jsonwebtoken;
