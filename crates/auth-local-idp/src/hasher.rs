//! Argon2id hashing off the async runtime, on a fixed set of threads with
//! bounded memory and a bounded queue.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use argon2::password_hash::phc;
use argon2::{Algorithm, Argon2, Params, Version};
use auth_core::PasswordHash;
use subtle::ConstantTimeEq as _;
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::error::{ConfigError, LocalIdpError};
use crate::pool::{Class, Counters, Memory, Pool};

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

/// The most hashing threads a hasher may have.
pub const MAX_CONCURRENCY: usize = 1024;
/// The longest hashing queue a hasher may have.
pub const MAX_QUEUE_CAPACITY: usize = 65_536;
/// The default queue length, per hashing thread: with the default
/// parameters (about 31 ms a job) a job waits at most about half a second.
pub const DEFAULT_QUEUE_PER_THREAD: usize = 16;

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
    /// Calls refused with [`LocalIdpError::Busy`] because the queue was
    /// full.
    pub refused: u64,
    /// The Argon2 memory the hashing threads hold now, in KiB: at most the
    /// concurrency times the largest `m` any of them has needed.
    pub memory_kib: usize,
}

/// Argon2id password hashing and verification on N dedicated threads
/// (`argon2-0` .. `argon2-<N-1>`, N the concurrency, default the number of
/// CPUs), so a login storm uses N cores and leaves the async workers free
/// for other requests.
///
/// Hashes are PHC strings. Hashes made with other Argon2 parameters (the
/// Python original's argon2-cffi defaults, `m=65536,t=3,p=4`, for one)
/// verify as they are, and [`Verification::Match`] says when to re-hash.
///
/// # Memory
///
/// Each thread keeps one Argon2 buffer and reuses it for every job; it
/// grows to the largest `m` the thread has needed and is freed when the
/// hasher is dropped. Argon2 memory is therefore at most N x the largest
/// `m` in use: N x 19 MiB with the default parameters and hashes made with
/// them, N x [`MAX_VERIFY_M_COST`] (256 MiB) at worst, since stored hashes
/// asking for more are refused. [`HasherStats::memory_kib`] reports it.
///
/// # Queue and priority
///
/// Calls wait in one queue of [`Argon2HasherBuilder::with_queue_capacity`]
/// places (default [`DEFAULT_QUEUE_PER_THREAD`] x N). There are two
/// classes of job:
///
/// - logins: [`verify`](Self::verify) (sign-in, the old password of a
///   change) and [`verify_dummy`](Self::verify_dummy) with the dummy hash
///   it makes once, so an unknown email costs what a known one does. They
///   may take any free place, and the threads always take them first.
/// - new hashes: [`hash`](Self::hash) (registration, password change or
///   reset, re-hash after login). They may hold at most a quarter of the
///   places (at least one), so the rest is always left to logins.
///
/// A call whose class has no free place fails at once with
/// [`LocalIdpError::Busy`] and a `retry_after` estimate (at least a
/// second); it never waits for a place. A flood of registrations is
/// therefore refused while logins still get in and jump ahead of the
/// queued hashes; a login waits at most for the jobs running when it
/// arrives and the logins queued before it. Under a sustained flood of
/// logins, new hashes wait (logins are throttled per email and address).
/// A caller that stops waiting leaves its job to be skipped, or, if it is
/// already running, to finish with its result discarded.
///
/// ```
/// use auth_local_idp::{Argon2Hasher, Verification};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Two hashing threads (two buffers of 19 MiB at most) and 32 places to
/// // wait in, 8 of them for new hashes.
/// let hasher = Argon2Hasher::builder()
///     .with_concurrency(2)
///     .with_queue_capacity(32)
///     .build()?;
/// let hash = hasher.hash("correct horse battery staple").await?;
/// assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=3,p=1$"));
/// assert_eq!(
///     hasher.verify("correct horse battery staple", &hash).await?,
///     Verification::Match { rehash: false },
/// );
/// assert_eq!(hasher.verify("wrong", &hash).await?, Verification::Mismatch);
/// assert!(hasher.stats().memory_kib <= 2 * 19_456);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    concurrency: usize,
    queue_capacity: usize,
    pool: Pool,
    dummy: OnceCell<PasswordHash>,
    counters: Arc<Counters>,
}

/// Builds an [`Argon2Hasher`].
#[derive(Clone, Debug)]
#[must_use]
pub struct Argon2HasherBuilder {
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    concurrency: Option<usize>,
    queue_capacity: Option<usize>,
    background: bool,
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

    /// Sets how many hashing threads run hashes and verifications, one at a
    /// time each (default: the number of CPUs; 1 to [`MAX_CONCURRENCY`]).
    /// Argon2 memory grows with it (see [`Argon2Hasher`]).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    /// Sets how many calls may wait for a hashing thread (default:
    /// [`DEFAULT_QUEUE_PER_THREAD`] x the concurrency; 2 to
    /// [`MAX_QUEUE_CAPACITY`]). New hashes may hold a quarter of the
    /// places (at least one); further calls fail at once with
    /// [`LocalIdpError::Busy`]. A longer queue refuses less but lets a
    /// queued login wait longer.
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = Some(capacity);
        self
    }

    /// Whether the hashing threads run at the lowest CPU priority (on by
    /// default): on Linux the batch policy at nice 19, elsewhere the
    /// platform's lowest normal priority. A login storm then takes only the
    /// CPU that request handling leaves, so pages stay fast while it lasts,
    /// and on an otherwise idle machine logins run at full speed. Turn it
    /// off only when the process does nothing but hash.
    pub fn with_background_priority(mut self, background: bool) -> Self {
        self.background = background;
        self
    }

    /// Checks the parameters and starts the hashing threads.
    pub fn build(self) -> Result<Argon2Hasher, ConfigError> {
        let params = Params::new(self.m_cost, self.t_cost, self.p_cost, Some(OUTPUT_LEN))
            .map_err(|e| ConfigError::Argon2(e.into()))?;
        let concurrency = self.concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return Err(ConfigError::Invalid(
                "hashing concurrency must be at least 1 and at most MAX_CONCURRENCY",
            ));
        }
        let queue_capacity = self
            .queue_capacity
            .unwrap_or(DEFAULT_QUEUE_PER_THREAD * concurrency);
        if !(2..=MAX_QUEUE_CAPACITY).contains(&queue_capacity) {
            return Err(ConfigError::Invalid(
                "the hashing queue capacity must be at least 2 and at most MAX_QUEUE_CAPACITY",
            ));
        }
        let new_hash_capacity = (queue_capacity / 4).max(1);
        let counters = Arc::new(Counters::default());
        let pool = Pool::start(
            concurrency,
            queue_capacity,
            new_hash_capacity,
            self.background,
            Arc::clone(&counters),
        )?;
        Ok(Argon2Hasher {
            inner: Arc::new(Inner {
                params,
                concurrency,
                queue_capacity,
                pool,
                dummy: OnceCell::new(),
                counters,
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
            queue_capacity: None,
            background: true,
        }
    }

    /// The current parameters: memory (KiB), passes, lanes.
    pub fn params(&self) -> (u32, u32, u32) {
        let p = &self.inner.params;
        (p.m_cost(), p.t_cost(), p.p_cost())
    }

    /// How many hashing threads there are (at most this many hashes or
    /// verifications run at once).
    pub fn concurrency(&self) -> usize {
        self.inner.concurrency
    }

    /// How many calls may wait for a hashing thread.
    pub fn queue_capacity(&self) -> usize {
        self.inner.queue_capacity
    }

    /// How much Argon2 work has been done so far, and the memory held.
    pub fn stats(&self) -> HasherStats {
        let counters = &self.inner.counters;
        HasherStats {
            hashes: counters.hashes.load(Ordering::Relaxed),
            verifications: counters.verifications.load(Ordering::Relaxed),
            peak_concurrency: counters.peak.load(Ordering::Relaxed),
            refused: counters.refused.load(Ordering::Relaxed),
            memory_kib: counters.memory_kib.load(Ordering::Relaxed),
        }
    }

    /// Hashes `password` with a fresh random salt and the current
    /// parameters.
    ///
    /// [`LocalIdpError::Busy`] at once when the new hashes' share of the
    /// queue is full.
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, LocalIdpError> {
        self.hash_as(Class::NewHash, password).await
    }

    async fn hash_as(&self, class: Class, password: &str) -> Result<PasswordHash, LocalIdpError> {
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let params = self.inner.params.clone();
        let counters = Arc::clone(&self.inner.counters);
        self.inner
            .pool
            .run(class, move |memory| {
                counters.hashes.fetch_add(1, Ordering::Relaxed);
                hash_with(memory, params, &password)
            })
            .await?
    }

    /// Checks `password` against a stored PHC hash, with the parameters the
    /// hash names.
    ///
    /// A hash that is not an Argon2 PHC string, or whose parameters exceed
    /// [`MAX_VERIFY_M_COST`], [`MAX_VERIFY_T_COST`] or [`MAX_VERIFY_P_COST`],
    /// is a [`LocalIdpError::Hashing`] error, not a mismatch (and takes no
    /// place in the queue). [`LocalIdpError::Busy`] at once when the queue
    /// is full.
    pub async fn verify(
        &self,
        password: &str,
        hash: &PasswordHash,
    ) -> Result<Verification, LocalIdpError> {
        let parsed = parse_stored(hash)?;
        let rehash = self.needs_rehash_parsed(&parsed);
        let password = Zeroizing::new(password.as_bytes().to_vec());
        let counters = Arc::clone(&self.inner.counters);
        let matched = self
            .inner
            .pool
            .run(Class::Login, move |memory| {
                counters.verifications.fetch_add(1, Ordering::Relaxed);
                verify_with(memory, &password, &parsed)
            })
            .await??;
        Ok(if matched {
            Verification::Match { rehash }
        } else {
            Verification::Mismatch
        })
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
                // Made in the login class: a login must never be refused
                // for want of it.
                let password = Zeroizing::new(uuid::Uuid::new_v4().to_string());
                self.hash_as(Class::Login, &password).await
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

/// Hashes `password` with a fresh salt under `params` (Argon2id, v19) in
/// `memory`; the PHC string of the result.
fn hash_with(
    memory: &mut Memory,
    params: Params,
    password: &[u8],
) -> Result<PasswordHash, LocalIdpError> {
    let context = "hashing a password";
    let salt = argon2::password_hash::try_generate_salt()
        .map_err(|e| LocalIdpError::hashing("making a salt", e))?;
    let mut output = Zeroizing::new([0u8; OUTPUT_LEN]);
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let blocks = memory.blocks(argon2.params().block_count())?;
    argon2
        .hash_password_into_with_memory(password, &salt, &mut *output, blocks)
        .map_err(|e| LocalIdpError::hashing(context, e))?;
    let phc = phc::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: phc::ParamsString::try_from(argon2.params())
            .map_err(|e| LocalIdpError::hashing(context, e))?,
        salt: Some(phc::Salt::new(&salt).map_err(|e| LocalIdpError::hashing(context, e))?),
        hash: Some(phc::Output::new(&*output).map_err(|e| LocalIdpError::hashing(context, e))?),
    };
    Ok(PasswordHash::new(phc.to_string()))
}

/// Whether `password` gives the output `stored` holds, computed in
/// `memory` with the variant, version and parameters `stored` names (checked
/// by [`parse_stored`]), compared in constant time. A hash without a salt
/// or an output matches nothing.
fn verify_with(
    memory: &mut Memory,
    password: &[u8],
    stored: &phc::PasswordHash,
) -> Result<bool, LocalIdpError> {
    let context = "verifying a password";
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(stored.algorithm.as_str())
        .map_err(|e| LocalIdpError::hashing(context, e))?;
    let version = stored
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| LocalIdpError::hashing(context, e))?
        .unwrap_or_default();
    let params = Params::try_from(stored).map_err(|e| LocalIdpError::hashing(context, e))?;
    let argon2 = Argon2::new(algorithm, version, params);
    let mut buffer = Zeroizing::new([0u8; phc::Output::MAX_LENGTH]);
    let output = buffer
        .get_mut(..expected.len())
        .ok_or_else(|| LocalIdpError::hashing(context, "output too long"))?;
    let blocks = memory.blocks(argon2.params().block_count())?;
    argon2
        .hash_password_into_with_memory(password, salt, &mut *output, blocks)
        .map_err(|e| LocalIdpError::hashing(context, e))?;
    Ok(bool::from(output.ct_eq(expected.as_bytes())))
}

impl fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, t, p) = self.params();
        f.debug_struct("Argon2Hasher")
            .field("m_cost_kib", &m)
            .field("t_cost", &t)
            .field("p_cost", &p)
            .field("concurrency", &self.inner.concurrency)
            .field("queue_capacity", &self.inner.queue_capacity)
            .finish_non_exhaustive()
    }
}
