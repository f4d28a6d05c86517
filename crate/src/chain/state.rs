//! The marking at the end of a chain together with its commitment, moved
//! forward one firing at a time in O(changed places x log places), and for
//! keyed places O(changed keys x log keys).

use super::keytrie::KeyTrie;
use super::merkle::MarkingTree;
use super::policy::Policy;
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
    /// Who may do what at this point of the chain (grants, owner, names).
    policy: Policy,
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
    /// right (see [`TipState::keyed_totals_agree`]).
    pub fn with_keys(model: &Model, marking: Marking, keyed: KeyedMarking) -> Self {
        let mut tree = MarkingTree::new(model, &marking);
        let mut tries = vec![KeyTrie::new(); model.places().len()];
        for (p, place) in model.places().iter().enumerate() {
            if place.keyed {
                tries[p] = KeyTrie::from_counts(keyed.iter(p));
                tree.set_keyed(p, &place.id, &tries[p].root());
            }
        }
        TipState {
            marking,
            keyed,
            tries,
            tree,
            policy: Policy::default(),
        }
    }

    /// The same state with `policy` (a stored head's).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy at this point of the chain.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub(crate) fn policy_mut(&mut self) -> &mut Policy {
        &mut self.policy
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
    /// by place and key. A refusal changes nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn fire(
        &mut self,
        model: &Model,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
        args: &[(String, String)],
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
        let plain = args.is_empty()
            && model
                .transitions()
                .get(t)
                .is_some_and(|tr| tr.params.is_empty());
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
        let mut last = None;
        for (p, key, n) in keys.iter() {
            self.tries[*p].set(key, *n);
            if last.is_some_and(|l| l != *p) {
                let l = last.unwrap_or(0);
                self.tree
                    .set_keyed(l, &model.places()[l].id, &self.tries[l].root());
            }
            last = Some(*p);
        }
        if let Some(l) = last {
            self.tree
                .set_keyed(l, &model.places()[l].id, &self.tries[l].root());
        }
        Ok(())
    }
}
