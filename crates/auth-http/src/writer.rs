//! The three-layer writer bound to one request's principal and session.

use auth_core::{ActiveSession, AuthError, Claim, Principal, SessionKey};

use crate::config::LiveAuth;

/// The three-layer writer bound to a request's principal and session: what
/// an adapter's `Auth` extractor hands a handler.
#[derive(Clone, Debug)]
pub struct Auth {
    web: LiveAuth,
    principal: Principal,
    session: Option<SessionKey>,
}

impl Auth {
    pub(crate) fn new(web: LiveAuth, principal: Principal, session: Option<SessionKey>) -> Self {
        Self {
            web,
            principal,
            session,
        }
    }

    /// The request's principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The request's session key, if signed in.
    pub fn session(&self) -> Option<&SessionKey> {
        self.session.as_ref()
    }

    /// The web layer.
    pub fn live_auth(&self) -> &LiveAuth {
        &self.web
    }

    /// Replaces the user's claims (store, this session, live tabs).
    pub async fn update_claims(&self, claims: Vec<Claim>) -> Result<Principal, AuthError> {
        self.web
            .actions()
            .update_claims(self.principal(), self.session(), claims)
            .await
    }

    /// Grants one claim, replacing any of the same type.
    pub async fn grant(&self, kind: &str, value: &str) -> Result<Principal, AuthError> {
        self.web
            .actions()
            .grant(self.principal(), self.session(), kind, value)
            .await
    }

    /// Revokes every claim of a type.
    pub async fn revoke_claim(&self, kind: &str) -> Result<Principal, AuthError> {
        self.web
            .actions()
            .revoke_claim(self.principal(), self.session(), kind)
            .await
    }

    /// Signs out this session and its live tabs; other sessions stay.
    /// Anonymous requests are a no-op.
    pub async fn revoke_session(&self) -> Result<(), AuthError> {
        match self.session() {
            Some(key) if self.principal().is_authenticated() => {
                self.web
                    .actions()
                    .revoke_session(self.principal(), key)
                    .await
            }
            Some(key) => Ok(self.web.sessions().sign_out(key).await.map(drop)?),
            None => Ok(()),
        }
    }

    /// Signs the user out of every session and tab.
    pub async fn revoke_all_sessions(&self) -> Result<usize, AuthError> {
        self.web
            .actions()
            .revoke_all_sessions(self.principal())
            .await
    }

    /// The user's live sessions ("where am I signed in").
    pub async fn sessions(&self) -> Result<Vec<ActiveSession>, AuthError> {
        let user_id = self.principal().user_id().ok_or(AuthError::Anonymous)?;
        Ok(self.web.sessions().sessions_of(user_id).await?)
    }
}
