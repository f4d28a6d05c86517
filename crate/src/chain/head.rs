//! Where a stream's chain ends.

use serde::{Deserialize, Serialize};

use super::GENESIS_PREV;

/// Where a stream's chain ends: the seq and hash of its last event.
///
/// The sync protocol carries it as `{"seq":N,"hash":S}` (docs/sync-protocol.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    /// Seq of the last event, 0 for an empty stream.
    pub seq: u64,
    /// Hash of the last event, 64 zeros for an empty stream.
    pub hash: String,
}

impl Head {
    /// The head of a stream with no event.
    pub fn zero() -> Head {
        Head {
            seq: 0,
            hash: GENESIS_PREV.to_string(),
        }
    }
}
