//! A proof of one key's count in a keyed place, from an event's `root`
//! alone: the key trie's branches from the key's leaf up to the place's
//! trie root, the place's leaf (`keyed_leaf_hash`), and the marking tree's
//! siblings up to the root. A key with count 0 is proven absent: its path
//! through the trie ends at another key's leaf, which the proof names
//! (docs/chain-format.md, "Proofs of one key").

use serde::{Deserialize, Serialize};

use super::keytrie::{bit, branch_hash, key_path};
use super::merkle::{climb, keyed_leaf_hash, leaf_hash, Hash32};
use super::state::TipState;
use crate::model::{Model, PlaceIndex, MAX_KEY_BYTES};

/// A proof that key `key` of keyed place `place` held `count` (0: absent)
/// under a marking root. With the root of a signed event it shows
/// "`balance[alice]` held 70 after that event", or "`balance[carol]` held
/// nothing", without the chain or the other keys.
///
/// Soundness rests on SHA-256: the trie is a function of the set of keys
/// (history-independent), following a key's path bits from the root
/// always ends at one leaf, and that leaf is the key's own exactly when the
/// key is present; so a leaf of another key at the end of the key's path
/// shows the key absent.
///
/// ```
/// # use petrichain::chain::{KeyProof, TipState};
/// # use petrichain::engine::KeyedMarking;
/// # let (model, _) = petrichain::formats::json::import_json(r#"{"places":[{"id":"balance","keyed":true}],"transitions":[],"arcs":[]}"#).unwrap();
/// let mut keys = KeyedMarking::empty(1);
/// keys.set(0, "alice", 70);
/// keys.set(0, "bob", 130);
/// let mut marking = model.initial_marking();
/// marking.0[0] = 200;
/// let state = TipState::with_keys(&model, marking, keys);
/// let root = state.root_hex();
/// let proof = state.prove_key(&model, 0, "alice").unwrap();
/// assert!(proof.verify(&root));
/// assert!(!KeyProof { count: 71, ..proof }.verify(&root));
/// let absent = state.prove_key(&model, 0, "carol").unwrap();
/// assert_eq!(absent.count, 0);
/// assert!(absent.verify(&root));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyProof {
    /// The keyed place's id.
    pub place: String,
    /// The key.
    pub key: String,
    /// Its count; 0 = the place does not hold the key.
    pub count: u64,
    /// The place's index in the model's place order.
    pub index: u64,
    /// The key trie's branches between the leaf (the key's, or for count 0
    /// the one its path ends at) and the trie's root, from the bottom up:
    /// `[bit, sibling hash]`, bits strictly decreasing.
    pub trie: Vec<(u16, String)>,
    /// For count 0 in a place holding keys: the key whose leaf the key's
    /// path ends at, and its count. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest: Option<(String, u64)>,
    /// The marking tree's sibling hashes (lowercase hex), from the place's
    /// leaf up.
    pub path: Vec<String>,
}

/// Most branches a trie path has: one per bit of a SHA-256.
const MAX_TRIE_STEPS: usize = 256;

impl KeyProof {
    /// The marking root this proof leads to, or `None` if it is malformed
    /// (a key of 0 or more than 256 bytes, a `nearest` that is the key itself
    /// or given for a present key, bits out of order, a sibling that is not
    /// 64 hex digits, an index beyond its path).
    pub fn root(&self) -> Option<Hash32> {
        let good_key = |k: &str| !k.is_empty() && k.len() <= MAX_KEY_BYTES;
        if !good_key(&self.key) || self.trie.len() > MAX_TRIE_STEPS {
            return None;
        }
        let mut h: Hash32 = match (&self.nearest, self.count) {
            (None, 0) if self.trie.is_empty() => [0; 32],
            (None, n) if n > 0 => leaf_hash(&self.key, n),
            (Some((k, n)), 0) if *k != self.key && good_key(k) && *n > 0 => leaf_hash(k, *n),
            _ => return None,
        };
        let path = key_path(&self.key);
        let mut above = MAX_TRIE_STEPS as u16;
        for (b, sibling) in &self.trie {
            if *b >= above {
                return None;
            }
            above = *b;
            let mut s = [0u8; 32];
            hex::decode_to_slice(sibling, &mut s).ok()?;
            h = if bit(&path, *b) == 0 {
                branch_hash(*b, &h, &s)
            } else {
                branch_hash(*b, &s, &h)
            };
        }
        climb(keyed_leaf_hash(&self.place, &h), self.index, &self.path)
    }

    /// Whether the proof leads to `root` (64 lowercase hex digits, as in an
    /// event's `root`).
    pub fn verify(&self, root: &str) -> bool {
        self.root().is_some_and(|r| hex::encode(r) == root)
    }
}

impl TipState {
    /// A proof of `key`'s count in keyed place `place` under
    /// [`root_hex`](TipState::root_hex). `None` if `place` is not a keyed
    /// place of `model` or the key is not 1 to 256 bytes. O(log keys) for
    /// a present key; O(keys) for an absent one (the key of the leaf its
    /// path ends at is looked up among the place's keys).
    pub fn prove_key(&self, model: &Model, place: PlaceIndex, key: &str) -> Option<KeyProof> {
        if !model.is_keyed(place) || key.is_empty() || key.len() > MAX_KEY_BYTES {
            return None;
        }
        let id = &model.places().get(place)?.id;
        let marking = self.tree().prove(place, id, 0)?;
        let count = self.keyed().get(place, key);
        let walk = self.tries().get(place)?.walk(&key_path(key));
        let nearest = match walk.end {
            Some(end) if count == 0 => Some(
                self.keyed()
                    .iter(place)
                    .find(|(k, _)| key_path(k) == end)
                    .map(|(k, n)| (k.to_string(), n))?,
            ),
            _ => None,
        };
        Some(KeyProof {
            place: id.clone(),
            key: key.to_string(),
            count,
            index: marking.index,
            trie: walk
                .steps
                .iter()
                .map(|(b, s)| (*b, hex::encode(s)))
                .collect(),
            nearest,
            path: marking.path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::KeyedMarking;
    use crate::formats::json::import_json;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Three places, the keyed one in the middle, so the marking path has
    /// siblings on both sides.
    fn model() -> Model {
        import_json(
            r#"{"places":[{"id":"a","initial":4},{"id":"balance","keyed":true},{"id":"c","initial":9}],
                "transitions":[],"arcs":[]}"#,
        )
        .unwrap()
        .0
    }

    fn state(model: &Model, counts: &BTreeMap<String, u64>) -> TipState {
        let mut keys = KeyedMarking::empty(3);
        for (k, n) in counts {
            keys.set(1, k, *n);
        }
        let mut marking = model.initial_marking();
        marking.0[1] = counts.values().sum();
        TipState::with_keys(model, marking, keys)
    }

    #[test]
    fn an_empty_place_proves_every_key_absent_and_unkeyed_places_refuse() {
        let model = model();
        let s = state(&model, &BTreeMap::new());
        let p = s.prove_key(&model, 1, "x").unwrap();
        assert_eq!((p.count, p.trie.len(), p.nearest.is_none()), (0, 0, true));
        assert!(p.verify(&s.root_hex()));
        assert!(s.prove_key(&model, 0, "x").is_none());
        assert!(s.prove_key(&model, 1, "").is_none());
        assert!(s.prove_key(&model, 7, "x").is_none());
        // A claimed count without its leaf does not lead to the root.
        assert!(!KeyProof { count: 1, ..p }.verify(&s.root_hex()));
    }

    #[test]
    fn malformed_proofs_are_refused() {
        let model = model();
        let counts = BTreeMap::from([
            ("a".to_string(), 1),
            ("b".to_string(), 2),
            ("c".to_string(), 3),
        ]);
        let s = state(&model, &counts);
        let p = s.prove_key(&model, 1, "a").unwrap();
        assert!(p.verify(&s.root_hex()));
        let nearest = KeyProof {
            nearest: Some(("b".into(), 2)),
            ..p.clone()
        };
        assert_eq!(nearest.root(), None);
        let mut reordered = p.clone();
        reordered.trie.reverse();
        if reordered.trie.len() > 1 {
            assert_eq!(reordered.root(), None);
        }
        let mut bad_hex = p.clone();
        bad_hex.trie[0].1 = "zz".into();
        assert_eq!(bad_hex.root(), None);
        let long = KeyProof {
            key: "k".repeat(MAX_KEY_BYTES + 1),
            ..p.clone()
        };
        assert_eq!(long.root(), None);
        let absent = s.prove_key(&model, 1, "zzz").unwrap();
        let itself = KeyProof {
            nearest: Some(("zzz".into(), 1)),
            ..absent
        };
        assert_eq!(itself.root(), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// For random tries, every key present and some absent prove their
        /// count; a changed count, place, index or root does not verify, and
        /// a changed key verifies only where its claim is true.
        #[test]
        fn proofs_verify_and_fail_for_anything_changed(
            counts in proptest::collection::btree_map("[a-h]{1,3}", 1u64..50, 0..40),
            probes in proptest::collection::vec("[a-h]{1,3}", 1..8),
        ) {
            let model = model();
            let s = state(&model, &counts);
            let root = s.root_hex();
            for key in counts.keys().chain(&probes) {
                let p = s.prove_key(&model, 1, key).unwrap();
                prop_assert_eq!(p.count, counts.get(key).copied().unwrap_or(0));
                prop_assert!(p.verify(&root), "{key}: {p:?}");
                let more = KeyProof { count: p.count + 1, ..p.clone() };
                prop_assert!(!more.verify(&root));
                if p.count > 0 {
                    let none = KeyProof { count: 0, ..p.clone() };
                    prop_assert!(!none.verify(&root));
                }
                // Another key: verifies only if its count is the claimed one
                // (another absent key whose path ends at the same leaf).
                for other in [format!("{key}x"), "a".into(), "hhh".into()] {
                    let other = KeyProof { key: other, ..p.clone() };
                    let truth = counts.get(&other.key).copied().unwrap_or(0);
                    prop_assert!(!other.verify(&root) || truth == other.count, "{other:?}");
                }
                if p.count > 0 {
                    let other = KeyProof { key: format!("{key}x"), ..p.clone() };
                    prop_assert!(!other.verify(&root));
                }
                let place = KeyProof { place: "a".into(), ..p.clone() };
                prop_assert!(!place.verify(&root));
                let index = KeyProof { index: 0, ..p.clone() };
                prop_assert!(!index.verify(&root));
                prop_assert!(!p.verify(&"0".repeat(64)));
                // The proof of the same key after one more token is not
                // this root's.
                let mut moved = counts.clone();
                *moved.entry(key.clone()).or_insert(0) += 1;
                prop_assert!(!p.verify(&state(&model, &moved).root_hex()));
            }
        }
    }
}
