//! `Model`: a validated net, its markings and firing, for JavaScript.

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use petrichain::formats::json::import_json;
use petrichain::formats::{ImportError, Imported, Warning};

use crate::error::to_js_error;
use crate::js::{
    marking_from_js, marking_to_js, multiple_from_js, option, roles_from_js, text_or_json, to_js,
};

#[wasm_bindgen(typescript_custom_section)]
const TS_MODEL_TYPES: &'static str = r#"
/** Tokens per place id. Places not listed hold 0. */
export type Marking = Record<string, number>;

/** A place (see docs/model-format.md). */
export interface Place {
  id: string; label: string; initial: number; capacity: number; x: number; y: number;
  /** A keyed place: a count per key (`Stream.count`, `Stream.keys`); its marking entry is the total. */
  keyed?: boolean;
}

/** A transition; `roles` empty means anyone may fire it. */
export interface Transition {
  id: string; label: string; roles: string[]; x: number; y: number;
  /** Parameters, bound by `args` when it fires (absent: none). */
  params?: string[];
  /** Pairs of parameters that must be bound to different keys. */
  distinct?: [string, string][];
  /** Parameters bound to the signer: each argument must be the signing device's public key (64 lowercase hex digits); an append that leaves one out gets the device's key. */
  signer?: string[];
}

/** An arc between a place and a transition. */
export interface Arc {
  source: string; target: string; weight: number;
  kind: "normal" | "inhibitor" | "read" | "reset";
  /** For an arc of a keyed place: the parameter whose argument is its key, or a constant key `{ const: "bank" }`. */
  key?: string | { const: string };
  points?: { x: number; y: number }[];
}

/** Something an import read but did not use. */
export interface ImportWarning { element: string; position?: { line: number; column: number }; message: string }

/** Options for `Model.renderSvg`. */
export interface RenderOptions {
  /** Roles whose enabled transitions are coloured as enabled. Default: every role. */
  roles?: string[];
  /** Draw labels (default true). */
  showLabels?: boolean;
  /** Draw ids (default false). */
  showIds?: boolean;
  /** Id of a transition to highlight. */
  highlight?: string;
  /** Scale factor of the drawing (default 1). */
  scale?: number;
  /** "auto" (lay out nets without positions; default), "always" or "never". */
  layout?: "auto" | "always" | "never";
  /** Width / height a large automatic layout aims at, e.g. the viewport's (clamped to 1/3 .. 3; default 1.6). */
  aspect?: number;
  /** Number of keys per keyed place (e.g. `(await stream.keys("balance", { limit: 1 })).count`), drawn with its total. */
  keys?: Record<string, number>;
}

/** Options for `Model.fire`. */
export interface FireOptions {
  /** Fire this many times at once (consume/produce weights times k). Default 1. */
  multiple?: number;
  /** Roles the actor holds; `"*"` holds every role. Default: none. */
  roles?: string[];
}
"#;

/// A Petri net, validated and compiled. Immutable; its `id` is the SHA-256
/// of its canonical JSON, so equal nets have equal ids.
///
/// @example
/// ```ts
/// import init, { Model } from "petrichain";
/// await init();
/// const model = Model.fromJson({
///   places: [{ id: "stock", initial: 2 }],
///   transitions: [{ id: "sell" }],
///   arcs: [{ source: "stock", target: "sell" }],
/// });
/// let m = model.initialMarking();          // { stock: 2 }
/// m = model.fire(m, "sell", { multiple: 2 }); // { stock: 0 }
/// try { model.fire(m, "sell"); } catch (e) { e.code === "NOT_ENABLED"; }
/// ```
#[wasm_bindgen(js_name = Model)]
pub struct JsModel {
    pub(crate) model: Rc<petrichain::Model>,
    warnings: Vec<Warning>,
}

impl JsModel {
    /// Wraps an import result, keeping its warnings for `model.warnings`.
    pub(crate) fn imported(result: Result<Imported, ImportError>) -> Result<JsModel, JsValue> {
        let (model, warnings) = result.map_err(|e| to_js_error(&e))?;
        Ok(JsModel {
            model: Rc::new(model),
            warnings,
        })
    }

    /// Wraps a model read back from a store (no import, so no warnings).
    pub(crate) fn stored(model: Rc<petrichain::Model>) -> JsModel {
        JsModel {
            model,
            warnings: Vec::new(),
        }
    }
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Reads a model from JSON text or a plain object: petrichain's own format
    /// or pflow JSON / JSON-LD. Throws a `PetrichainError` (code `SYNTAX`,
    /// `BAD_VALUE`, `INVALID_MODEL`, ...) that says where the problem is.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(
        #[wasm_bindgen(unchecked_param_type = "string | object")] input: JsValue,
    ) -> Result<JsModel, JsValue> {
        let text = text_or_json(&input)?;
        JsModel::imported(import_json(&text))
    }

    /// The model id: lowercase hex SHA-256 of the canonical JSON.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.model.id().to_string()
    }

    /// The net's name (may be empty).
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.model.name().to_string()
    }

    /// Places, sorted by id.
    #[wasm_bindgen(getter, unchecked_return_type = "Place[]")]
    pub fn places(&self) -> Result<JsValue, JsValue> {
        to_js(self.model.places())
    }

    /// Transitions, sorted by id.
    #[wasm_bindgen(getter, unchecked_return_type = "Transition[]")]
    pub fn transitions(&self) -> Result<JsValue, JsValue> {
        to_js(self.model.transitions())
    }

    /// Arcs, sorted by source, target and kind.
    #[wasm_bindgen(getter, unchecked_return_type = "Arc[]")]
    pub fn arcs(&self) -> Result<JsValue, JsValue> {
        to_js(self.model.arcs())
    }

    /// The marking the net starts in.
    #[wasm_bindgen(js_name = initialMarking, unchecked_return_type = "Marking")]
    pub fn initial_marking(&self) -> Result<JsValue, JsValue> {
        marking_to_js(&self.model, &self.model.initial_marking())
    }

    /// Ids of the transitions an actor holding `roles` may fire once in `marking`.
    pub fn enabled(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Marking")] marking: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string[]")] roles: JsValue,
    ) -> Result<Vec<String>, JsValue> {
        let marking = marking_from_js(&self.model, &marking)?;
        let roles = roles_from_js(&roles)?;
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        let set = self.model.roles(&roles);
        Ok(self
            .model
            .enabled(&marking, &set)
            .into_iter()
            .map(|t| self.model.transitions()[t].id.clone())
            .collect())
    }

    /// Fires `action` and returns the new marking; `marking` itself is not
    /// changed. Throws a `PetrichainError` saying why when the net refuses
    /// (`NOT_ENABLED`, `INHIBITED`, `READ_ARC_UNMET`, `CAPACITY_EXCEEDED`,
    /// `ROLE_DENIED`, `OVERFLOW`, `UNKNOWN_TRANSITION`).
    #[wasm_bindgen(unchecked_return_type = "Marking")]
    pub fn fire(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Marking")] marking: JsValue,
        action: &str,
        #[wasm_bindgen(unchecked_param_type = "FireOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let marking = marking_from_js(&self.model, &marking)?;
        let multiple = multiple_from_js(&option(&options, "multiple")?)?;
        let roles = roles_from_js(&option(&options, "roles")?)?;
        let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
        let next = self
            .model
            .fire(
                &marking,
                action,
                &petrichain::FireOptions {
                    multiple,
                    roles: &roles,
                },
            )
            .map_err(|e| to_js_error(&e))?;
        marking_to_js(&self.model, &next)
    }

    /// What the import read but did not use (unknown elements, tool-specific
    /// data), each with its element and position; empty for clean files.
    #[wasm_bindgen(getter, unchecked_return_type = "ImportWarning[]")]
    pub fn warnings(&self) -> Result<JsValue, JsValue> {
        to_js(&self.warnings)
    }

    /// The canonical JSON text (its SHA-256 is `id`).
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.model.canonical_json()
    }
}
