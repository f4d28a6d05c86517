//! What the sync client keeps in the store: per stream and backend, the last
//! event both sides agree on ([`SyncRecord`]); the local actions a rebase could
//! not keep ([`Conflict`]); and [`SyncStore::commit_sync`], the one atomic
//! write that replaces the tail of a stream (remote events + rebased local
//! ones), moves the sync point and records conflicts, all or nothing.
//!
//! Kept apart from [`Store`] so that stores which never sync need nothing more.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ChainError, KeyCount, Store, StreamRecord};
use crate::chain::{Event, Head};

/// Sync state of one stream: for each backend, the last event this ledger
/// and that backend are known to share (seq 0 / 64 zeros: nothing yet).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncRecord {
    /// The stream.
    pub stream: String,
    /// Backend name (its URL, or the name a JS transport gives) -> last
    /// common head.
    pub remotes: BTreeMap<String, Head>,
}

impl SyncRecord {
    /// The last common head with `backend` (the zero head if none).
    pub fn common(&self, backend: &str) -> Head {
        self.remotes
            .get(backend)
            .cloned()
            .unwrap_or_else(Head::zero)
    }
}

/// A local action that a rebase could not keep: the net no longer allows it
/// on top of what the remote recorded meanwhile. Never silently dropped: it
/// stays in the store, listed by [`SyncStore::conflicts`], until cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// The stream.
    pub stream: String,
    /// The backend the stream was synced with.
    pub backend: String,
    /// The local event as it was recorded offline (action, multiple, actor,
    /// roles, payload, ts, and its old seq and hash).
    pub event: Event,
    /// The engine's code (`NOT_ENABLED`, `ROLE_DENIED`, ...).
    pub code: String,
    /// The engine's explanation.
    pub message: String,
    /// The engine's error as an object (`{code, transition, place, has, needs}`).
    /// Kept as JSON text so every store can keep it as it is.
    pub reason: String,
    /// The remote head the action was re-fired on.
    pub remote: Head,
    /// When the rebase happened (ms since the epoch).
    pub detected: u64,
}

/// What [`SyncStore::commit_sync`] writes, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCommit {
    /// The stream's new head record.
    pub record: StreamRecord,
    /// Local events with seq > `keep` are removed first...
    pub keep: u64,
    /// ...then these are added (seq `keep + 1`, `keep + 2`, ... in order).
    pub events: Vec<Event>,
    /// For stores that keep key records ([`Store::stream_keys`]): the
    /// count at the new head of every key that the removed local events
    /// (after `keep`) changed, `(place, key, count)` (0: no record). The new
    /// events' own keys are written from their `keys`, as in a commit.
    pub restored: Vec<KeyCount>,
    /// The stream's new sync record.
    pub sync: SyncRecord,
    /// Conflicts to record.
    pub conflicts: Vec<Conflict>,
}

/// The plan run inside [`SyncStore::commit_sync`]: gets the current head and
/// sync record (read inside the transaction) and returns what to write, or an
/// error to write nothing.
pub type SyncPlan<'a> =
    dyn FnMut(Option<&StreamRecord>, Option<&SyncRecord>) -> Result<SyncCommit, ChainError> + 'a;

/// A [`Store`] that can also keep sync state and conflicts.
#[allow(async_fn_in_trait)]
pub trait SyncStore: Store {
    /// The sync record of `stream`, if any.
    async fn sync_record(&self, stream: &str) -> Result<Option<SyncRecord>, ChainError>;
    /// Recorded conflicts of `stream`, oldest first.
    async fn conflicts(&self, stream: &str) -> Result<Vec<Conflict>, ChainError>;
    /// Removes the recorded conflicts of `stream`; returns how many there were.
    async fn clear_conflicts(&self, stream: &str) -> Result<u64, ChainError>;
    /// Removes the recorded conflicts of `stream` whose local event had hash
    /// `event_hash` (one, unless the same event conflicted twice); returns
    /// how many there were.
    async fn discard_conflict(&self, stream: &str, event_hash: &str) -> Result<u64, ChainError>;
    /// Atomically: reads the head and sync record of `stream`, runs `plan`,
    /// removes the events after `keep`, adds the new ones, writes the head,
    /// the sync record and the conflicts. All or nothing.
    async fn commit_sync(
        &self,
        stream: &str,
        plan: &mut SyncPlan<'_>,
    ) -> Result<SyncCommit, ChainError>;
}

/// Checks what a sync plan returned before any write (every store uses it):
/// right stream, events contiguous after `keep`, head at the last event.
pub fn check_sync_commit(stream: &str, c: &SyncCommit) -> Result<(), ChainError> {
    let bad = |message: String| Err(ChainError::Storage { message });
    if c.record.id != stream || c.sync.stream != stream {
        return bad(format!("sync plan wrote outside stream '{stream}'"));
    }
    let mut seq = c.keep;
    for e in &c.events {
        seq = seq.checked_add(1).ok_or_else(|| ChainError::Storage {
            message: "seq overflow".into(),
        })?;
        if e.stream != stream || e.seq != seq {
            return bad(format!(
                "sync plan event '{}' seq {} does not follow seq {}",
                e.stream,
                e.seq,
                seq - 1
            ));
        }
    }
    if c.record.seq != seq {
        return bad(format!(
            "sync plan head seq {} is not its last event's seq {seq}",
            c.record.seq
        ));
    }
    if c.conflicts.iter().any(|k| k.stream != stream) {
        return bad("sync plan recorded a conflict of another stream".into());
    }
    Ok(())
}
