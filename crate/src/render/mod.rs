//! Nets drawn as SVG with their live state: token counts in places, enabled
//! transitions filled, every element tagged with `data-*` attributes, a
//! `<title>` tooltip and `pc-*` CSS classes so an app can wire clicks and
//! restyle. Nets without positions get an automatic [`layout`].
//!
//! ```
//! use petrichain::{formats::json::import_json, render::{render_svg, RenderOptions}};
//! let (model, _) = import_json(r#"{
//!   "places": [{"id": "ready", "initial": 1, "x": 50, "y": 50}],
//!   "transitions": [{"id": "go", "label": "Go <now>", "x": 150, "y": 50}],
//!   "arcs": [{"source": "ready", "target": "go"}]
//! }"#).unwrap();
//! let svg = render_svg(&model, &model.initial_marking(), &RenderOptions::new().show_ids(true));
//! assert!(svg.contains(r#"data-transition="go""#));
//! assert!(svg.contains(r#"data-enabled="true""#));
//! assert!(svg.contains("Go &lt;now&gt;")); // labels stay text
//! ```
//!
//! Output is deterministic: the same model, marking and options always give
//! the same bytes. See docs/rendering.md for the classes and attributes.

mod draw;
mod geometry;
mod layout;
mod style;
mod xml;

use std::collections::HashSet;

pub use layout::{
    layout, layout_routed, layout_routed_for, Routed, LAYER_GAP, MAX_DUMMIES, ROW_GAP,
    TARGET_ASPECT, WRAP_AT,
};
pub use style::DEFAULT_CSS;

use crate::engine::{Marking, RoleSet};
use crate::model::Model;
use geometry::Pt;

/// When to replace the positions from the file by an automatic layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayoutMode {
    /// Lay out automatically when the net has no usable positions (see
    /// [`needs_layout`]); otherwise keep the file's positions.
    #[default]
    Auto,
    /// Always lay out automatically, ignoring the file's positions.
    Always,
    /// Always keep the file's positions, even if nodes overlap.
    Never,
}

/// How to draw a net. Build it with [`RenderOptions::new`] and the chained
/// setters, or fill the public fields directly.
///
/// ```
/// use petrichain::render::{RenderOptions, LayoutMode};
/// use petrichain::RoleSet;
/// let opts = RenderOptions::new()
///     .roles(RoleSet::none())
///     .show_ids(true)
///     .highlight("approve")
///     .scale(2.0)
///     .layout(LayoutMode::Always);
/// assert_eq!(opts.highlight.as_deref(), Some("approve"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Roles of the actor looking at the net: a transition is drawn enabled
    /// when it may fire for them. Default: every role ([`RoleSet::All`]).
    pub roles: RoleSet,
    /// Write each node's label (its id when the label is empty). Default true.
    pub show_labels: bool,
    /// Write each node's id above it. Default false.
    pub show_ids: bool,
    /// Id of a transition to emphasise (class `pc-highlight`). Default none.
    pub highlight: Option<String>,
    /// Factor applied to the `width` / `height` of the drawing (the viewBox
    /// stays in model units). Values that are not finite and positive count as 1.
    pub scale: f64,
    /// When to lay the net out automatically. Default [`LayoutMode::Auto`].
    pub layout: LayoutMode,
    /// Include the [`DEFAULT_CSS`] `<style>` block. Default true; turn it off
    /// to style the drawing entirely with the app's own CSS.
    pub default_style: bool,
    /// Width / height an automatic layout of a large net aims at (the
    /// viewport's), clamped to 1:3 .. 3:1. Default [`TARGET_ASPECT`].
    pub aspect: f64,
    /// How many keys each keyed place holds (place id -> keys), written
    /// next to its total; a keyed place not listed shows its total alone.
    pub keys: std::collections::BTreeMap<String, u64>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            roles: RoleSet::All,
            show_labels: true,
            show_ids: false,
            highlight: None,
            scale: 1.0,
            layout: LayoutMode::Auto,
            default_style: true,
            aspect: TARGET_ASPECT,
            keys: Default::default(),
        }
    }
}

impl RenderOptions {
    /// The defaults: every role, labels shown, ids hidden, scale 1.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets how many keys keyed place `place` holds (drawn with its total).
    pub fn keys(mut self, place: impl Into<String>, keys: u64) -> Self {
        self.keys.insert(place.into(), keys);
        self
    }
    /// Sets the roles used to decide which transitions are enabled.
    pub fn roles(mut self, roles: RoleSet) -> Self {
        self.roles = roles;
        self
    }
    /// Shows or hides labels.
    pub fn show_labels(mut self, on: bool) -> Self {
        self.show_labels = on;
        self
    }
    /// Shows or hides ids.
    pub fn show_ids(mut self, on: bool) -> Self {
        self.show_ids = on;
        self
    }
    /// Emphasises the transition with this id.
    pub fn highlight(mut self, transition: impl Into<String>) -> Self {
        self.highlight = Some(transition.into());
        self
    }
    /// Scales the drawing's width and height.
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }
    /// Chooses when to lay the net out automatically.
    pub fn layout(mut self, mode: LayoutMode) -> Self {
        self.layout = mode;
        self
    }
    /// Sets the aspect ratio (width / height) a large automatic layout aims at.
    pub fn aspect(mut self, aspect: f64) -> Self {
        self.aspect = aspect;
        self
    }
    /// Includes or leaves out the default `<style>` block.
    pub fn default_style(mut self, on: bool) -> Self {
        self.default_style = on;
        self
    }
}

/// Draws `model` in `marking` as a standalone SVG document.
///
/// A marking of the wrong length is drawn as far as it goes (missing places
/// show 0 tokens) with every transition disabled; no model or marking makes
/// this panic.
pub fn render_svg(model: &Model, marking: &Marking, options: &RenderOptions) -> String {
    let (positions, routes) = positions(model, options.layout, options.aspect);
    draw::draw(model, marking, options, &positions, routes.as_deref())
}

/// Whether [`LayoutMode::Auto`] lays this net out: it has at least two nodes
/// and more than a quarter of them sit exactly on another node's position
/// (files without graphics put every node at 0,0).
pub fn needs_layout(model: &Model) -> bool {
    let coords = model
        .places()
        .iter()
        .map(|p| (p.x, p.y))
        .chain(model.transitions().iter().map(|t| (t.x, t.y)));
    let n = model.places().len() + model.transitions().len();
    if n < 2 {
        return false;
    }
    let mut seen = HashSet::with_capacity(n);
    let overlapping = coords.filter(|c| !seen.insert(*c)).count();
    overlapping * 4 > n
}

/// Positions used for drawing (places first, then transitions) and, for an
/// automatic layout, the arcs' routes (which replace the file's bend points).
fn positions(model: &Model, mode: LayoutMode, aspect: f64) -> (Vec<Pt>, Option<Vec<Vec<Pt>>>) {
    let auto = match mode {
        LayoutMode::Auto => needs_layout(model),
        LayoutMode::Always => true,
        LayoutMode::Never => false,
    };
    let pt = |(x, y): (i32, i32)| Pt::new(f64::from(x), f64::from(y));
    if auto {
        let routed = layout_routed_for(model, aspect);
        let routes = routed
            .arcs
            .iter()
            .map(|r| r.iter().map(|p| pt((p.x, p.y))).collect())
            .collect();
        (routed.positions.into_iter().map(pt).collect(), Some(routes))
    } else {
        let places = model.places().iter().map(|p| (p.x, p.y));
        let transitions = model.transitions().iter().map(|t| (t.x, t.y));
        (places.chain(transitions).map(pt).collect(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        // In the net's name (the `<title>` of the frame) as everywhere else:
        // replaced, and markup escaped once by the one rule.
        let model = Model::new(crate::model::ModelData {
            name: "a\u{1}b\tc\u{ffff} <&>\"'".into(),
            ..Default::default()
        })
        .unwrap();
        let svg = render_svg(&model, &model.initial_marking(), &RenderOptions::new());
        assert!(
            svg.contains("<title>a\u{fffd}b\tc\u{fffd} &lt;&amp;&gt;&quot;&apos;</title>"),
            "{svg}"
        );
    }
}
