//! The one JS <-> Rust conversion hub: every value that crosses the wasm
//! boundary goes through this module.
//!
//! Typed values cross one way, through JSON text ([`to_json`], [`from_json`]):
//! the types already derive serde for JSON (export, the sync protocol), so a
//! second serde format just for JS objects would compile every `Serialize`
//! and `Deserialize` impl twice. One `JSON.parse` / `JSON.stringify` of the
//! whole value is also cheaper than building it property by property across
//! the boundary. `None` and unit become `null`. The other functions read the
//! loosely typed arguments of the JS API (options objects, role arrays,
//! markings, file contents) and say what was wrong in a `BAD_ARGUMENT` error.

use std::collections::BTreeMap;

use js_sys::JSON;
use petrichain::chain::Event;
use petrichain::store::Action;
use petrichain::{Marking, Model, MAX_TOKENS};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::error::{bad_argument, to_js_error};

/// `value` as a plain JS value (objects for structs and maps, numbers for
/// integers: token counts and sequence numbers never exceed 2^53 - 1).
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, String> {
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    JSON::parse(&text).map_err(|_| "JSON.parse refused the text".to_string())
}

/// A JS value read as `T` (after `JSON.stringify`).
pub fn from_json<T: DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let text = JSON::stringify(value)
        .map_err(|_| "the value cannot be turned into JSON (cyclic? a BigInt?)".to_string())?
        .as_string()
        .ok_or_else(|| "the value is not JSON (undefined or a function?)".to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// [`to_json`], failing as a JS `BAD_ARGUMENT` error (for binding returns).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    to_json(value).map_err(|e| bad_argument(format!("cannot convert to JS: {e}")))
}

/// A conflict for JS: `reason` as an object rather than JSON text, the
/// event's `payload` as a value.
#[cfg(feature = "sync")]
pub(crate) fn conflict_to_js(c: &petrichain::store::Conflict) -> Result<JsValue, JsValue> {
    let mut value = serde_json::to_value(c).map_err(|e| bad_argument(e.to_string()))?;
    if let Some(obj) = value.as_object_mut() {
        let reason = serde_json::from_str(&c.reason).unwrap_or(serde_json::Value::Null);
        obj.insert("reason".into(), reason);
    }
    let value = to_js(&value)?;
    payload_to_value(&js_sys::Reflect::get(&value, &"event".into())?)?;
    Ok(value)
}

/// A string as is, or any other value through `JSON.stringify`.
pub(crate) fn text_or_json(value: &JsValue) -> Result<String, JsValue> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if value.is_undefined() || value.is_null() {
        return Err(bad_argument(
            "expected a JSON string or an object, got null/undefined",
        ));
    }
    js_sys::JSON::stringify(value)
        .map_err(|_| bad_argument("value cannot be converted to JSON (cyclic?)"))?
        .as_string()
        .ok_or_else(|| bad_argument("value cannot be converted to JSON"))
}

/// A marking given as `{placeId: tokens}`; places not named hold 0.
pub(crate) fn marking_from_js(model: &Model, value: &JsValue) -> Result<Marking, JsValue> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(bad_argument(
            "a marking must be an object {placeId: tokens}",
        ));
    }
    let mut counts = BTreeMap::new();
    for (place, n) in string_entries(value)? {
        let n = n.as_f64().ok_or_else(|| {
            bad_argument(format!(
                "a marking must map place ids to numbers: place '{place}' is not a number"
            ))
        })?;
        counts.insert(place, n);
    }
    let mut pairs = Vec::with_capacity(counts.len());
    for (place, n) in &counts {
        if !(n.is_finite() && *n >= 0.0 && n.fract() == 0.0 && *n <= MAX_TOKENS as f64) {
            return Err(bad_argument(format!(
                "marking: place '{place}' has {n}, expected an integer from 0 to 2^53-1"
            )));
        }
        pairs.push((place.as_str(), *n as u64));
    }
    model.marking_from_map(pairs).map_err(|e| to_js_error(&e))
}

/// A marking as `{placeId: tokens}`.
pub(crate) fn marking_to_js(model: &Model, marking: &Marking) -> Result<JsValue, JsValue> {
    to_js(&model.marking_map(marking))
}

/// Role names from `undefined` (no roles) or an array of strings.
pub(crate) fn roles_from_js(value: &JsValue) -> Result<Vec<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    strings_from_js(value).ok_or_else(|| {
        bad_argument("roles must be an array of role names, e.g. [\"clerk\"] or [\"*\"]")
    })
}

/// `args` of an action: an object of parameter name -> key (strings);
/// undefined or null = none.
pub(crate) fn args_from_js(value: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Err(bad_argument(
            "args must be an object of parameter -> key, e.g. { from: \"alice\", to: \"bob\" }",
        ));
    }
    let entries = js_sys::Object::entries(&js_sys::Object::from(value.clone()));
    if entries.length() as usize > petrichain::MAX_PARAMS {
        return Err(bad_argument(format!(
            "args has {} entries, a transition has at most {} parameters",
            entries.length(),
            petrichain::MAX_PARAMS
        )));
    }
    let mut out = Vec::with_capacity(entries.length() as usize);
    for entry in entries.iter() {
        let pair = js_sys::Array::from(&entry);
        let name = pair.get(0).as_string().unwrap_or_default();
        let key = pair.get(1).as_string().ok_or_else(|| {
            bad_argument(format!("args.{name} must be a string (the key it binds)"))
        })?;
        out.push((name, key));
    }
    Ok(out)
}

/// An array of strings; `None` if `value` is anything else.
pub(crate) fn strings_from_js(value: &JsValue) -> Option<Vec<String>> {
    if !js_sys::Array::is_array(value) {
        return None;
    }
    js_sys::Array::from(value)
        .iter()
        .map(|v| v.as_string())
        .collect()
}

/// The `[key, value]` pairs of a plain object (`Object.entries`) or a `Map`,
/// whose keys must be strings.
pub(crate) fn string_entries(value: &JsValue) -> Result<Vec<(String, JsValue)>, JsValue> {
    let entries: js_sys::Array = if let Some(map) = value.dyn_ref::<js_sys::Map>() {
        js_sys::Array::from(&map.entries())
    } else if let Some(object) = value.dyn_ref::<js_sys::Object>() {
        js_sys::Object::entries(object)
    } else {
        return Err(bad_argument("expected an object"));
    };
    entries
        .iter()
        .map(|pair| {
            let pair = js_sys::Array::from(&pair);
            let key = pair
                .get(0)
                .as_string()
                .ok_or_else(|| bad_argument("expected an object with string keys"))?;
            Ok((key, pair.get(1)))
        })
        .collect()
}

/// Reads an optional property of an options object.
pub(crate) fn option(options: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !options.is_object() {
        return Err(bad_argument("options must be an object"));
    }
    let got = match HOT_KEYS.iter().position(|k| *k == key) {
        Some(i) => HOT_KEY_VALUES.with(|keys| js_sys::Reflect::get(options, &keys[i])),
        None => js_sys::Reflect::get(options, &key.into()),
    };
    got.map_err(|_| bad_argument(format!("cannot read option '{key}'")))
}

/// The option names every action of `fire` / `fireBatch` reads. Their JS
/// strings are made once ([`HOT_KEY_VALUES`]): `JsValue::from_str` decodes
/// the name out of wasm memory on every call, eight per action of a batch
/// (about 4 µs per event in the peers bench's profile, as `TextDecoder`).
const HOT_KEYS: [&str; 8] = [
    "action",
    "payload",
    "payloadText",
    "ts",
    "multiple",
    "actor",
    "roles",
    "args",
];

thread_local! {
    /// [`HOT_KEYS`] as JS strings, in the same order.
    static HOT_KEY_VALUES: Vec<JsValue> = HOT_KEYS.iter().map(|k| JsValue::from_str(k)).collect();
}

/// `multiple` from an options value: undefined = 1, else a whole number >= 1.
pub(crate) fn multiple_from_js(value: &JsValue) -> Result<u64, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(1);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= MAX_TOKENS as f64 => {
            Ok(n as u64)
        }
        _ => Err(bad_argument(
            "multiple must be a whole number from 1 to 2^53-1",
        )),
    }
}

/// `Date.now()`: the time recorded unless the caller gives one.
pub(crate) fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// `ts` from an options value: undefined = now, else whole ms from 0 to 2^53-1.
pub(crate) fn ts_from_js(value: &JsValue) -> Result<u64, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(now());
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_TOKENS as f64 => {
            Ok(n as u64)
        }
        _ => Err(bad_argument(
            "ts must be a whole number of milliseconds from 0 to 2^53-1",
        )),
    }
}

/// An optional string option (default "").
pub(crate) fn string_option(options: &JsValue, key: &str) -> Result<String, JsValue> {
    let v = option(options, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(String::new());
    }
    v.as_string()
        .ok_or_else(|| bad_argument(format!("{key} must be a string")))
}

/// One action to fire: `action` and the `AppendOptions` of `options`
/// (its `ts`, if given, is the action's own). `payload` is a value, stored
/// as `JSON.stringify` gives it (a string is a JSON string); `payloadText`
/// is JSON text, kept byte for byte.
pub(crate) fn action_from_js(action: &str, options: &JsValue) -> Result<Action, JsValue> {
    let payload = option(options, "payload")?;
    let text = option(options, "payloadText")?;
    let ts = option(options, "ts")?;
    let payload = match (payload.is_undefined(), text.is_undefined() || text.is_null()) {
        (true, true) => None,
        (false, false) => {
            return Err(bad_argument(
                "give payload (a value) or payloadText (JSON text), not both",
            ))
        }
        (true, false) => Some(text.as_string().ok_or_else(|| {
            bad_argument("payloadText must be a string of JSON text, e.g. '{\"n\": 1}'")
        })?),
        (false, true) => Some(
            JSON::stringify(&payload)
                .ok()
                .and_then(|t| t.as_string())
                .ok_or_else(|| {
                    bad_argument(
                        "payload must be a JSON value (not a function, undefined, a BigInt or cyclic)",
                    )
                })?,
        ),
    };
    Ok(Action {
        ts: if ts.is_undefined() || ts.is_null() {
            None
        } else {
            Some(ts_from_js(&ts)?)
        },
        action: action.to_string(),
        multiple: multiple_from_js(&option(options, "multiple")?)?,
        actor: string_option(options, "actor")?,
        roles: roles_from_js(&option(options, "roles")?)?,
        payload,
        args: args_from_js(&option(options, "args")?)?,
    })
}

/// Events for the JS API: `payload` as the value its JSON text holds, or,
/// with `text`, the exact text as stored. One JSON text for the whole list,
/// parsed once by `JSON.parse`: the payloads go into it as the JSON they are
/// ([`JsEvent`]), so no event needs a crossing of its own.
pub fn events_to_js(events: &[Event], text: bool) -> Result<JsValue, JsValue> {
    if text {
        return to_js(events);
    }
    let events: Vec<JsEvent<'_>> = events.iter().map(JsEvent).collect();
    to_js(&events)
}

/// One event for the JS API, `payload` as a value.
pub(crate) fn event_to_js(event: &Event) -> Result<JsValue, JsValue> {
    to_js(&JsEvent(event))
}

/// An event as the JS API gives it: the fields of [`Event`] in their order,
/// `payload` written as the JSON value its text holds. The text is parsed
/// here (`RawValue`) before it goes in, so that a payload that is not one
/// JSON value cannot change the rest of the text: it fails instead.
pub struct JsEvent<'a>(pub &'a Event);

impl Serialize for JsEvent<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeStruct};
        // Every field by name: a field added to `Event` fails to compile here.
        let Event {
            v,
            stream,
            seq,
            model,
            action,
            multiple,
            actor,
            args,
            roles,
            payload,
            ts,
            nonce,
            prev,
            delta,
            keys,
            root,
            signer,
            hash,
            sig,
        } = self.0;
        let payload: &serde_json::value::RawValue = serde_json::from_str(payload)
            .map_err(|e| S::Error::custom(format!("a stored payload is not JSON text: {e}")))?;
        let mut m = s.serialize_struct("Event", 19)?;
        m.serialize_field("v", v)?;
        m.serialize_field("stream", stream)?;
        m.serialize_field("seq", seq)?;
        m.serialize_field("model", model)?;
        m.serialize_field("action", action)?;
        m.serialize_field("multiple", multiple)?;
        m.serialize_field("actor", actor)?;
        // As `Event` does: `args` and `keys` only when not empty.
        if args.is_empty() {
            m.skip_field("args")?;
        } else {
            m.serialize_field("args", args)?;
        }
        m.serialize_field("roles", roles)?;
        m.serialize_field("payload", payload)?;
        m.serialize_field("ts", ts)?;
        m.serialize_field("nonce", nonce)?;
        m.serialize_field("prev", prev)?;
        m.serialize_field("delta", delta)?;
        if keys.is_empty() {
            m.skip_field("keys")?;
        } else {
            m.serialize_field("keys", keys)?;
        }
        m.serialize_field("root", root)?;
        m.serialize_field("signer", signer)?;
        m.serialize_field("hash", hash)?;
        // As `Event` does: no `sig` inside a signature run.
        if sig.is_empty() {
            m.skip_field("sig")?;
        } else {
            m.serialize_field("sig", sig)?;
        }
        m.end()
    }
}

/// Replaces an event object's `payload` text by its value.
#[cfg(feature = "sync")]
pub(crate) fn payload_to_value(event: &JsValue) -> Result<(), JsValue> {
    let key: JsValue = "payload".into();
    let text = js_sys::Reflect::get(event, &key)?;
    if let Some(text) = text.as_string() {
        // Stored payloads were checked to be one JSON value.
        let value =
            JSON::parse(&text).map_err(|_| bad_argument("a stored payload is not JSON text"))?;
        js_sys::Reflect::set(event, &key, &value)?;
    }
    Ok(())
}
