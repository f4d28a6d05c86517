//! The keys of keyed places as a store keeps them: one record per
//! `(stream, place, key)` holding the key's count, written with the events
//! that change it (only those keys), so that the tip of a keyed stream is
//! rebuilt from O(keys) records instead of a replay of O(events), and one
//! key, a page of keys or the top counts are read without loading the rest.
//!
//! The helpers here are shared by every store (memory, IndexedDB) and by the
//! [`Ledger`](super::Ledger): which keys a commit changes, the checks a tip
//! rebuilt from records must pass, and the same pages and top lists worked
//! out from a tip held in memory.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::StreamRecord;
use crate::chain::{ChainError, Event, TipState};
use crate::engine::{KeyedMarking, Marking};
use crate::model::{Model, PlaceIndex, MAX_TOKENS};

/// One key record: `(place id, key, count)`, count above 0.
pub type KeyCount = (String, String, u64);

/// A keyed stream's key records with the head and the signed root they go
/// with, read together (one snapshot: [`Store::stream_keys`](super::Store::stream_keys)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeys {
    /// The stream's head.
    pub head: StreamRecord,
    /// Every key record of the stream.
    pub keys: Vec<KeyCount>,
    /// The `root` of the head's event (`None` for a stream with no events).
    pub root: Option<String>,
}

/// Most keys one [`Ledger::top`](super::Ledger::top) list returns.
pub const MAX_TOP_KEYS: usize = 1_000;

/// What a page of keys asks a store for ([`Store::key_page`](super::Store::key_page),
/// [`Store::key_top`](super::Store::key_top)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyQuery<'a> {
    /// The keyed place's id.
    pub place: &'a str,
    /// Its index in the marking (where the head keeps its total).
    pub index: PlaceIndex,
    /// Only keys after this one (byte order); pages only.
    pub after: Option<&'a str>,
    /// Only keys that start with this (`""`: every key); pages only.
    pub prefix: &'a str,
    /// At most this many (the caller caps it).
    pub limit: usize,
}

/// The count each key holds after `events` (in order), for the keys they
/// changed: `(place, key) -> count` (0: the key is gone). What a commit
/// writes to the key records: one write per key, however many events of
/// the commit touched it.
pub fn key_changes(events: &[Event]) -> BTreeMap<(&str, &str), u64> {
    let mut out = BTreeMap::new();
    for e in events {
        for (place, key, n) in &e.keys {
            out.insert((place.as_str(), key.as_str()), *n);
        }
    }
    out
}

/// The tip of a keyed stream from its head marking and its key records,
/// checked: every record names a keyed place of `model` and holds 1 to
/// 2^53-1 tokens, and each keyed place's records sum to the total the head
/// keeps (else `CORRUPT_RECORD` naming the place). O(keys).
pub fn tip_from_records(
    model: &Model,
    stream: &str,
    marking: Marking,
    records: Vec<KeyCount>,
) -> Result<TipState, ChainError> {
    let corrupt = |place: &str, message: String| ChainError::CorruptRecord {
        store: "keys".into(),
        key: format!("{stream}/{place}"),
        message,
    };
    let places = model.places().len();
    let mut keyed = KeyedMarking::empty(places);
    let mut sums = vec![0u64; places];
    for (place, key, count) in records {
        let p = model
            .place_index(&place)
            .filter(|&p| model.is_keyed(p))
            .ok_or_else(|| corrupt(&place, "not a keyed place of the stream's net".into()))?;
        if count == 0 || count > MAX_TOKENS {
            return Err(corrupt(
                &place,
                format!("key '{key}' holds {count} (must be 1 to 2^53-1)"),
            ));
        }
        sums[p] = sums[p]
            .checked_add(count)
            .filter(|&s| s <= MAX_TOKENS)
            .ok_or_else(|| corrupt(&place, "its keys sum past 2^53-1".into()))?;
        keyed.set(p, &key, count);
    }
    for (p, place) in model.places().iter().enumerate() {
        let total = marking.0.get(p).copied().unwrap_or(0);
        if place.keyed && sums[p] != total {
            return Err(corrupt(
                &place.id,
                format!("its key records sum to {}, the head says {total}", sums[p]),
            ));
        }
    }
    Ok(TipState::with_keys(model, marking, keyed))
}

/// A page of the keys of place `p` held in memory: those after `after` and
/// starting with `prefix`, in byte order, at most `limit`.
/// O(log keys + limit).
pub fn page_of(
    keyed: &KeyedMarking,
    p: PlaceIndex,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let from_prefix = !prefix.is_empty() && after.is_none_or(|a| a < prefix);
    let start = if from_prefix {
        // `page` starts after a key: the prefix itself may be a key.
        let n = keyed.get(p, prefix);
        if n > 0 && limit > 0 {
            out.push((prefix.to_string(), n));
        }
        Some(prefix)
    } else {
        after
    };
    out.extend(keyed.page(p, start, limit.saturating_sub(out.len())));
    if let Some(end) = out.iter().position(|(k, _)| !k.starts_with(prefix)) {
        out.truncate(end);
    }
    out
}

/// The `limit` keys of place `p` with the highest counts, ties by key (byte
/// order), from keys held in memory: O(keys x log limit), for stores that
/// keep no key records.
pub fn top_of(keyed: &KeyedMarking, p: PlaceIndex, limit: usize) -> Vec<(String, u64)> {
    if limit == 0 {
        return Vec::new();
    }
    // A max-heap of the kept ones by "worse": lower count, then later key.
    let mut heap: BinaryHeap<(Reverse<u64>, &str)> = BinaryHeap::with_capacity(limit + 1);
    for (key, n) in keyed.iter(p) {
        heap.push((Reverse(n), key));
        if heap.len() > limit {
            heap.pop();
        }
    }
    let mut out: Vec<(Reverse<u64>, &str)> = heap.into_vec();
    out.sort_unstable();
    out.into_iter()
        .map(|(Reverse(n), k)| (k.to_string(), n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(keys: &[(&str, u64)]) -> KeyedMarking {
        let mut k = KeyedMarking::empty(1);
        for (key, n) in keys {
            k.set(0, key, *n);
        }
        k
    }

    #[test]
    fn a_prefix_page_starts_at_the_prefix_and_stops_after_it() {
        let k = keyed(&[("a", 1), ("al", 2), ("alice", 3), ("alma", 4), ("b", 5)]);
        let keys = |v: Vec<(String, u64)>| v.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(
            keys(page_of(&k, 0, "al", None, 10)),
            ["al", "alice", "alma"]
        );
        assert_eq!(
            keys(page_of(&k, 0, "al", Some("al"), 10)),
            ["alice", "alma"]
        );
        assert_eq!(keys(page_of(&k, 0, "al", Some("a"), 1)), ["al"]);
        assert_eq!(
            keys(page_of(&k, 0, "al", Some("alz"), 10)),
            Vec::<String>::new()
        );
        assert_eq!(keys(page_of(&k, 0, "", Some("alice"), 2)), ["alma", "b"]);
        assert_eq!(keys(page_of(&k, 0, "zz", None, 10)), Vec::<String>::new());
        assert_eq!(keys(page_of(&k, 0, "al", None, 0)), Vec::<String>::new());
    }

    #[test]
    fn the_top_is_highest_first_ties_by_key() {
        let k = keyed(&[("d", 5), ("b", 7), ("a", 5), ("c", 9), ("e", 1)]);
        assert_eq!(
            top_of(&k, 0, 4),
            [
                ("c".into(), 9),
                ("b".into(), 7),
                ("a".into(), 5),
                ("d".into(), 5)
            ]
        );
        assert_eq!(top_of(&k, 0, 0), Vec::<(String, u64)>::new());
        assert_eq!(top_of(&k, 0, 100).len(), 5);
    }
}
