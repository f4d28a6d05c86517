//! The vector form of a net (a Vector Addition System with guards): for each
//! transition, a short list of the places it touches. Firing walks only those
//! lists, so its cost is O(arcs of the transition), whatever the net's size.

use std::collections::{BTreeMap, HashMap};

use super::{ArcKey, ArcKind, ModelData, PlaceIndex, TransitionIndex, MAX_TOKENS};

/// Where a keyed arc's key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeySource {
    /// The argument of this parameter (index in the transition's sorted
    /// `params`).
    Param(u8),
    /// This constant (index in [`CompiledNet::consts`]).
    Const(u32),
}

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

/// What firing a transition once does to the key a parameter names in a
/// keyed place (the effect of the arcs `place[param]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyedEffect {
    pub place: u32,
    /// The key it acts on.
    pub key: KeySource,
    /// Tokens taken from the key.
    pub consume: u64,
    /// Tokens added to the key.
    pub produce: u64,
    /// Empty the key after consuming, before producing.
    pub reset: bool,
    /// Most tokens the key may hold after firing.
    pub limit: u64,
}

/// A condition on the key a parameter names in a keyed place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyedGuard {
    pub place: u32,
    pub key: KeySource,
    /// Read arc (`true`: at least `n`) or inhibitor arc (fewer than `n`).
    pub at_least: bool,
    pub n: u64,
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
    /// Sorted by (place, key); one entry per touched `place[key]`.
    pub keyed_effects: Box<[KeyedEffect]>,
    /// Sorted by (place, key).
    pub keyed_guards: Box<[KeyedGuard]>,
    /// How many parameters it declares.
    pub params: u8,
    /// Pairs of parameter indices that must be bound to different keys.
    pub distinct: Box<[(u8, u8)]>,
    /// Indices of the parameters bound to the event's signer.
    pub signer: Box<[u8]>,
}

impl CompiledTransition {
    /// Whether it reads or changes a keyed place (then only the keyed
    /// firing path, with its arguments, fires it).
    pub(crate) fn touches_keyed(&self) -> bool {
        !self.keyed_effects.is_empty() || !self.keyed_guards.is_empty()
    }
}

/// The whole net in vector form.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledNet {
    pub transitions: Box<[CompiledTransition]>,
    /// Every role name used by a transition, sorted; a role's index is its bit.
    pub roles: Box<[String]>,
    /// Whether a place is keyed, by place index.
    pub keyed: Box<[bool]>,
    /// Whether any place is keyed.
    pub has_keyed: bool,
    /// The constant keys arcs name (`balance["bank"]`), sorted, each once.
    pub consts: Box<[String]>,
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

        let mut consts: Vec<String> = data
            .arcs
            .iter()
            .filter_map(|a| match &a.key {
                Some(ArcKey::Const(k)) => Some(k.clone()),
                _ => None,
            })
            .collect();
        consts.sort();
        consts.dedup();

        let mut effects: Vec<BTreeMap<u32, Effect>> = vec![BTreeMap::new(); data.transitions.len()];
        let mut guards: Vec<Vec<Guard>> = vec![Vec::new(); data.transitions.len()];
        let mut keyed_effects: Vec<BTreeMap<(u32, KeySource), KeyedEffect>> =
            vec![BTreeMap::new(); data.transitions.len()];
        let mut keyed_guards: Vec<Vec<KeyedGuard>> = vec![Vec::new(); data.transitions.len()];
        for arc in &data.arcs {
            // Validation guarantees both ends exist and that guards run place -> transition.
            let (place, transition, produces) =
                match (places.get(&arc.source), transitions.get(&arc.target)) {
                    (Some(&p), Some(&t)) => (p, t, false),
                    _ => (places[&arc.target], transitions[&arc.source], true),
                };
            let capacity = data.places[place].capacity;
            let limit = if capacity == 0 { MAX_TOKENS } else { capacity };
            if let Some(key) = &arc.key {
                let param = match key {
                    // Validation guarantees the parameter is declared (at
                    // most MAX_PARAMS of them, so the index fits a u8).
                    ArcKey::Param(name) => KeySource::Param(
                        data.transitions[transition]
                            .params
                            .iter()
                            .position(|p| p == name)
                            .unwrap_or(0) as u8,
                    ),
                    // Interned just above; fewer constants than arcs.
                    ArcKey::Const(k) => {
                        KeySource::Const(consts.binary_search(k).unwrap_or(0) as u32)
                    }
                };
                let place = place as u32;
                let entry = || KeyedEffect {
                    place,
                    key: param,
                    consume: 0,
                    produce: 0,
                    reset: false,
                    limit,
                };
                let effects = &mut keyed_effects[transition];
                match arc.kind {
                    ArcKind::Normal if produces => {
                        effects.entry((place, param)).or_insert_with(entry).produce = arc.weight
                    }
                    ArcKind::Normal => {
                        effects.entry((place, param)).or_insert_with(entry).consume = arc.weight
                    }
                    ArcKind::Reset => {
                        effects.entry((place, param)).or_insert_with(entry).reset = true
                    }
                    ArcKind::Read | ArcKind::Inhibitor => {
                        keyed_guards[transition].push(KeyedGuard {
                            place,
                            key: param,
                            at_least: arc.kind == ArcKind::Read,
                            n: arc.weight,
                        })
                    }
                }
                continue;
            }
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
            .zip(keyed_effects.into_iter().zip(keyed_guards))
            .map(
                |((t, (effects, mut guards)), (keyed_effects, mut keyed_guards))| {
                    guards.sort_by_key(|g| match *g {
                        Guard::AtLeast { place, .. } | Guard::Below { place, .. } => place,
                    });
                    keyed_guards.sort_by_key(|g| (g.place, g.key));
                    let param =
                        |name: &String| t.params.iter().position(|p| p == name).unwrap_or(0) as u8;
                    CompiledTransition {
                        keyed_effects: keyed_effects.into_values().collect(),
                        keyed_guards: keyed_guards.into(),
                        params: t.params.len().min(u8::MAX as usize) as u8,
                        distinct: t
                            .distinct
                            .iter()
                            .map(|[a, b]| (param(a), param(b)))
                            .collect(),
                        signer: t.signer.iter().map(param).collect(),
                        effects: effects.into_values().collect(),
                        guards: guards.into(),
                        roles: t
                            .roles
                            .iter()
                            .map(|r| roles.binary_search(r).expect("role interned") as u32)
                            .collect(),
                    }
                },
            )
            .collect();
        let keyed: Box<[bool]> = data.places.iter().map(|p| p.keyed).collect();
        CompiledNet {
            transitions: compiled,
            roles: roles.into(),
            has_keyed: keyed.iter().any(|&k| k),
            keyed,
            consts: consts.into(),
        }
    }
}
