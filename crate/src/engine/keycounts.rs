//! The counts of one keyed place, key -> count: a map that reads as fast
//! as std's `HashMap` when it is not shared, and copies in O(1).
//!
//! Layout: a `base` (std `HashMap` behind an [`Arc`], shared by copies)
//! and an `overlay` (imbl's persistent hash map: a copy shares it too)
//! holding the keys written while the base was shared, a count of 0
//! meaning "removed". A lookup reads the overlay (skipped when empty),
//! then the base.
//!
//! - A write on a map whose base no copy shares goes straight into the
//!   base ([`Arc::get_mut`]), after folding in an overlay left from an
//!   earlier copy: a ledger's tip and a verifier's replay never build an
//!   overlay, and read at std's speed.
//! - A write on a shared base goes into the overlay (O(log overlay)).
//!   When the overlay grows past an eighth of the base (at least
//!   [`MIN_FOLD`] keys), the map folds it into a copy of the base: one
//!   O(keys) copy per keys / 8 writes, about 8 entries copied per write,
//!   amortised. A server that copies a stream's cached head state for
//!   every append attempt, and a sync client that keeps its sync point
//!   beside its tip, live in that regime.
//!
//! Why not imbl's map alone (the design before this one): its hash trie
//! is several pointer hops deep at 100,000 keys, each a cache miss, and
//! measured about 3x slower to read than std's map; the append of a
//! transfer among 100,000 accounts paid for it on every firing although
//! the ledger's tip is never shared (BENCHMARKS.md, "Keyed places
//! (issue 14)", the overlay subsection, gives both).
//!
//! Both maps hash with [`KeyHashing`] (SipHash-1-3 under a secret seed),
//! so keys from remote events cannot be chosen to collide.

use std::collections::HashMap;
use std::sync::Arc;

use imbl::shared_ptr::DefaultSharedPtr;
use imbl::GenericHashMap;

use super::keyhash::KeyHashing;

/// The fewest overlay keys that make a shared base be copied (see the
/// module). Small under test so that folds happen in small property tests.
pub(crate) const MIN_FOLD: usize = if cfg!(test) { 4 } else { 1024 };

/// key -> count (above 0) of one keyed place.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyCounts {
    base: Arc<HashMap<String, u64, KeyHashing>>,
    /// Keys written while `base` was shared; 0 = removed from the base.
    overlay: GenericHashMap<String, u64, KeyHashing, DefaultSharedPtr>,
    /// Keys with a count above 0, overlay and base together.
    len: usize,
}

impl KeyCounts {
    /// The count of `key` (0 if absent).
    pub(crate) fn get(&self, key: &str) -> u64 {
        if !self.overlay.is_empty() {
            if let Some(&n) = self.overlay.get(key) {
                return n;
            }
        }
        self.base.get(key).copied().unwrap_or(0)
    }

    /// How many keys have a count above 0.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Sets `key` to `count` (0 removes it); returns the count before.
    pub(crate) fn set(&mut self, key: &str, count: u64) -> u64 {
        if self.overlay.is_empty() {
            if let Some(base) = Arc::get_mut(&mut self.base) {
                // The usual case (a tip, a replay): one lookup.
                let before = write(base, key, count);
                match (before, count) {
                    (0, 0) => {}
                    (0, _) => self.len += 1,
                    (_, 0) => self.len -= 1,
                    _ => {}
                }
                return before;
            }
        }
        let before = self.get(key);
        if before == count {
            return before;
        }
        match (before, count) {
            (0, _) => self.len += 1,
            (_, 0) => self.len -= 1,
            _ => {}
        }
        if Arc::get_mut(&mut self.base).is_some() {
            self.fold_in_place();
            let base = Arc::get_mut(&mut self.base).expect("checked unique above");
            write(base, key, count);
        } else {
            self.overlay.insert(key.to_string(), count);
            if self.overlay.len() > MIN_FOLD.max(self.base.len() / 8) {
                self.fold_into_copy();
            }
        }
        before
    }

    /// Moves the overlay into the base, which no copy shares.
    fn fold_in_place(&mut self) {
        if self.overlay.is_empty() {
            return;
        }
        let overlay = std::mem::take(&mut self.overlay);
        if let Some(base) = Arc::get_mut(&mut self.base) {
            for (key, &n) in overlay.iter() {
                write(base, key, n);
            }
        }
    }

    /// Replaces a shared base by a copy of it with the overlay folded in:
    /// O(keys), once per keys / 8 writes.
    fn fold_into_copy(&mut self) {
        let mut base = HashMap::clone(&self.base);
        for (key, &n) in self.overlay.iter() {
            write(&mut base, key, n);
        }
        self.base = Arc::new(base);
        self.overlay = GenericHashMap::default();
    }
}

/// Writes `count` for `key` into a plain map (0 removes it); returns the
/// count before.
fn write(map: &mut HashMap<String, u64, KeyHashing>, key: &str, count: u64) -> u64 {
    if count == 0 {
        map.remove(key).unwrap_or(0)
    } else if let Some(slot) = map.get_mut(key) {
        std::mem::replace(slot, count)
    } else {
        map.insert(key.to_string(), count);
        0
    }
}

/// Equal when they hold the same keys with the same counts, however each
/// splits them between base and overlay.
impl PartialEq for KeyCounts {
    fn eq(&self, other: &Self) -> bool {
        if self.len != other.len {
            return false;
        }
        let pairs_of = |m: &KeyCounts| {
            let mut all: Vec<(String, u64)> = m
                .overlay
                .iter()
                .map(|(k, &n)| (k.clone(), n))
                .chain(
                    m.base
                        .iter()
                        .filter(|(k, _)| !m.overlay.contains_key(k.as_str()))
                        .map(|(k, &n)| (k.clone(), n)),
                )
                .filter(|&(_, n)| n > 0)
                .collect();
            all.sort_unstable();
            all
        };
        pairs_of(self) == pairs_of(other)
    }
}

impl Eq for KeyCounts {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Set(usize, String, u64),
        /// Copies map `from` over map `to` (a new copy that shares).
        Copy {
            from: usize,
            to: usize,
        },
        /// Drops map `which` (so a base another map shares may become unique).
        Reset(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..3usize, "[a-h]{1,2}", 0u64..4).prop_map(|(m, k, n)| Op::Set(m, k, n)),
            1 => (0..3usize, 0..3usize).prop_map(|(from, to)| Op::Copy { from, to }),
            1 => (0..3usize).prop_map(Op::Reset),
        ]
    }

    fn check(map: &KeyCounts, model: &BTreeMap<String, u64>) -> Result<(), TestCaseError> {
        prop_assert_eq!(map.len(), model.len());
        for k in ["a", "b", "h", "ab", "hh", "zz"] {
            prop_assert_eq!(map.get(k), model.get(k).copied().unwrap_or(0), "key {}", k);
        }
        for (k, &n) in model {
            prop_assert_eq!(map.get(k), n);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Three maps under random writes, copies (which share a base) and
        /// drops each behave like a plain map of their own, whatever mix of
        /// in-place writes, overlay writes and folds that takes: a copy
        /// never sees the writes of another, and equality is by content.
        #[test]
        fn behaves_like_a_plain_map_under_writes_copies_and_folds(
            ops in proptest::collection::vec(op(), 0..200)
        ) {
            let mut maps: Vec<KeyCounts> = vec![KeyCounts::default(); 3];
            let mut models: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); 3];
            for op in ops {
                match op {
                    Op::Set(m, k, n) => {
                        let before = models[m].get(&k).copied().unwrap_or(0);
                        prop_assert_eq!(maps[m].set(&k, n), before);
                        if n == 0 { models[m].remove(&k); } else { models[m].insert(k, n); }
                    }
                    Op::Copy { from, to } => {
                        maps[to] = maps[from].clone();
                        models[to] = models[from].clone();
                    }
                    Op::Reset(m) => {
                        maps[m] = KeyCounts::default();
                        models[m].clear();
                    }
                }
                for (map, model) in maps.iter().zip(&models) {
                    check(map, model)?;
                }
            }
            for i in 0..3 {
                for j in 0..3 {
                    prop_assert_eq!(maps[i] == maps[j], models[i] == models[j]);
                }
            }
        }
    }

    #[test]
    fn a_shared_base_is_copied_once_the_overlay_outgrows_it() {
        let mut original = KeyCounts::default();
        // Few keys: the bound is MIN_FOLD itself.
        for i in 0..16 {
            original.set(&format!("k{i}"), 1);
        }
        let mut copy = original.clone();
        // Writes on the copy go to its overlay while the base is shared...
        for i in 0..MIN_FOLD {
            copy.set(&format!("k{i}"), 2);
        }
        assert_eq!(copy.overlay.len(), MIN_FOLD);
        assert!(Arc::ptr_eq(&copy.base, &original.base));
        // ...until it passes the bound: then the copy gets a base of its own.
        copy.set("new", 5);
        assert!(copy.overlay.is_empty());
        assert!(!Arc::ptr_eq(&copy.base, &original.base));
        assert_eq!((copy.get("k0"), copy.get("new"), copy.len()), (2, 5, 17));
        assert_eq!(
            (original.get("k0"), original.get("new"), original.len()),
            (1, 0, 16)
        );
        // A copy dropped: the next write folds the overlay in place.
        let mut again = original.clone();
        again.set("k1", 0);
        drop(original);
        again.set("k2", 0);
        assert!(again.overlay.is_empty() && Arc::get_mut(&mut again.base).is_some());
        assert_eq!((again.get("k1"), again.get("k2"), again.len()), (0, 0, 14));
    }
}
