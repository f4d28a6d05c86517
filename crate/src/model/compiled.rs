//! The vector form of a net (a Vector Addition System with guards): for each
//! transition, a short list of the places it touches. Firing walks only those
//! lists, so its cost is O(arcs of the transition), whatever the net's size.

use std::collections::{BTreeMap, HashMap};

use super::{ArcKind, ModelData, PlaceIndex, TransitionIndex, MAX_TOKENS};

/// What firing a transition once does to one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effect {
    pub place: u32,
    /// Tokens taken (normal place -> transition arc).
    pub consume: u64,
    /// Tokens added (normal transition -> place arc).
    pub produce: u64,
    /// Empty the place after consuming, before producing (reset arc).
    pub reset: bool,
    /// Most tokens allowed after firing (capacity, or [`MAX_TOKENS`]).
    pub limit: u64,
}

/// A condition on one place that nothing consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Read arc: the place must hold at least `n`.
    AtLeast { place: u32, n: u64 },
    /// Inhibitor arc: the place must hold fewer than `n`.
    Below { place: u32, n: u64 },
}

/// One compiled transition.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledTransition {
    /// Sorted by place; one entry per touched place.
    pub effects: Box<[Effect]>,
    /// Sorted by place.
    pub guards: Box<[Guard]>,
    /// Indices into [`CompiledNet::roles`]; empty = anyone may fire.
    pub roles: Box<[u32]>,
}

/// The whole net in vector form.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledNet {
    pub transitions: Box<[CompiledTransition]>,
    /// Every role name used by a transition, sorted; a role's index is its bit.
    pub roles: Box<[String]>,
}

impl CompiledNet {
    /// Compiles validated, normalised data.
    pub(crate) fn compile(
        data: &ModelData,
        places: &HashMap<String, PlaceIndex>,
        transitions: &HashMap<String, TransitionIndex>,
    ) -> CompiledNet {
        let mut roles: Vec<String> = data
            .transitions
            .iter()
            .flat_map(|t| t.roles.iter().cloned())
            .collect();
        roles.sort();
        roles.dedup();

        let mut effects: Vec<BTreeMap<u32, Effect>> = vec![BTreeMap::new(); data.transitions.len()];
        let mut guards: Vec<Vec<Guard>> = vec![Vec::new(); data.transitions.len()];
        for arc in &data.arcs {
            // Validation guarantees both ends exist and that guards run place -> transition.
            let (place, transition, produces) =
                match (places.get(&arc.source), transitions.get(&arc.target)) {
                    (Some(&p), Some(&t)) => (p, t, false),
                    _ => (places[&arc.target], transitions[&arc.source], true),
                };
            let capacity = data.places[place].capacity;
            let place = place as u32;
            let effect = || Effect {
                place,
                consume: 0,
                produce: 0,
                reset: false,
                limit: if capacity == 0 { MAX_TOKENS } else { capacity },
            };
            match arc.kind {
                ArcKind::Normal if produces => {
                    effects[transition]
                        .entry(place)
                        .or_insert_with(effect)
                        .produce = arc.weight
                }
                ArcKind::Normal => {
                    effects[transition]
                        .entry(place)
                        .or_insert_with(effect)
                        .consume = arc.weight
                }
                ArcKind::Reset => {
                    effects[transition]
                        .entry(place)
                        .or_insert_with(effect)
                        .reset = true
                }
                ArcKind::Read => guards[transition].push(Guard::AtLeast {
                    place,
                    n: arc.weight,
                }),
                ArcKind::Inhibitor => guards[transition].push(Guard::Below {
                    place,
                    n: arc.weight,
                }),
            }
        }

        let compiled = data
            .transitions
            .iter()
            .zip(effects.into_iter().zip(guards))
            .map(|(t, (effects, mut guards))| {
                guards.sort_by_key(|g| match *g {
                    Guard::AtLeast { place, .. } | Guard::Below { place, .. } => place,
                });
                CompiledTransition {
                    effects: effects.into_values().collect(),
                    guards: guards.into(),
                    roles: t
                        .roles
                        .iter()
                        .map(|r| roles.binary_search(r).expect("role interned") as u32)
                        .collect(),
                }
            })
            .collect();
        CompiledNet {
            transitions: compiled,
            roles: roles.into(),
        }
    }
}
