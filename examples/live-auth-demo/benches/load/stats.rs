//! Latency samples and their summary.

use std::fmt;
use std::time::Duration;

/// The outcome of one measured run: latencies of the requests that
/// succeeded, failures, and the wall time of the run.
#[derive(Default)]
pub(crate) struct Run {
    pub(crate) samples: Vec<Duration>,
    pub(crate) errors: usize,
    pub(crate) elapsed: Duration,
    /// What went wrong first, if anything did.
    pub(crate) first_error: Option<String>,
}

impl Run {
    /// Counts a failure, keeping the first one's description.
    pub(crate) fn fail(&mut self, what: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what());
        }
    }

    /// Adds another connection's samples and errors (not its time).
    pub(crate) fn merge(&mut self, other: Run) {
        self.samples.extend(other.samples);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Sorts the samples and summarises them.
    pub(crate) fn summary(mut self) -> Summary {
        self.samples.sort_unstable();
        let per_second = if self.elapsed.is_zero() {
            0.0
        } else {
            self.samples.len() as f64 / self.elapsed.as_secs_f64()
        };
        Summary {
            first_error: self.first_error,
            count: self.samples.len(),
            errors: self.errors,
            elapsed: self.elapsed,
            per_second,
            p50: percentile(&self.samples, 500),
            p99: percentile(&self.samples, 990),
            max: self.samples.last().copied().unwrap_or_default(),
        }
    }
}

/// Nearest-rank percentile, `per_mille` of 1000, of sorted samples.
pub(crate) fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * per_mille)
        .div_ceil(1000)
        .clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Throughput and latency percentiles of a run.
pub(crate) struct Summary {
    pub(crate) first_error: Option<String>,
    pub(crate) count: usize,
    pub(crate) errors: usize,
    pub(crate) elapsed: Duration,
    pub(crate) per_second: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) max: Duration,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ok, {} errors in {:.2} s: {:.1}/s, p50 {}, p99 {}, max {}",
            self.count,
            self.errors,
            self.elapsed.as_secs_f64(),
            self.per_second,
            ms(self.p50),
            ms(self.p99),
            ms(self.max)
        )?;
        if let Some(error) = &self.first_error {
            write!(f, " (first error: {error})")?;
        }
        Ok(())
    }
}

/// A duration in milliseconds, with precision to suit its size.
pub(crate) fn ms(duration: Duration) -> String {
    let millis = duration.as_secs_f64() * 1000.0;
    if millis < 10.0 {
        format!("{millis:.2} ms")
    } else if millis < 100.0 {
        format!("{millis:.1} ms")
    } else {
        format!("{millis:.0} ms")
    }
}

/// `a / b` as a ratio, or `-` when `b` is zero.
pub(crate) fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "-".to_owned()
    } else {
        format!("{:.2}", a / b)
    }
}

/// [`ratio`] of two durations.
pub(crate) fn ratio_of(a: Duration, b: Duration) -> String {
    ratio(a.as_secs_f64(), b.as_secs_f64())
}
