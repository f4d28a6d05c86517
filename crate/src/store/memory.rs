//! The in-memory store: same semantics as IndexedDB, nothing persisted.
//!
//! Clones of a [`MemoryStore`] are separate connections to the same data
//! (like two tabs on one IndexedDB database): each can be closed on its own,
//! and a change committed through one is reported to the others.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// The key records of keyed places, as IndexedDB keeps them: by
/// `(stream, place, key)`, and ranked by count for the top lists.
#[derive(Default)]
struct Keys {
    counts: BTreeMap<(String, String, String), u64>,
    /// `(stream, place, highest count first, key)`.
    ranked: BTreeSet<(String, String, Reverse<u64>, String)>,
    /// Number of keys per `(stream, place)`.
    sizes: HashMap<(String, String), u64>,
}

impl Keys {
    fn set(&mut self, stream: &str, place: &str, key: &str, count: u64) {
        let id = (stream.to_string(), place.to_string(), key.to_string());
        let old = if count == 0 {
            self.counts.remove(&id)
        } else {
            self.counts.insert(id, count)
        };
        let size = (stream.to_string(), place.to_string());
        if let Some(old) = old {
            self.ranked.remove(&(
                stream.to_string(),
                place.to_string(),
                Reverse(old),
                key.to_string(),
            ));
            if count == 0 {
                if let Some(n) = self.sizes.get_mut(&size) {
                    *n = n.saturating_sub(1);
                }
            }
        } else if count > 0 {
            *self.sizes.entry(size).or_default() += 1;
        }
        if count > 0 {
            self.ranked.insert((
                stream.to_string(),
                place.to_string(),
                Reverse(count),
                key.to_string(),
            ));
        }
    }

    fn apply(&mut self, stream: &str, events: &[Event]) {
        for ((place, key), n) in key_changes(events) {
            self.set(stream, place, key, n);
        }
    }

    fn of_stream(&self, stream: &str) -> Vec<KeyCount> {
        let from = (stream.to_string(), String::new(), String::new());
        self.counts
            .range(from..)
            .take_while(|((s, _, _), _)| s == stream)
            .map(|((_, p, k), n)| (p.clone(), k.clone(), *n))
            .collect()
    }

    fn remove_stream(&mut self, stream: &str) {
        for (place, key, _) in self.of_stream(stream) {
            self.set(stream, &place, &key, 0);
        }
        self.sizes.retain(|(s, _), _| s != stream);
    }

    fn size(&self, stream: &str, place: &str) -> u64 {
        self.sizes
            .get(&(stream.to_string(), place.to_string()))
            .copied()
            .unwrap_or(0)
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
        let id = (stream.to_string(), place.to_string(), key.to_string());
        Ok(Some(
            self.data
                .borrow()
                .keys
                .counts
                .get(&id)
                .copied()
                .unwrap_or(0),
        ))
    }

    async fn key_page(
        &self,
        stream: &str,
        q: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        self.open()?;
        let data = self.data.borrow();
        let total = data.total(stream, q.index)?;
        let at = |k: &str| (stream.to_string(), q.place.to_string(), k.to_string());
        let from_prefix = !q.prefix.is_empty() && q.after.is_none_or(|a| a < q.prefix);
        let lower = match q.after {
            _ if from_prefix => Bound::Included(at(q.prefix)),
            Some(a) => Bound::Excluded(at(a)),
            None => Bound::Included(at("")),
        };
        let keys = data
            .keys
            .counts
            .range((lower, Bound::Unbounded))
            .take_while(|((s, p, k), _)| s == stream && p == q.place && k.starts_with(q.prefix))
            .take(q.limit)
            .map(|((_, _, k), n)| (k.clone(), *n))
            .collect();
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
        let from = (
            stream.to_string(),
            q.place.to_string(),
            Reverse(u64::MAX),
            String::new(),
        );
        let keys = data
            .keys
            .ranked
            .range(from..)
            .take_while(|(s, p, _, _)| s == stream && p == q.place)
            .take(q.limit)
            .map(|(_, _, Reverse(n), k)| (k.clone(), *n))
            .collect();
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
