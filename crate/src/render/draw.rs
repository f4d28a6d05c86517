//! Drawing a net's elements with the `svg` crate: arcs first (underneath),
//! then places, then transitions, each in model order.

use std::collections::HashSet;

use svg::node::element::{Circle, Element, Group, Path, Rectangle, Style, Title};
use svg::node::{Node, Text as TextNode};
use svg::Document;

use super::geometry::{clip, midpoint, num, Bounds, Pt, Shape, PLACE_RADIUS, TRANSITION_HALF};
use super::style::{self, DEFAULT_CSS};
use super::{clean, RenderOptions};
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
/// Largest accepted scale factor.
const MAX_SCALE: f64 = 1000.0;

/// Builds the whole document for `model` in `marking`, nodes at `pos`
/// (places first, then transitions).
pub fn draw(model: &Model, marking: &Marking, options: &RenderOptions, pos: &[Pt]) -> String {
    let mut enabled = vec![false; model.transitions().len()];
    for t in model.enabled(marking, &options.roles) {
        if let Some(e) = enabled.get_mut(t) {
            *e = true;
        }
    }
    let mut bounds = Bounds::empty();
    let arcs = arcs(model, pos, &mut bounds);
    let places = places(model, marking, options, pos, &mut bounds);
    let transitions = transitions(model, &enabled, options, pos, &mut bounds);
    if bounds.is_empty() {
        bounds.add(Pt::new(0.0, 0.0), 0.0, 0.0);
    }
    let (x, y) = (bounds.min.x - MARGIN, bounds.min.y - MARGIN);
    let w = bounds.max.x - bounds.min.x + 2.0 * MARGIN;
    let h = bounds.max.y - bounds.min.y + 2.0 * MARGIN;
    let scale = if options.scale.is_finite() && options.scale > 0.0 {
        options.scale.min(MAX_SCALE)
    } else {
        1.0
    };
    let mut doc = Document::new()
        .set(
            "viewBox",
            format!("{} {} {} {}", num(x), num(y), num(w), num(h)),
        )
        .set("width", num(w * scale))
        .set("height", num(h * scale))
        .set("class", "pc-net")
        .set("data-model", model.id());
    if !model.name().is_empty() {
        doc = doc.add(Title::new(clean(model.name())));
    }
    if options.default_style {
        doc = doc.add(Style::new(DEFAULT_CSS));
    }
    doc.add(style::markers())
        .add(arcs)
        .add(places)
        .add(transitions)
        .to_string()
}

fn arcs(model: &Model, pos: &[Pt], bounds: &mut Bounds) -> Group {
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
    let mut group = Group::new().set("class", "pc-arcs");
    for (i, arc) in model.arcs().iter().enumerate() {
        let (Some((mut from, from_shape)), Some((mut to, to_shape))) =
            (node(&arc.source), node(&arc.target))
        else {
            continue;
        };
        let bends: Vec<Pt> = arc
            .points
            .iter()
            .map(|p| Pt::new(f64::from(p.x), f64::from(p.y)))
            .collect();
        if bends.is_empty() && pairs.contains(&(arc.target.as_str(), arc.source.as_str())) {
            // Keep an arc and its reverse twin apart instead of on one line.
            let shift = to.minus(from).normal().times(TWIN_OFFSET);
            from = from.plus(shift);
            to = to.plus(shift);
        }
        let start = clip(from_shape, from, bends.first().copied().unwrap_or(to));
        let end = clip(to_shape, to, bends.last().copied().unwrap_or(from));
        let mut points = Vec::with_capacity(bends.len() + 2);
        points.push(start);
        points.extend(bends);
        points.push(end);
        let mut d = String::with_capacity(points.len() * 16);
        for (k, p) in points.iter().enumerate() {
            d.push(if k == 0 { 'M' } else { 'L' });
            d.push_str(&num(p.x));
            d.push(',');
            d.push_str(&num(p.y));
        }
        for p in &points {
            bounds.add(*p, 0.0, 0.0);
        }
        let (source, target) = (clean(&arc.source), clean(&arc.target));
        let (marker, what) = match arc.kind {
            ArcKind::Normal => (style::ARROW, format!("weight {}", arc.weight)),
            ArcKind::Inhibitor => (
                style::INHIBITOR,
                format!("inhibitor: blocks at {} tokens", arc.weight),
            ),
            ArcKind::Read => (style::ARROW_READ, format!("read: needs {}", arc.weight)),
            ArcKind::Reset => (style::ARROW_RESET, format!("reset: empties {source}")),
        };
        let mut g = Group::new()
            .set("class", format!("pc-arc pc-arc-{}", arc.kind.as_str()))
            .set("data-arc", i)
            .set("data-source", source.clone())
            .set("data-target", target.clone())
            .set("data-kind", arc.kind.as_str())
            .set("data-weight", arc.weight)
            .add(Title::new(format!("{source} \u{2192} {target} ({what})")))
            .add(
                Path::new()
                    .set("class", "pc-arc-line")
                    .set("d", d)
                    .set("marker-end", format!("url(#{marker})")),
            );
        if arc.weight > 1 {
            let (mid, dir) = midpoint(&points);
            let at = mid.plus(dir.normal().times(9.0));
            g = g.add(text(&arc.weight.to_string(), "pc-weight", at, bounds));
        }
        group = group.add(g);
    }
    group
}

fn places(
    model: &Model,
    marking: &Marking,
    options: &RenderOptions,
    pos: &[Pt],
    bounds: &mut Bounds,
) -> Group {
    let mut group = Group::new().set("class", "pc-places");
    for (i, place) in model.places().iter().enumerate() {
        let Some(&c) = pos.get(i) else { continue };
        let tokens = marking.as_slice().get(i).copied().unwrap_or(0);
        let (id, label) = (clean(&place.id), clean(&place.label));
        let mut title = named(&id, &label);
        title.push_str(&format!(
            ": {tokens} token{}",
            if tokens == 1 { "" } else { "s" }
        ));
        if place.capacity > 0 {
            title.push_str(&format!(", capacity {}", place.capacity));
        }
        let mut g = Group::new()
            .set("class", "pc-place")
            .set("data-place", id.clone())
            .set("data-tokens", tokens);
        if place.capacity > 0 {
            g = g.set("data-capacity", place.capacity);
        }
        g = g.add(Title::new(title)).add(
            Circle::new()
                .set("class", "pc-place-shape")
                .set("cx", num(c.x))
                .set("cy", num(c.y))
                .set("r", num(PLACE_RADIUS)),
        );
        bounds.add(c, PLACE_RADIUS, PLACE_RADIUS);
        g = add_tokens(g, c, tokens);
        if place.capacity > 0 {
            let at = Pt::new(c.x + PLACE_RADIUS + 2.0, c.y - PLACE_RADIUS + 4.0);
            let cap = format!("max {}", place.capacity);
            let width = cap.len() as f64 * CHAR_WIDTH * 0.8;
            bounds.add(Pt::new(at.x + width / 2.0, at.y - 3.0), width / 2.0, 6.0);
            g = g.add(text_element(&cap, "pc-capacity", at));
        }
        g = add_names(g, options, &id, &label, c, PLACE_RADIUS, bounds);
        group = group.add(g);
    }
    group
}

fn transitions(
    model: &Model,
    enabled: &[bool],
    options: &RenderOptions,
    pos: &[Pt],
    bounds: &mut Bounds,
) -> Group {
    let np = model.places().len();
    let mut group = Group::new().set("class", "pc-transitions");
    for (i, tr) in model.transitions().iter().enumerate() {
        let Some(&c) = pos.get(np + i) else { continue };
        let on = enabled.get(i).copied().unwrap_or(false);
        let (id, label) = (clean(&tr.id), clean(&tr.label));
        let mut class = String::from(if on {
            "pc-transition pc-enabled"
        } else {
            "pc-transition pc-disabled"
        });
        if options.highlight.as_deref() == Some(tr.id.as_str()) {
            class.push_str(" pc-highlight");
        }
        let mut title = named(&id, &label);
        title.push_str(if on { ": enabled" } else { ": disabled" });
        let roles = clean(&tr.roles.join(" "));
        if !roles.is_empty() {
            title.push_str(&format!(", roles: {}", clean(&tr.roles.join(", "))));
        }
        let mut g = Group::new()
            .set("class", class)
            .set("data-transition", id.clone())
            .set("data-enabled", on);
        if !roles.is_empty() {
            g = g.set("data-roles", roles);
        }
        let side = 2.0 * TRANSITION_HALF;
        g = g.add(Title::new(title)).add(
            Rectangle::new()
                .set("class", "pc-transition-shape")
                .set("x", num(c.x - TRANSITION_HALF))
                .set("y", num(c.y - TRANSITION_HALF))
                .set("width", num(side))
                .set("height", num(side)),
        );
        bounds.add(c, TRANSITION_HALF, TRANSITION_HALF);
        g = add_names(g, options, &id, &label, c, TRANSITION_HALF, bounds);
        group = group.add(g);
    }
    group
}

/// "label (id)", or just the id when there is no label.
fn named(id: &str, label: &str) -> String {
    if label.is_empty() || label == id {
        id.to_string()
    } else {
        format!("{label} ({id})")
    }
}

/// Dots for a few tokens, a number beyond.
fn add_tokens(mut g: Group, c: Pt, tokens: u64) -> Group {
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
            g = g.add(
                Circle::new()
                    .set("class", "pc-token")
                    .set("cx", num(c.x + dx))
                    .set("cy", num(c.y + dy))
                    .set("r", num(DOT_RADIUS)),
            );
        }
        g
    } else {
        let digits = tokens.to_string();
        let size = match digits.len() {
            0..=3 => 12,
            4..=5 => 9,
            _ => 6,
        };
        let mut t = text_element(&digits, "pc-tokens", c);
        t.assign("dy", "0.35em");
        t.assign("font-size", size);
        t.assign("text-anchor", "middle");
        g.add(t)
    }
}

/// The label below the node and the id above it, as the options ask.
fn add_names(
    mut g: Group,
    options: &RenderOptions,
    id: &str,
    label: &str,
    c: Pt,
    half: f64,
    bounds: &mut Bounds,
) -> Group {
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
        g = g.add(text(
            shown,
            "pc-label",
            Pt::new(c.x, c.y + half + 13.0),
            bounds,
        ));
    }
    if options.show_ids {
        g = g.add(text(id, "pc-id", Pt::new(c.x, c.y - half - 5.0), bounds));
    }
    g
}

/// A centred text whose baseline is at `at`, counted in `bounds`.
fn text(content: &str, class: &str, at: Pt, bounds: &mut Bounds) -> Element {
    let half_width = content.chars().count() as f64 * CHAR_WIDTH / 2.0;
    bounds.add(Pt::new(at.x, at.y - 4.0), half_width, 8.0);
    let mut t = text_element(content, class, at);
    t.assign("text-anchor", "middle");
    t
}

/// A `<text>` holding exactly `content` (escaped by the `svg` crate). Built
/// as a plain element: the crate's `Text` element pads its content with
/// line breaks, which would leak into `textContent`.
fn text_element(content: &str, class: &str, at: Pt) -> Element {
    let mut t = Element::new("text");
    t.assign("class", class);
    t.assign("x", num(at.x));
    t.assign("y", num(at.y));
    t.append(TextNode::new(content));
    t
}
