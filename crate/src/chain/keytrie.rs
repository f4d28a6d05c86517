//! The commitment to one keyed place's keys: a compressed binary trie
//! (a Patricia trie) over SHA-256 of the keys.
//!
//! A keyed place may hold a great many keys, and an event changes one or
//! two of them, so its commitment must move in O(log keys) hashes. The trie
//! is a function of the set of `(key, count)` pairs alone, not of the order
//! they were written in: two replicas with the same keys have the same root.
//!
//! Layout (docs/chain-format.md, "Keyed places", says the same):
//! - a key's path is `SHA-256(key)`, read as 256 bits, most significant bit
//!   of byte 0 first;
//! - the root of no keys is 32 zero bytes;
//! - the root of one key is its leaf,
//!   `SHA-256(0x00 || u32be(len(key)) || key || u64be(count))` (the leaf of
//!   an unkeyed place, with the key for the id);
//! - the root of two or more keys is
//!   `SHA-256(0x03 || u16be(b) || root(keys whose bit b is 0) || root(keys whose bit b is 1))`,
//!   where `b` is the first bit at which their paths differ.
//!
//! Keys with count 0 are absent. Depth is about log2(keys): paths are
//! uniformly distributed.
//!
//! Persistent: a branch's children sit behind an [`Arc`], so a copy of a
//! trie shares every node with the original (O(1), whatever the number
//! of keys), and a write copies only the nodes on its key's path, and only
//! while they are shared ([`Arc::make_mut`]). Why: a server resumes each
//! append attempt from a copy of a stream's head state, and a sync client
//! keeps the state at its sync point beside its tip; with owned children
//! every such copy was O(keys) (BENCHMARKS.md, "Keyed places (issue 14)").

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::merkle::{leaf_hash, Hash32};

const ZERO: Hash32 = [0; 32];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Leaf {
        path: Hash32,
        hash: Hash32,
    },
    Branch {
        /// The first bit at which the paths below differ.
        bit: u16,
        /// The path of one key below: the bits before `bit` are every key's.
        prefix: Hash32,
        hash: Hash32,
        /// Shared between copies of the trie until one of them writes.
        children: Arc<[Node; 2]>,
    },
}

impl Node {
    fn hash(&self) -> &Hash32 {
        match self {
            Node::Leaf { hash, .. } | Node::Branch { hash, .. } => hash,
        }
    }

    fn path(&self) -> &Hash32 {
        match self {
            Node::Leaf { path, .. } => path,
            Node::Branch { prefix, .. } => prefix,
        }
    }
}

/// The keys of one keyed place, committed to by [`KeyTrie::root`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyTrie {
    root: Option<Node>,
}

/// Bit `i` of a path (0 = most significant bit of byte 0).
pub(crate) fn bit(path: &Hash32, i: u16) -> usize {
    usize::from(path[usize::from(i / 8)] >> (7 - i % 8) & 1)
}

/// The first bit at which two different paths differ.
fn first_difference(a: &Hash32, b: &Hash32) -> u16 {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let d = x ^ y;
        if d != 0 {
            return (i * 8) as u16 + d.leading_zeros() as u16;
        }
    }
    256
}

pub(crate) fn branch_hash(bit: u16, left: &Hash32, right: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([3u8]);
    h.update(bit.to_be_bytes());
    h.update(left);
    h.update(right);
    h.finalize().into()
}

fn branch(bit: u16, prefix: Hash32, children: [Node; 2]) -> Node {
    let hash = branch_hash(bit, children[0].hash(), children[1].hash());
    Node::Branch {
        bit,
        prefix,
        hash,
        children: Arc::new(children),
    }
}

/// The path of a key.
pub fn key_path(key: &str) -> Hash32 {
    Sha256::digest(key.as_bytes()).into()
}

impl KeyTrie {
    /// No keys.
    pub fn new() -> Self {
        KeyTrie::default()
    }

    /// The trie of these `(key, count)` pairs (count 0 = absent).
    pub fn from_counts<'a>(counts: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut trie = KeyTrie::new();
        for (key, n) in counts {
            trie.set(key, n);
        }
        trie
    }

    /// The commitment: 32 zero bytes for no keys.
    pub fn root(&self) -> Hash32 {
        self.root.as_ref().map_or(ZERO, |n| *n.hash())
    }

    /// Sets `key` to `count` (0 removes it) and rehashes its path:
    /// O(depth) hashes, no allocation unless a key comes or goes.
    pub fn set(&mut self, key: &str, count: u64) {
        self.set_at(key_path(key), key, count);
    }

    /// [`KeyTrie::set`] of each `(key, count)` in turn, after walking all
    /// their paths side by side: the nodes of two paths are independent
    /// loads that the processor overlaps, where the writes alone would
    /// wait for each level's node in turn (at 100,000 keys each level is a
    /// cache miss). The writes then find the nodes in cache.
    pub fn set_all(&mut self, writes: &[(&str, u64)]) {
        const SIDE_BY_SIDE: usize = 4;
        for chunk in writes.chunks(SIDE_BY_SIDE) {
            let mut paths = [ZERO; SIDE_BY_SIDE];
            for (path, (key, _)) in paths.iter_mut().zip(chunk) {
                *path = key_path(key);
            }
            if chunk.len() > 1 {
                self.touch(&paths[..chunk.len()]);
            }
            for (path, &(key, count)) in paths.iter().zip(chunk) {
                self.set_at(*path, key, count);
            }
        }
    }

    /// Reads the nodes along each path, one level of every path per step.
    fn touch(&self, paths: &[Hash32]) {
        let Some(root) = &self.root else {
            return;
        };
        let mut nodes = [root; 4];
        let nodes = &mut nodes[..paths.len().min(4)];
        loop {
            let mut deeper = false;
            for (node, path) in nodes.iter_mut().zip(paths) {
                let at: &Node = node;
                if let Node::Branch {
                    bit: b, children, ..
                } = at
                {
                    *node = &children[bit(path, *b)];
                    deeper = true;
                }
            }
            if !deeper {
                break;
            }
        }
        std::hint::black_box(nodes);
    }

    fn set_at(&mut self, path: Hash32, key: &str, count: u64) {
        if count == 0 {
            if let Some(root) = &mut self.root {
                if remove(root, &path) == Removed::Itself {
                    self.root = None;
                }
            }
            return;
        }
        let leaf = Node::Leaf {
            path,
            hash: leaf_hash(key, count),
        };
        match &mut self.root {
            None => self.root = Some(leaf),
            Some(root) => insert(root, leaf),
        }
    }
}

/// Where a key's path leads in a trie: the branches passed, from the
/// bottom up, as `(bit, hash of the other child)`, and the path of the
/// leaf reached (`None` for a trie of no keys). Following a key's bits
/// always ends at a leaf; it is the key's own leaf exactly when the key is
/// present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Walk {
    pub steps: Vec<(u16, Hash32)>,
    pub end: Option<Hash32>,
}

impl KeyTrie {
    /// The walk of `path` from the root: O(depth).
    pub(crate) fn walk(&self, path: &Hash32) -> Walk {
        let mut steps = Vec::new();
        let mut node = match &self.root {
            None => return Walk { steps, end: None },
            Some(n) => n,
        };
        loop {
            match node {
                Node::Leaf { path: p, .. } => {
                    steps.reverse();
                    return Walk {
                        steps,
                        end: Some(*p),
                    };
                }
                Node::Branch {
                    bit: b, children, ..
                } => {
                    let side = bit(path, *b);
                    steps.push((*b, *children[1 - side].hash()));
                    node = &children[side];
                }
            }
        }
    }
}

/// A node moved out of its slot for a moment (never hashed).
const HOLE: Node = Node::Leaf {
    path: ZERO,
    hash: ZERO,
};

/// Puts `leaf` in under `node` (replacing the leaf of the same path).
fn insert(node: &mut Node, leaf: Node) {
    let path = *leaf.path();
    match node {
        Node::Leaf { path: p, .. } if *p == path => *node = leaf,
        Node::Leaf { path: p, .. } => {
            let (d, p) = (first_difference(p, &path), *p);
            let old = std::mem::replace(node, HOLE);
            *node = split(d, p, old, leaf);
        }
        Node::Branch {
            bit: b,
            prefix,
            hash,
            children,
        } => {
            let d = first_difference(prefix, &path);
            if d < *b {
                // The new key leaves the common prefix above this branch.
                let p = *prefix;
                let old = std::mem::replace(node, HOLE);
                *node = split(d, p, old, leaf);
                return;
            }
            let children = Arc::make_mut(children);
            insert(&mut children[bit(&path, *b)], leaf);
            *hash = branch_hash(*b, children[0].hash(), children[1].hash());
        }
    }
}

/// A branch at bit `d` over `old` (whose paths follow `old_path`) and `new`.
fn split(d: u16, old_path: Hash32, old: Node, new: Node) -> Node {
    if bit(&old_path, d) == 0 {
        branch(d, old_path, [old, new])
    } else {
        branch(d, old_path, [new, old])
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Removed {
    /// The path was not there.
    Absent,
    /// Removed below; `node` is rehashed.
    Below,
    /// `node` was the leaf: its parent drops it.
    Itself,
}

/// Removes the leaf of `path` from under `node`.
fn remove(node: &mut Node, path: &Hash32) -> Removed {
    match node {
        Node::Leaf { path: p, .. } => {
            if p == path {
                Removed::Itself
            } else {
                Removed::Absent
            }
        }
        Node::Branch {
            bit: b,
            prefix,
            hash,
            children,
        } => {
            if first_difference(prefix, path) < *b {
                return Removed::Absent;
            }
            let side = bit(path, *b);
            let children = Arc::make_mut(children);
            match remove(&mut children[side], path) {
                Removed::Absent => Removed::Absent,
                Removed::Itself => {
                    // One child left: it takes the branch's place.
                    let other = std::mem::replace(&mut children[1 - side], HOLE);
                    *node = other;
                    Removed::Below
                }
                Removed::Below => {
                    *prefix = *children[1 - side].path();
                    *hash = branch_hash(*b, children[0].hash(), children[1].hash());
                    Removed::Below
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The root straight from the definition, from a set of pairs.
    fn reference(counts: &BTreeMap<String, u64>) -> Hash32 {
        let items: Vec<(Hash32, Hash32)> = counts
            .iter()
            .filter(|(_, &n)| n > 0)
            .map(|(k, &n)| (key_path(k), leaf_hash(k, n)))
            .collect();
        fn root(items: &[(Hash32, Hash32)]) -> Hash32 {
            match items {
                [] => ZERO,
                [(_, leaf)] => *leaf,
                _ => {
                    let b = (0..256u16)
                        .find(|&b| items.iter().any(|(p, _)| bit(p, b) != bit(&items[0].0, b)))
                        .expect("distinct paths differ");
                    let (zero, one): (Vec<_>, Vec<_>) =
                        items.iter().partition(|(p, _)| bit(p, b) == 0);
                    branch_hash(b, &root(&zero), &root(&one))
                }
            }
        }
        root(&items)
    }

    #[test]
    fn small_tries_follow_the_definition() {
        let mut trie = KeyTrie::new();
        assert_eq!(trie.root(), ZERO);
        trie.set("alice", 50);
        assert_eq!(trie.root(), leaf_hash("alice", 50));
        trie.set("bob", 7);
        let (a, b) = (key_path("alice"), key_path("bob"));
        let d = first_difference(&a, &b);
        let (l, r) = if bit(&a, d) == 0 {
            (leaf_hash("alice", 50), leaf_hash("bob", 7))
        } else {
            (leaf_hash("bob", 7), leaf_hash("alice", 50))
        };
        assert_eq!(trie.root(), branch_hash(d, &l, &r));
        trie.set("alice", 0);
        assert_eq!(trie.root(), leaf_hash("bob", 7));
        trie.set("bob", 0);
        assert_eq!(trie, KeyTrie::new());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any sequence of writes gives the root of the final set, whatever
        /// the order: the trie is history-independent.
        #[test]
        fn the_root_is_the_root_of_the_final_set(
            writes in proptest::collection::vec(("[a-f]{1,3}", 0u64..4), 0..60)
        ) {
            let mut trie = KeyTrie::new();
            let mut counts = BTreeMap::new();
            for (k, n) in &writes {
                trie.set(k, *n);
                counts.insert(k.clone(), *n);
            }
            prop_assert_eq!(trie.root(), reference(&counts));
            let rebuilt = KeyTrie::from_counts(counts.iter().rev().map(|(k, &n)| (k.as_str(), n)));
            prop_assert_eq!(rebuilt.root(), trie.root());
            // The same writes through set_all (side by side, in chunks).
            let mut together = KeyTrie::new();
            let all: Vec<(&str, u64)> = writes.iter().map(|(k, n)| (k.as_str(), *n)).collect();
            for chunk in all.chunks(3) {
                together.set_all(chunk);
            }
            prop_assert_eq!(together.root(), trie.root());
        }

        /// A copy shares the original's nodes: writes to either (keys
        /// set, changed, removed) never show in the other.
        #[test]
        fn a_copy_and_its_original_move_apart(
            first in proptest::collection::vec(("[a-f]{1,3}", 0u64..4), 0..40),
            second in proptest::collection::vec(("[a-f]{1,3}", 0u64..4), 0..40),
        ) {
            let mut trie = KeyTrie::new();
            let mut counts = BTreeMap::new();
            for (k, n) in &first {
                trie.set(k, *n);
                counts.insert(k.clone(), *n);
            }
            let (kept, kept_root) = (counts.clone(), trie.root());
            let mut copy = trie.clone();
            for (k, n) in &second {
                copy.set(k, *n);
                counts.insert(k.clone(), *n);
            }
            prop_assert_eq!(trie.root(), kept_root);
            prop_assert_eq!(trie.root(), reference(&kept));
            prop_assert_eq!(copy.root(), reference(&counts));
            // And the other way round: the original written, the copy kept.
            let copy_root = copy.root();
            for (k, n) in &second {
                trie.set(k, n.saturating_add(1));
            }
            prop_assert_eq!(copy.root(), copy_root);
        }
    }
}
