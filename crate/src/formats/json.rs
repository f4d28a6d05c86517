//! JSON models: petrichain's own format (the canonical JSON, or any looser
//! spelling of it) and pflow JSON / JSON-LD (places and transitions as objects
//! keyed by id, counts as scalars or single-colour vectors, `inhibitTransition`).
//!
//! Both are read by one reader: lists or id-keyed objects are accepted for
//! places and transitions, and the pflow spellings (`role`, `inhibitTransition`,
//! one-element vectors) are understood.

use serde_json::{Map, Value};

mod stream;

use super::{ImportError, ImportLimits, Imported, Position, Warning};
use crate::model::{
    Arc, ArcKey, ArcKind, FinalMarking, Model, ModelData, Place, Point, Transition, MAX_TOKENS,
};

/// Reads a JSON model with default limits.
pub fn import_json(text: &str) -> Result<Imported, ImportError> {
    import_json_with(text, &ImportLimits::default())
}

/// Reads a JSON model.
///
/// The text is read in one pass with bounded memory: the places,
/// transitions and arcs are turned into the model one element at a time
/// (never a tree of the whole document), the element counts are checked
/// as they grow ([`ImportError::TooManyNodes`] at the first element past
/// the model's [`Limits`](crate::model::Limits)), one element may hold at
/// most [`ImportLimits::max_element_values`] values, and an object that
/// names a key twice is refused ([`ImportError::DuplicateKey`]).
pub fn import_json_with(text: &str, limits: &ImportLimits) -> Result<Imported, ImportError> {
    if text.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: text.len(),
            limit: limits.max_bytes,
        });
    }
    super::refuse_wide_encodings(text.as_bytes())?;
    check_depth(text, limits.max_depth)?;
    let syntax = |e: serde_json::Error| ImportError::Syntax {
        position: Position {
            line: e.line(),
            column: e.column(),
        },
        message: e.to_string(),
    };
    if !text.trim_start().starts_with('{') {
        // Not an object: a syntax error if it is not JSON at all.
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(syntax)?;
        return Err(ImportError::UnknownFormat {
            message: "a JSON model must be an object".into(),
        });
    }
    let state = stream::State::new(limits);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = serde::de::DeserializeSeed::deserialize(stream::RootSeed(&state), &mut de)
        .and_then(|root| de.end().map(|()| root));
    let root = match parsed {
        Ok(root) => root,
        Err(e) => return Err(state.failure(&e).unwrap_or_else(|| syntax(e))),
    };
    let mut reader = state.into_reader();
    let data = reader.model(root)?;
    check_final_markings(&data)?;
    Ok((Model::new(data)?, reader.warnings))
}

/// Final markings may only name places, with counts up to [`MAX_TOKENS`]
/// (the model does not check them; PNML export depends on it).
fn check_final_markings(data: &ModelData) -> Result<(), ImportError> {
    let places: std::collections::HashSet<&str> =
        data.places.iter().map(|p| p.id.as_str()).collect();
    for (i, marking) in data.final_markings.iter().enumerate() {
        for (place, &tokens) in marking {
            let element = format!("finalMarkings[{i}].{place}");
            if !places.contains(place.as_str()) {
                return Err(bad(&element, "names no place of this model"));
            }
            if tokens > MAX_TOKENS {
                return Err(bad(
                    &element,
                    &format!("{tokens} is above the maximum token count {MAX_TOKENS}"),
                ));
            }
        }
    }
    Ok(())
}

/// Exports a model as its canonical JSON (which [`import_json`] reads back
/// into an equal model).
pub fn export_json(model: &Model) -> String {
    model.canonical_json()
}

/// The pflow JSON-LD context, type and version written by [`export_pflow`].
pub const PFLOW_CONTEXT: &str = "https://pflow.xyz/schema";

/// Writes a model as pflow JSON-LD (as pflow.xyz and go-pflow write it:
/// `@context`, `@type: PetriNet`, places and transitions keyed by id,
/// counts as one-element vectors, `inhibitTransition`, one `role`).
/// What pflow cannot say is added in petrichain's own keys, which
/// [`import_json`] reads: `label`, `roles` (a transition with more than one
/// role), `kind` (read and reset arcs), `keyed`, `params`, `distinct` and
/// `key` (keyed places), `name` and `finalMarkings`. So a net
/// sent to pflow and read back keeps its id:
///
/// ```
/// use petrichain::formats::json::{export_pflow, import_json};
/// let (model, _) = import_json(r#"{"places": {"p": {"initial": 1, "capacity": 3}},
///   "transitions": {"t": {"roles": ["a", "b"]}},
///   "arcs": [{"source": "p", "target": "t", "kind": "read", "weight": 2}]}"#).unwrap();
/// let jsonld = export_pflow(&model);
/// assert!(jsonld.contains("\"@type\": \"PetriNet\""));
/// let (again, warnings) = import_json(&jsonld).unwrap();
/// assert_eq!(again.id(), model.id());
/// assert!(warnings.is_empty());
/// ```
pub fn export_pflow(model: &Model) -> String {
    let mut places = Map::new();
    for (i, p) in model.places().iter().enumerate() {
        let mut o = Map::new();
        o.insert("@type".into(), "Place".into());
        o.insert("offset".into(), i.into());
        o.insert("initial".into(), Value::Array(vec![p.initial.into()]));
        if p.capacity > 0 {
            o.insert("capacity".into(), Value::Array(vec![p.capacity.into()]));
        }
        if p.keyed {
            o.insert("keyed".into(), true.into());
        }
        if !p.label.is_empty() {
            o.insert("label".into(), p.label.clone().into());
        }
        o.insert("x".into(), p.x.into());
        o.insert("y".into(), p.y.into());
        places.insert(p.id.clone(), Value::Object(o));
    }
    let mut transitions = Map::new();
    for t in model.transitions() {
        let mut o = Map::new();
        o.insert("@type".into(), "Transition".into());
        match t.roles.as_slice() {
            [] => {}
            [one] => {
                o.insert("role".into(), one.clone().into());
            }
            many => {
                o.insert("roles".into(), many.to_vec().into());
            }
        }
        if !t.label.is_empty() {
            o.insert("label".into(), t.label.clone().into());
        }
        if !t.params.is_empty() {
            o.insert("params".into(), t.params.clone().into());
        }
        if !t.distinct.is_empty() {
            o.insert(
                "distinct".into(),
                serde_json::to_value(&t.distinct).unwrap_or(Value::Null),
            );
        }
        if !t.signer.is_empty() {
            o.insert("signer".into(), t.signer.clone().into());
        }
        o.insert("x".into(), t.x.into());
        o.insert("y".into(), t.y.into());
        transitions.insert(t.id.clone(), Value::Object(o));
    }
    let arcs: Vec<Value> = model
        .arcs()
        .iter()
        .map(|a| {
            let mut o = Map::new();
            o.insert("@type".into(), "Arrow".into());
            o.insert("source".into(), a.source.clone().into());
            o.insert("target".into(), a.target.clone().into());
            o.insert("weight".into(), Value::Array(vec![a.weight.into()]));
            o.insert(
                "inhibitTransition".into(),
                (a.kind == ArcKind::Inhibitor).into(),
            );
            if matches!(a.kind, ArcKind::Read | ArcKind::Reset) {
                o.insert("kind".into(), a.kind.as_str().into());
            }
            if let Some(key) = &a.key {
                o.insert(
                    "key".into(),
                    serde_json::to_value(key).unwrap_or(Value::Null),
                );
            }
            if !a.points.is_empty() {
                let points = a
                    .points
                    .iter()
                    .map(|p| serde_json::json!({"x": p.x, "y": p.y}))
                    .collect();
                o.insert("points".into(), Value::Array(points));
            }
            Value::Object(o)
        })
        .collect();
    let mut root = Map::new();
    root.insert("@context".into(), PFLOW_CONTEXT.into());
    root.insert("@type".into(), "PetriNet".into());
    root.insert("@version".into(), "1.1".into());
    root.insert(
        "token".into(),
        Value::Array(vec!["https://pflow.xyz/tokens/black".into()]),
    );
    if !model.name().is_empty() {
        root.insert("name".into(), model.name().into());
    }
    root.insert("places".into(), Value::Object(places));
    root.insert("transitions".into(), Value::Object(transitions));
    root.insert("arcs".into(), Value::Array(arcs));
    if !model.final_markings().is_empty() {
        root.insert(
            "finalMarkings".into(),
            serde_json::to_value(model.final_markings()).unwrap_or(Value::Null),
        );
    }
    serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default()
}

/// serde_json stops at 128 levels; this applies our own (lower, configurable)
/// cap with a position, before any value is built.
fn check_depth(text: &str, max_depth: usize) -> Result<(), ImportError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut line, mut column) = (1, 0);
    for ch in text.chars() {
        column += 1;
        if ch == '\n' {
            line += 1;
            column = 0;
        }
        if in_string {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_string = true,
            '{' | '[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(ImportError::TooDeep {
                        position: Position { line, column },
                        limit: max_depth,
                    });
                }
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

const MODEL_KEYS: &[&str] = &[
    "name",
    "places",
    "transitions",
    "arcs",
    "finalMarkings",
    "version",
    "@context",
    "@id",
    "@type",
    "@version",
    "author",
    "token",
];
const PLACE_KEYS: &[&str] = &[
    "id", "label", "initial", "capacity", "keyed", "x", "y", "@type", "offset",
];
const TRANSITION_KEYS: &[&str] = &[
    "id", "label", "role", "roles", "params", "distinct", "signer", "x", "y", "@type",
];
const ARC_KEYS: &[&str] = &[
    "source",
    "key",
    "target",
    "weight",
    "kind",
    "points",
    "inhibitTransition",
    "@type",
];

#[derive(Default)]
struct Reader {
    warnings: Vec<Warning>,
}

impl Reader {
    /// The model from the streamed root: its nodes are already read.
    fn model(&mut self, root: stream::Root) -> Result<ModelData, ImportError> {
        // The model's own unknown keys come first, as the file's order.
        let mut model_warnings = Vec::new();
        for key in root
            .other
            .keys()
            .filter(|k| !MODEL_KEYS.contains(&k.as_str()))
        {
            model_warnings.push(Warning {
                element: "model".into(),
                position: None,
                message: format!("unknown field \"{key}\" ignored"),
            });
        }
        model_warnings.append(&mut self.warnings);
        self.warnings = model_warnings;
        if let Some(tokens) = root.other.get("token").and_then(Value::as_array) {
            if tokens.len() > 1 {
                return Err(unsupported(
                    "token",
                    "coloured nets (more than one token colour)",
                ));
            }
        }
        let name = match root.other.get("name") {
            Some(v) => string(v, "name")?,
            None => String::new(),
        };
        Ok(ModelData {
            name,
            places: root.places,
            transitions: root.transitions,
            arcs: root.arcs,
            final_markings: match root.other.get("finalMarkings") {
                None => Vec::new(),
                Some(v) => final_markings(v)?,
            },
        })
    }

    /// One place or transition listed as an object with `id`, at `index`.
    fn listed<T>(
        &mut self,
        what: &str,
        index: usize,
        item: &Value,
        read: stream::ReadNode<T>,
    ) -> Result<T, ImportError> {
        let path = format!("{what}[{index}]");
        let obj = item
            .as_object()
            .ok_or_else(|| bad(&path, "expected an object"))?;
        let id = string(
            obj.get("id").ok_or_else(|| bad(&path, "missing \"id\""))?,
            &path,
        )?;
        read(self, id, obj)
    }

    /// One place or transition of an object keyed by id (pflow).
    fn keyed<T>(
        &mut self,
        what: &str,
        id: String,
        item: &Value,
        read: stream::ReadNode<T>,
    ) -> Result<T, ImportError> {
        let obj = item
            .as_object()
            .ok_or_else(|| bad(&format!("{what}.{id}"), "expected an object"))?;
        read(self, id, obj)
    }

    fn place(&mut self, id: String, obj: &Map<String, Value>) -> Result<Place, ImportError> {
        self.unknown_keys(&id, obj, PLACE_KEYS);
        Ok(Place {
            label: opt_string(obj, "label", &id)?,
            initial: opt_count(obj, "initial", &id)?.unwrap_or(0),
            capacity: opt_count(obj, "capacity", &id)?.unwrap_or(0),
            keyed: match obj.get("keyed") {
                None | Some(Value::Null) => false,
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| bad(&format!("{id}.keyed"), "expected true or false"))?,
            },
            x: coordinate(obj, "x", &id)?,
            y: coordinate(obj, "y", &id)?,
            id,
        })
    }

    fn transition(
        &mut self,
        id: String,
        obj: &Map<String, Value>,
    ) -> Result<Transition, ImportError> {
        self.unknown_keys(&id, obj, TRANSITION_KEYS);
        let mut roles = Vec::new();
        if let Some(role) = obj.get("role") {
            roles.push(string(role, &format!("{id}.role"))?);
        }
        if let Some(list) = obj.get("roles") {
            let list = list
                .as_array()
                .ok_or_else(|| bad(&format!("{id}.roles"), "expected a list of role names"))?;
            for role in list {
                roles.push(string(role, &format!("{id}.roles"))?);
            }
        }
        let params = match obj.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(list) => list
                .as_array()
                .ok_or_else(|| {
                    bad(
                        &format!("{id}.params"),
                        "expected a list of parameter names",
                    )
                })?
                .iter()
                .map(|p| string(p, &format!("{id}.params")))
                .collect::<Result<_, _>>()?,
        };
        let distinct = match obj.get("distinct") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => serde_json::from_value::<Vec<[String; 2]>>(v.clone()).map_err(|_| {
                bad(
                    &format!("{id}.distinct"),
                    "expected a list of [param, param] pairs",
                )
            })?,
        };
        let signer = match obj.get("signer") {
            None | Some(Value::Null) => Vec::new(),
            Some(list) => list
                .as_array()
                .ok_or_else(|| {
                    bad(
                        &format!("{id}.signer"),
                        "expected a list of parameter names",
                    )
                })?
                .iter()
                .map(|p| string(p, &format!("{id}.signer")))
                .collect::<Result<_, _>>()?,
        };
        Ok(Transition {
            label: opt_string(obj, "label", &id)?,
            roles,
            params,
            distinct,
            signer,
            x: coordinate(obj, "x", &id)?,
            y: coordinate(obj, "y", &id)?,
            id,
        })
    }

    fn arc(&mut self, index: usize, value: &Value) -> Result<Arc, ImportError> {
        let path = format!("arcs[{index}]");
        let obj = value
            .as_object()
            .ok_or_else(|| bad(&path, "expected an object"))?;
        self.unknown_keys(&path, obj, ARC_KEYS);
        let source = string(
            obj.get("source")
                .ok_or_else(|| bad(&path, "missing \"source\""))?,
            &path,
        )?;
        let target = string(
            obj.get("target")
                .ok_or_else(|| bad(&path, "missing \"target\""))?,
            &path,
        )?;
        let name = format!("{source}->{target}");
        let mut kind = match obj.get("kind") {
            None => ArcKind::Normal,
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|_| bad(&name, "kind must be one of normal, inhibitor, read, reset"))?,
        };
        if obj
            .get("inhibitTransition")
            .is_some_and(|v| v.as_bool() == Some(true))
        {
            kind = ArcKind::Inhibitor;
        }
        let points = match obj.get("points") {
            None => Vec::new(),
            Some(v) => serde_json::from_value::<Vec<Point>>(v.clone())
                .map_err(|_| bad(&name, "points must be a list of {x, y} integer objects"))?,
        };
        let key = match obj.get("key") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value::<ArcKey>(v.clone()).map_err(|_| {
                bad(
                    &format!("{name}.key"),
                    "expected a parameter name or {\"const\": key}",
                )
            })?),
        };
        Ok(Arc {
            weight: opt_count(obj, "weight", &name)?.unwrap_or(1),
            kind,
            key,
            points,
            source,
            target,
        })
    }

    fn unknown_keys(&mut self, element: &str, obj: &Map<String, Value>, known: &[&str]) {
        for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            self.warnings.push(Warning {
                element: element.to_string(),
                position: None,
                message: format!("unknown field \"{key}\" ignored"),
            });
        }
    }
}

fn bad(element: &str, message: &str) -> ImportError {
    ImportError::BadValue {
        element: element.to_string(),
        position: None,
        message: message.to_string(),
    }
}

fn unsupported(element: &str, message: &str) -> ImportError {
    ImportError::Unsupported {
        element: element.to_string(),
        position: None,
        message: message.to_string(),
    }
}

fn string(value: &Value, element: &str) -> Result<String, ImportError> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| bad(element, "expected a string"))
}

fn opt_string(obj: &Map<String, Value>, key: &str, element: &str) -> Result<String, ImportError> {
    obj.get(key).map_or(Ok(String::new()), |v| {
        string(v, &format!("{element}.{key}"))
    })
}

/// A non-negative integer, given as a number or (pflow) a one-element vector.
/// `null` and `[]` mean "not given".
fn opt_count(
    obj: &Map<String, Value>,
    key: &str,
    element: &str,
) -> Result<Option<u64>, ImportError> {
    let path = format!("{element}.{key}");
    let value = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => match items.as_slice() {
            [] => return Ok(None),
            [one] => one,
            _ => {
                return Err(unsupported(
                    &path,
                    "coloured tokens (a vector with more than one entry)",
                ))
            }
        },
        Some(v) => v,
    };
    value.as_u64().map(Some).ok_or_else(|| {
        bad(
            &path,
            &format!("expected a non-negative integer, found {value}"),
        )
    })
}

fn coordinate(obj: &Map<String, Value>, key: &str, element: &str) -> Result<i32, ImportError> {
    let Some(value) = obj.get(key) else {
        return Ok(0);
    };
    let f = value
        .as_f64()
        .ok_or_else(|| bad(&format!("{element}.{key}"), "expected a number"))?;
    // Every i32 a model can hold must read back (the canonical JSON round trip).
    if !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&f.round()) {
        return Err(bad(
            &format!("{element}.{key}"),
            "coordinate out of range (a 32-bit integer after rounding)",
        ));
    }
    // Coordinates are stored as integers so the canonical JSON is exact in every language.
    Ok(f.round() as i32)
}

fn final_markings(value: &Value) -> Result<Vec<FinalMarking>, ImportError> {
    serde_json::from_value(value.clone()).map_err(|_| {
        bad(
            "finalMarkings",
            "expected a list of {place id: tokens} objects",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::ImportError;

    #[test]
    fn reads_lists_and_id_keyed_objects_alike() {
        let listed = r#"{"places":[{"id":"a","initial":1}],"transitions":[{"id":"t"}],
            "arcs":[{"source":"a","target":"t"}]}"#;
        let keyed = r#"{"arcs":[{"source":"a","target":"t","weight":[1]}],
            "transitions":{"t":{}},"places":{"a":{"initial":[1]}}}"#;
        let (a, wa) = import_json(listed).unwrap();
        let (b, wb) = import_json(keyed).unwrap();
        assert_eq!(a.id(), b.id());
        assert!(wa.is_empty() && wb.is_empty());
    }

    #[test]
    fn canonical_json_round_trips_to_the_same_id() {
        let (model, _) = import_json(include_str!(
            "../../../tests/fixtures/gopflow-sir_model.json"
        ))
        .unwrap();
        let (again, warnings) = import_json(&export_json(&model)).unwrap();
        assert_eq!(model.id(), again.id());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn unknown_fields_become_warnings() {
        let (_, warnings) =
            import_json(r#"{"places":[{"id":"a","colour":"red"}],"extra":1}"#).unwrap();
        let messages: Vec<_> = warnings
            .iter()
            .map(|w| (w.element.as_str(), w.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            vec![
                ("model", "unknown field \"extra\" ignored"),
                ("a", "unknown field \"colour\" ignored")
            ]
        );
    }

    #[test]
    fn errors_say_where() {
        let err = import_json("{\n  \"places\": [\n}").unwrap_err();
        assert!(
            matches!(
                err,
                ImportError::Syntax {
                    position: Position { line: 3, .. },
                    ..
                }
            ),
            "{err:?}"
        );

        let err = import_json(r#"{"places":{"p":{"initial":-1}}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.initial: expected a non-negative integer, found -1"
        );

        let err = import_json(r#"{"places":{"p":{"initial":[1,2]}}}"#).unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED");

        let err = import_json(r#"{"places":[{"id":"p"}],"arcs":[{"source":"p","target":"q"}]}"#)
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_MODEL");
        assert!(
            err.to_string().contains("no place or transition 'q'"),
            "{err}"
        );
    }

    #[test]
    fn final_markings_must_name_places() {
        let err =
            import_json(r#"{"places":[{"id":"p"}],"finalMarkings":[{"ghost":1}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "finalMarkings[0].ghost: names no place of this model"
        );
        let err =
            import_json(r#"{"places":[{"id":"p"}],"finalMarkings":[{"p":9007199254740992}]}"#)
                .unwrap_err();
        assert_eq!(err.code(), "BAD_VALUE");
        let (model, _) =
            import_json(r#"{"places":[{"id":"p"}],"finalMarkings":[{"p":1}]}"#).unwrap();
        assert_eq!(model.final_markings()[0]["p"], 1);
    }

    #[test]
    fn depth_and_size_are_capped() {
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(matches!(
            import_json(&deep),
            Err(ImportError::TooDeep { limit: 64, .. })
        ));
        let limits = ImportLimits {
            max_bytes: 10,
            ..ImportLimits::default()
        };
        assert!(matches!(
            import_json_with("{\"places\":[]}", &limits),
            Err(ImportError::TooLarge { .. })
        ));
        // Brackets inside strings do not count.
        let text = format!("{{\"name\":\"{}\"}}", "[".repeat(100));
        assert!(import_json(&text).is_ok());
    }

    #[test]
    fn a_key_named_twice_is_refused_naming_it() {
        for (text, key, element) in [
            (
                r#"{"places":[],"places":[{"id":"p"}]}"#,
                "places",
                "the model object",
            ),
            (
                r#"{"places":{"p":{},"q":{},"p":{"initial":1}}}"#,
                "p",
                "places",
            ),
            (
                r#"{"places":[{"id":"p","initial":1,"initial":2}]}"#,
                "initial",
                "places[0]",
            ),
            (
                r#"{"places":[{"id":"p"}],"transitions":[{"id":"t"}],
                "arcs":[{"source":"p","target":"t","points":[{"x":1,"x":2,"y":0}]}]}"#,
                "x",
                "arcs[0]",
            ),
            // Escapes are compared after decoding.
            (
                r#"{"name":"a","n\u0061me":"b"}"#,
                "name",
                "the model object",
            ),
        ] {
            let err = import_json(text).unwrap_err();
            assert_eq!(err.code(), "DUPLICATE_KEY", "{text}: {err}");
            match &err {
                ImportError::DuplicateKey {
                    key: k,
                    element: e,
                    position,
                } => {
                    assert_eq!((k.as_str(), e.as_str()), (key, element), "{text}");
                    assert!(position.line >= 1 && position.column > 1, "{position:?}");
                }
                other => panic!("{other:?}"),
            }
            assert!(
                err.to_string()
                    .contains(&format!("key \"{key}\" appears twice in {element}")),
                "{err}"
            );
        }
    }

    #[test]
    fn utf16_json_is_told_to_be_saved_as_utf8() {
        let utf16 = |text: &str, bom: bool, le: bool| -> Vec<u8> {
            let mut out: Vec<u8> = Vec::new();
            let units = bom
                .then_some(0xFEFFu16)
                .into_iter()
                .chain(text.encode_utf16());
            for u in units {
                out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            out
        };
        let json = r#"{"places":[{"id":"p"}]}"#;
        for (bom, le, name) in [
            (true, true, "UTF-16LE (with a byte-order mark)"),
            (true, false, "UTF-16BE (with a byte-order mark)"),
            (false, true, "UTF-16LE"),
            (false, false, "UTF-16BE"),
        ] {
            let bytes = utf16(json, bom, le);
            let err = crate::formats::import(&bytes).unwrap_err();
            assert_eq!(err.code(), "ENCODING", "{name}: {err}");
            assert_eq!(
                err.to_string(),
                format!("the file is {name} text; petrichain reads UTF-8: save it as UTF-8 and import it again")
            );
            // And XML the same way.
            let bytes = utf16("<pnml><net id=\"n\"/></pnml>", bom, le);
            assert_eq!(
                crate::formats::import(&bytes).unwrap_err().code(),
                "ENCODING"
            );
        }
        // Text decoded from UTF-16 elsewhere but passed on with its zero bytes.
        let text = String::from_utf8(utf16(json, false, true)).unwrap();
        assert_eq!(import_json(&text).unwrap_err().code(), "ENCODING");
    }

    #[test]
    fn one_element_holds_at_most_max_element_values() {
        let limits = ImportLimits {
            max_element_values: 10,
            ..ImportLimits::default()
        };
        // The arc object, its source, target and a list of points: each
        // point is three values (the object, x and y).
        let arc = |points: usize| {
            format!(
                r#"{{"places":[{{"id":"p"}}],"transitions":[{{"id":"t"}}],"arcs":[{{"source":"p","target":"t","points":[{}]}}]}}"#,
                vec![r#"{"x":1,"y":2}"#; points].join(",")
            )
        };
        assert!(import_json_with(&arc(2), &limits).is_ok());
        let err = import_json_with(&arc(3), &limits).unwrap_err();
        assert!(
            matches!(err, ImportError::TooManyNodes { limit: 10, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("more than 10 JSON values in arcs[0]"),
            "{err}"
        );
        // The budget is per element: many small arcs are fine.
        let many = format!(
            r#"{{"places":[{{"id":"p"}},{{"id":"q"}}],"transitions":[{{"id":"t"}}],"arcs":[{}]}}"#,
            [
                r#"{"source":"p","target":"t"}"#,
                r#"{"source":"q","target":"t"}"#
            ]
            .join(",")
        );
        assert!(import_json_with(&many, &limits).is_ok());
    }

    #[test]
    fn too_many_places_are_refused_before_the_end_is_read() {
        // 200,001 places, then garbage: refused for the count, not the syntax.
        let mut text = String::from(r#"{"places":["#);
        for i in 0..200_001 {
            text.push_str(&format!(r#"{{"id":"p{i}"}},"#));
        }
        text.push_str("garbage");
        let err = import_json(&text).unwrap_err();
        assert!(
            matches!(err, ImportError::TooManyNodes { limit: 200_000, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("places and transitions (the model limit)"),
            "{err}"
        );
    }

    #[test]
    fn keyed_places_keep_the_id_order_and_wrong_shapes_stay_bad_values() {
        let (model, _) =
            import_json(r#"{"places":{"b":{},"a":{},"c":{}},"transitions":{"t":{}}}"#).unwrap();
        let ids: Vec<&str> = model.places().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        for text in [
            r#"{"places":3}"#,
            r#"{"places":null}"#,
            r#"{"transitions":"t"}"#,
            r#"{"arcs":{}}"#,
            r#"{"arcs":true}"#,
        ] {
            assert_eq!(import_json(text).unwrap_err().code(), "BAD_VALUE", "{text}");
        }
        assert_eq!(import_json("[1,2]").unwrap_err().code(), "UNKNOWN_FORMAT");
        assert_eq!(import_json("[1,2").unwrap_err().code(), "SYNTAX");
        assert_eq!(
            import_json(r#"{"places":[]} x"#).unwrap_err().code(),
            "SYNTAX"
        );
    }

    #[test]
    fn inhibit_transition_arcs_become_inhibitors() {
        let (model, _) = import_json(
            r#"{"places":{"p":{"initial":1}},"transitions":{"t":{}},
                "arcs":[{"source":"p","target":"t","inhibitTransition":true,"weight":1}]}"#,
        )
        .unwrap();
        assert_eq!(model.arcs()[0].kind, ArcKind::Inhibitor);
    }

    #[test]
    fn pflow_export_round_trips_every_corpus_json_and_every_kind() {
        let kinds = r#"{"name": "kinds", "places": [
              {"id": "a", "label": "A", "initial": 2, "capacity": 5, "x": 10, "y": 20},
              {"id": "b"}, {"id": "c"}, {"id": "d"}],
            "transitions": [{"id": "t", "roles": ["x", "y"]}, {"id": "u", "role": "x", "label": "U"}],
            "arcs": [{"source": "a", "target": "t", "weight": 3, "points": [{"x": 1, "y": 2}]},
                     {"source": "b", "target": "t", "kind": "inhibitor"},
                     {"source": "c", "target": "t", "kind": "read"},
                     {"source": "d", "target": "t", "kind": "reset"},
                     {"source": "t", "target": "b"}, {"source": "a", "target": "u"}],
            "finalMarkings": [{"b": 1}]}"#;
        for text in [
            kinds,
            include_str!("../../../tests/fixtures/gopflow-sir_model.json"),
            include_str!("../../../tests/fixtures/gopflow-pc_small.json"),
            include_str!("../../../tests/fixtures/gopflow-tictactoe.jsonld"),
        ] {
            let (model, _) = import_json(text).unwrap();
            let out = export_pflow(&model);
            let v: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["@context"], PFLOW_CONTEXT);
            assert_eq!(v["@type"], "PetriNet");
            let (again, warnings) = import_json(&out).unwrap();
            assert_eq!(again.id(), model.id(), "{out}");
            assert!(warnings.is_empty(), "{warnings:?}");
        }
        let (model, _) = import_json(kinds).unwrap();
        let v: Value = serde_json::from_str(&export_pflow(&model)).unwrap();
        assert_eq!(v["places"]["a"]["initial"], serde_json::json!([2]));
        assert_eq!(v["transitions"]["u"]["role"], "x");
        let inhibitor = v["arcs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["source"] == "b" && a["target"] == "t")
            .unwrap();
        assert_eq!(inhibitor["inhibitTransition"], true);
    }
}
