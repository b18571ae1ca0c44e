//! Registration: one atomic write of user, credentials and link.

use std::net::IpAddr;

use auth_core::{
    Claim, Extras, NewUser, Secret, StoreError, UserRecord, is_reserved_claim, validate_claims,
};

use crate::email::normalize_email;
use crate::error::LocalIdpError;
use crate::idp::{LocalIdP, PROVIDER};
use crate::login::check;

/// Longest display name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// What a new account is made of: email and password, and optionally a
/// display name, initial claims and application data.
///
/// Its `Debug` redacts the password.
///
/// ```
/// use auth_core::Claim;
/// use auth_local_idp::Registration;
///
/// let registration = Registration::new("ada@example.com", "correct horse battery staple")
///     .with_name("Ada")
///     .with_claims(vec![Claim::new("role", "admin")]);
/// assert!(!format!("{registration:?}").contains("horse"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Registration {
    /// The email as typed; normalised on registration.
    pub email: String,
    /// The password, never trimmed or rewritten.
    pub password: Secret,
    /// The display name.
    pub name: Option<String>,
    /// Claims to start with (e.g. `role`, `email_verified`).
    pub claims: Vec<Claim>,
    /// Application data kept beside the user.
    pub extras: Extras,
}

impl Registration {
    /// A registration of `email` with `password`.
    pub fn new(email: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self {
            email: email.into(),
            password: password.into(),
            name: None,
            claims: Vec::new(),
            extras: Extras::new(),
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the initial claims.
    #[must_use]
    pub fn with_claims(mut self, claims: Vec<Claim>) -> Self {
        self.claims = claims;
        self
    }

    /// Sets the application data.
    #[must_use]
    pub fn with_extras(mut self, extras: Extras) -> Self {
        self.extras = extras;
        self
    }
}

/// A checked, hashed registration from
/// [`LocalIdP::prepare_registration`], ready for
/// [`LocalIdP::finish_registration`]. Its `Debug` shows only the email.
pub struct PreparedRegistration {
    email: String,
    user: NewUser,
}

impl PreparedRegistration {
    /// The normalised email of the account to be.
    pub fn email(&self) -> &str {
        &self.email
    }
}

impl std::fmt::Debug for PreparedRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedRegistration")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl LocalIdP {
    /// Creates an account: checks the email and password, hashes the
    /// password off the runtime, then writes the user (id `local:<uuid>`),
    /// its credentials and its (`local`, normalised email) link in one
    /// [`AuthStore::create_user`](auth_core::AuthStore::create_user).
    ///
    /// [`LocalIdpError::EmailTaken`] when the email is registered already;
    /// of many concurrent registrations of one email exactly one succeeds.
    /// A taken email costs the same Argon2 hash as a new one, so the time
    /// to answer does not tell them apart (the answer does: see
    /// `docs/local-idp.md` on what immediate registration reveals).
    /// [`LocalIdpError::Invalid`] for a malformed email, a password that
    /// breaks the [`PasswordPolicy`](crate::PasswordPolicy), an over-long
    /// name or a bad claim (a reserved one, such as
    /// [`auth_core::DISABLED_CLAIM`], included); nothing is written then.
    /// [`LocalIdpError::Throttled`] once the normalised email has used up
    /// its attempts in the email throttle's window.
    pub async fn create_user(
        &self,
        registration: Registration,
    ) -> Result<UserRecord, LocalIdpError> {
        self.register(registration, None).await
    }

    /// [`LocalIdP::create_user`] for a request from `client`, which is
    /// throttled too: every registration from the address (or IPv6
    /// prefix) counts, successful or not, in the address throttle's window,
    /// under keys of their own (registrations and logins do not share a
    /// budget).
    pub async fn create_user_from(
        &self,
        client: IpAddr,
        registration: Registration,
    ) -> Result<UserRecord, LocalIdpError> {
        self.register(registration, Some(client)).await
    }

    async fn register(
        &self,
        registration: Registration,
        client: Option<IpAddr>,
    ) -> Result<UserRecord, LocalIdpError> {
        let prepared = self.prepare_registration(registration, client).await?;
        self.finish_registration(prepared).await
    }

    /// The first half of [`LocalIdP::create_user_from`] (or, without
    /// `client`, of [`LocalIdP::create_user`]): every throttle, every
    /// check of the input and the Argon2 hash, and nothing that looks at
    /// the store, so its answer and its time are the same whether the
    /// email has an account or not. [`LocalIdP::finish_registration`]
    /// writes the result.
    ///
    /// Registration that reveals nothing answers the visitor once this
    /// succeeded and finishes the account out of band (the owner of a
    /// taken email gets a notice instead).
    #[tracing::instrument(skip_all)]
    pub async fn prepare_registration(
        &self,
        registration: Registration,
        client: Option<IpAddr>,
    ) -> Result<PreparedRegistration, LocalIdpError> {
        if let Some(addr) = client {
            let key = format!("register-addr:{}", self.address_group(addr));
            check(&*self.address_throttle, &key).await?;
        }
        let email = normalize_email(&registration.email)?;
        check(&*self.email_throttle, &format!("register:{email}")).await?;
        self.policy.check(registration.password.expose())?;
        if registration
            .name
            .as_ref()
            .is_some_and(|name| name.len() > MAX_NAME_LEN || name.chars().any(char::is_control))
        {
            return Err(
                auth_core::InvalidInput::new("name is too long or has control characters").into(),
            );
        }
        validate_claims(&registration.claims)?;
        if registration
            .claims
            .iter()
            .any(|claim| is_reserved_claim(&claim.kind))
        {
            return Err(auth_core::InvalidInput::new("the claim type is reserved").into());
        }
        let hash = self.hasher.hash(registration.password.expose()).await?;
        let user_id = format!("{PROVIDER}:{}", uuid::Uuid::new_v4());
        let mut user = NewUser::new(user_id)
            .with_email(email.clone())
            .with_claims(registration.claims)
            .with_extras(registration.extras)
            .with_password_hash(hash)
            .with_link(PROVIDER, email.clone());
        if let Some(name) = registration.name {
            user = user.with_name(name);
        }
        Ok(PreparedRegistration { email, user })
    }

    /// Writes a [`PreparedRegistration`] in one
    /// [`AuthStore::create_user`](auth_core::AuthStore::create_user).
    /// [`LocalIdpError::EmailTaken`] when the email has an account (then
    /// nothing is written); of many concurrent registrations of one email
    /// exactly one succeeds.
    #[tracing::instrument(skip_all)]
    pub async fn finish_registration(
        &self,
        prepared: PreparedRegistration,
    ) -> Result<UserRecord, LocalIdpError> {
        match self.store.create_user(prepared.user).await {
            Ok(record) => {
                tracing::info!(user_id = %record.user_id, "local account created");
                Ok(record)
            }
            // The link is the only key a fresh uuid can collide on.
            Err(StoreError::Conflict { .. }) => {
                tracing::debug!("registration refused: the email is taken");
                Err(LocalIdpError::EmailTaken)
            }
            Err(error) => Err(error.into()),
        }
    }
}
