//! The in-memory session backend.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::error::SessionError;
use crate::session::{SessionBackend, SessionKey, SessionRecord};
use crate::user::validate_user_id;

/// Expired sessions are swept after this many saves.
const SWEEP_EVERY: u32 = 1024;

struct Entry {
    record: SessionRecord,
    expires: Instant,
}

#[derive(Default)]
struct State {
    sessions: HashMap<SessionKey, Entry>,
    by_user: HashMap<String, HashSet<SessionKey>>,
    stamps: HashMap<String, u64>,
    saves: u32,
}

impl State {
    fn unindex(&mut self, key: &SessionKey, user_id: Option<&str>) {
        let Some(user_id) = user_id else { return };
        if let Some(keys) = self.by_user.get_mut(user_id) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_user.remove(user_id);
            }
        }
    }

    fn remove(&mut self, key: &SessionKey) -> bool {
        match self.sessions.remove(key) {
            Some(entry) => {
                self.unindex(key, entry.record.user_id());
                true
            }
            None => false,
        }
    }

    fn live(&mut self, key: &SessionKey, now: Instant) -> Option<&Entry> {
        if self.sessions.get(key).is_some_and(|e| e.expires <= now) {
            self.remove(key);
        }
        self.sessions.get(key)
    }

    fn insert(&mut self, key: &SessionKey, record: &SessionRecord, ttl: Duration) {
        let old_user = self
            .sessions
            .get(key)
            .and_then(|e| e.record.user_id().map(str::to_owned));
        if old_user.as_deref() != record.user_id() {
            self.unindex(key, old_user.as_deref());
        }
        if let Some(user_id) = record.user_id() {
            self.by_user
                .entry(user_id.to_owned())
                .or_default()
                .insert(key.clone());
        }
        let entry = Entry {
            record: record.clone(),
            expires: Instant::now() + ttl,
        };
        self.sessions.insert(key.clone(), entry);
        self.saves = self.saves.wrapping_add(1);
        if self.saves.is_multiple_of(SWEEP_EVERY) {
            self.sweep();
        }
    }

    fn sweep(&mut self) {
        let now = Instant::now();
        let expired: Vec<SessionKey> = self
            .sessions
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in &expired {
            self.remove(key);
        }
    }
}

/// A [`SessionBackend`] in a map behind one lock, with a per-user index and
/// change stamps. Expired sessions vanish on access and are swept every
/// 1,024 saves, so memory stays bounded by the live sessions.
///
/// Stamps are kept for the life of the process (a few bytes per user who
/// ever changed).
#[derive(Default)]
pub struct MemorySessionBackend {
    state: Mutex<State>,
}

impl std::fmt::Debug for MemorySessionBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySessionBackend")
            .finish_non_exhaustive()
    }
}

impl MemorySessionBackend {
    /// An empty backend.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions are held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.state().sessions.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl SessionBackend for MemorySessionBackend {
    async fn load(&self, key: &SessionKey) -> Result<Option<SessionRecord>, SessionError> {
        Ok(self
            .state()
            .live(key, Instant::now())
            .map(|e| e.record.clone()))
    }

    async fn save(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<(), SessionError> {
        self.state().insert(key, record, ttl);
        Ok(())
    }

    async fn update(
        &self,
        key: &SessionKey,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, SessionError> {
        let mut state = self.state();
        if state.live(key, Instant::now()).is_none() {
            return Ok(false);
        }
        state.insert(key, record, ttl);
        Ok(true)
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, SessionError> {
        Ok(self.state().remove(key))
    }

    async fn sessions_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<(SessionKey, SessionRecord)>, SessionError> {
        validate_user_id(user_id)?;
        let mut state = self.state();
        let keys: Vec<SessionKey> = state
            .by_user
            .get(user_id)
            .map(|keys| keys.iter().cloned().collect())
            .unwrap_or_default();
        let now = Instant::now();
        Ok(keys
            .iter()
            .filter_map(|key| {
                state
                    .live(key, now)
                    .map(|e| (key.clone(), e.record.clone()))
            })
            .collect())
    }

    async fn delete_sessions_of(&self, user_id: &str) -> Result<usize, SessionError> {
        validate_user_id(user_id)?;
        let mut state = self.state();
        let keys = state.by_user.remove(user_id).unwrap_or_default();
        let now = Instant::now();
        let mut live = 0;
        for key in keys {
            if let Some(entry) = state.sessions.remove(&key) {
                live += usize::from(entry.expires > now);
            }
        }
        Ok(live)
    }

    async fn user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        validate_user_id(user_id)?;
        Ok(self.state().stamps.get(user_id).copied().unwrap_or(0))
    }

    async fn bump_user_stamp(&self, user_id: &str) -> Result<u64, SessionError> {
        validate_user_id(user_id)?;
        let mut state = self.state();
        let stamp = state.stamps.entry(user_id.to_owned()).or_insert(0);
        *stamp += 1;
        Ok(*stamp)
    }
}
