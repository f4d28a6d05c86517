//! `Model`'s file formats for JavaScript: import of PNML, TAPAAL, LoLA,
//! PNEditor and pflow files, export to PNML, pflow JSON-LD and DOT. A feature
//! of the bindings (`formats`, on by default): the `core` build leaves it
//! out (BENCHMARKS.md, "Bundle").

use wasm_bindgen::prelude::*;

use petrichain::formats;

use crate::error::{bad_argument, to_js_error};
use crate::model::JsModel;

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// Reads a net from any supported file, detecting the format from the
    /// content: PNML (2009, PIPE, ProM / pm4py, WoPeD), TAPAAL `.tapn`, LoLA,
    /// PNEditor `.pflow` /
    /// `.pflowx`, petrichain JSON, pflow JSON / JSON-LD. Anything read but not
    /// understood is listed in `model.warnings`. Throws a `PetrichainError`
    /// with line:column and element id (`SYNTAX`, `DTD_REFUSED`, `TRUNCATED`,
    /// `WRONG_ROOT`, `DUPLICATE_ID`, `MISSING_NODE`, `UNKNOWN_FORMAT`, ...).
    ///
    /// @example
    /// ```ts
    /// const text = await file.text();
    /// const model = Model.import(text);
    /// for (const w of model.warnings) console.warn(w.element, w.message);
    /// ```
    #[wasm_bindgen(js_name = import)]
    pub fn import(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] input: JsValue,
    ) -> Result<JsModel, JsValue> {
        JsModel::imported(formats::import(&bytes_from_js(&input)?))
    }

    /// Reads a PNML file (any of the dialects `Model.import` reads).
    #[wasm_bindgen(js_name = fromPnml)]
    pub fn from_pnml(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] input: JsValue,
    ) -> Result<JsModel, JsValue> {
        JsModel::imported(formats::pnml::import_pnml(bytes_from_js(&input)?))
    }

    /// Reads a PNEditor `.pflow` / `.pflowx` XML file.
    #[wasm_bindgen(js_name = fromPflow)]
    pub fn from_pflow(
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] input: JsValue,
    ) -> Result<JsModel, JsValue> {
        JsModel::imported(formats::pflow_xml::import_pflow(bytes_from_js(&input)?))
    }

    /// The net as PNML 2009 (inhibitor, read and reset arcs, capacities and
    /// roles through petrichain's extension net type; see docs/formats.md).
    /// `Model.import(model.toPnml())` gives a model with the same id.
    /// Throws `UNSUPPORTED` for a net with keyed places or parameters.
    #[wasm_bindgen(js_name = toPnml)]
    pub fn to_pnml(&self) -> Result<String, JsValue> {
        formats::pnml::export_pnml(&self.model).map_err(|e| to_js_error(&e))
    }

    /// The net as pflow JSON-LD (pflow.xyz, go-pflow), with petrichain's
    /// own keys for what pflow cannot say (labels, several roles, read and
    /// reset arcs, the name, final markings):
    /// `Model.import(model.toPflow())` gives a model with the same id.
    #[wasm_bindgen(js_name = toPflow)]
    pub fn to_pflow(&self) -> String {
        formats::json::export_pflow(&self.model)
    }

    /// The net as a Graphviz DOT `digraph` (places as circles, transitions
    /// as boxes, a style per arc kind; positions as `pos` when it has them).
    #[wasm_bindgen(js_name = toDot)]
    pub fn to_dot(&self) -> String {
        formats::dot::export_dot(&self.model)
    }
}

/// File contents given as a string or a `Uint8Array`.
fn bytes_from_js(value: &JsValue) -> Result<Vec<u8>, JsValue> {
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
