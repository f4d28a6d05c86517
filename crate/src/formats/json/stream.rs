//! The streaming front of the JSON reader. serde_json hands the document
//! over piece by piece: the root object's keys, then each place, transition
//! and arc, which is built as a small [`Value`], turned into the model's
//! type by the [`Reader`] and dropped before the next one is read. So the
//! memory of an import is the model being built plus one element, never a
//! tree of the whole file (a 56 MiB model used to take 2.6 GB as one
//! `Value` before it was refused for its size). On the way it counts the
//! elements against the model's [`Limits`] (refused at the first one past
//! them, not after the parse), caps the values of one element
//! ([`ImportLimits::max_element_values`]) and refuses a key named twice in
//! any object.
//!
//! A refusal found here is kept in [`State`] and the parse is stopped with
//! a placeholder serde error; [`State::failure`] gives the real one back
//! with the position serde_json reports.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::{bad, Reader};
use crate::formats::{ImportError, ImportLimits, Position};
use crate::model::{Arc, Limits, Place, Transition};

/// What the visitors share while one document is read.
pub(super) struct State {
    reader: RefCell<Reader>,
    failure: RefCell<Option<ImportError>>,
    /// Values the element being read may still hold.
    budget: Cell<usize>,
    max_values: usize,
    /// Places and transitions read so far.
    nodes: Cell<usize>,
    model: Limits,
}

/// The root object: the nodes already converted, the other fields as values.
#[derive(Default)]
pub(super) struct Root {
    pub places: Vec<Place>,
    pub transitions: Vec<Transition>,
    pub arcs: Vec<Arc>,
    /// Every other top-level field, by key.
    pub other: Map<String, Value>,
}

/// Turns one place or transition (its id, its object) into the model's type.
pub(super) type ReadNode<T> =
    fn(&mut Reader, String, &Map<String, Value>) -> Result<T, ImportError>;

impl State {
    pub fn new(limits: &ImportLimits) -> State {
        State {
            reader: RefCell::new(Reader::default()),
            failure: RefCell::new(None),
            budget: Cell::new(limits.max_element_values),
            max_values: limits.max_element_values,
            nodes: Cell::new(0),
            model: Limits::default(),
        }
    }

    pub fn into_reader(self) -> Reader {
        self.reader.into_inner()
    }

    /// The refusal behind serde error `e`, if it came from here, placed
    /// where serde_json stopped.
    pub fn failure(&self, e: &serde_json::Error) -> Option<ImportError> {
        let mut failure = self.failure.borrow_mut().take()?;
        let at = Position {
            line: e.line(),
            column: e.column(),
        };
        if let ImportError::DuplicateKey { position, .. }
        | ImportError::TooManyNodes { position, .. } = &mut failure
        {
            *position = at;
        }
        Some(failure)
    }

    /// Keeps `error` and stops the parse.
    fn fail<E: de::Error>(&self, error: ImportError) -> E {
        *self.failure.borrow_mut() = Some(error);
        E::custom("import refused (see the import error)")
    }

    fn too_many<E: de::Error>(&self, what: String, limit: usize) -> E {
        self.fail(ImportError::TooManyNodes {
            what,
            position: Position { line: 0, column: 0 },
            limit,
        })
    }

    fn duplicate<E: de::Error>(&self, key: String, element: &str) -> E {
        self.fail(ImportError::DuplicateKey {
            key,
            element: element.to_string(),
            position: Position { line: 0, column: 0 },
        })
    }

    /// A new element starts: its value budget is full again.
    fn start_element(&self) {
        self.budget.set(self.max_values);
    }

    /// One more value in the element at `path`.
    fn spend<E: de::Error>(&self, path: &str) -> Result<(), E> {
        match self.budget.get().checked_sub(1) {
            Some(left) => {
                self.budget.set(left);
                Ok(())
            }
            None => Err(self.too_many(
                format!("JSON values in {path} (ImportLimits::max_element_values)"),
                self.max_values,
            )),
        }
    }

    /// One more place or transition.
    fn count_node<E: de::Error>(&self) -> Result<(), E> {
        let n = self.nodes.get().saturating_add(1);
        self.nodes.set(n);
        if n > self.model.max_nodes {
            return Err(self.too_many(
                "places and transitions (the model limit)".into(),
                self.model.max_nodes,
            ));
        }
        Ok(())
    }

    /// Converts one element with the reader; its refusal stops the parse.
    fn convert<T, E: de::Error>(
        &self,
        f: impl FnOnce(&mut Reader) -> Result<T, ImportError>,
    ) -> Result<T, E> {
        let result = f(&mut self.reader.borrow_mut());
        result.map_err(|e| self.fail(e))
    }
}

/// The root object.
pub(super) struct RootSeed<'s>(pub &'s State);

impl<'de> DeserializeSeed<'de> for RootSeed<'_> {
    type Value = Root;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Root, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_> {
    type Value = Root;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON model object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Root, A::Error> {
        let st = self.0;
        let mut root = Root::default();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(st.duplicate(key, "the model object"));
            }
            match key.as_str() {
                "places" => {
                    root.places = map.next_value_seed(NodesSeed {
                        st,
                        what: "places",
                        read: Reader::place,
                    })?
                }
                "transitions" => {
                    root.transitions = map.next_value_seed(NodesSeed {
                        st,
                        what: "transitions",
                        read: Reader::transition,
                    })?
                }
                "arcs" => root.arcs = map.next_value_seed(ArcsSeed(st))?,
                _ => {
                    st.start_element();
                    let value = map.next_value_seed(ValueSeed { st, path: &key })?;
                    root.other.insert(key, value);
                }
            }
        }
        Ok(root)
    }
}

/// `places` or `transitions`: a list of objects with `id`, or an object
/// keyed by id (pflow), read in id order as a JSON object map would.
struct NodesSeed<'s, T> {
    st: &'s State,
    what: &'static str,
    read: ReadNode<T>,
}

impl<'de, T> DeserializeSeed<'de> for NodesSeed<'_, T> {
    type Value = Vec<T>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<T> NodesSeed<'_, T> {
    fn wrong<E: de::Error>(&self) -> E {
        self.st
            .fail(bad(self.what, "expected a list or an object keyed by id"))
    }
}

impl<'de, T> Visitor<'de> for NodesSeed<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: a list or an object keyed by id", self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let st = self.st;
        let mut out = Vec::new();
        loop {
            let path = format!("{}[{}]", self.what, out.len());
            st.start_element();
            let Some(item) = seq.next_element_seed(ValueSeed { st, path: &path })? else {
                break;
            };
            st.count_node()?;
            let index = out.len();
            out.push(st.convert(|r| r.listed(self.what, index, &item, self.read))?);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        let st = self.st;
        let mut out: Vec<(String, T)> = Vec::new();
        let mut seen = HashSet::new();
        while let Some(id) = map.next_key::<String>()? {
            if !seen.insert(id.clone()) {
                return Err(st.duplicate(id, self.what));
            }
            let path = format!("{}.{id}", self.what);
            st.start_element();
            let item = map.next_value_seed(ValueSeed { st, path: &path })?;
            st.count_node()?;
            let node = st.convert(|r| r.keyed(self.what, id.clone(), &item, self.read))?;
            out.push((id, node));
        }
        // The order a `serde_json::Map` (a BTreeMap) gave before: by id.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out.into_iter().map(|(_, node)| node).collect())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<T>, E> {
        Err(self.wrong())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<T>, E> {
        Err(self.wrong())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<T>, E> {
        Err(self.wrong())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<T>, E> {
        Err(self.wrong())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<T>, E> {
        Err(self.wrong())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Err(self.wrong())
    }
}

/// `arcs`: a list of arc objects.
struct ArcsSeed<'s>(&'s State);

impl<'de> DeserializeSeed<'de> for ArcsSeed<'_> {
    type Value = Vec<Arc>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Arc>, D::Error> {
        d.deserialize_any(self)
    }
}

impl ArcsSeed<'_> {
    fn wrong<E: de::Error>(&self) -> E {
        self.0.fail(bad("arcs", "expected a list of arcs"))
    }
}

impl<'de> Visitor<'de> for ArcsSeed<'_> {
    type Value = Vec<Arc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of arcs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Arc>, A::Error> {
        let st = self.0;
        let mut out = Vec::new();
        loop {
            let path = format!("arcs[{}]", out.len());
            st.start_element();
            let Some(item) = seq.next_element_seed(ValueSeed { st, path: &path })? else {
                break;
            };
            if out.len() >= st.model.max_arcs {
                return Err(st.too_many("arcs (the model limit)".into(), st.model.max_arcs));
            }
            let index = out.len();
            out.push(st.convert(|r| r.arc(index, &item))?);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Vec<Arc>, A::Error> {
        Err(self.wrong())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Vec<Arc>, E> {
        Err(self.wrong())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Vec<Arc>, E> {
        Err(self.wrong())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Vec<Arc>, E> {
        Err(self.wrong())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Vec<Arc>, E> {
        Err(self.wrong())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Vec<Arc>, E> {
        Err(self.wrong())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<Arc>, E> {
        Err(self.wrong())
    }
}

/// One element as a [`Value`], counted against the element's budget, with
/// every object checked for a key named twice.
struct ValueSeed<'s, 'p> {
    st: &'s State,
    path: &'p str,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.st.spend(self.path)?;
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.st.spend(self.path)?;
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.st.spend(self.path)?;
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.st.spend(self.path)?;
        Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.st.spend(self.path)?;
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.st.spend(self.path)?;
        Ok(Value::String(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.st.spend(self.path)?;
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let (st, path) = (self.st, self.path);
        st.spend(path)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed { st, path })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let (st, path) = (self.st, self.path);
        st.spend(path)?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(st.duplicate(key, path));
            }
            let value = map.next_value_seed(ValueSeed { st, path })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}
