//! The admin console's reads: users page by page (with a search), and one
//! user's claims, sessions and audit entries. The routes that change a user
//! are in `routes/admin.rs`; the pages around both are the app's.

use std::sync::Arc;

use auth_core::{
    AuditEntry, AuthError, InvalidInput, MAX_PAGE_SIZE, Page, Principal, ProviderLink, SessionKey,
    UserDirectory, UserRecord, validate_user_id,
};

use crate::config::LiveAuth;

/// Users on one page of the admin list.
pub const ADMIN_USERS_PER_PAGE: usize = 50;
/// The most users one list request reads from the directory while
/// searching; past it the page ends early with a `next` cursor, so a search
/// costs a bounded amount of work however many users there are.
pub const ADMIN_SEARCH_SCAN: usize = 5_000;
/// Audit entries on one page of a user's history.
pub const ADMIN_AUDIT_PER_PAGE: usize = 20;
/// The most sessions a user page lists (the newest by last use).
pub const ADMIN_MAX_SESSIONS: usize = 100;
/// The longest search term accepted, in bytes.
pub const MAX_SEARCH_LEN: usize = 256;

/// The configured console: its policy and where users are listed from.
#[derive(Clone)]
pub(crate) struct AdminConsole {
    pub(crate) policy: String,
    users: Arc<dyn UserDirectory>,
}

impl AdminConsole {
    pub(crate) fn new(policy: String, users: Arc<dyn UserDirectory>) -> Self {
        Self { policy, users }
    }
}

/// One user in the admin list.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UserSummary {
    /// The user.
    pub user: UserRecord,
    /// The providers the user signs in with (`local`, …).
    pub providers: Vec<String>,
}

/// One page of the admin list.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct UserList {
    /// The users, in byte order of their ids.
    pub users: Vec<UserSummary>,
    /// Where the next page starts (pass it as `after`), when there may be
    /// more.
    pub next: Option<String>,
}

/// One session of a user, as the console shows it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionSummary {
    /// The session's stored key (a hash of its token, not a credential):
    /// what the sign-out form posts.
    pub key: SessionKey,
    /// When it signed in (Unix seconds).
    pub created_at: u64,
    /// When it was last used (Unix seconds).
    pub last_seen: u64,
}

/// Everything the console's user page shows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UserDetail {
    /// The user, with its claims.
    pub user: UserRecord,
    /// Its provider links.
    pub links: Vec<ProviderLink>,
    /// Its live sessions, most recently used first, at most
    /// [`ADMIN_MAX_SESSIONS`].
    pub sessions: Vec<SessionSummary>,
    /// One page of its audit entries, newest first.
    pub audit: Vec<AuditEntry>,
    /// The next page of audit entries, when there are more.
    pub audit_next: Option<Page>,
}

impl LiveAuth {
    /// The admin console's policy, when the console is configured.
    pub fn admin_policy(&self) -> Option<&str> {
        self.inner.admin.as_ref().map(|admin| admin.policy.as_str())
    }

    /// Whether `principal` may use the admin console now: the console is
    /// configured and the principal passes its policy.
    pub fn is_admin(&self, principal: &Principal) -> bool {
        self.admin_policy().is_some_and(|policy| {
            principal.is_authenticated()
                && self.policies().check(policy, principal).unwrap_or(false)
        })
    }

    /// One page of users for the admin list: up to
    /// [`ADMIN_USERS_PER_PAGE`] whose ids come after `after`, and, with a
    /// `search`, only those whose email, name or id contains it (ignoring
    /// case). A search reads at most [`ADMIN_SEARCH_SCAN`] users per call
    /// and then ends the page early with `next`.
    ///
    /// [`AuthError::Invalid`] for a search over [`MAX_SEARCH_LEN`] bytes or
    /// a malformed `after`, or without a configured console.
    pub async fn admin_users(
        &self,
        search: Option<&str>,
        after: Option<&str>,
    ) -> Result<UserList, AuthError> {
        let admin = self.console()?;
        let needle = match search.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) if s.len() > MAX_SEARCH_LEN => {
                return Err(InvalidInput::new("the search is too long").into());
            }
            Some(s) => Some(s.to_lowercase()),
            None => None,
        };
        if let Some(after) = after {
            validate_user_id(after)?;
        }
        let mut list = UserList::default();
        let mut cursor = after.map(str::to_owned);
        let mut scanned = 0;
        loop {
            let batch = admin
                .users
                .list_users(cursor.as_deref(), MAX_PAGE_SIZE)
                .await?;
            let exhausted = batch.len() < MAX_PAGE_SIZE;
            for user in batch {
                scanned += 1;
                cursor = Some(user.user_id.clone());
                if needle.as_deref().is_none_or(|n| matches(&user, n)) {
                    let providers = self.providers_of(&user.user_id).await?;
                    list.users.push(UserSummary { user, providers });
                    if list.users.len() == ADMIN_USERS_PER_PAGE {
                        list.next = cursor;
                        return Ok(list);
                    }
                }
            }
            if exhausted {
                return Ok(list);
            }
            if scanned >= ADMIN_SEARCH_SCAN {
                list.next = cursor;
                return Ok(list);
            }
        }
    }

    /// The console's page of one user: claims, links, sessions and the
    /// audit entries of `audit_page` (of at most [`ADMIN_AUDIT_PER_PAGE`]).
    /// `Ok(None)` for a user that does not exist.
    ///
    /// [`AuthError::Invalid`] for a malformed user id, or without a
    /// configured console.
    pub async fn admin_user(
        &self,
        user_id: &str,
        audit_page: Page,
    ) -> Result<Option<UserDetail>, AuthError> {
        self.console()?;
        validate_user_id(user_id)?;
        let store = self.actions().store();
        let Some(user) = store.get_user(user_id).await? else {
            return Ok(None);
        };
        let links = store.links_of(user_id).await?;
        let mut sessions: Vec<SessionSummary> = self
            .sessions()
            .sessions_of(user_id)
            .await?
            .into_iter()
            .map(|active| SessionSummary {
                key: active.key,
                created_at: active.record.created_at,
                last_seen: active.record.last_seen,
            })
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
        sessions.truncate(ADMIN_MAX_SESSIONS);
        let limit = audit_page.limit().min(ADMIN_AUDIT_PER_PAGE);
        let (mut audit, audit_next) = match self.actions().audit_log() {
            Some(log) => {
                let read = Page::new(audit_page.offset(), limit + 1);
                let entries = log.entries(Some(user_id), read).await?;
                let more = entries.len() > limit;
                let page = Page::new(audit_page.offset(), limit);
                (entries, more.then(|| page.next()))
            }
            None => (Vec::new(), None),
        };
        audit.truncate(limit);
        Ok(Some(UserDetail {
            user,
            links,
            sessions,
            audit,
            audit_next,
        }))
    }

    fn console(&self) -> Result<&AdminConsole, InvalidInput> {
        self.inner
            .admin
            .as_ref()
            .ok_or_else(|| InvalidInput::new("the admin console is not configured"))
    }

    async fn providers_of(&self, user_id: &str) -> Result<Vec<String>, AuthError> {
        let links = self.actions().store().links_of(user_id).await?;
        let mut providers: Vec<String> = links.into_iter().map(|link| link.provider).collect();
        providers.sort();
        providers.dedup();
        Ok(providers)
    }
}

/// Whether `needle` (lowercase) is in the user's email, name or id.
fn matches(user: &UserRecord, needle: &str) -> bool {
    [
        user.email.as_deref(),
        user.name.as_deref(),
        Some(&user.user_id),
    ]
    .into_iter()
    .flatten()
    .any(|field| field.to_lowercase().contains(needle))
}
