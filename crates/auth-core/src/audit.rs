//! The audit log: who changed which user, how, when and from where.
//!
//! [`AuthActions`](crate::AuthActions) records an [`AuditEntry`] for every
//! change it makes to a target user on behalf of an [`Actor`] (an
//! administrator, a tool); an [`AuditLog`] keeps them for good.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{InvalidInput, StoreError};
use crate::session::unix_now;
use crate::user::validate_user_id;

/// Longest actor or source accepted, in bytes.
pub const MAX_ACTOR_LEN: usize = 255;
/// Longest audit detail accepted, in bytes.
pub const MAX_AUDIT_DETAIL_LEN: usize = 1024;
/// The most entries (or users) one page holds; a larger limit is lowered
/// to it.
pub const MAX_PAGE_SIZE: usize = 500;

/// Who acts on a user, and from where: a principal's user id with the
/// client address of its request, or a tool such as `cli:<os user>` with
/// the source `cli`.
///
/// ```
/// use auth_core::Actor;
///
/// let admin = Actor::new("local:7f1c", "203.0.113.9");
/// assert_eq!(admin.id(), "local:7f1c");
/// let tool = Actor::cli("ops");
/// assert_eq!((tool.id(), tool.source()), ("cli:ops", "cli"));
/// assert!(Actor::new("", "cli").validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    id: String,
    source: String,
}

impl Actor {
    /// An actor `id` (a user id, or `tool:<name>`) acting from `source` (a
    /// client address, or the tool's name).
    pub fn new(id: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            source: source.into(),
        }
    }

    /// The command-line tool run by the operating-system user `os_user`:
    /// id `cli:<os_user>`, source `cli`.
    pub fn cli(os_user: &str) -> Self {
        Self::new(format!("cli:{os_user}"), "cli")
    }

    /// Who acts.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// From where.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Checks both parts: non-empty, at most [`MAX_ACTOR_LEN`] bytes, no
    /// control characters.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        for part in [&self.id, &self.source] {
            if part.is_empty() || part.len() > MAX_ACTOR_LEN {
                return Err(InvalidInput::new(
                    "actor id and source must be 1 to 255 bytes",
                ));
            }
            if part.chars().any(char::is_control) {
                return Err(InvalidInput::new("actor has control characters"));
            }
        }
        Ok(())
    }
}

/// What was done to the target user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A claim was granted (or its value replaced).
    Grant,
    /// Every claim of a type was revoked.
    Revoke,
    /// All claims were replaced.
    ReplaceClaims,
    /// One session was signed out.
    SignOutSession,
    /// Every session was signed out.
    SignOutEverywhere,
    /// The account was disabled.
    Disable,
    /// The account was enabled again.
    Enable,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [Self; 7] = [
        Self::Grant,
        Self::Revoke,
        Self::ReplaceClaims,
        Self::SignOutSession,
        Self::SignOutEverywhere,
        Self::Disable,
        Self::Enable,
    ];

    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Revoke => "revoke",
            Self::ReplaceClaims => "replace-claims",
            Self::SignOutSession => "sign-out-session",
            Self::SignOutEverywhere => "sign-out-everywhere",
            Self::Disable => "disable",
            Self::Enable => "enable",
        }
    }

    /// The action a stored name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == name)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change of a user by an actor. It holds no secret: never a session
/// key, token or password, only what was changed (`role=admin`, `role`,
/// `2 sessions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuditEntry {
    /// When, in Unix seconds.
    pub at: u64,
    /// Who acted ([`Actor::id`]).
    pub actor: String,
    /// From where ([`Actor::source`]).
    pub source: String,
    /// What was done.
    pub action: AuditAction,
    /// To whom.
    pub target_user_id: String,
    /// What exactly, in words (may be empty).
    pub detail: String,
}

impl AuditEntry {
    /// An entry of `action` by `actor` on `target_user_id`, now.
    pub fn new(
        actor: &Actor,
        action: AuditAction,
        target_user_id: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            at: unix_now(),
            actor: actor.id.clone(),
            source: actor.source.clone(),
            action,
            target_user_id: target_user_id.into(),
            detail: detail.into(),
        }
    }

    /// Checks the entry can be stored: a valid actor and target user id,
    /// and a detail of at most [`MAX_AUDIT_DETAIL_LEN`] bytes without NUL.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        Actor::new(self.actor.as_str(), self.source.as_str()).validate()?;
        validate_user_id(&self.target_user_id)?;
        if self.detail.len() > MAX_AUDIT_DETAIL_LEN {
            return Err(InvalidInput::new("audit detail is too long"));
        }
        if self.detail.contains('\0') {
            return Err(InvalidInput::new("audit detail has a NUL character"));
        }
        Ok(())
    }
}

/// Which entries (or users) to read: `limit` of them after skipping
/// `offset`. A limit above [`MAX_PAGE_SIZE`] is lowered to it; a limit of 0
/// reads nothing.
///
/// ```
/// use auth_core::{MAX_PAGE_SIZE, Page};
///
/// assert_eq!(Page::first(20).next().offset(), 20);
/// assert_eq!(Page::new(0, 1_000_000).limit(), MAX_PAGE_SIZE);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Page {
    offset: u64,
    limit: usize,
}

impl Page {
    /// `limit` items after the first `offset`.
    pub fn new(offset: u64, limit: usize) -> Self {
        Self {
            offset,
            limit: limit.min(MAX_PAGE_SIZE),
        }
    }

    /// The first `limit` items.
    pub fn first(limit: usize) -> Self {
        Self::new(0, limit)
    }

    /// The page after this one.
    #[must_use]
    pub fn next(self) -> Self {
        Self::new(self.offset.saturating_add(self.limit as u64), self.limit)
    }

    /// How many items are skipped.
    pub fn offset(self) -> u64 {
        self.offset
    }

    /// How many items at most are read.
    pub fn limit(self) -> usize {
        self.limit
    }
}

/// Where audit entries are kept for good.
///
/// Entries are never changed or deleted through this trait, and they
/// outlive the users they name (deleting a user keeps its entries).
///
/// Run [`testkit::admin_conformance`](crate::testkit) (feature `testkit`)
/// against an implementation to hold it to this contract.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends `entry`. [`StoreError::Invalid`] when it fails
    /// [`AuditEntry::validate`] (then nothing is written). Recording the
    /// same entry twice keeps two entries.
    async fn record(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// Entries newest first (in the order they were recorded, the last
    /// first), of the target user `user_id` only when given, one `page`
    /// of them. An unknown user, or a page past the end, is an empty list.
    /// [`StoreError::Invalid`] for a malformed `user_id`.
    async fn entries(
        &self,
        user_id: Option<&str>,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
