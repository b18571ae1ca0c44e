//! Login and password changes: throttled, constant-work, off the runtime.

use std::net::IpAddr;

use auth_core::{PasswordHash, Principal, StoreError, UserRecord};

use crate::email::normalize_email;
use crate::error::LocalIdpError;
use crate::hasher::Verification;
use crate::idp::{LocalIdP, PROVIDER};
use auth_core::throttle::{Throttle, ThrottleDecision};

/// A well-formed user id no account has (`local:` ids are random v4 uuids,
/// whose version nibble is never 0).
const ABSENT_USER_ID: &str = "local:00000000-0000-0000-0000-000000000000";

impl LocalIdP {
    /// Checks an email and password and returns the user's principal.
    ///
    /// [`LocalIdpError::InvalidCredentials`] for an unknown or malformed
    /// email, a user without a password, a wrong password, or a disabled
    /// account ([`auth_core::DISABLED_CLAIM`]), all at the cost of one
    /// Argon2 verification; [`LocalIdpError::Throttled`] once
    /// the email has used up its attempts (a success resets them). A
    /// matching hash made with other parameters is replaced by one with the
    /// current parameters before this returns.
    pub async fn verify_credentials(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Principal, LocalIdpError> {
        let (user, _) = self.login(email, password, None).await?;
        Ok(Principal::for_user(&user))
    }

    /// [`LocalIdP::verify_credentials`] for a request from `client`, which
    /// is throttled too: per address, or per IPv6 prefix (see
    /// [`LocalIdpBuilder::with_ipv6_prefix`](crate::LocalIdpBuilder::with_ipv6_prefix)).
    /// The address throttle counts failures: each attempt is counted when
    /// it starts (so a burst of concurrent guesses cannot overrun the
    /// limit) and taken back when the password was right. A success does
    /// not reset the count, so one valid account cannot be used to keep
    /// spraying guesses at others.
    pub async fn verify_credentials_from(
        &self,
        client: IpAddr,
        email: &str,
        password: &str,
    ) -> Result<Principal, LocalIdpError> {
        let (user, _) = self.login(email, password, Some(client)).await?;
        Ok(Principal::for_user(&user))
    }

    /// The login path shared by the methods above and the
    /// `IdentityProvider` impl; returns the user and the normalised email.
    #[tracing::instrument(skip_all)]
    pub(crate) async fn login(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<(UserRecord, String), LocalIdpError> {
        let address_key = client.map(|addr| format!("addr:{}", self.address_group(addr)));
        if let Some(key) = &address_key {
            check(&*self.address_throttle, key).await?;
        }
        let Ok(email) = normalize_email(email) else {
            tracing::debug!(reason = "malformed email", "login refused");
            return self.refuse(password).await;
        };
        let email_key = format!("email:{email}");
        check(&*self.email_throttle, &email_key).await?;
        if password.len() > self.policy.max_bytes() {
            tracing::debug!(reason = "over-long password", "login refused");
            return self.refuse("").await;
        }
        let Some(user) = self.store.find_by_provider(PROVIDER, &email).await? else {
            tracing::debug!(reason = "unknown email", "login refused");
            // The same store round trips as a known email, then the same
            // Argon2 work.
            let _ = self.store.password_hash(ABSENT_USER_ID).await;
            return self.refuse(password).await;
        };
        let Some(hash) = self.store.password_hash(&user.user_id).await? else {
            tracing::debug!(reason = "no password", "login refused");
            return self.refuse(password).await;
        };
        match self.hasher.verify(password, &hash).await? {
            Verification::Mismatch => {
                tracing::debug!(reason = "wrong password", "login refused");
                Err(LocalIdpError::InvalidCredentials)
            }
            Verification::Match { .. } if user.is_disabled() => {
                // The same answer and the same Argon2 work as a wrong
                // password: a disabled account is not told apart.
                tracing::debug!(reason = "account disabled", "login refused");
                Err(LocalIdpError::InvalidCredentials)
            }
            Verification::Match { rehash } => {
                if let Err(error) = self.email_throttle.reset(&email_key).await {
                    tracing::warn!(%error, "resetting the login throttle failed");
                }
                if let Some(key) = &address_key
                    && let Err(error) = self.address_throttle.forgive(key).await
                {
                    tracing::warn!(%error, "forgiving a successful login failed");
                }
                if rehash {
                    self.rehash(&user.user_id, password, &hash).await;
                }
                tracing::debug!(user_id = %user.user_id, "login succeeded");
                Ok((user, email))
            }
        }
    }

    /// Spends one verification against the dummy hash, then refuses.
    async fn refuse<T>(&self, password: &str) -> Result<T, LocalIdpError> {
        let bounded = if password.len() > self.policy.max_bytes() {
            ""
        } else {
            password
        };
        self.hasher.verify_dummy(bounded).await?;
        Err(LocalIdpError::InvalidCredentials)
    }

    /// Replaces `old` with a hash made with the current parameters. Best
    /// effort: a failure is logged and the login stands. The hash is
    /// re-read first, so a password changed meanwhile is not overwritten
    /// (short of a change landing between that read and the write).
    async fn rehash(&self, user_id: &str, password: &str, old: &PasswordHash) {
        let fresh = match self.hasher.hash(password).await {
            Ok(fresh) => fresh,
            Err(error) => {
                tracing::warn!(%error, "re-hashing a password failed");
                return;
            }
        };
        match self.store.password_hash(user_id).await {
            Ok(Some(current)) if current == *old => {}
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, "re-reading a password hash failed");
                return;
            }
        }
        match self.store.set_password_hash(user_id, fresh).await {
            Ok(()) => tracing::info!(%user_id, "password re-hashed with the current parameters"),
            Err(error) => tracing::warn!(%error, "storing a re-hashed password failed"),
        }
    }

    /// Checks that `password` is the user's current password, for an
    /// action that asks for it again (changing the email, deleting the
    /// account). Throttled per user with the email throttle; a success
    /// resets the count.
    ///
    /// [`LocalIdpError::UnknownUser`] when the user does not exist;
    /// [`LocalIdpError::InvalidCredentials`] when the password is wrong or
    /// the user has none (at the cost of one Argon2 verification);
    /// [`LocalIdpError::Throttled`] after too many wrong attempts.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_password(
        &self,
        user_id: &str,
        password: &str,
    ) -> Result<(), LocalIdpError> {
        let key = self.confirm(user_id, password, None).await?;
        self.forget_attempts(&key).await;
        Ok(())
    }

    /// Changes a user's password after checking the old one.
    ///
    /// [`LocalIdpError::UnknownUser`] when the user does not exist;
    /// [`LocalIdpError::InvalidCredentials`] when `old` is wrong (or the
    /// user has no password; use [`LocalIdP::reset_password`] then);
    /// [`LocalIdpError::Invalid`] when `new` breaks the policy;
    /// [`LocalIdpError::Throttled`] after too many wrong attempts.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        user_id: &str,
        old: &str,
        new: &str,
    ) -> Result<(), LocalIdpError> {
        let key = self.confirm(user_id, old, Some(new)).await?;
        let fresh = self.hasher.hash(new).await?;
        self.store
            .set_password_hash(user_id, fresh)
            .await
            .map_err(not_found_is_unknown_user)?;
        self.forget_attempts(&key).await;
        tracing::info!(%user_id, "password changed");
        Ok(())
    }

    /// Counts an attempt for `user_id`, checks `new` against the policy
    /// when given, then checks `password`; returns the throttle key.
    async fn confirm(
        &self,
        user_id: &str,
        password: &str,
        new: Option<&str>,
    ) -> Result<String, LocalIdpError> {
        if self.store.get_user(user_id).await?.is_none() {
            return Err(LocalIdpError::UnknownUser);
        }
        let key = format!("user:{user_id}");
        check(&*self.email_throttle, &key).await?;
        if let Some(new) = new {
            self.policy.check(new)?;
        }
        if password.len() > self.policy.max_bytes() {
            return self.refuse("").await;
        }
        let Some(hash) = self.store.password_hash(user_id).await? else {
            return self.refuse(password).await;
        };
        if self.hasher.verify(password, &hash).await? == Verification::Mismatch {
            return Err(LocalIdpError::InvalidCredentials);
        }
        Ok(key)
    }

    async fn forget_attempts(&self, key: &str) {
        if let Err(error) = self.email_throttle.reset(key).await {
            tracing::warn!(%error, "resetting the password throttle failed");
        }
    }

    /// Sets a user's password without the old one (an administrator's
    /// reset, or a reset link the application has verified).
    ///
    /// [`LocalIdpError::UnknownUser`] when the user does not exist;
    /// [`LocalIdpError::Invalid`] when `new` breaks the policy.
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, user_id: &str, new: &str) -> Result<(), LocalIdpError> {
        self.policy.check(new)?;
        if self.store.get_user(user_id).await?.is_none() {
            return Err(LocalIdpError::UnknownUser);
        }
        let fresh = self.hasher.hash(new).await?;
        self.store
            .set_password_hash(user_id, fresh)
            .await
            .map_err(not_found_is_unknown_user)?;
        tracing::info!(%user_id, "password reset");
        Ok(())
    }
}

/// Records an attempt; a refusal becomes [`LocalIdpError::Throttled`].
pub(crate) async fn check(throttle: &dyn Throttle, key: &str) -> Result<(), LocalIdpError> {
    match throttle.attempt(key).await? {
        ThrottleDecision::Allowed { .. } => Ok(()),
        ThrottleDecision::Refused { retry_after } => {
            tracing::debug!(?retry_after, "attempt throttled");
            Err(LocalIdpError::Throttled { retry_after })
        }
    }
}

fn not_found_is_unknown_user(error: StoreError) -> LocalIdpError {
    match error {
        StoreError::NotFound => LocalIdpError::UnknownUser,
        other => other.into(),
    }
}
