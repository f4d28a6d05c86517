//! Keeping chains: a small async [`Store`] trait, an in-memory store
//! ([`MemoryStore`]) and the [`Ledger`], which holds all the chain logic
//! once, above the trait. The IndexedDB store lives in the web crate
//! (`web/src/indexeddb.rs`, package `petrichain-web`).
//!
//! A store only has to do one hard thing: [`Store::commit`], an atomic
//! read-modify-write of one stream. It reads the stream's head, hands it to a
//! synchronous `plan` (the ledger validates with the engine and hashes there),
//! and writes what the plan returns (new head + new events) all at once, or
//! nothing if the plan or any write fails. In IndexedDB that is one readwrite
//! transaction, which the browser serialises against every other one on the
//! same stores, in this tab or another: two appends can never fork a stream.

mod keys;
mod ledger;
mod memory;
pub mod sync_state;

use serde::{Deserialize, Serialize};

pub use crate::chain::ChainError;
use crate::chain::Event;
pub use keys::{
    key_changes, page_of, tip_from_records, top_of, KeyCount, KeyQuery, StoredKeys, MAX_TOP_KEYS,
};
pub use ledger::{
    apply_delta, apply_keys, block_on, Action, ImportReport, KeysPage, Ledger, Subscription,
    MAX_KEYS_PAGE,
};
pub use memory::MemoryStore;
pub use sync_state::{check_sync_commit, Conflict, SyncCommit, SyncPlan, SyncRecord, SyncStore};

/// A model as stored: its id and canonical JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// SHA-256 of `json`.
    pub id: String,
    /// Canonical JSON of the model.
    pub json: String,
}

/// A stream's head as stored: where the chain ends and the marking there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRecord {
    /// Stream id.
    pub id: String,
    /// Model id.
    pub model: String,
    /// Seq of the last event (0 for a new stream).
    pub seq: u64,
    /// Hash of the last event (64 zeros for a new stream).
    pub hash: String,
    /// Marking after the last event, in the model's place order.
    pub state: Vec<u64>,
    /// The stream's policy (owner, grants, names) after the last event,
    /// where the store keeps it; `None` when it was not recorded (a head
    /// written before grants existed, or by a store that does not keep it):
    /// the ledger then rebuilds it from the events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<crate::chain::Policy>,
}

/// What a [`Store::commit`] writes: the new head and the events leading to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The stream's new head record.
    pub record: StreamRecord,
    /// New events, in seq order, directly after the old head.
    pub events: Vec<Event>,
}

/// A change to a stream, sent to subscribers (and to other tabs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The stream.
    pub stream: String,
    /// Its new head seq.
    pub seq: u64,
    /// Its new head hash.
    pub hash: String,
    /// How many events were added (0 when the stream was created).
    pub added: u64,
}

/// A function told about changes (see [`Store::on_remote_change`]).
pub type ChangeSink = std::rc::Rc<dyn Fn(&Change)>;

/// The plan run inside [`Store::commit`]: gets the current head (`None` if
/// the stream does not exist) and returns what to write, or an error to write
/// nothing.
pub type Plan<'a> = dyn FnMut(Option<&StreamRecord>) -> Result<Commit, ChainError> + 'a;

/// Where chains are kept. Futures are not `Send`: stores live in one thread
/// (a browser tab).
#[allow(async_fn_in_trait)]
pub trait Store {
    /// Stores a model (idempotent: models are content-addressed).
    async fn put_model(&self, record: &ModelRecord) -> Result<(), ChainError>;
    /// A model by id.
    async fn model(&self, id: &str) -> Result<Option<ModelRecord>, ChainError>;
    /// A stream's head by id.
    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, ChainError>;
    /// Every stream's head, sorted by id.
    async fn streams(&self) -> Result<Vec<StreamRecord>, ChainError>;
    /// Events of `stream` with seq > `after`, in seq order, at most `limit`.
    async fn events(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, ChainError>;
    /// The event with this hash, if any.
    async fn event_by_hash(&self, hash: &str) -> Result<Option<Event>, ChainError>;
    /// Atomically: reads the head of `stream`, runs `plan` on it, writes the
    /// returned head and events (events must not exist yet). All or nothing.
    ///
    /// `plan` may run more than once, each time on a head it must treat as
    /// the current one: a store may run it first on the head it expects
    /// (the last it wrote or read) to write in the same round trip as it
    /// reads the stored head. What it writes is always the result of a run
    /// on the stored head, or on one with the same model, seq and hash
    /// (they fix the chain, so the marking and policy too).
    async fn commit(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Commit, ChainError>;
    /// Atomically removes stream `id` and everything kept about it: its head,
    /// its events, and (for a [`SyncStore`]) its sync record and conflicts.
    /// `Ok(false)` when there is no such stream (nothing written).
    async fn delete_stream(&self, id: &str) -> Result<bool, ChainError>;
    /// Every key record of `stream` ([`KeyCount`]: `(place, key, count)`,
    /// counts above 0) with the head and its event's root, read together
    /// ([`StoredKeys`]), to rebuild a keyed stream's tip in O(keys);
    /// `UNKNOWN_STREAM` if there is no such stream. `None`: this store
    /// keeps no key records (the ledger then replays the events). Stores
    /// that keep them write them in [`Store::commit`] and
    /// [`SyncStore::commit_sync`] with the events (only the keys the events
    /// change; a count of 0 removes the record) and remove them with the
    /// stream.
    async fn stream_keys(&self, _stream: &str) -> Result<Option<StoredKeys>, ChainError> {
        Ok(None)
    }
    /// The stored count of `key` in keyed place `place` (0 if no record),
    /// reading that one record; `None` as for [`Store::stream_keys`].
    async fn key_count(
        &self,
        _stream: &str,
        _place: &str,
        _key: &str,
    ) -> Result<Option<u64>, ChainError> {
        Ok(None)
    }
    /// A page of the stored keys of a keyed place, in byte order of the
    /// keys ([`KeyQuery`]: after, prefix, limit), with the number of keys
    /// and the place's total at the head, read together; `None` as for
    /// [`Store::stream_keys`]. O(log keys + limit) for the page.
    async fn key_page(
        &self,
        _stream: &str,
        _query: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        Ok(None)
    }
    /// The `query.limit` stored keys of a keyed place with the highest
    /// counts (ties by key, byte order), with the number of keys and the
    /// total; `None` as for [`Store::stream_keys`].
    async fn key_top(
        &self,
        _stream: &str,
        _query: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        Ok(None)
    }
    /// Tells other connections (other tabs) about a committed change.
    fn broadcast(&self, _change: &Change) {}
    /// Registers the function to call when another connection reports a change.
    fn on_remote_change(&self, _sink: ChangeSink) {}
    /// Closes the store; later calls fail with [`ChainError::Closed`].
    fn close(&self);
}
