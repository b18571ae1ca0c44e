//! Argon2id hashing off the async runtime, bounded in concurrency.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::password_hash::phc;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use auth_core::PasswordHash;
use tokio::sync::{OnceCell, Semaphore};
use zeroize::Zeroizing;

use crate::error::{ConfigError, LocalIdpError};

/// The default memory cost, in KiB (19 MiB, OWASP's first recommendation).
/// See `docs/local-idp.md` for the measurements behind the defaults.
pub const DEFAULT_M_COST: u32 = 19_456;
/// The default number of passes (one more than OWASP's minimum for 19 MiB).
pub const DEFAULT_T_COST: u32 = 3;
/// The default number of lanes.
pub const DEFAULT_P_COST: u32 = 1;

/// Stored hashes asking for more memory than this (KiB, 256 MiB) are not
/// verified, so a corrupt or hostile row cannot exhaust memory.
pub const MAX_VERIFY_M_COST: u32 = 262_144;
/// Stored hashes asking for more passes than this are not verified.
pub const MAX_VERIFY_T_COST: u32 = 16;
/// Stored hashes asking for more lanes than this are not verified.
pub const MAX_VERIFY_P_COST: u32 = 64;

const OUTPUT_LEN: usize = 32;

/// The outcome of checking a password against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// The password does not match.
    Mismatch,
    /// The password matches. `rehash` is true when the stored hash was made
    /// with other parameters (or another Argon2 variant) than the current
    /// ones, so it should be replaced.
    Match {
        /// Whether to store a fresh hash with the current parameters.
        rehash: bool,
    },
}

/// Counters of the Argon2 work done, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HasherStats {
    /// Hashes computed (registrations, password changes, rehashes, the
    /// dummy hash).
    pub hashes: u64,
    /// Verifications run, including those against the dummy hash.
    pub verifications: u64,
    /// The most hashes and verifications that have run at the same time
    /// (never above the configured concurrency).
    pub peak_concurrency: usize,
}

#[derive(Default)]
struct Counters {
    hashes: AtomicU64,
    verifications: AtomicU64,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Argon2id password hashing and verification, run on tokio's blocking
/// pool with at most N at once, so a login storm uses N cores and leaves the
/// async workers free for other requests.
///
/// Hashes are PHC strings. Hashes made with other Argon2 parameters (the
/// Python original's argon2-cffi defaults, `m=65536,t=3,p=4`, for one)
/// verify as they are, and [`Verification::Match`] says when to re-hash.
///
/// ```
/// use auth_local_idp::{Argon2Hasher, Verification};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hasher = Argon2Hasher::builder().build()?;
/// let hash = hasher.hash("correct horse battery staple").await?;
/// assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=3,p=1$"));
/// assert_eq!(
///     hasher.verify("correct horse battery staple", &hash).await?,
///     Verification::Match { rehash: false },
/// );
/// assert_eq!(hasher.verify("wrong", &hash).await?, Verification::Mismatch);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    concurrency: usize,
    permits: Arc<Semaphore>,
    dummy: OnceCell<PasswordHash>,
    counters: Counters,
}

/// Builds an [`Argon2Hasher`].
#[derive(Clone, Debug)]
#[must_use]
pub struct Argon2HasherBuilder {
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    concurrency: Option<usize>,
}

impl Argon2HasherBuilder {
    /// Sets the Argon2id cost: memory in KiB, passes, lanes. Below the
    /// defaults weakens security; the OWASP minimum is `19456, 2, 1` (or
    /// `47104, 1, 1`). Tests may use tiny values to run fast.
    pub fn with_params(mut self, m_cost: u32, t_cost: u32, p_cost: u32) -> Self {
        self.m_cost = m_cost;
        self.t_cost = t_cost;
        self.p_cost = p_cost;
        self
    }

    /// Sets how many hashes or verifications may run at once (default: the
    /// number of CPUs). Further calls wait their turn.
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    /// Checks the parameters and builds the hasher.
    pub fn build(self) -> Result<Argon2Hasher, ConfigError> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(OUTPUT_LEN))
            .map_err(|e| ConfigError::Argon2(e.to_string().into()))?;
        let concurrency = self.concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        if concurrency == 0 || concurrency > Semaphore::MAX_PERMITS {
            return Err(ConfigError::Invalid(
                "hashing concurrency must be at least 1 and at most Semaphore::MAX_PERMITS",
            ));
        }
        Ok(Argon2Hasher {
            inner: Arc::new(Inner {
                params,
                concurrency,
                permits: Arc::new(Semaphore::new(concurrency)),
                dummy: OnceCell::new(),
                counters: Counters::default(),
            }),
        })
    }
}

impl Argon2Hasher {
    /// A builder with the default parameters and concurrency.
    pub fn builder() -> Argon2HasherBuilder {
        Argon2HasherBuilder {
            m_cost: DEFAULT_M_COST,
            t_cost: DEFAULT_T_COST,
            p_cost: DEFAULT_P_COST,
            concurrency: None,
        }
    }

    /// The current parameters: memory (KiB), passes, lanes.
    pub fn params(&self) -> (u32, u32, u32) {
        let p = &self.inner.params;
        (p.m_cost(), p.t_cost(), p.p_cost())
    }

    /// How many hashes or verifications may run at once.
    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    /// How much Argon2 work has been done so far.
    pub fn stats(&self) -> HasherStats {
        HasherStats {
            hashes: self.inner.counters.hashes.load(Ordering::Relaxed),
            verifications: self.inner.counters.verifications.load(Ordering::Relaxed),
            peak_concurrency: self.inner.counters.peak.load(Ordering::Relaxed),
        }
    }

    /// Hashes `password` with a fresh random salt and the current
    /// parameters.
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, LocalIdpError> {
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let params = self.inner.params.clone();
        let inner = Arc::clone(&self.inner);
        self.run(move || {
            inner.counters.hashes.fetch_add(1, Ordering::Relaxed);
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(&password)
                .map(|hash| PasswordHash::new(hash.to_string()))
                .map_err(|e| LocalIdpError::hashing("hashing a password", e.to_string()))
        })
        .await?
    }

    /// Checks `password` against a stored PHC hash, with the parameters the
    /// hash names.
    ///
    /// A hash that is not an Argon2 PHC string, or whose parameters exceed
    /// [`MAX_VERIFY_M_COST`], [`MAX_VERIFY_T_COST`] or [`MAX_VERIFY_P_COST`],
    /// is a [`LocalIdpError::Hashing`] error, not a mismatch.
    pub async fn verify(
        &self,
        password: &str,
        hash: &PasswordHash,
    ) -> Result<Verification, LocalIdpError> {
        let parsed = parse_stored(hash)?;
        let rehash = self.needs_rehash_parsed(&parsed);
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let inner = Arc::clone(&self.inner);
        self.run(move || {
            inner.counters.verifications.fetch_add(1, Ordering::Relaxed);
            match Argon2::default().verify_password(&password, &parsed) {
                Ok(()) => Ok(Verification::Match { rehash }),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(Verification::Mismatch),
                Err(e) => Err(LocalIdpError::hashing(
                    "verifying a password",
                    e.to_string(),
                )),
            }
        })
        .await?
    }

    /// Makes the dummy hash now rather than on the first failed login, so
    /// even that first failure costs what every later one does. Call it
    /// once at startup; later calls return at once.
    pub async fn warm_up(&self) -> Result<(), LocalIdpError> {
        self.dummy().await.map(|_| ())
    }

    async fn dummy(&self) -> Result<&PasswordHash, LocalIdpError> {
        self.inner
            .dummy
            .get_or_try_init(|| async {
                // Nobody can sign in with it (no account holds it); it only
                // has to cost what a real hash costs.
                let password = Zeroizing::new(uuid::Uuid::new_v4().to_string());
                self.hash(&password).await
            })
            .await
    }

    /// Runs one verification against a dummy hash made with the current
    /// parameters, so an unknown account costs what a wrong password costs.
    /// The result is always a mismatch.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), LocalIdpError> {
        let dummy = self.dummy().await?;
        // A mismatch is the expected outcome; the work is the point.
        self.verify(password, dummy).await.map(|_| ())
    }

    /// Whether a stored hash was made with other parameters than the current
    /// ones (or is unreadable), so it should be replaced after the next
    /// successful login.
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        parse_stored(hash).map_or(true, |parsed| self.needs_rehash_parsed(&parsed))
    }

    fn needs_rehash_parsed(&self, parsed: &phc::PasswordHash) -> bool {
        let current = &self.inner.params;
        let same = parsed.algorithm.as_str() == "argon2id"
            && parsed.version == Some(0x13)
            && Params::try_from(parsed).is_ok_and(|p| {
                p.m_cost() == current.m_cost()
                    && p.t_cost() == current.t_cost()
                    && p.p_cost() == current.p_cost()
                    && p.output_len().unwrap_or(OUTPUT_LEN) == OUTPUT_LEN
            })
            && parsed.salt.as_ref().is_some_and(|s| s.len() >= 16);
        !same
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit
    /// moves into the task, so the bound holds even if the caller gives up
    /// waiting (its future is dropped) while the work runs.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, LocalIdpError> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| LocalIdpError::hashing("finding the tokio runtime", e))?;
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|e| LocalIdpError::hashing("waiting for a hashing slot", e))?;
        let inner = Arc::clone(&self.inner);
        handle
            .spawn_blocking(move || {
                let counters = &inner.counters;
                let running = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
                counters.peak.fetch_max(running, Ordering::SeqCst);
                let result = work();
                counters.running.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
                result
            })
            .await
            .map_err(|e| LocalIdpError::hashing("running the hash task", e))
    }
}

/// Parses a stored hash and checks it is Argon2 within the verification
/// limits.
fn parse_stored(hash: &PasswordHash) -> Result<phc::PasswordHash, LocalIdpError> {
    let parsed = phc::PasswordHash::new(hash.as_str())
        .map_err(|e| LocalIdpError::hashing("parsing a stored hash", e.to_string()))?;
    if !matches!(
        parsed.algorithm.as_str(),
        "argon2id" | "argon2i" | "argon2d"
    ) {
        return Err(LocalIdpError::hashing(
            "parsing a stored hash",
            "not an Argon2 hash",
        ));
    }
    let params = Params::try_from(&parsed)
        .map_err(|e| LocalIdpError::hashing("parsing a stored hash", e.to_string()))?;
    if params.m_cost() > MAX_VERIFY_M_COST
        || params.t_cost() > MAX_VERIFY_T_COST
        || params.p_cost() > MAX_VERIFY_P_COST
    {
        return Err(LocalIdpError::hashing(
            "parsing a stored hash",
            "its parameters exceed the verification limits",
        ));
    }
    Ok(parsed)
}

impl fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, t, p) = self.params();
        f.debug_struct("Argon2Hasher")
            .field("m_cost_kib", &m)
            .field("t_cost", &t)
            .field("p_cost", &p)
            .field("concurrency", &self.inner.concurrency)
            .finish_non_exhaustive()
    }
}
