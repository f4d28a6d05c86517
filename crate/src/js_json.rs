//! Serde values to and from JS values, through JSON text (wasm32 only).
//!
//! Every typed value crosses the wasm boundary this one way: the types
//! already derive serde for JSON (export, the sync protocol), so a second
//! serde format just for JS objects would compile every `Serialize` and
//! `Deserialize` impl twice. One `JSON.parse` / `JSON.stringify` of the whole
//! value is also cheaper than building it property by property across the
//! boundary. `None` and unit become `null`.

use js_sys::JSON;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// `value` as a plain JS value (objects for structs and maps, numbers for
/// integers: token counts and sequence numbers never exceed 2^53 - 1).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, String> {
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    JSON::parse(&text).map_err(|_| "JSON.parse refused the text".to_string())
}

/// A JS value read as `T` (after `JSON.stringify`).
pub(crate) fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let text = JSON::stringify(value)
        .map_err(|_| "the value cannot be turned into JSON (cyclic? a BigInt?)".to_string())?
        .as_string()
        .ok_or_else(|| "the value is not JSON (undefined or a function?)".to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}
