//! The marking at the end of a chain together with its commitment, moved
//! forward one firing at a time in O(changed places x log places).

use super::merkle::MarkingTree;
use crate::engine::{FireError, Marking, RoleSet};
use crate::model::{Model, TransitionIndex};

/// A marking and its Merkle tree, always in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipState {
    marking: Marking,
    tree: MarkingTree,
}

impl TipState {
    /// The state of `marking` (one count per place of `model`; the caller
    /// checks the length). Builds the tree: O(places).
    pub fn new(model: &Model, marking: Marking) -> Self {
        let tree = MarkingTree::new(model, &marking);
        TipState { marking, tree }
    }

    /// The marking.
    pub fn marking(&self) -> &Marking {
        &self.marking
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

    /// Fires `t` and returns the counts it changed, `[place, count]` in place
    /// order. A refusal changes nothing.
    pub fn fire(
        &mut self,
        model: &Model,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
        delta: &mut Vec<(usize, u64)>,
    ) -> Result<(), FireError> {
        delta.clear();
        // The counts before, at the only places firing can change.
        delta.extend(
            model
                .changed_places(t)
                .map(|p| (p, self.marking.0.get(p).copied().unwrap_or(0))),
        );
        model.fire_in_place(&mut self.marking, t, multiple, roles)?;
        delta.retain_mut(|(p, n)| {
            let after = self.marking.0[*p];
            let changed = after != *n;
            *n = after;
            changed
        });
        for &(p, n) in delta.iter() {
            self.tree.set(p, &model.places()[p].id, n);
        }
        Ok(())
    }
}
