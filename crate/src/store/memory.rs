//! The in-memory store: same semantics as IndexedDB, nothing persisted.
//!
//! Clones of a [`MemoryStore`] are separate connections to the same data
//! (like two tabs on one IndexedDB database): each can be closed on its own,
//! and a change committed through one is reported to the others.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::ops::Bound;
use std::rc::Rc;

use super::keys::{key_changes, KeyCount, KeyQuery, StoredKeys};
use super::sync_state::{check_sync_commit, Conflict, SyncCommit, SyncPlan, SyncRecord, SyncStore};
use super::{
    ChainError, Change, ChangeSink, Commit, KeysPage, ModelRecord, Plan, Store, StreamRecord,
};
use crate::chain::Event;

#[derive(Default)]
struct Data {
    models: BTreeMap<String, ModelRecord>,
    streams: BTreeMap<String, StreamRecord>,
    events: BTreeMap<(String, u64), Event>,
    by_hash: HashMap<String, (String, u64)>,
    sinks: Vec<(u64, ChangeSink)>,
    next_connection: u64,
    sync: BTreeMap<String, SyncRecord>,
    conflicts: Vec<Conflict>,
    keys: Keys,
}

impl Data {
    /// The count of place `index` at the head of `stream` (for a keyed
    /// place, its total over all keys).
    fn total(&self, stream: &str, index: usize) -> Result<u64, ChainError> {
        let head = self
            .streams
            .get(stream)
            .ok_or_else(|| ChainError::UnknownStream {
                stream: stream.into(),
            })?;
        Ok(head.state.get(index).copied().unwrap_or(0))
    }
}

/// The key records of keyed places: per stream and place, the counts by
/// key (a hash map: a commit writes each changed key in O(1)) and the keys
/// in byte order for pages (changed only when a key comes or goes).
///
/// Unlike IndexedDB there is no index by count: a top list scans the
/// place's records (O(keys x log limit)), which is what the ledger would
/// do from its tip anyway. Why: keeping records ranked by count cost two
/// B-tree writes per changed key, with string comparisons among the many
/// keys of equal count, and was the largest part of an append among
/// 100,000 accounts that grows with the keys after the key trie
/// (BENCHMARKS.md, "Keyed places (issue 14)").
#[derive(Default)]
struct Keys {
    streams: HashMap<String, BTreeMap<String, PlaceRecords>>,
}

/// One keyed place's records in one stream.
#[derive(Default)]
struct PlaceRecords {
    counts: HashMap<String, u64>,
    order: BTreeSet<String>,
}

impl Keys {
    fn set(&mut self, stream: &str, place: &str, key: &str, count: u64) {
        let Some(records) = self.records_mut(stream, place, count > 0) else {
            return;
        };
        if count == 0 {
            if records.counts.remove(key).is_some() {
                records.order.remove(key);
            }
        } else if let Some(n) = records.counts.get_mut(key) {
            *n = count;
        } else {
            records.counts.insert(key.to_string(), count);
            records.order.insert(key.to_string());
        }
    }

    /// The records of a place, made if `make` and absent.
    fn records_mut(&mut self, stream: &str, place: &str, make: bool) -> Option<&mut PlaceRecords> {
        if !make {
            return self.streams.get_mut(stream)?.get_mut(place);
        }
        if !self.streams.contains_key(stream) {
            self.streams.insert(stream.to_string(), BTreeMap::new());
        }
        let places = self.streams.get_mut(stream)?;
        if !places.contains_key(place) {
            places.insert(place.to_string(), PlaceRecords::default());
        }
        places.get_mut(place)
    }

    fn records(&self, stream: &str, place: &str) -> Option<&PlaceRecords> {
        self.streams.get(stream)?.get(place)
    }

    fn apply(&mut self, stream: &str, events: &[Event]) {
        for ((place, key), n) in key_changes(events) {
            self.set(stream, place, key, n);
        }
    }

    /// Every record of `stream`, by place then key.
    fn of_stream(&self, stream: &str) -> Vec<KeyCount> {
        let Some(places) = self.streams.get(stream) else {
            return Vec::new();
        };
        places
            .iter()
            .flat_map(|(place, records)| {
                records
                    .order
                    .iter()
                    .map(|k| (place.clone(), k.clone(), records.counts[k]))
            })
            .collect()
    }

    fn remove_stream(&mut self, stream: &str) {
        self.streams.remove(stream);
    }

    fn size(&self, stream: &str, place: &str) -> u64 {
        self.records(stream, place)
            .map_or(0, |r| r.counts.len() as u64)
    }

    fn count(&self, stream: &str, place: &str, key: &str) -> u64 {
        self.records(stream, place)
            .and_then(|r| r.counts.get(key))
            .copied()
            .unwrap_or(0)
    }

    /// A page of `q.place`'s keys in byte order (after `q.after`, starting
    /// with `q.prefix`, at most `q.limit`): O(log keys + limit).
    fn page(&self, stream: &str, q: &KeyQuery<'_>) -> Vec<(String, u64)> {
        let Some(records) = self.records(stream, q.place) else {
            return Vec::new();
        };
        let from_prefix = !q.prefix.is_empty() && q.after.is_none_or(|a| a < q.prefix);
        let lower = match q.after {
            _ if from_prefix => Bound::Included(q.prefix),
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        records
            .order
            .range::<str, _>((lower, Bound::Unbounded))
            .take_while(|k| k.starts_with(q.prefix))
            .take(q.limit)
            .map(|k| (k.clone(), records.counts[k]))
            .collect()
    }

    /// The `q.limit` keys of `q.place` with the highest counts, ties by key
    /// (byte order): a scan, O(keys x log limit).
    fn top(&self, stream: &str, q: &KeyQuery<'_>) -> Vec<(String, u64)> {
        let Some(records) = self.records(stream, q.place) else {
            return Vec::new();
        };
        if q.limit == 0 {
            return Vec::new();
        }
        // A max-heap of the kept ones by "worse": lower count, then later key.
        let mut heap: BinaryHeap<(Reverse<u64>, &str)> = BinaryHeap::with_capacity(q.limit + 1);
        for (key, &n) in &records.counts {
            heap.push((Reverse(n), key));
            if heap.len() > q.limit {
                heap.pop();
            }
        }
        let mut out = heap.into_vec();
        out.sort_unstable();
        out.into_iter()
            .map(|(Reverse(n), k)| (k.to_string(), n))
            .collect()
    }
}

/// A store kept in memory. `MemoryStore::default()` is a new, empty one;
/// [`MemoryStore::connect`] opens another connection to the same data.
pub struct MemoryStore {
    data: Rc<RefCell<Data>>,
    connection: u64,
    closed: Cell<bool>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            data: Rc::default(),
            connection: 0,
            closed: Cell::new(false),
        }
    }
}

impl MemoryStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Another connection to the same data.
    pub fn connect(&self) -> MemoryStore {
        let mut data = self.data.borrow_mut();
        data.next_connection += 1;
        MemoryStore {
            data: self.data.clone(),
            connection: data.next_connection,
            closed: Cell::new(false),
        }
    }

    /// Writes an event record as is, bypassing every check and leaving the
    /// stream head alone: the equivalent of editing the database by hand.
    /// Only for tests of verification and atomicity.
    pub fn overwrite_event(&self, event: Event) {
        let mut data = self.data.borrow_mut();
        let key = (event.stream.clone(), event.seq);
        data.by_hash.insert(event.hash.clone(), key.clone());
        data.events.insert(key, event);
    }

    /// Sets a key record as is (0 removes it), bypassing every check and
    /// leaving events and head alone: a key record edited by hand. Only for
    /// tests of the checks a tip rebuilt from records passes.
    pub fn overwrite_key(&self, stream: &str, place: &str, key: &str, count: u64) {
        self.data.borrow_mut().keys.set(stream, place, key, count);
    }

    fn open(&self) -> Result<(), ChainError> {
        if self.closed.get() {
            Err(ChainError::Closed)
        } else {
            Ok(())
        }
    }
}

impl Store for MemoryStore {
    async fn put_model(&self, record: &ModelRecord) -> Result<(), ChainError> {
        self.open()?;
        self.data
            .borrow_mut()
            .models
            .insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn model(&self, id: &str) -> Result<Option<ModelRecord>, ChainError> {
        self.open()?;
        Ok(self.data.borrow().models.get(id).cloned())
    }

    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, ChainError> {
        self.open()?;
        Ok(self.data.borrow().streams.get(id).cloned())
    }

    async fn streams(&self) -> Result<Vec<StreamRecord>, ChainError> {
        self.open()?;
        Ok(self.data.borrow().streams.values().cloned().collect())
    }

    async fn events(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, ChainError> {
        self.open()?;
        let data = self.data.borrow();
        let start = (stream.to_string(), after.saturating_add(1));
        let end = (stream.to_string(), u64::MAX);
        let range = data.events.range(start..=end).map(|(_, e)| e.clone());
        Ok(match limit {
            Some(n) => range.take(n as usize).collect(),
            None => range.collect(),
        })
    }

    async fn event_by_hash(&self, hash: &str) -> Result<Option<Event>, ChainError> {
        self.open()?;
        let data = self.data.borrow();
        Ok(data
            .by_hash
            .get(hash)
            .and_then(|key| data.events.get(key))
            .cloned())
    }

    async fn commit(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Commit, ChainError> {
        self.open()?;
        let mut data = self.data.borrow_mut();
        let commit = plan(data.streams.get(stream))?;
        // Check every write before doing any: all or nothing.
        if commit.record.id != stream {
            return Err(ChainError::Storage {
                message: format!("plan returned a head for stream '{}'", commit.record.id),
            });
        }
        for e in &commit.events {
            if e.stream != stream || data.events.contains_key(&(stream.to_string(), e.seq)) {
                return Err(ChainError::Storage {
                    message: format!("event '{}' seq {} already exists", e.stream, e.seq),
                });
            }
        }
        if !data.streams.contains_key(stream) {
            // A new stream starts with no keys.
            data.keys.remove_stream(stream);
        }
        for e in &commit.events {
            let key = (stream.to_string(), e.seq);
            data.by_hash.insert(e.hash.clone(), key.clone());
            data.events.insert(key, e.clone());
        }
        data.keys.apply(stream, &commit.events);
        data.streams
            .insert(stream.to_string(), commit.record.clone());
        Ok(commit)
    }

    async fn delete_stream(&self, id: &str) -> Result<bool, ChainError> {
        self.open()?;
        let mut data = self.data.borrow_mut();
        if data.streams.remove(id).is_none() {
            return Ok(false);
        }
        let doomed: Vec<(String, u64)> = data
            .events
            .range((id.to_string(), 0)..=(id.to_string(), u64::MAX))
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            if let Some(e) = data.events.remove(&key) {
                data.by_hash.remove(&e.hash);
            }
        }
        data.sync.remove(id);
        data.conflicts.retain(|c| c.stream != id);
        data.keys.remove_stream(id);
        Ok(true)
    }

    async fn stream_keys(&self, stream: &str) -> Result<Option<StoredKeys>, ChainError> {
        self.open()?;
        let data = self.data.borrow();
        let head = data
            .streams
            .get(stream)
            .cloned()
            .ok_or_else(|| ChainError::UnknownStream {
                stream: stream.into(),
            })?;
        let root = data
            .events
            .get(&(stream.to_string(), head.seq))
            .map(|e| e.root.clone());
        Ok(Some(StoredKeys {
            keys: data.keys.of_stream(stream),
            head,
            root,
        }))
    }

    async fn key_count(
        &self,
        stream: &str,
        place: &str,
        key: &str,
    ) -> Result<Option<u64>, ChainError> {
        self.open()?;
        Ok(Some(self.data.borrow().keys.count(stream, place, key)))
    }

    async fn key_page(
        &self,
        stream: &str,
        q: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        self.open()?;
        let data = self.data.borrow();
        let total = data.total(stream, q.index)?;
        let keys = data.keys.page(stream, q);
        Ok(Some(KeysPage {
            keys,
            count: data.keys.size(stream, q.place),
            total,
        }))
    }

    async fn key_top(
        &self,
        stream: &str,
        q: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        self.open()?;
        let data = self.data.borrow();
        let total = data.total(stream, q.index)?;
        let keys = data.keys.top(stream, q);
        Ok(Some(KeysPage {
            keys,
            count: data.keys.size(stream, q.place),
            total,
        }))
    }

    fn broadcast(&self, change: &Change) {
        let sinks: Vec<_> = self
            .data
            .borrow()
            .sinks
            .iter()
            .filter(|(c, _)| *c != self.connection)
            .map(|(_, s)| s.clone())
            .collect();
        for sink in sinks {
            sink(change);
        }
    }

    fn on_remote_change(&self, sink: ChangeSink) {
        self.data.borrow_mut().sinks.push((self.connection, sink));
    }

    fn close(&self) {
        self.closed.set(true);
        self.data
            .borrow_mut()
            .sinks
            .retain(|(c, _)| *c != self.connection);
    }
}

impl SyncStore for MemoryStore {
    async fn sync_record(&self, stream: &str) -> Result<Option<SyncRecord>, ChainError> {
        self.open()?;
        Ok(self.data.borrow().sync.get(stream).cloned())
    }

    async fn conflicts(&self, stream: &str) -> Result<Vec<Conflict>, ChainError> {
        self.open()?;
        let data = self.data.borrow();
        Ok(data
            .conflicts
            .iter()
            .filter(|c| c.stream == stream)
            .cloned()
            .collect())
    }

    async fn clear_conflicts(&self, stream: &str) -> Result<u64, ChainError> {
        self.open()?;
        let mut data = self.data.borrow_mut();
        let before = data.conflicts.len();
        data.conflicts.retain(|c| c.stream != stream);
        Ok((before - data.conflicts.len()) as u64)
    }

    async fn discard_conflict(&self, stream: &str, event_hash: &str) -> Result<u64, ChainError> {
        self.open()?;
        let mut data = self.data.borrow_mut();
        let before = data.conflicts.len();
        data.conflicts
            .retain(|c| c.stream != stream || c.event.hash != event_hash);
        Ok((before - data.conflicts.len()) as u64)
    }

    async fn commit_sync(
        &self,
        stream: &str,
        plan: &mut SyncPlan<'_>,
    ) -> Result<SyncCommit, ChainError> {
        self.open()?;
        let mut data = self.data.borrow_mut();
        let commit = plan(data.streams.get(stream), data.sync.get(stream))?;
        check_sync_commit(stream, &commit)?;
        // Every check is done: now write, all of it.
        let doomed: Vec<(String, u64)> = data
            .events
            .range(
                (stream.to_string(), commit.keep.saturating_add(1))
                    ..=(stream.to_string(), u64::MAX),
            )
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            if let Some(e) = data.events.remove(&key) {
                data.by_hash.remove(&e.hash);
            }
        }
        for e in &commit.events {
            let key = (stream.to_string(), e.seq);
            data.by_hash.insert(e.hash.clone(), key.clone());
            data.events.insert(key, e.clone());
        }
        for (place, key, n) in &commit.restored {
            data.keys.set(stream, place, key, *n);
        }
        data.keys.apply(stream, &commit.events);
        data.streams
            .insert(stream.to_string(), commit.record.clone());
        data.sync.insert(stream.to_string(), commit.sync.clone());
        data.conflicts.extend(commit.conflicts.iter().cloned());
        Ok(commit)
    }
}
