//! Every conversion between JS values and Rust values of the bindings.

use std::collections::BTreeMap;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::error::bad_argument;
use crate::render::{LayoutMode, RenderOptions};
use crate::{Marking, Model, MAX_TOKENS};

/// Serialises to a plain JS value (see [`crate::js_json`]).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    crate::js_json::to_js(value).map_err(|e| bad_argument(format!("cannot convert to JS: {e}")))
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
    model
        .marking_from_map(pairs)
        .map_err(|e| super::error::to_js_error(&e))
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
    js_sys::Reflect::get(options, &key.into())
        .map_err(|_| bad_argument(format!("cannot read option '{key}'")))
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

/// `RenderOptions` from a JS options object (every field optional).
pub(crate) fn render_options_from_js(
    model: &Model,
    options: &JsValue,
) -> Result<RenderOptions, JsValue> {
    let mut out = RenderOptions::new();
    let roles = option(options, "roles")?;
    if !roles.is_undefined() {
        let names = roles_from_js(&roles)?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        out = out.roles(model.roles(&names));
    }
    for (key, set) in [
        ("showLabels", RenderOptions::show_labels as fn(_, _) -> _),
        ("showIds", RenderOptions::show_ids),
    ] {
        let value = option(options, key)?;
        if !value.is_undefined() {
            let on = value
                .as_bool()
                .ok_or_else(|| bad_argument(format!("{key} must be true or false")))?;
            out = set(out, on);
        }
    }
    let highlight = option(options, "highlight")?;
    if !highlight.is_undefined() {
        out = out.highlight(
            highlight
                .as_string()
                .ok_or_else(|| bad_argument("highlight must be a transition id"))?,
        );
    }
    let scale = option(options, "scale")?;
    if !scale.is_undefined() {
        match scale.as_f64() {
            Some(s) if s.is_finite() && s > 0.0 && s <= 100.0 => out = out.scale(s),
            _ => {
                return Err(bad_argument(
                    "scale must be a number above 0 and at most 100",
                ))
            }
        }
    }
    let layout = option(options, "layout")?;
    if !layout.is_undefined() {
        out = out.layout(match layout.as_string().as_deref() {
            Some("auto") => LayoutMode::Auto,
            Some("always") => LayoutMode::Always,
            Some("never") => LayoutMode::Never,
            _ => {
                return Err(bad_argument(
                    "layout must be \"auto\", \"always\" or \"never\"",
                ))
            }
        });
    }
    Ok(out)
}

/// File contents given as a string or a `Uint8Array`.
pub(crate) fn bytes_from_js(value: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(text) = value.as_string() {
        return Ok(text.into_bytes());
    }
    if value.is_instance_of::<js_sys::Uint8Array>() {
        return Ok(js_sys::Uint8Array::new(value).to_vec());
    }
    Err(bad_argument(
        "expected the file contents as a string or a Uint8Array",
    ))
}
