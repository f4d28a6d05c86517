//! Siphons and traps, the cheap structural ones: the largest siphon empty
//! in the initial marking (its places can never get a token, so the
//! transitions that need one can never fire), and the largest trap (if it
//! holds a token at the start, some place of it holds one in every
//! reachable marking). Both are fixpoints over the arcs, O(places x arcs),
//! and need no exploration, so they hold even where `explore` stops at a
//! limit.
//!
//! A siphon S: every transition that puts tokens into S needs a token from
//! S to fire (a normal arc consuming from it or a read arc; reset and
//! inhibitor arcs need none). A trap T: every transition that takes tokens
//! from T (normal or reset arc) puts some into T. Both hold for any
//! multiple and role.

use serde::Serialize;

use crate::model::{CompiledTransition, Guard, Model};

/// The result of [`siphons_and_traps`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiphonsTraps {
    /// The largest siphon without tokens in the initial marking: these
    /// places hold 0 in every reachable marking.
    pub empty_siphon: Vec<String>,
    /// Transitions that need a token of that siphon: they can never fire.
    pub never_enabled: Vec<String>,
    /// The largest trap, when it holds a token initially: some place of it
    /// holds a token in every reachable marking (empty when there is none).
    pub marked_trap: Vec<String>,
}

/// Places `t` needs a token from (consume or read arc).
fn needs(t: &CompiledTransition) -> impl Iterator<Item = usize> + '_ {
    t.effects
        .iter()
        .filter(|e| e.consume > 0)
        .map(|e| e.place as usize)
        .chain(t.guards.iter().filter_map(|g| match *g {
            Guard::AtLeast { place, n } if n > 0 => Some(place as usize),
            _ => None,
        }))
}

/// The empty siphon, the transitions it kills and the marked trap of `model`.
pub fn siphons_and_traps(model: &Model) -> SiphonsTraps {
    let net = &model.net().transitions;
    let places = model.places();
    let ids = |set: &[bool]| -> Vec<String> {
        places
            .iter()
            .zip(set)
            .filter(|(_, &inside)| inside)
            .map(|(p, _)| p.id.clone())
            .collect()
    };

    // Largest siphon within the initially empty places: drop the outputs of
    // every transition that may put tokens there without needing any.
    let mut siphon: Vec<bool> = places.iter().map(|p| p.initial == 0).collect();
    loop {
        let mut changed = false;
        for t in net.iter() {
            if needs(t).any(|p| siphon[p]) {
                continue;
            }
            for e in t.effects.iter().filter(|e| e.produce > 0) {
                if siphon[e.place as usize] {
                    siphon[e.place as usize] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let never_enabled = model
        .transitions()
        .iter()
        .zip(net.iter())
        .filter(|(_, t)| needs(t).any(|p| siphon[p]))
        .map(|(t, _)| t.id.clone())
        .collect();

    // Largest trap: drop every place a transition takes from (normal or
    // reset arc) without putting anything back into the set.
    let mut trap = vec![true; places.len()];
    loop {
        let mut changed = false;
        for t in net.iter() {
            if t.effects
                .iter()
                .any(|e| e.produce > 0 && trap[e.place as usize])
            {
                continue;
            }
            for e in t.effects.iter().filter(|e| e.consume > 0 || e.reset) {
                if trap[e.place as usize] {
                    trap[e.place as usize] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let marked = places
        .iter()
        .zip(&trap)
        .any(|(p, &inside)| inside && p.initial > 0);
    SiphonsTraps {
        empty_siphon: ids(&siphon),
        never_enabled,
        marked_trap: if marked { ids(&trap) } else { Vec::new() },
    }
}
