//! The net itself: places, transitions and arcs, validated once and then
//! immutable.
//!
//! [`ModelData`] is the plain, serialisable description a format reader
//! produces; [`Model::new`] checks it (every problem reported with its element
//! id), normalises it (elements sorted by id, so that the marking vector and
//! the model id do not depend on input order) and compiles it into the sparse
//! vector form the engine fires.
//!
//! The dependency runs one way: [`crate::engine`] fires a [`Model`] and
//! imports this module; nothing here imports the engine.

mod canonical;
mod compiled;
mod validate;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use canonical::{canonical_json, model_id};
pub(crate) use compiled::{CompiledNet, CompiledTransition, Guard, KeySource};
pub use validate::{Limits, ModelError, Problem, ProblemKind};

/// The largest token count (and arc weight) petrichain stores: 2^53 - 1.
///
/// Counts travel as JSON numbers and JavaScript numbers; above this they would
/// silently lose precision, so arithmetic past it is an overflow error.
pub const MAX_TOKENS: u64 = (1 << 53) - 1;

/// A place holds tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// Unique among places and transitions.
    pub id: String,
    /// Human-readable name; may be empty.
    #[serde(default)]
    pub label: String,
    /// Tokens in the initial marking.
    #[serde(default)]
    pub initial: u64,
    /// Most tokens the place may hold after a firing; 0 means unbounded.
    /// For a keyed place, the most each key may hold.
    #[serde(default)]
    pub capacity: u64,
    /// A keyed place holds a count per key (a string, e.g. an account
    /// name); keys never given tokens count 0. Its arcs name the key through
    /// a parameter of their transition ([`Arc::key`]). A keyed place starts
    /// empty (`initial` must be 0). docs/model-format.md, "Keyed places".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keyed: bool,
    /// Position for drawing.
    #[serde(default)]
    pub x: i32,
    /// Position for drawing.
    #[serde(default)]
    pub y: i32,
}

/// A transition is an action that moves tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Unique among places and transitions.
    pub id: String,
    /// Human-readable name; may be empty.
    #[serde(default)]
    pub label: String,
    /// Roles allowed to fire it; empty means anyone. An actor needs any one
    /// of them (the role `*` holds every role).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Parameters, bound from the action's arguments when it fires: each
    /// names a key of the keyed places its arcs touch (`balance[from]`).
    /// At most [`MAX_PARAMS`]; names are 1 to 64 ASCII letters, digits,
    /// `_` or `-`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
    /// Pairs of parameters that must be bound to different keys
    /// (`[["from", "to"]]`: no transfer to oneself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distinct: Vec<[String; 2]>,
    /// Parameters bound to the signer: the argument of each must be the
    /// `signer` of the event that fires it (the device's Ed25519 public
    /// key, 64 lowercase hex digits), so that only the holder of a key
    /// moves its tokens (`["from"]` on a transfer). An append that leaves
    /// such an argument out gets the device's key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signer: Vec<String>,
    /// Position for drawing.
    #[serde(default)]
    pub x: i32,
    /// Position for drawing.
    #[serde(default)]
    pub y: i32,
}

/// Most parameters a transition may declare.
pub const MAX_PARAMS: usize = 16;

/// Longest key of a keyed place (an argument's value), in bytes.
pub const MAX_KEY_BYTES: usize = 256;

/// What an arc does when its transition fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArcKind {
    /// place -> transition consumes `weight`; transition -> place produces it.
    Normal,
    /// place -> transition: disabled while the place holds >= `weight`.
    Inhibitor,
    /// place -> transition: enabled only while the place holds >= `weight`;
    /// nothing is consumed.
    Read,
    /// place -> transition: the place is emptied when the transition fires.
    Reset,
}

impl ArcKind {
    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ArcKind::Normal => "normal",
            ArcKind::Inhibitor => "inhibitor",
            ArcKind::Read => "read",
            ArcKind::Reset => "reset",
        }
    }
}

/// A bend point of an arc, kept from the source file for drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal position.
    pub x: i32,
    /// Vertical position.
    pub y: i32,
}

/// An arc between a place and a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arc {
    /// Id of the place or transition the arc leaves.
    pub source: String,
    /// Id of the place or transition the arc enters.
    pub target: String,
    /// Tokens moved (or the threshold of an inhibitor / read arc); >= 1.
    #[serde(default = "one")]
    pub weight: u64,
    /// Normal, inhibitor, read or reset.
    #[serde(default = "normal")]
    pub kind: ArcKind,
    /// For an arc of a keyed place: which key it acts on, a parameter of
    /// its transition (`"from"` makes the arc `balance[from]`) or a
    /// constant (`{"const": "bank"}`: `balance["bank"]`). Arcs of unkeyed
    /// places have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<ArcKey>,
    /// Bend points between source and target, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<Point>,
}

/// The key an arc of a keyed place acts on.
///
/// In JSON a parameter is its name (`"from"`), a constant an object
/// (`{"const": "bank"}`); parameter names cannot hold the constant's
/// quotes, so the two never read alike. Ordered parameters first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArcKey {
    /// The argument bound to this parameter of the arc's transition.
    Param(String),
    /// This key, whatever the arguments (1 to [`MAX_KEY_BYTES`] bytes).
    Const(String),
}

impl ArcKey {
    /// The parameter's name, for a parameter key.
    pub fn param(&self) -> Option<&str> {
        match self {
            ArcKey::Param(p) => Some(p),
            ArcKey::Const(_) => None,
        }
    }
}

impl std::fmt::Display for ArcKey {
    /// `from` for a parameter, `"bank"` for a constant (as in `balance["bank"]`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArcKey::Param(p) => f.write_str(p),
            ArcKey::Const(k) => write!(f, "{k:?}"),
        }
    }
}

impl Serialize for ArcKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            ArcKey::Param(p) => serializer.serialize_str(p),
            ArcKey::Const(k) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("const", k)?;
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ArcKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ConstKey {
            #[serde(rename = "const")]
            value: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Param(String),
            Const(ConstKey),
        }
        Ok(match Repr::deserialize(deserializer)? {
            Repr::Param(p) => ArcKey::Param(p),
            Repr::Const(c) => ArcKey::Const(c.value),
        })
    }
}

fn one() -> u64 {
    1
}
fn normal() -> ArcKind {
    ArcKind::Normal
}

/// A marking that a run of the net is expected to reach (kept from ProM
/// files' final markings): place id -> tokens, places not listed hold 0.
pub type FinalMarking = std::collections::BTreeMap<String, u64>;

/// The unvalidated description of a net, as a format reader produces it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelData {
    /// Name of the net; may be empty.
    #[serde(default)]
    pub name: String,
    /// Places, in any order.
    #[serde(default)]
    pub places: Vec<Place>,
    /// Transitions, in any order.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Arcs, in any order.
    #[serde(default)]
    pub arcs: Vec<Arc>,
    /// Final markings, if the source file declared any.
    #[serde(
        default,
        rename = "finalMarkings",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub final_markings: Vec<FinalMarking>,
}

/// Index of a place in a [`Model`] (and in its markings).
pub type PlaceIndex = usize;
/// Index of a transition in a [`Model`].
pub type TransitionIndex = usize;

/// A validated, normalised and compiled net. Cheap to share, never changes.
///
/// ```
/// use petrichain::{Model, ModelData, Place, Transition, Arc, ArcKind};
/// let data = ModelData {
///     places: vec![Place { id: "ready".into(), label: String::new(), initial: 1, capacity: 0, keyed: false, x: 0, y: 0 }],
///     transitions: vec![Transition { id: "go".into(), label: String::new(), roles: vec![], params: vec![], distinct: vec![], signer: vec![], x: 0, y: 0 }],
///     arcs: vec![Arc { source: "ready".into(), target: "go".into(), weight: 1, kind: ArcKind::Normal, key: None, points: vec![] }],
///     ..Default::default()
/// };
/// let model = Model::new(data).unwrap();
/// assert_eq!(model.id().len(), 64);
/// ```
#[derive(Debug, Clone)]
pub struct Model {
    data: ModelData,
    id: String,
    place_index: HashMap<String, PlaceIndex>,
    transition_index: HashMap<String, TransitionIndex>,
    net: CompiledNet,
}

impl Model {
    /// Validates `data` with the default [`Limits`], normalises and compiles it.
    pub fn new(data: ModelData) -> Result<Model, ModelError> {
        Model::with_limits(data, &Limits::default())
    }

    /// Like [`Model::new`] with explicit size limits.
    pub fn with_limits(mut data: ModelData, limits: &Limits) -> Result<Model, ModelError> {
        validate::validate(&data, limits)?;
        normalise(&mut data);
        let place_index: HashMap<String, PlaceIndex> = data
            .places
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let transition_index: HashMap<String, TransitionIndex> = data
            .transitions
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let net = CompiledNet::compile(&data, &place_index, &transition_index);
        let id = model_id(&data);
        Ok(Model {
            data,
            id,
            place_index,
            transition_index,
            net,
        })
    }

    /// The model id: SHA-256 (lowercase hex) of [`Model::canonical_json`].
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The net's name (may be empty).
    pub fn name(&self) -> &str {
        &self.data.name
    }

    /// Places, sorted by id; a place's position here is its [`PlaceIndex`].
    pub fn places(&self) -> &[Place] {
        &self.data.places
    }

    /// Transitions, sorted by id; a position here is a [`TransitionIndex`].
    pub fn transitions(&self) -> &[Transition] {
        &self.data.transitions
    }

    /// Arcs, sorted by (source, target, kind).
    pub fn arcs(&self) -> &[Arc] {
        &self.data.arcs
    }

    /// Final markings declared by the source file.
    pub fn final_markings(&self) -> &[FinalMarking] {
        &self.data.final_markings
    }

    /// The normalised description this model was built from.
    pub fn data(&self) -> &ModelData {
        &self.data
    }

    /// The canonical JSON text (see docs/model-format.md) whose SHA-256 is the id.
    pub fn canonical_json(&self) -> String {
        canonical_json(&self.data)
    }

    /// Index of the place with this id.
    pub fn place_index(&self, id: &str) -> Option<PlaceIndex> {
        self.place_index.get(id).copied()
    }

    /// Index of the transition with this id.
    pub fn transition_index(&self, id: &str) -> Option<TransitionIndex> {
        self.transition_index.get(id).copied()
    }

    /// The compiled vector form.
    pub(crate) fn net(&self) -> &CompiledNet {
        &self.net
    }

    /// Whether any place is keyed (see [`Place::keyed`]).
    pub fn has_keyed_places(&self) -> bool {
        self.net.has_keyed
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}
impl Eq for Model {}

/// Sorts every list so that equal nets have equal data, whatever the input order.
fn normalise(data: &mut ModelData) {
    data.places.sort_by(|a, b| a.id.cmp(&b.id));
    data.transitions.sort_by(|a, b| a.id.cmp(&b.id));
    for t in &mut data.transitions {
        t.roles.sort();
        t.roles.dedup();
        // Parameters are bound by name: their order means nothing.
        t.params.sort();
        t.signer.sort();
        t.signer.dedup();
        for pair in &mut t.distinct {
            pair.sort();
        }
        t.distinct.sort();
        t.distinct.dedup();
    }
    // The key last: nets without keyed places keep the order (and id) they had.
    data.arcs.sort_by(|a, b| {
        (&a.source, &a.target, a.kind, &a.key).cmp(&(&b.source, &b.target, b.kind, &b.key))
    });
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn place(id: &str, initial: u64) -> Place {
        Place {
            id: id.into(),
            label: String::new(),
            initial,
            capacity: 0,
            keyed: false,
            x: 0,
            y: 0,
        }
    }
    pub fn transition(id: &str) -> Transition {
        Transition {
            id: id.into(),
            label: String::new(),
            roles: vec![],
            params: vec![],
            distinct: vec![],
            signer: vec![],
            x: 0,
            y: 0,
        }
    }
    pub fn arc(source: &str, target: &str, weight: u64, kind: ArcKind) -> Arc {
        Arc {
            source: source.into(),
            target: target.into(),
            weight,
            kind,
            key: None,
            points: vec![],
        }
    }

    #[test]
    fn input_order_does_not_change_the_id() {
        let a = ModelData {
            places: vec![place("a", 1), place("b", 0)],
            transitions: vec![transition("t")],
            arcs: vec![
                arc("a", "t", 1, ArcKind::Normal),
                arc("t", "b", 1, ArcKind::Normal),
            ],
            ..Default::default()
        };
        let mut b = a.clone();
        b.places.reverse();
        b.arcs.reverse();
        let (ma, mb) = (Model::new(a).unwrap(), Model::new(b).unwrap());
        assert_eq!(ma.id(), mb.id());
        assert_eq!(ma.place_index("b"), Some(1));
    }

    #[test]
    fn a_different_weight_changes_the_id() {
        let a = ModelData {
            places: vec![place("a", 1)],
            transitions: vec![transition("t")],
            arcs: vec![arc("a", "t", 1, ArcKind::Normal)],
            ..Default::default()
        };
        let mut b = a.clone();
        b.arcs[0].weight = 2;
        assert_ne!(Model::new(a).unwrap().id(), Model::new(b).unwrap().id());
    }
}
