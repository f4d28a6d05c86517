//! The one conversion of Rust errors into JavaScript: a real `Error` whose
//! `name` is `PetrichainError`, whose `code` lets callers branch
//! (`NOT_ENABLED`, `SYNTAX`, ...) and whose `details` holds the error's fields
//! as a plain object (`{transition, place, has, needs}` ...).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use petrichain::formats::ImportError;
use petrichain::model::ModelError;
use petrichain::FireError;

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
/** Every error petrichain throws: a real `Error` with a machine-readable code. */
export interface PetrichainError extends Error {
  name: "PetrichainError";
  /** e.g. "NOT_ENABLED", "ROLE_DENIED", "SYNTAX", "INVALID_MODEL", "BAD_ARGUMENT". */
  code: PetrichainErrorCode;
  /** The error's fields, e.g. `{ code, transition, place, has, needs }`. */
  details: Record<string, unknown>;
}
"#;

/// `PetrichainErrorCode`: the union of every code (`petrichain::ERROR_CODES`).
#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR_CODES: &'static str = petrichain::ERROR_CODE_TS;

/// Whether `e` is an error petrichain threw: an `Error` named
/// `PetrichainError` whose `code` is one of the codes.
#[wasm_bindgen(js_name = isPetrichainError, unchecked_return_type = "e is PetrichainError")]
pub fn is_petrichain_error(#[wasm_bindgen(unchecked_param_type = "unknown")] e: JsValue) -> bool {
    let field = |key: &str| js_sys::Reflect::get(&e, &key.into()).ok()?.as_string();
    e.is_instance_of::<js_sys::Error>()
        && field("name").as_deref() == Some("PetrichainError")
        && field("code").is_some_and(|c| petrichain::is_error_code(&c))
}

/// A Rust error that can cross into JS.
pub trait JsErrorSource: std::fmt::Display + Serialize {
    /// Stable machine-readable code.
    fn code(&self) -> &'static str;
}

impl JsErrorSource for FireError {
    fn code(&self) -> &'static str {
        FireError::code(self)
    }
}
impl JsErrorSource for ImportError {
    fn code(&self) -> &'static str {
        ImportError::code(self)
    }
}
impl JsErrorSource for petrichain::chain::ChainError {
    fn code(&self) -> &'static str {
        petrichain::chain::ChainError::code(self)
    }
}
impl JsErrorSource for petrichain::sync::SyncError {
    fn code(&self) -> &'static str {
        petrichain::sync::SyncError::code(self)
    }
}
impl JsErrorSource for ModelError {
    fn code(&self) -> &'static str {
        "INVALID_MODEL"
    }
}

/// Builds the JS `Error` for `err`.
pub(crate) fn to_js_error<E: JsErrorSource + ?Sized>(err: &E) -> JsValue {
    let details = crate::js::to_js(err).unwrap_or(JsValue::UNDEFINED);
    make_error(err.code(), &err.to_string(), details)
}

/// [`to_js_error`] by value, for `map_err`.
pub(crate) fn js_err<E: JsErrorSource>(err: E) -> JsValue {
    to_js_error(&err)
}

/// An error about an argument the caller passed (wrong type, out of range).
pub(crate) fn bad_argument(message: impl Into<String>) -> JsValue {
    let message = message.into();
    let details = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&details, &"code".into(), &"BAD_ARGUMENT".into());
    let _ = js_sys::Reflect::set(&details, &"message".into(), &message.as_str().into());
    make_error("BAD_ARGUMENT", &message, details.into())
}

fn make_error(code: &str, message: &str, details: JsValue) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name("PetrichainError");
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    let _ = js_sys::Reflect::set(&error, &"details".into(), &details);
    error.into()
}
