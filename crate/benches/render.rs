//! Rendering benchmarks, each beside a plain alternative measured in the same run:
//!
//! - `render_1000/render_svg`: `render::render_svg` of a generated 1,000-node
//!   net with positions (500 places, 500 transitions, ~1,500 arcs), against
//!   two alternatives: `render_1000/naive_format`, the same drawing (same
//!   elements, attributes, clipping and escaping) written with `format!` into
//!   one `String`, and `render_1000/svg_crate_elements`, every element built
//!   as an `svg` crate node (how the renderer first worked).
//!   `render_1000/render_svg_with_auto_layout` renders the same kind of net
//!   without positions, so the layout is part of the time.
//! - `layout_2000/layout_routed` and `layout_2000/render_svg_laid_out`: the
//!   routed layout of a 2,000-node net without positions, and the drawing
//!   of that net once laid out (issue 15's targets: 200 ms and 20 ms in wasm).
//! - `layout_200/layered`: `render::layout` of a 200-node net without
//!   positions, against `layout_200/grid`: placing nodes on a square grid in
//!   id order (no layering, no crossing reduction).
//!
//! Run: `cargo bench --bench render -- --warm-up-time 1 --measurement-time 3`

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
#[path = "nets.rs"]
mod nets;
use nets::generated;
use petrichain::render::{layout, render_svg, RenderOptions, DEFAULT_CSS};
use petrichain::{ArcKind, Marking, Model, RoleSet};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The plain alternative: the same drawing by string formatting.
fn naive_svg(model: &Model, marking: &Marking) -> String {
    let np = model.places().len();
    let mut enabled = vec![false; model.transitions().len()];
    for t in model.enabled(marking, &RoleSet::All) {
        enabled[t] = true;
    }
    let pos = |id: &str| -> (f64, f64, bool) {
        match model.place_index(id) {
            Some(i) => {
                let p = &model.places()[i];
                (p.x as f64, p.y as f64, true)
            }
            None => {
                let t = &model.transitions()[model.transition_index(id).unwrap_or(0)];
                let _ = np;
                (t.x as f64, t.y as f64, false)
            }
        }
    };
    let clip = |(cx, cy, circle): (f64, f64, bool), (tx, ty): (f64, f64)| {
        let (dx, dy) = (tx - cx, ty - cy);
        let len = dx.hypot(dy);
        if len == 0.0 {
            return (cx, cy);
        }
        let t = if circle {
            16.0 / len
        } else {
            (15.0 / dx.abs()).min(15.0 / dy.abs())
        };
        (cx + dx * t.min(1.0), cy + dy * t.min(1.0))
    };
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut body = String::with_capacity(512 * (model.arcs().len() + np));
    body.push_str("<g class=\"pc-arcs\">");
    for (i, a) in model.arcs().iter().enumerate() {
        let (s, t) = (pos(&a.source), pos(&a.target));
        let start = clip(s, (t.0, t.1));
        let end = clip(t, (s.0, s.1));
        let marker = match a.kind {
            ArcKind::Normal => "pc-arrow",
            ArcKind::Inhibitor => "pc-inhibitor",
            ArcKind::Read => "pc-arrow-read",
            ArcKind::Reset => "pc-arrow-reset",
        };
        let _ = write!(
            body,
            "<g class=\"pc-arc pc-arc-{k}\" data-arc=\"{i}\" data-kind=\"{k}\" data-source=\"{s}\" data-target=\"{t}\" data-weight=\"{w}\"><title>{s} \u{2192} {t} (weight {w})</title><path class=\"pc-arc-line\" d=\"M{:.2},{:.2}L{:.2},{:.2}\" marker-end=\"url(#{marker})\"/>",
            start.0, start.1, end.0, end.1,
            k = a.kind.as_str(), s = esc(&a.source), t = esc(&a.target), w = a.weight
        );
        if a.weight > 1 {
            let _ = write!(
                body,
                "<text class=\"pc-weight\" text-anchor=\"middle\" x=\"{:.2}\" y=\"{:.2}\">{}</text>",
                (start.0 + end.0) / 2.0,
                (start.1 + end.1) / 2.0 + 9.0,
                a.weight
            );
        }
        body.push_str("</g>");
    }
    body.push_str("</g><g class=\"pc-places\">");
    for (i, p) in model.places().iter().enumerate() {
        let n = marking.0.get(i).copied().unwrap_or(0);
        let (x, y) = (p.x as f64, p.y as f64);
        x0 = x0.min(x - 30.0);
        y0 = y0.min(y - 20.0);
        x1 = x1.max(x + 30.0);
        y1 = y1.max(y + 35.0);
        let (id, label) = (esc(&p.id), esc(&p.label));
        let _ = write!(
            body,
            "<g class=\"pc-place\" data-place=\"{id}\" data-tokens=\"{n}\"><title>{label} ({id}): {n} tokens</title><circle class=\"pc-place-shape\" cx=\"{x}\" cy=\"{y}\" r=\"16\"/>"
        );
        if n <= 5 {
            for k in 0..n {
                let _ = write!(
                    body,
                    "<circle class=\"pc-token\" cx=\"{}\" cy=\"{}\" r=\"3\"/>",
                    x + (k as f64 - 2.0) * 3.0,
                    y
                );
            }
        } else {
            let _ = write!(body, "<text class=\"pc-tokens\" dy=\"0.35em\" font-size=\"12\" text-anchor=\"middle\" x=\"{x}\" y=\"{y}\">{n}</text>");
        }
        if p.capacity > 0 {
            let _ = write!(
                body,
                "<text class=\"pc-capacity\" x=\"{}\" y=\"{}\">max {}</text>",
                x + 18.0,
                y - 12.0,
                p.capacity
            );
        }
        let _ = write!(
            body,
            "<text class=\"pc-label\" text-anchor=\"middle\" x=\"{x}\" y=\"{}\">{label}</text></g>",
            y + 29.0
        );
    }
    body.push_str("</g><g class=\"pc-transitions\">");
    for (i, t) in model.transitions().iter().enumerate() {
        let (x, y) = (t.x as f64, t.y as f64);
        let on = enabled[i];
        let (id, label) = (esc(&t.id), esc(&t.label));
        let _ = write!(
            body,
            "<g class=\"pc-transition {}\" data-enabled=\"{on}\" data-transition=\"{id}\"><title>{label} ({id}): {}</title><rect class=\"pc-transition-shape\" height=\"30\" width=\"30\" x=\"{}\" y=\"{}\"/><text class=\"pc-label\" text-anchor=\"middle\" x=\"{x}\" y=\"{}\">{label}</text></g>",
            if on { "pc-enabled" } else { "pc-disabled" },
            if on { "enabled" } else { "disabled" },
            x - 15.0,
            y - 15.0,
            y + 28.0
        );
    }
    body.push_str("</g>");
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<svg class=\"pc-net\" viewBox=\"{x0} {y0} {} {}\" xmlns=\"http://www.w3.org/2000/svg\"><style>{DEFAULT_CSS}</style><defs>{MARKER}</defs>",
        x1 - x0,
        y1 - y0,
    );
    out.push_str(&body);
    out.push_str("</svg>");
    out
}

const MARKER: &str = "<marker id=\"pc-arrow\" markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" orient=\"auto\" refX=\"10\" refY=\"5\" viewBox=\"0 0 10 10\"><path class=\"pc-arrowhead\" d=\"M0,0L10,5L0,10z\"/></marker>";

/// The drawing built entirely from `svg` crate elements (how `render_svg`
/// first worked): same elements and attributes, serialised by the crate.
fn svg_crate_svg(model: &Model, marking: &Marking) -> String {
    use svg::node::element::{Circle, Group, Path, Rectangle, Style, Text, Title};
    let mut enabled = vec![false; model.transitions().len()];
    for t in model.enabled(marking, &RoleSet::All) {
        enabled[t] = true;
    }
    let xy = |id: &str| -> (f64, f64) {
        match model.place_index(id) {
            Some(i) => (model.places()[i].x as f64, model.places()[i].y as f64),
            None => {
                let t = &model.transitions()[model.transition_index(id).unwrap_or(0)];
                (t.x as f64, t.y as f64)
            }
        }
    };
    let mut arcs = Group::new().set("class", "pc-arcs");
    for (i, a) in model.arcs().iter().enumerate() {
        let (s, t) = (xy(&a.source), xy(&a.target));
        let mut g = Group::new()
            .set("class", format!("pc-arc pc-arc-{}", a.kind.as_str()))
            .set("data-arc", i)
            .set("data-source", a.source.clone())
            .set("data-target", a.target.clone())
            .set("data-kind", a.kind.as_str())
            .set("data-weight", a.weight)
            .add(Title::new(format!(
                "{} \u{2192} {} (weight {})",
                a.source, a.target, a.weight
            )))
            .add(
                Path::new()
                    .set("class", "pc-arc-line")
                    .set("d", format!("M{:.2},{:.2}L{:.2},{:.2}", s.0, s.1, t.0, t.1))
                    .set("marker-end", "url(#pc-arrow)"),
            );
        if a.weight > 1 {
            g = g.add(
                Text::new(a.weight.to_string())
                    .set("class", "pc-weight")
                    .set("x", (s.0 + t.0) / 2.0)
                    .set("y", (s.1 + t.1) / 2.0 + 9.0)
                    .set("text-anchor", "middle"),
            );
        }
        arcs = arcs.add(g);
    }
    let mut places = Group::new().set("class", "pc-places");
    for (i, p) in model.places().iter().enumerate() {
        let n = marking.0.get(i).copied().unwrap_or(0);
        let (x, y) = (p.x as f64, p.y as f64);
        let mut g = Group::new()
            .set("class", "pc-place")
            .set("data-place", p.id.clone())
            .set("data-tokens", n)
            .add(Title::new(format!("{} ({}): {n} tokens", p.label, p.id)))
            .add(
                Circle::new()
                    .set("class", "pc-place-shape")
                    .set("cx", x)
                    .set("cy", y)
                    .set("r", 16),
            );
        if n <= 5 {
            for k in 0..n {
                g = g.add(
                    Circle::new()
                        .set("class", "pc-token")
                        .set("cx", x + (k as f64 - 2.0) * 3.0)
                        .set("cy", y)
                        .set("r", 3),
                );
            }
        } else {
            g = g.add(
                Text::new(n.to_string())
                    .set("class", "pc-tokens")
                    .set("x", x)
                    .set("y", y),
            );
        }
        if p.capacity > 0 {
            g = g.add(Text::new(format!("max {}", p.capacity)).set("class", "pc-capacity"));
        }
        g = g.add(
            Text::new(p.label.clone())
                .set("class", "pc-label")
                .set("x", x)
                .set("y", y + 29.0)
                .set("text-anchor", "middle"),
        );
        places = places.add(g);
    }
    let mut transitions = Group::new().set("class", "pc-transitions");
    for (i, t) in model.transitions().iter().enumerate() {
        let (x, y) = (t.x as f64, t.y as f64);
        transitions = transitions.add(
            Group::new()
                .set(
                    "class",
                    if enabled[i] {
                        "pc-transition pc-enabled"
                    } else {
                        "pc-transition pc-disabled"
                    },
                )
                .set("data-transition", t.id.clone())
                .set("data-enabled", enabled[i])
                .add(Title::new(format!("{} ({})", t.label, t.id)))
                .add(
                    Rectangle::new()
                        .set("class", "pc-transition-shape")
                        .set("x", x - 15.0)
                        .set("y", y - 15.0)
                        .set("width", 30)
                        .set("height", 30),
                )
                .add(
                    Text::new(t.label.clone())
                        .set("class", "pc-label")
                        .set("x", x)
                        .set("y", y + 28.0)
                        .set("text-anchor", "middle"),
                ),
        );
    }
    svg::Document::new()
        .set("viewBox", "0 0 2600 2600")
        .add(Style::new(DEFAULT_CSS))
        .add(arcs)
        .add(places)
        .add(transitions)
        .to_string()
}

/// Grid placement in id order: the plain alternative to the layered layout.
fn grid_layout(model: &Model) -> Vec<(i32, i32)> {
    let n = model.places().len() + model.transitions().len();
    let side = (n as f64).sqrt().ceil().max(1.0) as usize;
    (0..n)
        .map(|i| ((i % side) as i32 * 100 + 50, (i / side) as i32 * 70 + 50))
        .collect()
}

fn bench(c: &mut Criterion) {
    let model = generated(1000, true);
    let marking = model.initial_marking();
    let options = RenderOptions::new();
    eprintln!(
        "render_1000: {} places, {} transitions, {} arcs; render_svg {} bytes, naive {} bytes, svg crate {} bytes",
        model.places().len(),
        model.transitions().len(),
        model.arcs().len(),
        render_svg(&model, &marking, &options).len(),
        naive_svg(&model, &marking).len(),
        svg_crate_svg(&model, &marking).len()
    );
    let mut g = c.benchmark_group("render_1000");
    g.sample_size(20);
    g.bench_function("render_svg", |b| {
        b.iter(|| render_svg(black_box(&model), black_box(&marking), &options))
    });
    g.bench_function("naive_format", |b| {
        b.iter(|| naive_svg(black_box(&model), black_box(&marking)))
    });
    g.bench_function("svg_crate_elements", |b| {
        b.iter(|| svg_crate_svg(black_box(&model), black_box(&marking)))
    });
    let unplaced_1000 = generated(1000, false);
    let unplaced_marking = unplaced_1000.initial_marking();
    g.bench_function("render_svg_with_auto_layout", |b| {
        b.iter(|| render_svg(black_box(&unplaced_1000), &unplaced_marking, &options))
    });
    g.finish();

    let unplaced = generated(200, false);
    let mut g = c.benchmark_group("layout_200");
    g.sample_size(20);
    g.bench_function("layered", |b| b.iter(|| layout(black_box(&unplaced))));
    g.bench_function("grid", |b| b.iter(|| grid_layout(black_box(&unplaced))));
    g.finish();

    // Issue 15: a 2,000-node net without positions (layout, then drawing).
    let unplaced = generated(2000, false);
    let placed = nets::laid_out(&unplaced);
    let marking = unplaced.initial_marking();
    let mut g = c.benchmark_group("layout_2000");
    g.sample_size(10);
    g.bench_function("layout_routed", |b| {
        b.iter(|| petrichain::render::layout_routed(black_box(&unplaced)))
    });
    g.bench_function("render_svg_laid_out", |b| {
        b.iter(|| render_svg(black_box(&placed), &marking, &options))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
