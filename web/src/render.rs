//! `Model.renderSvg` for JavaScript: the net drawn as SVG. A feature of the
//! bindings (`render`, on by default): the `core` build leaves it out
//! (BENCHMARKS.md, "Bundle").

use petrichain::render::{LayoutMode, RenderOptions};
use petrichain::{Model, MAX_TOKENS};
use wasm_bindgen::prelude::*;

use crate::error::bad_argument;
use crate::js::{marking_from_js, option, roles_from_js};
use crate::model::JsModel;

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// The net drawn as an SVG document for `marking`: places with their
    /// tokens, transitions coloured enabled / disabled, arcs by kind. Every
    /// element has `data-place` / `data-transition` / `data-arc` attributes and
    /// a `<title>`, and `pc-*` classes for CSS (see docs/rendering.md).
    #[wasm_bindgen(js_name = renderSvg)]
    pub fn render_svg(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Marking")] marking: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RenderOptions")] options: JsValue,
    ) -> Result<String, JsValue> {
        let marking = marking_from_js(&self.model, &marking)?;
        let aspect = option(&options, "aspect")?;
        let mut options = render_options_from_js(&self.model, &options)?;
        if !aspect.is_undefined() {
            match aspect.as_f64() {
                Some(a) if a.is_finite() && a > 0.0 => options.aspect = a,
                _ => return Err(bad_argument("aspect must be a positive number")),
            }
        }
        Ok(petrichain::render::render_svg(
            &self.model,
            &marking,
            &options,
        ))
    }
}

/// `RenderOptions` from a JS options object (every field optional).
fn render_options_from_js(model: &Model, options: &JsValue) -> Result<RenderOptions, JsValue> {
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
    let keys = option(options, "keys")?;
    if !keys.is_undefined() && !keys.is_null() {
        if !keys.is_object() || js_sys::Array::is_array(&keys) {
            return Err(bad_argument(
                "keys must be an object of keyed place -> number of keys",
            ));
        }
        for entry in js_sys::Object::entries(&js_sys::Object::from(keys)).iter() {
            let pair = js_sys::Array::from(&entry);
            let place = pair.get(0).as_string().unwrap_or_default();
            let n = match pair.get(1).as_f64() {
                Some(n)
                    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_TOKENS as f64 =>
                {
                    n as u64
                }
                _ => {
                    return Err(bad_argument(format!(
                        "keys.{place} must be a whole number from 0 to 2^53-1"
                    )))
                }
            };
            out = out.keys(place, n);
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
