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

/// Exponential backoff with a cap: `base * 2^attempt`, at most `max` ms.
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
}
