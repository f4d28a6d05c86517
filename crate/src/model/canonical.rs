//! Canonical JSON of a model and the model id derived from it.
//!
//! The canonical form is RFC 8785 (JCS) JSON of the normalised model: no
//! whitespace, object keys sorted by their UTF-16 code units (RFC 8785
//! section 3.2.3), integers only, strings escaped as `JSON.stringify` does.
//! The structs below declare their fields in that order on purpose; serde
//! writes fields in declaration order. The one object with keys from the
//! input, a final marking (place id -> tokens), is written by
//! [`UnitOrder`], which sorts its keys by UTF-16 code units: a `BTreeMap`
//! sorts by UTF-8 bytes, which differs for keys mixing U+E000..U+FFFF with
//! characters above U+FFFF. docs/model-format.md specifies it for other
//! languages.

use std::cmp::Ordering;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::{Arc, ArcKey, FinalMarking, ModelData, Place, Point, Transition};

/// Format version written in every canonical document.
pub const CANONICAL_VERSION: u32 = 1;

#[derive(Serialize)]
struct CanonicalModel<'a> {
    arcs: Vec<CanonicalArc<'a>>,
    #[serde(
        rename = "finalMarkings",
        skip_serializing_if = "<[_]>::is_empty",
        serialize_with = "final_markings"
    )]
    final_markings: &'a [FinalMarking],
    name: &'a str,
    places: Vec<CanonicalPlace<'a>>,
    transitions: Vec<CanonicalTransition<'a>>,
    version: u32,
}

#[derive(Serialize)]
struct CanonicalArc<'a> {
    /// A parameter's name, or `{"const": key}` (see [`ArcKey`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a ArcKey>,
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
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    keyed: bool,
    label: &'a str,
    x: i32,
    y: i32,
}

#[derive(Serialize)]
struct CanonicalTransition<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    distinct: &'a [[String; 2]],
    id: &'a str,
    label: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    params: &'a [String],
    roles: &'a [String],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    signer: &'a [String],
    x: i32,
    y: i32,
}

impl<'a> From<&'a Arc> for CanonicalArc<'a> {
    fn from(a: &'a Arc) -> Self {
        CanonicalArc {
            key: a.key.as_ref(),
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
            keyed: p.keyed,
            label: &p.label,
            x: p.x,
            y: p.y,
        }
    }
}
impl<'a> From<&'a Transition> for CanonicalTransition<'a> {
    fn from(t: &'a Transition) -> Self {
        CanonicalTransition {
            distinct: &t.distinct,
            id: &t.id,
            label: &t.label,
            params: &t.params,
            roles: &t.roles,
            signer: &t.signer,
            x: t.x,
            y: t.y,
        }
    }
}

/// The order of object keys in RFC 8785: by UTF-16 code units, compared as
/// unsigned integers. It equals UTF-8 byte (code point) order except where
/// one key has U+E000..U+FFFF and the other a character above U+FFFF (a
/// surrogate pair, D800..DFFF) at the first difference.
pub(crate) fn jcs_key_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// An object written with its keys in [`jcs_key_order`].
struct UnitOrder<'a>(&'a FinalMarking);

impl Serialize for UnitOrder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(&String, &u64)> = self.0.iter().collect();
        // Keys are unique, so an unstable sort is deterministic.
        entries.sort_unstable_by(|a, b| jcs_key_order(a.0, b.0));
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

fn final_markings<S: Serializer>(
    markings: &&[FinalMarking],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(markings.len()))?;
    for m in markings.iter() {
        seq.serialize_element(&UnitOrder(m))?;
    }
    seq.end()
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

    /// RFC 8785 sorts keys by UTF-16 code units: U+1F600 is the surrogate
    /// pair D83D DE00, which sorts before U+E000, though its UTF-8 bytes
    /// (F0 ...) sort after U+E000's (EE ...).
    #[test]
    fn final_marking_keys_sort_by_utf16_code_units() {
        assert!("\u{E000}" < "\u{1F600}", "UTF-8 byte order");
        assert_eq!(jcs_key_order("\u{1F600}", "\u{E000}"), Ordering::Less);
        assert_eq!(jcs_key_order("a", "b"), Ordering::Less);
        assert_eq!(jcs_key_order("ab", "a"), Ordering::Greater);
        assert_eq!(jcs_key_order("\u{FFFF}", "\u{10000}"), Ordering::Greater);
        let data = ModelData {
            final_markings: vec![FinalMarking::from([
                ("\u{E000}".to_string(), 2),
                ("\u{1F600}".to_string(), 1),
                ("z".to_string(), 3),
            ])],
            ..Default::default()
        };
        let text = canonical_json(&data);
        assert!(
            text.starts_with(
                "{\"arcs\":[],\"finalMarkings\":[{\"z\":3,\"\u{1F600}\":1,\"\u{E000}\":2}],"
            ),
            "{text}"
        );
        assert_eq!(
            text,
            serde_json_canonicalizer::to_string(
                &serde_json::from_str::<serde_json::Value>(&text).unwrap()
            )
            .unwrap()
        );
    }
}

/// Property: the canonical JSON is exactly what an independent RFC 8785
/// implementation writes for the same JSON value, over random models with
/// keys and strings mixing ASCII, escapes, U+E000..U+FFFF and characters
/// above U+FFFF, and every number the project accepts (integers up to
/// 2^53 - 1, coordinates over all of i32).
#[cfg(test)]
mod jcs_props {
    use proptest::prelude::*;

    use super::super::{
        Arc, ArcKey, ArcKind, FinalMarking, ModelData, Place, Point, Transition, MAX_TOKENS,
    };
    use super::canonical_json;

    /// Strings drawn from the character classes where encoders differ.
    fn text() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            proptest::char::range('a', 'c'),
            Just('"'),
            Just('\\'),
            Just('/'),
            proptest::char::range('\u{0}', '\u{1f}'),
            Just('\u{7f}'),
            Just('é'),
            Just('\u{D7FF}'),
            proptest::char::range('\u{E000}', '\u{FFFF}'),
            proptest::char::range('\u{10000}', '\u{10FFFF}'),
            Just('\u{1F600}'),
        ];
        proptest::collection::vec(ch, 0..5).prop_map(String::from_iter)
    }

    fn count() -> impl Strategy<Value = u64> {
        prop_oneof![0..=10u64, 0..=MAX_TOKENS, Just(MAX_TOKENS)]
    }

    fn kind() -> impl Strategy<Value = ArcKind> {
        prop_oneof![
            Just(ArcKind::Normal),
            Just(ArcKind::Inhibitor),
            Just(ArcKind::Read),
            Just(ArcKind::Reset)
        ]
    }

    fn data() -> impl Strategy<Value = ModelData> {
        let place = (text(), text(), count(), count(), any::<i32>(), any::<i32>()).prop_map(
            |(id, label, initial, capacity, x, y)| Place {
                keyed: false,
                id,
                label,
                initial,
                capacity,
                x,
                y,
            },
        );
        let transition = (
            text(),
            text(),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..2),
            any::<i32>(),
            any::<i32>(),
        )
            .prop_map(|(id, label, roles, signer, x, y)| Transition {
                distinct: Vec::new(),
                params: signer.clone(),
                signer,
                id,
                label,
                roles,
                x,
                y,
            });
        let point = (any::<i32>(), any::<i32>()).prop_map(|(x, y)| Point { x, y });
        let key = prop_oneof![
            Just(None),
            text().prop_map(|k| Some(ArcKey::Param(k))),
            text().prop_map(|k| Some(ArcKey::Const(k))),
        ];
        let arc = (
            text(),
            text(),
            count(),
            kind(),
            proptest::collection::vec(point, 0..3),
            key,
        )
            .prop_map(|(source, target, weight, kind, points, key)| Arc {
                key,
                source,
                target,
                weight,
                kind,
                points,
            });
        let marking = proptest::collection::btree_map(text(), count(), 0..6)
            .prop_map(|m| m.into_iter().collect::<FinalMarking>());
        (
            text(),
            proptest::collection::vec(place, 0..4),
            proptest::collection::vec(transition, 0..3),
            proptest::collection::vec(arc, 0..3),
            proptest::collection::vec(marking, 0..3),
        )
            .prop_map(
                |(name, places, transitions, arcs, final_markings)| ModelData {
                    name,
                    places,
                    transitions,
                    arcs,
                    final_markings,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn canonical_json_is_rfc_8785(data in data()) {
            let ours = canonical_json(&data);
            let value: serde_json::Value = serde_json::from_str(&ours).unwrap();
            let theirs = serde_json_canonicalizer::to_string(&value).unwrap();
            prop_assert_eq!(ours, theirs);
        }
    }
}
