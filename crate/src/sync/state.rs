//! Sync bookkeeping: pending counts and the retry backoff.

use super::protocol::Head;
use crate::store::{ChainError, Ledger, SyncStore};

/// Local events of `stream` not yet acknowledged by `backend`: the local
/// head seq minus the last common seq (0 for an unknown stream).
pub async fn pending<S: SyncStore>(
    ledger: &Ledger<S>,
    backend: &str,
    stream: &str,
) -> Result<u64, ChainError> {
    let Some(head) = ledger.store().stream(stream).await? else {
        return Ok(0);
    };
    let common = common_head(ledger, backend, stream).await?;
    // A sync point ahead of the head means the record is stale: all pending.
    Ok(head.seq.checked_sub(common.seq).unwrap_or(head.seq))
}

/// The last common head recorded for `backend` and `stream` (zero if none).
pub async fn common_head<S: SyncStore>(
    ledger: &Ledger<S>,
    backend: &str,
    stream: &str,
) -> Result<Head, ChainError> {
    Ok(ledger
        .store()
        .sync_record(stream)
        .await?
        .map(|r| r.common(backend))
        .unwrap_or_else(Head::zero))
}

/// Exponential backoff with a cap: `base * 2^attempt`, at most `max` ms;
/// [`Backoff::jittered`] draws the actual wait under that curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay, in ms.
    pub base_ms: u64,
    /// Largest delay, in ms.
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base_ms: 1_000,
            max_ms: 60_000,
        }
    }
}

impl Backoff {
    /// Delay before retry number `attempt` (0 = first retry).
    pub fn delay(&self, attempt: u32) -> u64 {
        let factor = 1u64.checked_shl(attempt.min(62)).unwrap_or(u64::MAX);
        self.base_ms.saturating_mul(factor).min(self.max_ms)
    }

    /// "Full jitter": the wait before retry `attempt` drawn uniformly from
    /// `[0, delay(attempt)]` with `unit`, a random number in `[0, 1)`, so
    /// that many clients failing together do not retry in lockstep.
    pub fn jittered(&self, attempt: u32, unit: f64) -> u64 {
        let cap = self.delay(attempt);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ((cap as f64) * unit).min(cap as f64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_without_overflow() {
        let b = Backoff {
            base_ms: 500,
            max_ms: 8_000,
        };
        let delays: Vec<u64> = (0..7).map(|a| b.delay(a)).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(b.delay(u32::MAX), 8_000);
        let huge = Backoff {
            base_ms: u64::MAX,
            max_ms: u64::MAX,
        };
        assert_eq!(huge.delay(3), u64::MAX);
    }

    #[test]
    fn full_jitter_stays_within_zero_and_the_curve() {
        let b = Backoff {
            base_ms: 1_000,
            max_ms: 60_000,
        };
        assert_eq!(b.jittered(0, 0.0), 0);
        assert_eq!(b.jittered(0, 0.5), 500);
        assert_eq!(b.jittered(3, 0.25), 2_000);
        assert_eq!(b.jittered(10, 0.5), 30_000, "capped at max before the draw");
        assert_eq!(b.jittered(2, 1.0), 4_000);
        assert_eq!(b.jittered(2, f64::NAN), 0);
        // A deterministic LCG in place of the platform's RNG: every draw
        // lies in [0, min(max, base * 2^n)] and they spread over the range.
        let mut x: u64 = 42;
        let mut seen_low = false;
        let mut seen_high = false;
        for n in 0..2_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
            let attempt = n % 12;
            let d = b.jittered(attempt, unit);
            let cap = b.delay(attempt);
            assert!(d <= cap, "{d} > {cap}");
            seen_low |= d < cap / 4;
            seen_high |= d > cap / 4 * 3;
        }
        assert!(seen_low && seen_high, "the draws spread over [0, cap]");
        let huge = Backoff {
            base_ms: u64::MAX,
            max_ms: u64::MAX,
        };
        assert_eq!(huge.jittered(5, 0.5), 1 << 63, "no overflow at the top");
        assert_eq!(huge.jittered(5, 1.0), u64::MAX);
    }
}
