//! Drawing a net: arcs first (underneath), then places, then transitions,
//! each in model order, then the frame around them (root, title, style,
//! marker definitions), all with the one [`Writer`](super::xml::Writer).

use std::collections::HashSet;

use super::geometry::{
    clip, exit, inside, midpoint, Bounds, Pt, Shape, PLACE_RADIUS, TRANSITION_HALF,
};
use super::style::{self, DEFAULT_CSS};
use super::xml::{push_num, Writer};
use super::RenderOptions;
use crate::engine::Marking;
use crate::model::{ArcKind, Model};

/// Space around the drawing inside the viewBox.
const MARGIN: f64 = 20.0;
/// Estimated advance of one label character, to fit labels in the viewBox.
const CHAR_WIDTH: f64 = 6.5;
/// Up to this many tokens are drawn as dots; beyond, as a number.
const MAX_DOTS: u64 = 5;
/// Radius of a token dot.
const DOT_RADIUS: f64 = 3.0;
/// Distance between an arc and its reverse twin (p -> t and t -> p).
const TWIN_OFFSET: f64 = 4.0;
/// Distance of an arc's weight from the arc's middle.
const WEIGHT_OFFSET: f64 = 9.0;
/// Largest accepted scale factor.
const MAX_SCALE: f64 = 1000.0;

/// Builds the whole document for `model` in `marking`, nodes at `pos`
/// (places first, then transitions).
pub fn draw(
    model: &Model,
    marking: &Marking,
    options: &RenderOptions,
    pos: &[Pt],
    routes: Option<&[Vec<Pt>]>,
) -> String {
    let mut enabled = vec![false; model.transitions().len()];
    for t in model.enabled(marking, &options.roles) {
        if let Some(e) = enabled.get_mut(t) {
            *e = true;
        }
    }
    let elements = model.arcs().len() + model.places().len() + model.transitions().len();
    let mut w = Writer::with_capacity(400 * elements + 64);
    let mut bounds = Bounds::empty();
    arcs(&mut w, model, pos, routes, &mut bounds);
    places(&mut w, model, marking, options, pos, &mut bounds);
    transitions(&mut w, model, &enabled, options, pos, &mut bounds);
    if bounds.is_empty() {
        bounds.add(Pt::new(0.0, 0.0), 0.0, 0.0);
    }
    let (x, y) = (bounds.min.x - MARGIN, bounds.min.y - MARGIN);
    let width = bounds.max.x - bounds.min.x + 2.0 * MARGIN;
    let height = bounds.max.y - bounds.min.y + 2.0 * MARGIN;
    let scale = if options.scale.is_finite() && options.scale > 0.0 {
        options.scale.min(MAX_SCALE)
    } else {
        1.0
    };
    let mut view_box = String::with_capacity(32);
    for (i, v) in [x, y, width, height].into_iter().enumerate() {
        if i > 0 {
            view_box.push(' ');
        }
        push_num(&mut view_box, v);
    }
    let (mut w_attr, mut h_attr) = (String::new(), String::new());
    push_num(&mut w_attr, width * scale);
    push_num(&mut h_attr, height * scale);
    let body = w.finish();
    // The frame, byte for byte as the `svg` crate wrote it before (root
    // attributes in name order, a line break before each child).
    let mut f = Writer::with_capacity(body.len() + DEFAULT_CSS.len() + 1024);
    f.open("svg")
        .attr("class", "pc-net")
        .attr("data-model", model.id())
        .attr("height", &h_attr)
        .attr("viewBox", &view_box)
        .attr("width", &w_attr)
        .attr("xmlns", "http://www.w3.org/2000/svg")
        .start()
        .newline();
    if !model.name().is_empty() {
        f.open("title").start().text(model.name()).close("title");
    }
    if options.default_style {
        f.open("style")
            .start()
            .newline()
            .raw(DEFAULT_CSS)
            .newline()
            .close("style");
    }
    style::markers(&mut f);
    let mut out = f.finish();
    out.push_str(&body);
    out.push_str("\n</svg>\n");
    out
}

/// Every arc, through its bend points: the file's, or the layout's `routes`.
fn arcs(
    w: &mut Writer,
    model: &Model,
    pos: &[Pt],
    routes: Option<&[Vec<Pt>]>,
    bounds: &mut Bounds,
) {
    let np = model.places().len();
    let node = |id: &str| -> Option<(Pt, Shape)> {
        if let Some(i) = model.place_index(id) {
            return Some((*pos.get(i)?, Shape::Circle(PLACE_RADIUS)));
        }
        let t = model.transition_index(id)?;
        Some((*pos.get(np + t)?, Shape::Square(TRANSITION_HALF)))
    };
    let pairs: HashSet<(&str, &str)> = model
        .arcs()
        .iter()
        .map(|a| (a.source.as_str(), a.target.as_str()))
        .collect();
    let mut points: Vec<Pt> = Vec::new();
    let mut d = String::new();
    let mut title = String::new();
    let mut file_points: Vec<Pt> = Vec::new();
    w.open("g").attr("class", "pc-arcs").start().newline();
    for (i, arc) in model.arcs().iter().enumerate() {
        let bends: &[Pt] = match routes.and_then(|r| r.get(i)) {
            Some(route) => route,
            None => {
                file_points.clear();
                file_points.extend(
                    arc.points
                        .iter()
                        .map(|p| Pt::new(f64::from(p.x), f64::from(p.y))),
                );
                &file_points
            }
        };
        let (Some((from, from_shape)), Some((to, to_shape))) =
            (node(&arc.source), node(&arc.target))
        else {
            continue;
        };
        points.clear();
        if bends.is_empty() && pairs.contains(&(arc.target.as_str(), arc.source.as_str())) {
            // Keep an arc and its reverse twin apart instead of on one line,
            // still ending on the nodes' true borders.
            let shift = to.minus(from).normal().times(TWIN_OFFSET);
            let (a, b) = (from.plus(shift), to.plus(shift));
            points.push(exit(from_shape, from, a, b));
            points.push(exit(to_shape, to, b, a));
        } else {
            let bend = |k: usize| bends[k];
            // Whatever the file's points say, the arc leaves the source at its
            // border and ends at the target's border: bend points inside (or
            // on) either node are dropped, so the arrowhead is never hidden.
            let mut lo = 0;
            let mut hi = bends.len();
            while lo < hi && inside(from_shape, from, bend(lo)) {
                lo += 1;
            }
            while hi > lo && inside(to_shape, to, bend(hi - 1)) {
                hi -= 1;
            }
            let first = if lo == hi { to } else { bend(lo) };
            let last = if lo == hi { from } else { bend(hi - 1) };
            points.push(clip(from_shape, from, first));
            points.extend((lo..hi).map(bend));
            points.push(clip(to_shape, to, last));
        }
        d.clear();
        for (k, p) in points.iter().enumerate() {
            d.push(if k == 0 { 'M' } else { 'L' });
            push_num(&mut d, p.x);
            d.push(',');
            push_num(&mut d, p.y);
            bounds.add(*p, 0.0, 0.0);
        }
        let (marker, class) = match arc.kind {
            ArcKind::Normal => ("url(#pc-arrow)", "pc-arc pc-arc-normal"),
            ArcKind::Inhibitor => ("url(#pc-inhibitor)", "pc-arc pc-arc-inhibitor"),
            ArcKind::Read => ("url(#pc-arrow-read)", "pc-arc pc-arc-read"),
            ArcKind::Reset => ("url(#pc-arrow-reset)", "pc-arc pc-arc-reset"),
        };
        w.open("g")
            .attr("class", class)
            .attr_u64("data-arc", i as u64)
            .attr("data-source", &arc.source)
            .attr("data-target", &arc.target)
            .attr("data-kind", arc.kind.as_str())
            .attr_u64("data-weight", arc.weight)
            .start();
        title.clear();
        title.push_str(&arc.source);
        title.push_str(" \u{2192} ");
        title.push_str(&arc.target);
        title.push_str(&match arc.kind {
            ArcKind::Normal => format!(" (weight {})", arc.weight),
            ArcKind::Inhibitor => format!(
                " (inhibitor: disabled while it holds {} or more)",
                arc.weight
            ),
            ArcKind::Read => format!(" (read: needs {}, consumes none)", arc.weight),
            ArcKind::Reset => format!(" (reset: empties {})", arc.source),
        });
        w.open("title").start().text(&title).close("title");
        w.open("path")
            .attr("class", "pc-arc-line")
            .attr("d", &d)
            .attr("marker-end", marker)
            .empty();
        if arc.weight > 1 {
            let (mid, dir) = midpoint(&points);
            let at = mid.plus(dir.normal().times(WEIGHT_OFFSET));
            text(w, &arc.weight.to_string(), "pc-weight", at, bounds);
        }
        w.close("g");
    }
    w.close("g");
}

fn places(
    w: &mut Writer,
    model: &Model,
    marking: &Marking,
    options: &RenderOptions,
    pos: &[Pt],
    bounds: &mut Bounds,
) {
    w.open("g").attr("class", "pc-places").start().newline();
    for (i, place) in model.places().iter().enumerate() {
        let Some(&c) = pos.get(i) else { continue };
        let tokens = marking.as_slice().get(i).copied().unwrap_or(0);
        w.open("g")
            .attr("class", "pc-place")
            .attr("data-place", &place.id)
            .attr_u64("data-tokens", tokens);
        if place.capacity > 0 {
            w.attr_u64("data-capacity", place.capacity);
        }
        let keys = options.keys.get(&place.id).copied().filter(|_| place.keyed);
        if place.keyed {
            w.attr("data-keyed", "true");
        }
        if let Some(k) = keys {
            w.attr_u64("data-keys", k);
        }
        w.start();
        let mut title = named(&place.id, &place.label);
        if place.keyed {
            title.push_str(" (keyed)");
            if let Some(k) = keys {
                title.push_str(&format!(": {k} key{}", if k == 1 { "" } else { "s" }));
            }
            title.push_str(&format!(
                "{} total {tokens} token{}",
                if keys.is_some() { "," } else { ":" },
                if tokens == 1 { "" } else { "s" }
            ));
        } else {
            title.push_str(&format!(
                ": {tokens} token{}",
                if tokens == 1 { "" } else { "s" }
            ));
        }
        if place.capacity > 0 {
            title.push_str(&format!(", capacity {}", place.capacity));
        }
        w.open("title").start().text(&title).close("title");
        w.open("circle")
            .attr("class", "pc-place-shape")
            .attr_num("cx", c.x)
            .attr_num("cy", c.y)
            .attr_num("r", PLACE_RADIUS)
            .empty();
        bounds.add(c, PLACE_RADIUS, PLACE_RADIUS);
        if place.keyed {
            // A keyed place: an inner ring, its total as a number (never
            // dots: they would read as tokens of one key), its keys below.
            // Styled inline: the default CSS (and every unkeyed drawing)
            // stays as it was.
            w.open("circle")
                .attr("class", "pc-keyed-ring")
                .attr_num("cx", c.x)
                .attr_num("cy", c.y)
                .attr_num("r", PLACE_RADIUS - 4.0)
                .attr("fill", "none")
                .attr("stroke", "#90a4ae")
                .attr("stroke-dasharray", "2 2")
                .empty();
            keyed_total(w, c, tokens);
            if let Some(k) = keys {
                // Bottom right, as the capacity is top right.
                let at = Pt::new(c.x + PLACE_RADIUS + 2.0, c.y + PLACE_RADIUS - 2.0);
                let label = format!("{k} key{}", if k == 1 { "" } else { "s" });
                let width = label.len() as f64 * CHAR_WIDTH * 0.8;
                bounds.add(Pt::new(at.x + width / 2.0, at.y - 3.0), width / 2.0, 6.0);
                w.open("text")
                    .attr("class", "pc-keys")
                    .attr_num("x", at.x)
                    .attr_num("y", at.y)
                    .attr("fill", "#78909c")
                    .attr("font-size", "9")
                    .start()
                    .text(&label)
                    .close("text");
            }
        } else {
            tokens_of(w, c, tokens);
        }
        if place.capacity > 0 {
            let at = Pt::new(c.x + PLACE_RADIUS + 2.0, c.y - PLACE_RADIUS + 4.0);
            let cap = format!("max {}", place.capacity);
            let width = cap.len() as f64 * CHAR_WIDTH * 0.8;
            bounds.add(Pt::new(at.x + width / 2.0, at.y - 3.0), width / 2.0, 6.0);
            w.open("text")
                .attr("class", "pc-capacity")
                .attr_num("x", at.x)
                .attr_num("y", at.y)
                .start()
                .text(&cap)
                .close("text");
        }
        names(w, options, &place.id, &place.label, c, PLACE_RADIUS, bounds);
        w.close("g");
    }
    w.close("g");
}

fn transitions(
    w: &mut Writer,
    model: &Model,
    enabled: &[bool],
    options: &RenderOptions,
    pos: &[Pt],
    bounds: &mut Bounds,
) {
    let np = model.places().len();
    w.open("g")
        .attr("class", "pc-transitions")
        .start()
        .newline();
    for (i, tr) in model.transitions().iter().enumerate() {
        let Some(&c) = pos.get(np + i) else { continue };
        let on = enabled.get(i).copied().unwrap_or(false);
        let highlight = options.highlight.as_deref() == Some(tr.id.as_str());
        let class = match (on, highlight) {
            (true, false) => "pc-transition pc-enabled",
            (false, false) => "pc-transition pc-disabled",
            (true, true) => "pc-transition pc-enabled pc-highlight",
            (false, true) => "pc-transition pc-disabled pc-highlight",
        };
        w.open("g")
            .attr("class", class)
            .attr("data-transition", &tr.id)
            .attr("data-enabled", if on { "true" } else { "false" });
        if !tr.roles.is_empty() {
            w.attr("data-roles", &tr.roles.join(" "));
        }
        w.start();
        let mut title = named(&tr.id, &tr.label);
        title.push_str(if on { ": enabled" } else { ": disabled" });
        if !tr.roles.is_empty() {
            title.push_str(", roles: ");
            title.push_str(&tr.roles.join(", "));
        }
        w.open("title").start().text(&title).close("title");
        let side = 2.0 * TRANSITION_HALF;
        w.open("rect")
            .attr("class", "pc-transition-shape")
            .attr_num("x", c.x - TRANSITION_HALF)
            .attr_num("y", c.y - TRANSITION_HALF)
            .attr_num("width", side)
            .attr_num("height", side)
            .empty();
        bounds.add(c, TRANSITION_HALF, TRANSITION_HALF);
        names(w, options, &tr.id, &tr.label, c, TRANSITION_HALF, bounds);
        w.close("g");
    }
    w.close("g");
}

/// "label (id)", or just the id when there is no label.
fn named(id: &str, label: &str) -> String {
    if label.is_empty() || label == id {
        id.to_string()
    } else {
        format!("{label} ({id})")
    }
}

/// The total of a keyed place, as a number.
fn keyed_total(w: &mut Writer, c: Pt, tokens: u64) {
    w.open("text")
        .attr("class", "pc-tokens")
        .attr_num("x", c.x)
        .attr_num("y", c.y + 4.0)
        .attr("text-anchor", "middle")
        .start()
        .text(&tokens.to_string())
        .close("text");
}

/// Dots for a few tokens, a number beyond.
fn tokens_of(w: &mut Writer, c: Pt, tokens: u64) {
    const OFFSETS: [&[(f64, f64)]; 6] = [
        &[],
        &[(0.0, 0.0)],
        &[(-5.0, 0.0), (5.0, 0.0)],
        &[(0.0, -5.0), (-5.0, 4.0), (5.0, 4.0)],
        &[(-5.0, -5.0), (5.0, -5.0), (-5.0, 5.0), (5.0, 5.0)],
        &[
            (-6.0, -6.0),
            (6.0, -6.0),
            (0.0, 0.0),
            (-6.0, 6.0),
            (6.0, 6.0),
        ],
    ];
    if tokens <= MAX_DOTS {
        for &(dx, dy) in OFFSETS[tokens as usize] {
            w.open("circle")
                .attr("class", "pc-token")
                .attr_num("cx", c.x + dx)
                .attr_num("cy", c.y + dy)
                .attr_num("r", DOT_RADIUS)
                .empty();
        }
    } else {
        let digits = tokens.to_string();
        let size = match digits.len() {
            0..=3 => 12,
            4..=5 => 9,
            _ => 6,
        };
        w.open("text")
            .attr("class", "pc-tokens")
            .attr_num("x", c.x)
            .attr_num("y", c.y)
            .attr("dy", "0.35em")
            .attr_u64("font-size", size)
            .attr("text-anchor", "middle")
            .start()
            .text(&digits)
            .close("text");
    }
}

/// The label below the node and the id above it, as the options ask.
fn names(
    w: &mut Writer,
    options: &RenderOptions,
    id: &str,
    label: &str,
    c: Pt,
    half: f64,
    bounds: &mut Bounds,
) {
    let shown = if !options.show_labels {
        ""
    } else if !label.is_empty() {
        label
    } else if options.show_ids {
        "" // the id is written above already
    } else {
        id
    };
    if !shown.is_empty() {
        text(
            w,
            shown,
            "pc-label",
            Pt::new(c.x, c.y + half + 13.0),
            bounds,
        );
    }
    if options.show_ids {
        text(w, id, "pc-id", Pt::new(c.x, c.y - half - 5.0), bounds);
    }
}

/// A centred text whose baseline is at `at`, counted in `bounds`.
fn text(w: &mut Writer, content: &str, class: &str, at: Pt, bounds: &mut Bounds) {
    let half_width = content.chars().count() as f64 * CHAR_WIDTH / 2.0;
    bounds.add(Pt::new(at.x, at.y - 4.0), half_width, 8.0);
    w.open("text")
        .attr("class", class)
        .attr_num("x", at.x)
        .attr_num("y", at.y)
        .attr("text-anchor", "middle")
        .start()
        .text(content)
        .close("text");
}
