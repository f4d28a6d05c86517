//! The marking at the end of a chain together with its commitment, moved
//! forward one firing at a time in O(changed places x log places), and for
//! keyed places O(changed keys x log keys).
//!
//! A copy is O(places), whatever the number of keys: the key maps and
//! tries are persistent (structurally shared until written, see
//! `engine/keyed.rs` and `keytrie.rs`) and the policy is shared until a
//! policy entry changes it. Servers and sync clients copy a state per
//! append attempt and per sync round; they can afford to.

use std::sync::Arc;

use super::keytrie::KeyTrie;
use super::merkle::MarkingTree;
use super::policy::{Entry, Policy};
use crate::engine::{FireError, KeyChange, KeyedMarking, Marking, RoleSet};
use crate::model::{Model, TransitionIndex};

/// A marking (with the keys of its keyed places) and its Merkle tree,
/// always in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipState {
    marking: Marking,
    keyed: KeyedMarking,
    /// One per place; only keyed places' tries hold anything.
    tries: Vec<KeyTrie>,
    tree: MarkingTree,
    /// Who may do what at this point of the chain (grants, owner, names);
    /// copied only when an event changes it.
    policy: Arc<Policy>,
    /// The id of the model whose keyed totals were found to be the sums
    /// of their keys when the state was built (empty: they were not).
    /// Firing keeps them so, so [`TipState::totals_agree_for`] answers in
    /// O(1) each time a verifier resumes from the state.
    totals_agree_for: Arc<str>,
}

impl TipState {
    /// The state of `marking` (one count per place of `model`; the caller
    /// checks the length), its keyed places holding no keys. Builds the
    /// tree: O(places).
    pub fn new(model: &Model, marking: Marking) -> Self {
        let places = model.places().len();
        Self::with_keys(model, marking, KeyedMarking::empty(places))
    }

    /// The state of `marking` whose keyed places hold `keyed`
    /// (O(places + keys)). The totals of `marking` are the caller's to keep
    /// right (see [`TipState::keyed_totals_agree`]; checked here once, in
    /// the same pass, and remembered for [`TipState::totals_agree_for`]).
    pub fn with_keys(model: &Model, marking: Marking, keyed: KeyedMarking) -> Self {
        let mut tree = MarkingTree::new(model, &marking);
        let mut tries = vec![KeyTrie::new(); model.places().len()];
        for (p, place) in model.places().iter().enumerate() {
            if place.keyed {
                tries[p] = KeyTrie::from_counts(keyed.iter(p));
                tree.set_keyed(p, &place.id, &tries[p].root());
            }
        }
        let mut state = TipState {
            marking,
            keyed,
            tries,
            tree,
            policy: Arc::default(),
            totals_agree_for: Arc::from(""),
        };
        if state.marking.0.len() == model.places().len() && state.keyed_totals_agree(model) {
            state.totals_agree_for = Arc::from(model.id());
        }
        state
    }

    /// The same state with `policy` (a stored head's).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Whether this state fits `model`: one count per place, and each
    /// keyed place's count the sum of its keys. O(1): the sums were
    /// checked when the state was built ([`TipState::with_keys`]), and
    /// [`TipState::fire`] keeps them (the engine moves a keyed place's
    /// total with its keys).
    pub fn totals_agree_for(&self, model: &Model) -> bool {
        !self.totals_agree_for.is_empty()
            && *self.totals_agree_for == *model.id()
            && self.marking.0.len() == model.places().len()
    }

    /// The policy at this point of the chain.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The policy to change: a copy of it first if another state shares
    /// it (O(grants)).
    pub(crate) fn policy_mut(&mut self) -> &mut Policy {
        Arc::make_mut(&mut self.policy)
    }

    /// [`Policy::apply`] of event `seq` by `signer`, copying a shared
    /// policy only when the event changes it (the first event names the
    /// owner; a policy entry): the other events leave it shared.
    pub(crate) fn apply_policy(&mut self, seq: u64, signer: &str, entry: Option<Entry>) {
        if entry.is_some() || (seq == 1 && self.policy.owner().is_none()) {
            self.policy_mut().apply(seq, signer, entry);
        }
    }

    /// Whether each keyed place's count in the marking is the sum of its keys.
    pub fn keyed_totals_agree(&self, model: &Model) -> bool {
        (0..model.places().len())
            .filter(|&p| model.is_keyed(p))
            .all(|p| {
                let mut sum: u64 = 0;
                for (_, n) in self.keyed.iter(p) {
                    match sum.checked_add(n) {
                        Some(s) => sum = s,
                        None => return false,
                    }
                }
                self.marking.0.get(p) == Some(&sum)
            })
    }

    /// The marking (keyed places: their totals).
    pub fn marking(&self) -> &Marking {
        &self.marking
    }

    /// The keys of the keyed places.
    pub fn keyed(&self) -> &KeyedMarking {
        &self.keyed
    }

    /// The tree of the marking.
    pub fn tree(&self) -> &MarkingTree {
        &self.tree
    }

    /// The key tries, one per place (empty for unkeyed places).
    pub(crate) fn tries(&self) -> &[KeyTrie] {
        &self.tries
    }

    /// The commitment, as an event's `root`.
    pub fn root_hex(&self) -> String {
        hex::encode(self.tree.root())
    }

    /// The marking, giving up the tree.
    pub fn into_marking(self) -> Marking {
        self.marking
    }

    /// Fires `t` with `args` and returns the counts it changed: `delta`
    /// gets `[place, count]` in place order (unkeyed places, and the totals
    /// of keyed places that moved), `keys` gets `[place, key, count]` sorted
    /// by place and key. `signer` is the event's signer (lowercase hex),
    /// which the transition's signer-bound parameters must be bound to. A
    /// refusal changes nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn fire(
        &mut self,
        model: &Model,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
        args: &[(String, String)],
        signer: &str,
        delta: &mut Vec<(usize, u64)>,
        keys: &mut Vec<KeyChange>,
    ) -> Result<(), FireError> {
        delta.clear();
        keys.clear();
        // The counts before, at the only places firing can change.
        delta.extend(
            model
                .changed_places(t)
                .chain(model.changed_keyed_places(t))
                .map(|p| (p, self.marking.0.get(p).copied().unwrap_or(0))),
        );
        let plain = args.is_empty() && model.is_plain(t);
        if plain {
            model.fire_in_place(&mut self.marking, t, multiple, roles)?;
        } else {
            model.fire_keyed_in_place(
                &mut self.marking,
                &mut self.keyed,
                t,
                multiple,
                roles,
                args,
                Some(signer),
                keys,
            )?;
        }
        delta.sort_unstable_by_key(|&(p, _)| p);
        delta.retain_mut(|(p, n)| {
            let after = self.marking.0[*p];
            let changed = after != *n;
            *n = after;
            changed
        });
        for &(p, n) in delta.iter() {
            if !model.is_keyed(p) {
                self.tree.set(p, &model.places()[p].id, n);
            }
        }
        // `keys` is sorted by place: each place's keys go into its trie
        // together, then its root into the tree.
        let mut writes: Vec<(&str, u64)> = Vec::with_capacity(keys.len());
        for (i, (p, key, n)) in keys.iter().enumerate() {
            writes.push((key, *n));
            if keys.get(i + 1).is_none_or(|next| next.0 != *p) {
                self.tries[*p].set_all(&writes);
                writes.clear();
                self.tree
                    .set_keyed(*p, &model.places()[*p].id, &self.tries[*p].root());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::import_json;

    fn bank() -> Model {
        import_json(include_str!("../../../www/examples/bank.json"))
            .unwrap()
            .0
    }

    /// The state of `users` accounts u0.. holding 100 each, built from
    /// scratch (`with_keys`), with balances changed by `moved`.
    fn built(model: &Model, users: usize, moved: &[(usize, u64)]) -> TipState {
        let (b, r) = (
            model.place_index("balance").unwrap(),
            model.place_index("registered").unwrap(),
        );
        let mut keyed = KeyedMarking::empty(model.places().len());
        let mut marking = model.initial_marking();
        for u in 0..users {
            let n = moved
                .iter()
                .rev()
                .find(|(v, _)| *v == u)
                .map_or(100, |(_, n)| *n);
            keyed.set(b, &format!("u{u}"), n);
            keyed.set(r, &format!("u{u}"), 1);
            marking.0[b] += n;
            marking.0[r] += 1;
        }
        TipState::with_keys(model, marking, keyed)
    }

    fn transfer(state: &mut TipState, model: &Model, from: usize, to: usize, n: u64) -> bool {
        let t = model.transition_index("transfer").unwrap();
        let args = vec![
            ("from".to_string(), format!("u{from}")),
            ("to".to_string(), format!("u{to}")),
        ];
        let (mut delta, mut keys) = (Vec::new(), Vec::new());
        state
            .fire(model, t, n, &RoleSet::All, &args, "", &mut delta, &mut keys)
            .is_ok()
    }

    #[test]
    fn a_copy_shares_nothing_that_a_firing_changes() {
        let model = bank();
        let original = built(&model, 50, &[]);
        let mut copy = original.clone();
        assert!(transfer(&mut copy, &model, 1, 2, 30));
        assert!(transfer(&mut copy, &model, 2, 3, 130));
        assert!(!transfer(&mut copy, &model, 4, 5, 101), "overdraft");
        // The original is the state it was, keys, tries and root.
        assert_eq!(original, built(&model, 50, &[]));
        // The copy is the state of its own keys, built from scratch.
        let expected = built(&model, 50, &[(1, 70), (2, 0), (3, 230)]);
        assert_eq!(copy.root_hex(), expected.root_hex());
        assert_eq!(copy.keyed(), expected.keyed());
        // And firing the original leaves the copy alone.
        let mut original = original;
        assert!(transfer(&mut original, &model, 7, 8, 1));
        assert_eq!(copy.root_hex(), expected.root_hex());
    }

    #[test]
    fn totals_are_checked_once_when_built_and_kept_by_firing() {
        let model = bank();
        let mut state = built(&model, 5, &[]);
        assert!(state.totals_agree_for(&model));
        assert!(transfer(&mut state, &model, 0, 1, 40));
        assert!(state.totals_agree_for(&model) && state.keyed_totals_agree(&model));
        // A total that is not the sum of its keys.
        let mut keyed = KeyedMarking::empty(model.places().len());
        keyed.set(model.place_index("balance").unwrap(), "a", 5);
        let wrong = TipState::with_keys(&model, model.initial_marking(), keyed);
        assert!(!wrong.totals_agree_for(&model));
        // Another model (one place): the state does not fit it.
        let (other, _) = import_json(
            r#"{"places":[{"id":"p","initial":1}],"transitions":[{"id":"t"}],"arcs":[{"source":"p","target":"t"}]}"#,
        )
        .unwrap();
        assert!(!state.totals_agree_for(&other));
        assert!(TipState::new(&other, other.initial_marking()).totals_agree_for(&other));
    }
}
