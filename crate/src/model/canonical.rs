//! Canonical JSON of a model and the model id derived from it.
//!
//! The canonical form is RFC 8785 (JCS) JSON of the normalised model: no
//! whitespace, object keys in lexicographic order, integers only, strings
//! escaped as `JSON.stringify` does. The structs below declare their fields in
//! that order on purpose; serde writes fields in declaration order, so no map
//! sorting (and no `preserve_order` feature of serde_json) is involved.
//! docs/model-format.md specifies it for other languages.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Arc, FinalMarking, ModelData, Place, Point, Transition};

/// Format version written in every canonical document.
pub const CANONICAL_VERSION: u32 = 1;

#[derive(Serialize)]
struct CanonicalModel<'a> {
    arcs: Vec<CanonicalArc<'a>>,
    #[serde(rename = "finalMarkings", skip_serializing_if = "<[_]>::is_empty")]
    final_markings: &'a [FinalMarking],
    name: &'a str,
    places: Vec<CanonicalPlace<'a>>,
    transitions: Vec<CanonicalTransition<'a>>,
    version: u32,
}

#[derive(Serialize)]
struct CanonicalArc<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    points: &'a [Point],
    source: &'a str,
    target: &'a str,
    weight: u64,
}

#[derive(Serialize)]
struct CanonicalPlace<'a> {
    capacity: u64,
    id: &'a str,
    initial: u64,
    label: &'a str,
    x: i32,
    y: i32,
}

#[derive(Serialize)]
struct CanonicalTransition<'a> {
    id: &'a str,
    label: &'a str,
    roles: &'a [String],
    x: i32,
    y: i32,
}

impl<'a> From<&'a Arc> for CanonicalArc<'a> {
    fn from(a: &'a Arc) -> Self {
        CanonicalArc {
            kind: a.kind.as_str(),
            points: &a.points,
            source: &a.source,
            target: &a.target,
            weight: a.weight,
        }
    }
}
impl<'a> From<&'a Place> for CanonicalPlace<'a> {
    fn from(p: &'a Place) -> Self {
        CanonicalPlace {
            capacity: p.capacity,
            id: &p.id,
            initial: p.initial,
            label: &p.label,
            x: p.x,
            y: p.y,
        }
    }
}
impl<'a> From<&'a Transition> for CanonicalTransition<'a> {
    fn from(t: &'a Transition) -> Self {
        CanonicalTransition {
            id: &t.id,
            label: &t.label,
            roles: &t.roles,
            x: t.x,
            y: t.y,
        }
    }
}

/// Canonical JSON text of already normalised model data (as held by a
/// [`Model`](super::Model)).
pub fn canonical_json(data: &ModelData) -> String {
    let doc = CanonicalModel {
        arcs: data.arcs.iter().map(Into::into).collect(),
        final_markings: &data.final_markings,
        name: &data.name,
        places: data.places.iter().map(Into::into).collect(),
        transitions: data.transitions.iter().map(Into::into).collect(),
        version: CANONICAL_VERSION,
    };
    // Serialising plain structs of strings and integers cannot fail.
    serde_json::to_string(&doc).expect("canonical model serialises")
}

/// SHA-256 (lowercase hex) of the canonical JSON.
pub fn model_id(data: &ModelData) -> String {
    hex::encode(Sha256::digest(canonical_json(data).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{arc, place, transition};
    use super::super::{ArcKind, Model};
    use super::*;

    /// Pinned by hand: keys sorted at every level, no whitespace.
    #[test]
    fn canonical_text_is_pinned() {
        let data = ModelData {
            name: "tiny".into(),
            places: vec![place("p", 1)],
            transitions: vec![Transition {
                roles: vec!["clerk".into()],
                ..transition("t")
            }],
            arcs: vec![arc("p", "t", 2, ArcKind::Normal)],
            ..Default::default()
        };
        let model = Model::new(data).unwrap();
        let text = model.canonical_json();
        assert_eq!(
            text,
            r#"{"arcs":[{"kind":"normal","source":"p","target":"t","weight":2}],"name":"tiny","places":[{"capacity":0,"id":"p","initial":1,"label":"","x":0,"y":0}],"transitions":[{"id":"t","label":"","roles":["clerk"],"x":0,"y":0}],"version":1}"#
        );
        assert_eq!(model.id(), hex::encode(Sha256::digest(text.as_bytes())));
        // The test vector of docs/model-format.md.
        assert_eq!(
            model.id(),
            "a6e43afdaa36b385b235cb780bf28a318ab216c25c0dd823ea3e0d3a6176569a"
        );
    }

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        let data = ModelData {
            name: "a\"b\\c\u{1}é\n".into(),
            ..Default::default()
        };
        let text = canonical_json(&data);
        assert!(text.contains(r#""name":"a\"b\\c\u0001é\n""#), "{text}");
    }
}
