//! The state of a sign-in between the redirect to the provider and the
//! callback, sealed into a short-lived cookie of the browser that started
//! it, and the bounded record that makes each state single use.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use auth_core::{Secret, unix_now};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How long a started sign-in may take before its callback is refused.
pub const FLOW_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The longest sealed flow accepted (a cookie is at most about 4 KiB).
pub const MAX_SEALED_LEN: usize = 3 * 1024;

/// The shortest flow key, in bytes.
pub const MIN_KEY_LEN: usize = 32;

/// What a flow is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FlowPurpose {
    /// Sign in (or sign up).
    SignIn,
    /// Link the identity to this signed-in user.
    Link {
        /// The user that asked.
        user_id: String,
    },
}

/// The secrets and intent of one started flow.
#[derive(Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingFlow {
    /// The provider id.
    pub provider: String,
    /// The `state` sent to the provider.
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// Where to go afterwards (a path on this site).
    pub next: String,
    /// Sign-in or link.
    pub purpose: FlowPurpose,
    /// Unix seconds after which the flow is refused.
    pub expires_at: u64,
}

impl std::fmt::Debug for PendingFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFlow")
            .field("provider", &self.provider)
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl PendingFlow {
    /// Whether `returned` is this flow's state, compared in constant time.
    pub fn state_matches(&self, returned: &str) -> bool {
        bool::from(self.state.as_bytes().ct_eq(returned.as_bytes()))
    }
}

/// The key that seals flows (HMAC-SHA256): at least [`MIN_KEY_LEN`]
/// bytes, the same in every worker.
#[derive(Clone)]
pub struct FlowKey(Secret);

impl std::fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowKey(<redacted>)")
    }
}

/// A flow key shorter than [`MIN_KEY_LEN`].
#[derive(Debug, thiserror::Error)]
#[error("the flow key must be at least {MIN_KEY_LEN} bytes")]
pub struct ShortKey;

impl FlowKey {
    /// A key from a secret of at least [`MIN_KEY_LEN`] bytes.
    pub fn new(secret: impl Into<Secret>) -> Result<Self, ShortKey> {
        let secret = secret.into();
        if secret.expose().len() < MIN_KEY_LEN {
            return Err(ShortKey);
        }
        Ok(Self(secret))
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(b"live-auth oidc flow v1\0");
        mac.update(payload);
        mac
    }

    /// `flow` as cookie text: its JSON, base64url, `.`, the MAC.
    pub fn seal(&self, flow: &PendingFlow) -> String {
        let json = serde_json::to_vec(flow).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The flow sealed in `value` if its MAC verifies and it has not
    /// expired.
    pub fn open(&self, value: &str) -> Result<PendingFlow, &'static str> {
        if value.len() > MAX_SEALED_LEN {
            return Err("the flow cookie is too long");
        }
        let (payload, tag) = value
            .split_once('.')
            .ok_or("the flow cookie is malformed")?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| "the flow cookie is malformed")?;
        self.mac(payload.as_bytes())
            .verify_slice(&tag)
            .map_err(|_| "the flow cookie is forged")?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| "the flow cookie is malformed")?;
        let flow: PendingFlow =
            serde_json::from_slice(&json).map_err(|_| "the flow cookie is malformed")?;
        if unix_now() >= flow.expires_at {
            return Err("the flow has expired");
        }
        Ok(flow)
    }
}

/// The states of finished flows, kept until they expire so a replayed
/// callback (the same cookie and `state` again) is refused. Bounded: past
/// `capacity` live entries the oldest are forgotten first (they are the
/// closest to expiry anyway). One per process: with several workers the
/// provider's single-use codes still refuse a replay.
#[derive(Debug)]
pub struct UsedStates {
    capacity: usize,
    inner: Mutex<Used>,
}

#[derive(Debug, Default)]
struct Used {
    order: VecDeque<(u64, String)>,
    set: HashSet<String>,
}

impl UsedStates {
    /// A record of at most `capacity` states (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Used::default()),
        }
    }

    /// Marks the state of `flow` used; `false` when it was already.
    pub fn first_use(&self, flow: &PendingFlow) -> bool {
        let now = unix_now();
        let mut used = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((expires_at, _)) = used.order.front() {
            if *expires_at > now && used.order.len() < self.capacity {
                break;
            }
            if let Some((_, state)) = used.order.pop_front() {
                used.set.remove(&state);
            }
        }
        if !used.set.insert(flow.state.clone()) {
            return false;
        }
        used.order.push_back((flow.expires_at, flow.state.clone()));
        true
    }
}

impl Default for UsedStates {
    fn default() -> Self {
        Self::new(10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(state: &str, expires_at: u64) -> PendingFlow {
        PendingFlow {
            provider: "p".into(),
            state: state.into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            next: "/".into(),
            purpose: FlowPurpose::SignIn,
            expires_at,
        }
    }

    #[test]
    fn sealed_flows_open_only_untouched_and_unexpired() {
        let key = FlowKey::new("k".repeat(32)).unwrap();
        let sealed = key.seal(&flow("s", unix_now() + 60));
        assert_eq!(key.open(&sealed).unwrap().state, "s");
        let other = FlowKey::new("j".repeat(32)).unwrap();
        assert!(other.open(&sealed).is_err(), "another key");
        let (payload, tag) = sealed.split_once('.').unwrap();
        let forged =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&flow("attacker", unix_now() + 60)).unwrap());
        assert!(
            key.open(&format!("{forged}.{tag}")).is_err(),
            "swapped payload"
        );
        assert!(key.open(payload).is_err(), "no tag");
        assert!(
            key.open(&key.seal(&flow("s", unix_now() - 1))).is_err(),
            "expired"
        );
        assert!(key.open(&"a".repeat(MAX_SEALED_LEN + 1)).is_err());
        assert!(FlowKey::new("short").is_err());
    }

    #[test]
    fn states_are_single_use_and_the_record_is_bounded() {
        let used = UsedStates::new(3);
        let later = unix_now() + 60;
        assert!(used.first_use(&flow("a", later)));
        assert!(!used.first_use(&flow("a", later)));
        for state in ["b", "c", "d", "e"] {
            assert!(used.first_use(&flow(state, later)));
        }
        let inner = used.inner.lock().unwrap();
        assert!(inner.order.len() <= 3 && inner.set.len() <= 3);
    }
}
