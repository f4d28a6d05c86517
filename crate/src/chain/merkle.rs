//! The marking commitment: a Merkle tree over the places' counts.
//!
//! Every event carries `root`, the root of this tree after the event, and
//! `delta`, the counts it changed. Moving the tree forward costs
//! O(changed places x log places) hashes, so an event's cost follows the
//! change, not the net. A Merkle tree was chosen over an incremental
//! multiset hash (LtHash, ECMH) because it is as cheap to update at the
//! sizes nets have, needs nothing but SHA-256 (already in every verifier),
//! and proves one place's count from the root alone ([`PlaceProof`]): "the
//! account held 50 after seq 812" checks against one signed event, without
//! the chain. An additive hash cannot do that.
//!
//! Layout (docs/chain-format.md has the same in prose):
//! - leaf `i` (place `i` in the model's place order) is
//!   `SHA-256(0x00 || u32be(len(id)) || id || u64be(count))`, or for a
//!   keyed place `SHA-256(0x02 || u32be(len(id)) || id || keys)`, where
//!   `keys` is the root of its [`KeyTrie`](super::KeyTrie);
//! - a node is `SHA-256(0x01 || left || right)`, except that a node whose
//!   two children are both 32 zero bytes is itself 32 zero bytes; missing
//!   leaves (up to the next power of two) are 32 zero bytes;
//! - the root is the single node of the top level (the leaf itself for one
//!   place, 32 zero bytes for none).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::Marking;
use crate::model::Model;

/// A 32-byte hash.
pub type Hash32 = [u8; 32];

const ZERO: Hash32 = [0; 32];

/// The hash of place `id` holding `count`.
pub fn leaf_hash(id: &str, count: u64) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0u8]);
    // Ids are at most MAX_ID_BYTES (1 KiB), far below u32::MAX.
    h.update(u32::try_from(id.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(id.as_bytes());
    h.update(count.to_be_bytes());
    h.finalize().into()
}

/// The hash of keyed place `id` whose keys have the root `keys`
/// ([`KeyTrie::root`](super::KeyTrie::root)).
pub fn keyed_leaf_hash(id: &str, keys: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([2u8]);
    h.update(u32::try_from(id.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(id.as_bytes());
    h.update(keys);
    h.finalize().into()
}

fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    if left == &ZERO && right == &ZERO {
        return ZERO;
    }
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The Merkle tree of a marking, kept level by level so that one count
/// changes in O(log places) hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkingTree {
    /// `levels[0]` are the leaves; the last level holds the root alone.
    levels: Vec<Vec<Hash32>>,
}

impl MarkingTree {
    /// Builds the tree of `marking` (one count per place of `model`), its
    /// keyed places holding no keys (see [`MarkingTree::set_keyed`]).
    pub fn new(model: &Model, marking: &Marking) -> Self {
        let leaves: Vec<Hash32> = model
            .places()
            .iter()
            .zip(&marking.0)
            .map(|(p, &n)| {
                if p.keyed {
                    keyed_leaf_hash(&p.id, &ZERO)
                } else {
                    leaf_hash(&p.id, n)
                }
            })
            .collect();
        let mut levels = vec![leaves];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().map(Vec::as_slice).unwrap_or_default();
            let up = below
                .chunks(2)
                .map(|pair| node_hash(&pair[0], pair.get(1).unwrap_or(&ZERO)))
                .collect();
            levels.push(up);
        }
        MarkingTree { levels }
    }

    /// The root: the commitment an event carries.
    pub fn root(&self) -> Hash32 {
        self.levels
            .last()
            .and_then(|top| top.first())
            .copied()
            .unwrap_or(ZERO)
    }

    /// Sets place `index` (named `id`) to `count` and rehashes its path.
    /// An index outside the tree is ignored (callers pass model indices).
    pub fn set(&mut self, index: usize, id: &str, count: u64) {
        self.set_leaf(index, leaf_hash(id, count));
    }

    /// Sets keyed place `index` (named `id`) to the keys of root `keys`.
    pub fn set_keyed(&mut self, index: usize, id: &str, keys: &Hash32) {
        self.set_leaf(index, keyed_leaf_hash(id, keys));
    }

    fn set_leaf(&mut self, index: usize, hash: Hash32) {
        let Some(leaf) = self.levels.first_mut().and_then(|l| l.get_mut(index)) else {
            return;
        };
        *leaf = hash;
        let mut i = index;
        for k in 1..self.levels.len() {
            let below = &self.levels[k - 1];
            let left = below[i & !1];
            let right = below.get(i | 1).copied().unwrap_or(ZERO);
            i >>= 1;
            self.levels[k][i] = node_hash(&left, &right);
        }
    }

    /// A proof that place `index` holds `count` under [`root`](Self::root).
    /// `None` if the index is outside the tree.
    pub fn prove(&self, index: usize, place: &str, count: u64) -> Option<PlaceProof> {
        if index >= self.levels.first()?.len() {
            return None;
        }
        let mut path = Vec::with_capacity(self.levels.len().saturating_sub(1));
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            path.push(hex::encode(level.get(i ^ 1).copied().unwrap_or(ZERO)));
            i >>= 1;
        }
        Some(PlaceProof {
            place: place.to_string(),
            count,
            index: index as u64,
            path,
        })
    }
}

/// A proof that one place held a count under a marking root: the leaf, its
/// index and the sibling hashes from the leaf up. With the root of a signed
/// event it shows "place `place` held `count` after that event" without the
/// rest of the chain.
///
/// ```
/// # use petrichain::chain::{MarkingTree, PlaceProof};
/// # let (model, _) = petrichain::formats::json::import_json(r#"{"places":[{"id":"alice","initial":50},{"id":"bob","initial":7},{"id":"carol"}],"transitions":[],"arcs":[]}"#).unwrap();
/// let tree = MarkingTree::new(&model, &model.initial_marking());
/// let proof = tree.prove(0, "alice", 50).unwrap();
/// assert!(proof.verify(&hex::encode(tree.root())));
/// let lie = PlaceProof { count: 51, ..proof };
/// assert!(!lie.verify(&hex::encode(tree.root())));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceProof {
    /// The place id.
    pub place: String,
    /// Its count.
    pub count: u64,
    /// Its index in the model's place order.
    pub index: u64,
    /// Sibling hashes (lowercase hex), from the leaf's level up.
    pub path: Vec<String>,
}

/// Longest proof path accepted: a tree of 2^64 places.
const MAX_PATH: usize = 64;

/// The root reached from leaf `leaf` at `index` with the sibling hashes
/// `path` (lowercase hex, from the leaf's level up), or `None` if a sibling
/// is not 64 hex digits or the index lies beyond the path.
pub(crate) fn climb(leaf: Hash32, index: u64, path: &[String]) -> Option<Hash32> {
    if path.len() > MAX_PATH || (path.len() < 64 && index >> path.len() != 0) {
        return None;
    }
    let mut h = leaf;
    let mut i = index;
    for sibling in path {
        let mut s = ZERO;
        hex::decode_to_slice(sibling, &mut s).ok()?;
        h = if i & 1 == 0 {
            node_hash(&h, &s)
        } else {
            node_hash(&s, &h)
        };
        i >>= 1;
    }
    Some(h)
}

impl PlaceProof {
    /// The root this proof leads to, or `None` if it is malformed (a sibling
    /// that is not 64 hex digits, an index beyond its path).
    pub fn root(&self) -> Option<Hash32> {
        climb(leaf_hash(&self.place, self.count), self.index, &self.path)
    }

    /// Whether the proof leads to `root` (64 lowercase hex digits, as in an
    /// event's `root`).
    pub fn verify(&self, root: &str) -> bool {
        self.root().is_some_and(|r| hex::encode(r) == root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::import_json;

    fn net(n: usize) -> Model {
        let places: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"id":"p{i:05}","initial":{i}}}"#))
            .collect();
        import_json(&format!(
            r#"{{"places":[{}],"transitions":[],"arcs":[]}}"#,
            places.join(",")
        ))
        .unwrap()
        .0
    }

    #[test]
    fn updates_agree_with_a_rebuild_and_every_place_proves() {
        for n in [1, 2, 3, 5, 8, 33] {
            let model = net(n);
            let mut marking = model.initial_marking();
            let mut tree = MarkingTree::new(&model, &marking);
            for i in (0..n).step_by(2) {
                marking.0[i] += 10;
                tree.set(i, &model.places()[i].id, marking.0[i]);
            }
            let rebuilt = MarkingTree::new(&model, &marking);
            assert_eq!(tree, rebuilt, "{n} places");
            let root = hex::encode(tree.root());
            for (i, p) in model.places().iter().enumerate() {
                let proof = tree.prove(i, &p.id, marking.0[i]).unwrap();
                assert!(proof.verify(&root), "place {i} of {n}");
                let wrong = PlaceProof {
                    count: marking.0[i] + 1,
                    ..proof.clone()
                };
                assert!(!wrong.verify(&root));
                if n > 1 {
                    let moved = PlaceProof {
                        index: proof.index ^ 1,
                        ..proof
                    };
                    assert!(!moved.verify(&root));
                }
            }
            assert!(tree.prove(n, "x", 0).is_none());
        }
    }

    #[test]
    fn the_layout_is_the_documented_one() {
        let model = net(3);
        let tree = MarkingTree::new(&model, &model.initial_marking());
        let l: Vec<Hash32> = (0..3).map(|i| leaf_hash(&format!("p{i:05}"), i)).collect();
        let root = node_hash(&node_hash(&l[0], &l[1]), &node_hash(&l[2], &ZERO));
        assert_eq!(tree.root(), root);
        assert_eq!(MarkingTree::new(&net(1), &Marking(vec![0])).root(), l[0]);
        assert_eq!(MarkingTree::new(&net(0), &Marking(vec![])).root(), ZERO);
    }

    #[test]
    fn malformed_proofs_are_refused() {
        let p = PlaceProof {
            place: "p".into(),
            count: 1,
            index: 4,
            path: vec!["00".repeat(32); 2],
        };
        assert_eq!(p.root(), None);
        let p = PlaceProof {
            index: 0,
            path: vec!["zz".into()],
            ..p
        };
        assert_eq!(p.root(), None);
    }
}
