//! Load-time checks of a [`ModelData`]. Every problem is collected, not just
//! the first, and each names the element it is about.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use super::{ArcKind, ModelData, MAX_PARAMS, MAX_TOKENS};

/// Size caps applied when a model is built. Defaults are generous for real
/// nets and stop a hostile file from exhausting memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most places + transitions (default 200,000).
    pub max_nodes: usize,
    /// Most arcs (default 1,000,000).
    pub max_arcs: usize,
    /// Longest id, in bytes (default 256).
    pub max_id_len: usize,
    /// Longest label or role name, in bytes (default 4,096).
    pub max_label_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nodes: 200_000,
            max_arcs: 1_000_000,
            max_id_len: 256,
            max_label_len: 4096,
        }
    }
}

/// What is wrong with one element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
#[allow(missing_docs)] // each field is described by its variant's doc
pub enum ProblemKind {
    /// An id is empty.
    EmptyId,
    /// An id, label or role is longer than the limit.
    TooLong { limit: usize },
    /// Two places or transitions share an id.
    DuplicateId,
    /// An arc names a node that does not exist.
    MissingNode { node: String },
    /// An arc joins two places or two transitions.
    SameKindEndpoints,
    /// An arc has weight 0.
    ZeroWeight,
    /// A weight, initial count or capacity is above [`MAX_TOKENS`].
    TooLarge { value: u64, max: u64 },
    /// An inhibitor, read or reset arc that does not run place -> transition.
    GuardNotPlaceToTransition { arc_kind: ArcKind },
    /// A place starts with more tokens than its capacity.
    InitialAboveCapacity { initial: u64, capacity: u64 },
    /// The same (source, target, kind) arc appears twice.
    DuplicateArc,
    /// An arc of a keyed place names no key, or an arc of an unkeyed place
    /// names one.
    KeyMismatch { keyed: bool },
    /// An arc's key, or a `distinct` pair, names a parameter its
    /// transition does not declare.
    UnknownParam { param: String },
    /// A parameter name is empty, too long (64 bytes), not made of ASCII
    /// letters, digits, `_` and `-`, declared twice, or one of more than
    /// [`MAX_PARAMS`](crate::MAX_PARAMS); or a `distinct` pair names one
    /// parameter twice.
    BadParam { param: String },
    /// A keyed place declares initial tokens (it starts with no keys).
    KeyedInitial { initial: u64 },
    /// A transition id or a role begins with `$`, which the chain keeps
    /// for its policy entries (`$grant`, `$revoke`, `$profile`, `$admin`).
    Reserved { name: String },
    /// The net has more elements than the limit.
    TooManyElements {
        what: &'static str,
        count: usize,
        limit: usize,
    },
}

/// One validation problem, about one element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Id of the element (for an arc: `source->target`).
    pub element: String,
    /// What is wrong.
    #[serde(flatten)]
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.element;
        match &self.kind {
            ProblemKind::EmptyId => write!(f, "an element has an empty id"),
            ProblemKind::TooLong { limit } => {
                write!(f, "{e}: id, label or role longer than {limit} bytes")
            }
            ProblemKind::DuplicateId => write!(f, "{e}: id used by more than one place/transition"),
            ProblemKind::MissingNode { node } => {
                write!(f, "arc {e}: no place or transition '{node}'")
            }
            ProblemKind::SameKindEndpoints => {
                write!(f, "arc {e}: must join a place and a transition")
            }
            ProblemKind::ZeroWeight => write!(f, "arc {e}: weight must be at least 1"),
            ProblemKind::TooLarge { value, max } => {
                write!(f, "{e}: {value} is above the maximum {max}")
            }
            ProblemKind::GuardNotPlaceToTransition { arc_kind } => {
                write!(
                    f,
                    "arc {e}: a {} arc must run from a place to a transition",
                    arc_kind.as_str()
                )
            }
            ProblemKind::InitialAboveCapacity { initial, capacity } => {
                write!(
                    f,
                    "place {e}: initial {initial} is above capacity {capacity}"
                )
            }
            ProblemKind::DuplicateArc => write!(f, "arc {e}: appears more than once"),
            ProblemKind::KeyMismatch { keyed: true } => {
                write!(f, "arc {e}: its place is keyed, the arc must name a key parameter")
            }
            ProblemKind::KeyMismatch { keyed: false } => {
                write!(f, "arc {e}: its place is not keyed, the arc must not name a key")
            }
            ProblemKind::UnknownParam { param } => {
                write!(f, "{e}: names parameter '{param}', which its transition does not declare")
            }
            ProblemKind::BadParam { param } => write!(
                f,
                "{e}: parameter '{param}' is invalid (1-64 ASCII letters, digits, '_' or '-', unique, at most {} per transition, a distinct pair names two)",
                crate::model::MAX_PARAMS
            ),
            ProblemKind::KeyedInitial { initial } => {
                write!(f, "{e}: a keyed place starts empty, initial is {initial}")
            }
            ProblemKind::Reserved { name } => write!(
                f,
                "{e}: '{name}' begins with '$', kept for the chain's policy entries ($grant, $revoke, $profile, $admin)"
            ),
            ProblemKind::TooManyElements { what, count, limit } => {
                write!(f, "{count} {what} is more than the limit of {limit}")
            }
        }
    }
}

/// A model failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("invalid model: {}", summary(.problems))]
pub struct ModelError {
    /// Every problem found, in element order.
    pub problems: Vec<Problem>,
}

fn summary(problems: &[Problem]) -> String {
    let shown: Vec<String> = problems.iter().take(5).map(|p| p.to_string()).collect();
    let more = problems.len().saturating_sub(5);
    if more > 0 {
        format!("{} (and {more} more)", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Place,
    Transition,
}

pub(super) fn validate(data: &ModelData, limits: &Limits) -> Result<(), ModelError> {
    let mut problems = Vec::new();
    let mut push = |element: &str, kind: ProblemKind| {
        problems.push(Problem {
            element: element.to_string(),
            kind,
        })
    };

    let nodes = data.places.len() + data.transitions.len();
    if nodes > limits.max_nodes {
        push(
            "",
            ProblemKind::TooManyElements {
                what: "places and transitions",
                count: nodes,
                limit: limits.max_nodes,
            },
        );
    }
    if data.arcs.len() > limits.max_arcs {
        push(
            "",
            ProblemKind::TooManyElements {
                what: "arcs",
                count: data.arcs.len(),
                limit: limits.max_arcs,
            },
        );
    }

    let mut kinds: HashMap<&str, NodeKind> = HashMap::with_capacity(nodes);
    for (id, label, kind) in data
        .places
        .iter()
        .map(|p| (p.id.as_str(), p.label.as_str(), NodeKind::Place))
        .chain(
            data.transitions
                .iter()
                .map(|t| (t.id.as_str(), t.label.as_str(), NodeKind::Transition)),
        )
    {
        if id.is_empty() {
            push(id, ProblemKind::EmptyId);
        } else if id.len() > limits.max_id_len {
            push(
                &id[..floor_char_boundary(id, 64)],
                ProblemKind::TooLong {
                    limit: limits.max_id_len,
                },
            );
        }
        if label.len() > limits.max_label_len {
            push(
                id,
                ProblemKind::TooLong {
                    limit: limits.max_label_len,
                },
            );
        }
        if kinds.insert(id, kind).is_some() {
            push(id, ProblemKind::DuplicateId);
        }
    }
    for p in &data.places {
        for value in [p.initial, p.capacity] {
            if value > MAX_TOKENS {
                push(
                    &p.id,
                    ProblemKind::TooLarge {
                        value,
                        max: MAX_TOKENS,
                    },
                );
            }
        }
        if p.keyed && p.initial != 0 {
            push(&p.id, ProblemKind::KeyedInitial { initial: p.initial });
        }
        if p.capacity > 0 && p.initial > p.capacity {
            push(
                &p.id,
                ProblemKind::InitialAboveCapacity {
                    initial: p.initial,
                    capacity: p.capacity,
                },
            );
        }
    }
    let mut params: HashMap<&str, &[String]> = HashMap::with_capacity(data.transitions.len());
    for t in &data.transitions {
        for name in std::iter::once(&t.id).chain(&t.roles) {
            if name.starts_with('$') {
                push(&t.id, ProblemKind::Reserved { name: name.clone() });
            }
        }
        if t.roles.iter().any(|r| r.len() > limits.max_label_len) {
            push(
                &t.id,
                ProblemKind::TooLong {
                    limit: limits.max_label_len,
                },
            );
        }
        let mut seen = HashSet::new();
        for (i, param) in t.params.iter().enumerate() {
            if !is_param_name(param) || !seen.insert(param.as_str()) || i >= MAX_PARAMS {
                push(
                    &t.id,
                    ProblemKind::BadParam {
                        param: short(param),
                    },
                );
            }
        }
        if t.distinct.len() > MAX_PARAMS * MAX_PARAMS {
            push(
                &t.id,
                ProblemKind::TooManyElements {
                    what: "distinct pairs",
                    count: t.distinct.len(),
                    limit: MAX_PARAMS * MAX_PARAMS,
                },
            );
        }
        for [a, b] in t.distinct.iter().take(MAX_PARAMS * MAX_PARAMS) {
            for p in [a, b] {
                if !t.params.contains(p) {
                    push(&t.id, ProblemKind::UnknownParam { param: short(p) });
                }
            }
            if a == b {
                push(&t.id, ProblemKind::BadParam { param: short(a) });
            }
        }
        params.insert(t.id.as_str(), &t.params);
    }
    let keyed: HashSet<&str> = data
        .places
        .iter()
        .filter(|p| p.keyed)
        .map(|p| p.id.as_str())
        .collect();

    let mut seen_arcs = HashSet::with_capacity(data.arcs.len());
    for a in &data.arcs {
        let name = format!("{}->{}", a.source, a.target);
        let source = kinds.get(a.source.as_str()).copied();
        let target = kinds.get(a.target.as_str()).copied();
        for (end, kind) in [(&a.source, source), (&a.target, target)] {
            if kind.is_none() {
                push(&name, ProblemKind::MissingNode { node: end.clone() });
            }
        }
        if let (Some(s), Some(t)) = (source, target) {
            let (place, transition) = if s == NodeKind::Place {
                (&a.source, &a.target)
            } else {
                (&a.target, &a.source)
            };
            let place_keyed = keyed.contains(place.as_str());
            if s != t && place_keyed != a.key.is_some() {
                push(&name, ProblemKind::KeyMismatch { keyed: place_keyed });
            }
            if let (Some(key), Some(declared)) = (&a.key, params.get(transition.as_str())) {
                if !declared.contains(key) {
                    push(&name, ProblemKind::UnknownParam { param: short(key) });
                }
            }
            if s == t {
                push(&name, ProblemKind::SameKindEndpoints);
            } else if a.kind != ArcKind::Normal && s != NodeKind::Place {
                push(
                    &name,
                    ProblemKind::GuardNotPlaceToTransition { arc_kind: a.kind },
                );
            }
        }
        if a.weight == 0 {
            push(&name, ProblemKind::ZeroWeight);
        } else if a.weight > MAX_TOKENS {
            push(
                &name,
                ProblemKind::TooLarge {
                    value: a.weight,
                    max: MAX_TOKENS,
                },
            );
        }
        if !seen_arcs.insert((
            a.source.as_str(),
            a.target.as_str(),
            a.kind,
            a.key.as_deref(),
        )) {
            push(&name, ProblemKind::DuplicateArc);
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(ModelError { problems })
    }
}

/// A parameter name: 1 to 64 ASCII letters, digits, `_` or `-`.
fn is_param_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A name quoted in a problem, cut to 64 bytes.
fn short(name: &str) -> String {
    name[..floor_char_boundary(name, 64)].to_string()
}

/// The largest char boundary <= `max` (so long ids can be shortened safely).
fn floor_char_boundary(s: &str, max: usize) -> usize {
    (0..=max.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{arc, place, transition};
    use super::*;
    use crate::model::Model;

    fn kinds(data: ModelData) -> Vec<(String, ProblemKind)> {
        Model::new(data)
            .unwrap_err()
            .problems
            .into_iter()
            .map(|p| (p.element, p.kind))
            .collect()
    }

    #[test]
    fn duplicate_ids_across_places_and_transitions() {
        let data = ModelData {
            places: vec![place("x", 0), place("x", 1)],
            transitions: vec![transition("x")],
            ..Default::default()
        };
        assert_eq!(
            kinds(data),
            vec![
                ("x".into(), ProblemKind::DuplicateId),
                ("x".into(), ProblemKind::DuplicateId)
            ]
        );
    }

    #[test]
    fn dangling_and_same_kind_arcs() {
        let data = ModelData {
            places: vec![place("p", 0), place("q", 0)],
            transitions: vec![transition("t")],
            arcs: vec![
                arc("p", "q", 1, ArcKind::Normal),
                arc("p", "ghost", 1, ArcKind::Normal),
            ],
            ..Default::default()
        };
        assert_eq!(
            kinds(data),
            vec![
                ("p->q".into(), ProblemKind::SameKindEndpoints),
                (
                    "p->ghost".into(),
                    ProblemKind::MissingNode {
                        node: "ghost".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn zero_weight_guard_direction_and_capacity() {
        let mut small = place("p", 3);
        small.capacity = 2;
        let data = ModelData {
            places: vec![small],
            transitions: vec![transition("t")],
            arcs: vec![
                arc("t", "p", 1, ArcKind::Inhibitor),
                arc("p", "t", 0, ArcKind::Normal),
            ],
            ..Default::default()
        };
        assert_eq!(
            kinds(data),
            vec![
                (
                    "p".into(),
                    ProblemKind::InitialAboveCapacity {
                        initial: 3,
                        capacity: 2
                    }
                ),
                (
                    "t->p".into(),
                    ProblemKind::GuardNotPlaceToTransition {
                        arc_kind: ArcKind::Inhibitor
                    }
                ),
                ("p->t".into(), ProblemKind::ZeroWeight),
            ]
        );
    }

    #[test]
    fn values_above_max_tokens_and_duplicate_arcs() {
        let data = ModelData {
            places: vec![place("p", MAX_TOKENS + 1)],
            transitions: vec![transition("t")],
            arcs: vec![
                arc("p", "t", 1, ArcKind::Read),
                arc("p", "t", 2, ArcKind::Read),
            ],
            ..Default::default()
        };
        assert_eq!(
            kinds(data),
            vec![
                (
                    "p".into(),
                    ProblemKind::TooLarge {
                        value: MAX_TOKENS + 1,
                        max: MAX_TOKENS
                    }
                ),
                ("p->t".into(), ProblemKind::DuplicateArc),
            ]
        );
    }

    #[test]
    fn limits_are_enforced_and_reported() {
        let data = ModelData {
            places: vec![place("a", 0), place("b", 0)],
            ..Default::default()
        };
        let limits = Limits {
            max_nodes: 1,
            ..Limits::default()
        };
        let err = Model::with_limits(data, &limits).unwrap_err();
        assert!(matches!(
            err.problems[0].kind,
            ProblemKind::TooManyElements {
                count: 2,
                limit: 1,
                ..
            }
        ));
        assert!(
            err.to_string().contains("more than the limit of 1"),
            "{err}"
        );
    }

    #[test]
    fn empty_and_overlong_ids() {
        let long = "é".repeat(200);
        let data = ModelData {
            places: vec![place("", 0), place(&long, 0)],
            ..Default::default()
        };
        let problems = kinds(data);
        assert_eq!(problems[0].1, ProblemKind::EmptyId);
        assert_eq!(problems[1].1, ProblemKind::TooLong { limit: 256 });
    }
}
