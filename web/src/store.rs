//! The store under a JS ledger (memory or IndexedDB), one type for the
//! bindings: [`AnyStore`] forwards the core's store traits to either.

use std::rc::Rc;

use petrichain::chain::{ChainError, Event};
use petrichain::store::{
    Change, ChangeSink, Commit, Conflict, KeyQuery, KeysPage, Ledger, MemoryStore, ModelRecord,
    Plan, Store, StoredKeys, StreamRecord, SyncCommit, SyncPlan, SyncRecord, SyncStore,
};

use crate::indexeddb::IndexedDbStore;

/// The store under a JS ledger: memory or IndexedDB.
pub enum AnyStore {
    /// `Ledger.memory()`.
    Memory(MemoryStore),
    /// `Ledger.open(name)`.
    IndexedDb(IndexedDbStore),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Memory($s) => $e,
            AnyStore::IndexedDb($s) => $e,
        }
    };
}

impl Store for AnyStore {
    async fn put_model(&self, record: &ModelRecord) -> Result<(), ChainError> {
        each!(self, s => s.put_model(record).await)
    }
    async fn model(&self, id: &str) -> Result<Option<ModelRecord>, ChainError> {
        each!(self, s => s.model(id).await)
    }
    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, ChainError> {
        each!(self, s => s.stream(id).await)
    }
    async fn streams(&self) -> Result<Vec<StreamRecord>, ChainError> {
        each!(self, s => s.streams().await)
    }
    async fn events(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, ChainError> {
        each!(self, s => s.events(stream, after, limit).await)
    }
    async fn event_by_hash(&self, hash: &str) -> Result<Option<Event>, ChainError> {
        each!(self, s => s.event_by_hash(hash).await)
    }
    async fn commit(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Commit, ChainError> {
        each!(self, s => s.commit(stream, plan).await)
    }
    async fn delete_stream(&self, id: &str) -> Result<bool, ChainError> {
        each!(self, s => s.delete_stream(id).await)
    }
    async fn stream_keys(&self, stream: &str) -> Result<Option<StoredKeys>, ChainError> {
        each!(self, s => s.stream_keys(stream).await)
    }
    async fn key_count(
        &self,
        stream: &str,
        place: &str,
        key: &str,
    ) -> Result<Option<u64>, ChainError> {
        each!(self, s => s.key_count(stream, place, key).await)
    }
    async fn key_page(
        &self,
        stream: &str,
        query: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        each!(self, s => s.key_page(stream, query).await)
    }
    async fn key_top(
        &self,
        stream: &str,
        query: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        each!(self, s => s.key_top(stream, query).await)
    }
    fn broadcast(&self, change: &Change) {
        each!(self, s => s.broadcast(change))
    }
    fn on_remote_change(&self, sink: ChangeSink) {
        each!(self, s => s.on_remote_change(sink))
    }
    fn close(&self) {
        each!(self, s => s.close())
    }
}

/// A JS ledger's core ledger, shared by its streams and sync handles.
pub(crate) type Inner = Rc<Ledger<AnyStore>>;

impl SyncStore for AnyStore {
    async fn sync_record(&self, stream: &str) -> Result<Option<SyncRecord>, ChainError> {
        each!(self, s => s.sync_record(stream).await)
    }
    async fn conflicts(&self, stream: &str) -> Result<Vec<Conflict>, ChainError> {
        each!(self, s => s.conflicts(stream).await)
    }
    async fn clear_conflicts(&self, stream: &str) -> Result<u64, ChainError> {
        each!(self, s => s.clear_conflicts(stream).await)
    }
    async fn discard_conflict(&self, stream: &str, event_hash: &str) -> Result<u64, ChainError> {
        each!(self, s => s.discard_conflict(stream, event_hash).await)
    }
    async fn commit_sync(
        &self,
        stream: &str,
        plan: &mut SyncPlan<'_>,
    ) -> Result<SyncCommit, ChainError> {
        each!(self, s => s.commit_sync(stream, plan).await)
    }
}
