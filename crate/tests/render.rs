//! SVG rendering: pinned snapshots, well-formedness of every JSON corpus net,
//! enabled colouring, escaping, layout spacing and determinism.
//!
//! Snapshots live in tests/snapshots/*.svg. After an intended change of the
//! drawing, review the new output by eye and re-pin it with
//! `UPDATE_SNAPSHOTS=1 cargo test --test render`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use petrichain::formats::json::import_json;
use petrichain::render::{layout, needs_layout, render_svg, LayoutMode, RenderOptions};
use petrichain::{Arc, ArcKind, Marking, Model, ModelData, Place, Point, RoleSet, Transition};
use quick_xml::events::Event;
use quick_xml::Reader;

// ---------------------------------------------------------------- helpers

/// One element of a parsed drawing.
#[derive(Debug, Clone)]
struct Elem {
    name: String,
    attrs: BTreeMap<String, String>,
    /// Text directly inside the element, entities resolved.
    text: String,
    parent: Option<usize>,
}

impl Elem {
    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }
    fn has_class(&self, class: &str) -> bool {
        self.attr("class").split(' ').any(|c| c == class)
    }
}

/// Parses `svg` as XML, failing the test on any well-formedness error
/// (including mismatched end tags, unknown entities and characters XML 1.0
/// forbids), and returns its elements in document order.
fn parse(svg: &str) -> Vec<Elem> {
    for c in svg.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{d7ff}').contains(&c)
            || ('\u{e000}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}';
        assert!(ok, "character {c:?} is not allowed in XML 1.0");
    }
    let mut reader = Reader::from_str(svg);
    let mut elems: Vec<Elem> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.buffer_position()));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.name().as_ref().to_string();
                let mut attrs = BTreeMap::new();
                for a in e.attributes() {
                    let a = a.expect("bad attribute");
                    let key = a.key.as_ref().to_string();
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("bad attribute value")
                        .into_owned();
                    assert!(attrs.insert(key, value).is_none(), "duplicate attribute");
                }
                if stack.is_empty() {
                    roots += 1;
                }
                elems.push(Elem {
                    name,
                    attrs,
                    text: String::new(),
                    parent: stack.last().copied(),
                });
                if matches!(event, Event::Start(_)) {
                    stack.push(elems.len() - 1);
                }
            }
            Event::End(_) => {
                stack.pop().expect("end tag without start");
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                match stack.last() {
                    Some(&i) => elems[i].text.push_str(&text),
                    None => assert!(text.trim().is_empty(), "text outside the root"),
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().expect("bad character reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .unwrap_or_else(|| panic!("undeclared entity &{};", &*r))
                        .to_string(),
                };
                let i = *stack.last().expect("reference outside the root");
                elems[i].text.push_str(&resolved);
            }
            Event::DocType(_) => panic!("no DOCTYPE expected"),
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements");
    assert_eq!(roots, 1, "exactly one root element");
    assert_eq!(elems[0].name, "svg");
    elems
}

fn load(text: &str) -> Model {
    import_json(text).expect("test net imports").0
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn snapshot(name: &str, svg: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, svg).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} missing: run UPDATE_SNAPSHOTS=1 cargo test --test render",
            path.display()
        )
    });
    if pinned != svg {
        let line = pinned
            .lines()
            .zip(svg.lines())
            .position(|(a, b)| a != b)
            .map_or(pinned.lines().count().min(svg.lines().count()), |i| i);
        panic!(
            "{name} differs from the pinned snapshot at line {}:\n  pinned: {:?}\n  now:    {:?}\n\
             review the new drawing and re-pin with UPDATE_SNAPSHOTS=1",
            line + 1,
            pinned.lines().nth(line),
            svg.lines().nth(line)
        );
    }
}

/// A small deterministic generator (64-bit LCG).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

/// A random connected-ish net of `nodes` nodes (half places, half
/// transitions), every transition with 1-2 inputs and 1-2 outputs; with
/// `positions`, nodes sit on a grid, else all at 0,0.
fn generated(nodes: usize, seed: u64, positions: bool) -> Model {
    let mut rng = Lcg(seed);
    let np = nodes / 2;
    let nt = nodes - np;
    let grid = (nodes as f64).sqrt().ceil() as usize;
    let at = |i: usize| {
        if positions {
            ((i % grid) as i32 * 80 + 40, (i / grid) as i32 * 80 + 40)
        } else {
            (0, 0)
        }
    };
    let places: Vec<Place> = (0..np)
        .map(|i| Place {
            keyed: false,
            id: format!("p{i}"),
            label: if i % 3 == 0 {
                format!("place {i}")
            } else {
                String::new()
            },
            initial: rng.next(4) as u64,
            capacity: if i % 7 == 0 { 10 } else { 0 },
            x: at(i).0,
            y: at(i).1,
        })
        .collect();
    let transitions: Vec<Transition> = (0..nt)
        .map(|i| Transition {
            distinct: Vec::new(),
            params: Vec::new(),
            id: format!("t{i}"),
            label: String::new(),
            roles: if i % 5 == 0 {
                vec!["admin".into()]
            } else {
                vec![]
            },
            x: at(np + i).0,
            y: at(np + i).1,
        })
        .collect();
    let mut arcs = Vec::new();
    let mut seen = HashSet::new();
    if np > 0 {
        for t in 0..nt {
            for _ in 0..1 + rng.next(2) {
                let p = rng.next(np);
                let kind = match rng.next(10) {
                    0 => ArcKind::Inhibitor,
                    1 => ArcKind::Read,
                    2 => ArcKind::Reset,
                    _ => ArcKind::Normal,
                };
                if seen.insert((format!("p{p}"), format!("t{t}"), kind)) {
                    arcs.push(Arc {
                        key: None,
                        source: format!("p{p}"),
                        target: format!("t{t}"),
                        weight: 1 + rng.next(3) as u64,
                        kind,
                        points: vec![],
                    });
                }
            }
            for _ in 0..1 + rng.next(2) {
                let p = rng.next(np);
                if seen.insert((format!("t{t}"), format!("p{p}"), ArcKind::Normal)) {
                    arcs.push(Arc {
                        key: None,
                        source: format!("t{t}"),
                        target: format!("p{p}"),
                        weight: 1,
                        kind: ArcKind::Normal,
                        points: vec![],
                    });
                }
            }
        }
    }
    Model::new(ModelData {
        name: format!("generated {nodes}"),
        places,
        transitions,
        arcs,
        ..Default::default()
    })
    .expect("generated net is valid")
}

/// Every arc kind, capacity, 0 to 7 tokens, a bend point, roles, weights.
const KINDS_NET: &str = r#"{
  "name": "every arc kind",
  "places": [
    {"id": "in", "label": "Inbox", "initial": 3, "x": 60, "y": 60},
    {"id": "busy", "initial": 0, "capacity": 1, "x": 60, "y": 160},
    {"id": "ok", "label": "Approved", "initial": 7, "x": 260, "y": 60},
    {"id": "log", "initial": 5, "x": 260, "y": 160}
  ],
  "transitions": [
    {"id": "approve", "label": "Approve", "roles": ["manager"], "x": 160, "y": 60},
    {"id": "audit", "x": 160, "y": 160}
  ],
  "arcs": [
    {"source": "in", "target": "approve", "weight": 2},
    {"source": "busy", "target": "approve", "kind": "inhibitor"},
    {"source": "approve", "target": "ok", "points": [{"x": 210, "y": 20}]},
    {"source": "ok", "target": "audit", "kind": "read", "weight": 3},
    {"source": "log", "target": "audit", "kind": "reset"},
    {"source": "audit", "target": "busy"}
  ]
}"#;

/// The producer/consumer net without any positions.
const NO_POSITIONS_NET: &str = r#"{
  "places": [
    {"id": "ready", "initial": 1}, {"id": "buffer"}, {"id": "idle", "initial": 1},
    {"id": "consumed"}
  ],
  "transitions": [{"id": "produce"}, {"id": "consume"}],
  "arcs": [
    {"source": "ready", "target": "produce"}, {"source": "produce", "target": "ready"},
    {"source": "produce", "target": "buffer"}, {"source": "buffer", "target": "consume"},
    {"source": "idle", "target": "consume"}, {"source": "consume", "target": "idle"},
    {"source": "consume", "target": "consumed"}
  ]
}"#;

fn by_attr<'a>(elems: &'a [Elem], attr: &str, value: &str) -> &'a Elem {
    elems
        .iter()
        .find(|e| e.attr(attr) == value)
        .unwrap_or_else(|| panic!("no element with {attr}={value:?}"))
}

fn children<'a>(elems: &'a [Elem], parent: &Elem) -> Vec<&'a Elem> {
    let i = elems
        .iter()
        .position(|e| std::ptr::eq(e, parent))
        .expect("element of this list");
    elems.iter().filter(|e| e.parent == Some(i)).collect()
}

fn numbers(s: &str) -> Vec<f64> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap())
        .collect()
}

// ---------------------------------------------------------------- snapshots

#[test]
fn snapshot_sir_model_from_the_corpus() {
    let text = std::fs::read_to_string(corpus_dir().join("gopflow-sir_model.json")).unwrap();
    let model = load(&text);
    let svg = render_svg(&model, &model.initial_marking(), &RenderOptions::new());
    parse(&svg);
    snapshot("sir_model.svg", &svg);
}

#[test]
fn snapshot_every_arc_kind() {
    let model = load(KINDS_NET);
    let options = RenderOptions::new()
        .show_ids(true)
        .highlight("audit")
        .roles(model.roles(&["manager"]));
    let svg = render_svg(&model, &model.initial_marking(), &options);
    parse(&svg);
    snapshot("arc_kinds.svg", &svg);
}

#[test]
fn snapshot_auto_layout() {
    let model = load(NO_POSITIONS_NET);
    let svg = render_svg(&model, &model.initial_marking(), &RenderOptions::new());
    parse(&svg);
    snapshot("auto_layout.svg", &svg);
}

// ---------------------------------------------------------------- corpus

#[test]
fn every_json_corpus_net_renders_well_formed() {
    let mut rendered = 0;
    let mut entries: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("shared corpus beside the repository")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.ends_with(".json") || name.ends_with(".jsonld")) {
            continue;
        }
        let model = load(&std::fs::read_to_string(&path).unwrap());
        for options in [
            RenderOptions::new(),
            RenderOptions::new()
                .show_ids(true)
                .layout(LayoutMode::Always),
        ] {
            let svg = render_svg(&model, &model.initial_marking(), &options);
            let elems = parse(&svg);
            let places = elems.iter().filter(|e| e.has_class("pc-place")).count();
            let transitions = elems
                .iter()
                .filter(|e| e.has_class("pc-transition"))
                .count();
            let arcs = elems.iter().filter(|e| e.has_class("pc-arc")).count();
            assert_eq!(places, model.places().len(), "{name}");
            assert_eq!(transitions, model.transitions().len(), "{name}");
            assert_eq!(arcs, model.arcs().len(), "{name}");
        }
        rendered += 1;
    }
    assert!(
        rendered >= 3,
        "expected the gopflow JSON nets, found {rendered}"
    );
}

// ---------------------------------------------------------------- state

#[test]
fn enabled_colouring_follows_the_engine() {
    for seed in 1..=5 {
        let model = generated(60, seed, true);
        let mut rng = Lcg(seed * 77);
        for round in 0..4 {
            let marking = Marking(
                (0..model.places().len())
                    .map(|_| rng.next(4) as u64)
                    .collect(),
            );
            let roles = if round % 2 == 0 {
                RoleSet::All
            } else {
                RoleSet::none()
            };
            let enabled: HashSet<&str> = model
                .enabled(&marking, &roles)
                .into_iter()
                .map(|t| model.transitions()[t].id.as_str())
                .collect();
            assert!(!enabled.is_empty() && enabled.len() < model.transitions().len());
            let svg = render_svg(&model, &marking, &RenderOptions::new().roles(roles));
            let elems = parse(&svg);
            for t in model.transitions() {
                let g = by_attr(&elems, "data-transition", &t.id);
                let on = enabled.contains(t.id.as_str());
                assert_eq!(g.attr("data-enabled"), if on { "true" } else { "false" });
                assert_eq!(g.has_class("pc-enabled"), on, "{}", t.id);
                assert_eq!(g.has_class("pc-disabled"), !on, "{}", t.id);
            }
            for (p, n) in model.places().iter().zip(&marking.0) {
                let g = by_attr(&elems, "data-place", &p.id);
                assert_eq!(g.attr("data-tokens"), n.to_string());
            }
        }
    }
}

#[test]
fn roles_decide_the_colouring() {
    let model = load(KINDS_NET);
    let m = model.initial_marking();
    let as_manager = parse(&render_svg(
        &model,
        &m,
        &RenderOptions::new().roles(model.roles(&["manager"])),
    ));
    let as_nobody = parse(&render_svg(
        &model,
        &m,
        &RenderOptions::new().roles(RoleSet::none()),
    ));
    assert_eq!(
        by_attr(&as_manager, "data-transition", "approve").attr("data-enabled"),
        "true"
    );
    assert_eq!(
        by_attr(&as_nobody, "data-transition", "approve").attr("data-enabled"),
        "false"
    );
    assert_eq!(
        by_attr(&as_nobody, "data-transition", "approve").attr("data-roles"),
        "manager"
    );
}

#[test]
fn tokens_are_dots_up_to_five_and_a_number_beyond() {
    let model = load(KINDS_NET);
    for n in [0u64, 1, 2, 3, 4, 5, 6, 42, 9_007_199_254_740_991] {
        let marking = model.marking_from_map([("in", n)]).unwrap();
        let elems = parse(&render_svg(&model, &marking, &RenderOptions::new()));
        let g = by_attr(&elems, "data-place", "in");
        let kids = children(&elems, g);
        let dots = kids.iter().filter(|e| e.has_class("pc-token")).count();
        let number: Vec<_> = kids.iter().filter(|e| e.has_class("pc-tokens")).collect();
        if n <= 5 {
            assert_eq!(dots as u64, n);
            assert!(number.is_empty());
        } else {
            assert_eq!(dots, 0);
            assert_eq!(number[0].text, n.to_string());
        }
        let title = kids.iter().find(|e| e.name == "title").unwrap();
        assert!(title.text.contains(&format!("{n} token")), "{}", title.text);
    }
}

#[test]
fn a_marking_of_the_wrong_size_draws_without_panicking() {
    let model = load(KINDS_NET);
    for marking in [Marking(vec![]), Marking(vec![1; 9])] {
        let elems = parse(&render_svg(&model, &marking, &RenderOptions::new()));
        assert!(elems
            .iter()
            .filter(|e| e.has_class("pc-transition"))
            .all(|e| e.attr("data-enabled") == "false"));
    }
}

#[test]
fn an_empty_net_renders() {
    let model = Model::new(ModelData::default()).unwrap();
    let elems = parse(&render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new(),
    ));
    let vb = numbers(elems[0].attr("viewBox"));
    assert_eq!(vb.len(), 4);
    assert!(vb[2] > 0.0 && vb[3] > 0.0);
    assert!(layout(&model).is_empty());
}

// ---------------------------------------------------------------- drawing

#[test]
fn arcs_stop_at_node_borders_and_keep_bend_points() {
    let model = load(KINDS_NET);
    let elems = parse(&render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new(),
    ));
    let path_of = |source: &str, target: &str| {
        let g = elems
            .iter()
            .find(|e| e.attr("data-source") == source && e.attr("data-target") == target)
            .unwrap();
        children(&elems, g)
            .into_iter()
            .find(|e| e.name == "path")
            .unwrap()
            .clone()
    };
    // in (60,60), radius 16 -> approve (160,60), half side 15.
    let d = numbers(path_of("in", "approve").attr("d"));
    assert_eq!(d, vec![76.0, 60.0, 145.0, 60.0]);
    // approve (160,60) -> bend (210,20) -> ok (260,60): the bend is kept.
    let d = numbers(path_of("approve", "ok").attr("d"));
    assert_eq!(d.len(), 6);
    assert_eq!(&d[2..4], &[210.0, 20.0]);
    let end = (d[4], d[5]);
    let dist = ((end.0 - 260.0).powi(2) + (end.1 - 60.0).powi(2)).sqrt();
    assert!((dist - 16.0).abs() < 0.02, "ends on the circle, at {dist}");
    // Markers and classes per kind.
    let line = |s, t| path_of(s, t).attr("marker-end").to_string();
    assert_eq!(line("in", "approve"), "url(#pc-arrow)");
    assert_eq!(line("busy", "approve"), "url(#pc-inhibitor)");
    assert_eq!(line("ok", "audit"), "url(#pc-arrow-read)");
    assert_eq!(line("log", "audit"), "url(#pc-arrow-reset)");
    for kind in ["normal", "inhibitor", "read", "reset"] {
        let g = by_attr(&elems, "data-kind", kind);
        assert!(g.has_class(&format!("pc-arc-{kind}")));
    }
    for marker in [
        "pc-arrow",
        "pc-arrow-read",
        "pc-arrow-reset",
        "pc-inhibitor",
    ] {
        assert_eq!(by_attr(&elems, "id", marker).name, "marker");
    }
}

#[test]
fn weights_above_one_are_written_at_the_middle() {
    let model = load(KINDS_NET);
    let elems = parse(&render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new(),
    ));
    let weight_of = |source: &str, target: &str| {
        let g = elems
            .iter()
            .find(|e| e.attr("data-source") == source && e.attr("data-target") == target)
            .unwrap();
        children(&elems, g)
            .into_iter()
            .find(|e| e.has_class("pc-weight"))
            .cloned()
    };
    let w = weight_of("in", "approve").expect("weight 2 is written");
    assert_eq!(w.text, "2");
    let x: f64 = w.attr("x").parse().unwrap();
    assert!(
        (x - 110.5).abs() < 1.0,
        "midway between 76 and 145, got {x}"
    );
    assert_eq!(weight_of("ok", "audit").unwrap().text, "3");
    assert!(
        weight_of("busy", "approve").is_none(),
        "weight 1 is not written"
    );
}

#[test]
fn labels_ids_capacity_and_highlight_follow_the_options() {
    let model = load(KINDS_NET);
    let m = model.initial_marking();
    let plain = parse(&render_svg(&model, &m, &RenderOptions::new()));
    let texts = |elems: &[Elem], class: &str| -> Vec<String> {
        elems
            .iter()
            .filter(|e| e.has_class(class))
            .map(|e| e.text.clone())
            .collect()
    };
    assert_eq!(
        texts(&plain, "pc-label"),
        ["busy", "Inbox", "log", "Approved", "Approve", "audit"]
    );
    assert!(texts(&plain, "pc-id").is_empty());
    assert_eq!(texts(&plain, "pc-capacity"), ["max 1"]);
    assert_eq!(
        by_attr(&plain, "data-place", "busy").attr("data-capacity"),
        "1"
    );
    assert!(!plain.iter().any(|e| e.has_class("pc-highlight")));

    let ids = parse(&render_svg(
        &model,
        &m,
        &RenderOptions::new()
            .show_ids(true)
            .show_labels(false)
            .highlight("audit"),
    ));
    assert!(texts(&ids, "pc-label").is_empty());
    assert_eq!(texts(&ids, "pc-id").len(), 6);
    assert!(by_attr(&ids, "data-transition", "audit").has_class("pc-highlight"));
    assert!(!by_attr(&ids, "data-transition", "approve").has_class("pc-highlight"));
}

#[test]
fn every_element_has_a_title() {
    let model = generated(40, 9, true);
    let elems = parse(&render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new(),
    ));
    let mut groups = 0;
    for (i, e) in elems.iter().enumerate() {
        if e.has_class("pc-place") || e.has_class("pc-transition") || e.has_class("pc-arc") {
            groups += 1;
            let title = elems
                .iter()
                .find(|c| c.parent == Some(i) && c.name == "title")
                .expect("a <title>");
            assert!(!title.text.is_empty());
        }
    }
    assert_eq!(
        groups,
        model.places().len() + model.transitions().len() + model.arcs().len()
    );
}

#[test]
fn the_view_box_holds_every_node_and_scale_sizes_the_drawing() {
    let model = load(KINDS_NET);
    let m = model.initial_marking();
    let elems = parse(&render_svg(&model, &m, &RenderOptions::new()));
    let vb = numbers(elems[0].attr("viewBox"));
    let (x0, y0, x1, y1) = (vb[0], vb[1], vb[0] + vb[2], vb[1] + vb[3]);
    for c in elems
        .iter()
        .filter(|e| e.name == "circle" && e.has_class("pc-place-shape"))
    {
        let (cx, cy, r): (f64, f64, f64) = (
            c.attr("cx").parse().unwrap(),
            c.attr("cy").parse().unwrap(),
            c.attr("r").parse().unwrap(),
        );
        assert!(
            cx - r >= x0 + 10.0 && cx + r <= x1 - 10.0,
            "margin around x"
        );
        assert!(
            cy - r >= y0 + 10.0 && cy + r <= y1 - 10.0,
            "margin around y"
        );
    }
    assert_eq!(
        elems[0].attr("width"),
        elems[0].attr("viewBox").split(' ').nth(2).unwrap()
    );
    let big = parse(&render_svg(&model, &m, &RenderOptions::new().scale(2.0)));
    let w: f64 = big[0].attr("width").parse().unwrap();
    assert!((w - 2.0 * vb[2]).abs() < 0.02);
    assert_eq!(big[0].attr("viewBox"), elems[0].attr("viewBox"));
    for bad in [f64::NAN, -1.0, 0.0, f64::INFINITY] {
        let e = parse(&render_svg(&model, &m, &RenderOptions::new().scale(bad)));
        assert_eq!(e[0].attr("width"), elems[0].attr("width"), "scale {bad}");
    }
}

#[test]
fn the_default_style_can_be_left_out() {
    let model = load(KINDS_NET);
    let m = model.initial_marking();
    let with = parse(&render_svg(&model, &m, &RenderOptions::new()));
    let without = parse(&render_svg(
        &model,
        &m,
        &RenderOptions::new().default_style(false),
    ));
    assert!(with
        .iter()
        .any(|e| e.name == "style" && e.text.contains(".pc-enabled")));
    assert!(!without.iter().any(|e| e.name == "style"));
}

// ---------------------------------------------------------------- escaping

#[test]
fn hostile_labels_and_ids_stay_text() {
    let hostile = [
        "<script>alert(1)</script>",
        "a & b",
        "\"quoted\" 'single'",
        "]]><x/>",
        "&amp; literally",
    ];
    let weird_id = "t\"><script>x</script>";
    let data = ModelData {
        name: "<b>net</b> & co".into(),
        places: hostile
            .iter()
            .enumerate()
            .map(|(i, l)| Place {
                keyed: false,
                id: format!("p{i}"),
                label: (*l).into(),
                initial: 1,
                capacity: 0,
                x: 50 + 80 * i as i32,
                y: 50,
            })
            .collect(),
        transitions: vec![Transition {
            distinct: Vec::new(),
            params: Vec::new(),
            id: weird_id.into(),
            label: "bell\u{7} and \u{0} nul".into(),
            roles: vec!["<admin>".into()],
            x: 50,
            y: 150,
        }],
        arcs: vec![Arc {
            key: None,
            source: "p0".into(),
            target: weird_id.into(),
            weight: 1,
            kind: ArcKind::Normal,
            points: vec![Point { x: 20, y: 100 }],
        }],
        ..Default::default()
    };
    let model = Model::new(data).unwrap();
    let svg = render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new().show_ids(true),
    );
    assert!(!svg.contains("<script"), "no script element may appear");
    assert!(!svg.contains("<b>"));
    let elems = parse(&svg);
    assert!(!elems
        .iter()
        .any(|e| e.name == "script" || e.name == "x" || e.name == "b"));
    let labels: Vec<&str> = elems
        .iter()
        .filter(|e| e.has_class("pc-label"))
        .map(|e| e.text.as_str())
        .collect();
    for l in hostile {
        assert!(labels.contains(&l), "label {l:?} kept as text: {labels:?}");
    }
    let t = by_attr(&elems, "data-transition", weird_id);
    assert_eq!(t.attr("data-roles"), "<admin>");
    let label = children(&elems, t)
        .into_iter()
        .find(|e| e.has_class("pc-label"))
        .unwrap();
    assert_eq!(label.text, "bell\u{fffd} and \u{fffd} nul");
    assert_eq!(
        by_attr(&elems, "data-target", weird_id).attr("data-source"),
        "p0"
    );
    let title = elems.iter().find(|e| e.name == "title").unwrap();
    assert_eq!(title.text, "<b>net</b> & co");
}

// ---------------------------------------------------------------- layout

#[test]
fn layout_never_stacks_nodes() {
    for nodes in [2, 10, 50, 200] {
        for seed in [3, 4] {
            let model = generated(nodes, seed, false);
            assert!(needs_layout(&model));
            let pos = layout(&model);
            assert_eq!(pos.len(), nodes);
            let mut sorted = pos.clone();
            sorted.sort();
            for i in 0..pos.len() {
                for j in i + 1..pos.len() {
                    let (a, b) = (pos[i], pos[j]);
                    let far = (a.0 - b.0).abs() >= 60 || (a.1 - b.1).abs() >= 60;
                    assert!(far, "{nodes} nodes: {i} at {a:?} and {j} at {b:?} overlap");
                }
            }
        }
    }
}

#[test]
fn layout_flows_from_sources_to_sinks() {
    let model = load(NO_POSITIONS_NET);
    let pos = layout(&model);
    let at = |id: &str| {
        let i = model
            .place_index(id)
            .unwrap_or_else(|| model.places().len() + model.transition_index(id).unwrap());
        pos[i]
    };
    assert!(at("ready").0 < at("produce").0);
    assert!(at("produce").0 < at("buffer").0);
    assert!(at("buffer").0 < at("consume").0);
    assert!(at("consume").0 < at("consumed").0);
    // The rendering uses those positions.
    let elems = parse(&render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new(),
    ));
    let circle = children(&elems, by_attr(&elems, "data-place", "buffer"))
        .into_iter()
        .find(|e| e.name == "circle")
        .unwrap()
        .clone();
    assert_eq!(circle.attr("cx"), at("buffer").0.to_string());
    assert_eq!(circle.attr("cy"), at("buffer").1.to_string());
}

#[test]
fn layout_avoids_crossings_a_chain_does_not_need() {
    // Two independent chains a -> ta -> y and b -> tb -> x: sorted by id, x
    // comes before y, so ordering the last layer by id would cross them.
    let model = load(
        r#"{"places": [{"id": "a"}, {"id": "b"}, {"id": "x"}, {"id": "y"}],
            "transitions": [{"id": "ta"}, {"id": "tb"}],
            "arcs": [{"source": "a", "target": "ta"}, {"source": "ta", "target": "y"},
                     {"source": "b", "target": "tb"}, {"source": "tb", "target": "x"}]}"#,
    );
    let pos = layout(&model);
    let y = |id: &str| {
        let i = model
            .place_index(id)
            .unwrap_or_else(|| model.places().len() + model.transition_index(id).unwrap());
        pos[i].1
    };
    // a above b implies ta above tb implies y above x (no crossing), or mirrored.
    assert_eq!(y("a") < y("b"), y("ta") < y("tb"));
    assert_eq!(y("ta") < y("tb"), y("y") < y("x"));
}

#[test]
fn layout_spreads_layers_with_wide_labels() {
    let long = "a very long label for the first place of the net";
    let model = load(&format!(
        r#"{{"places": [{{"id": "a", "label": "{long}"}}, {{"id": "b"}}],
            "transitions": [{{"id": "t"}}],
            "arcs": [{{"source": "a", "target": "t"}}, {{"source": "t", "target": "b"}}]}}"#
    ));
    let pos = layout(&model); // a, b, t
    let gap = pos[2].0 - pos[0].0;
    assert!(
        gap as usize >= long.len() * 6 / 2 + 10,
        "label of {} characters needs room, gap {gap}",
        long.len()
    );
    assert_eq!(pos[1].0 - pos[2].0, 100, "short labels keep the least gap");
}

#[test]
fn positions_from_the_file_are_kept() {
    let model = load(KINDS_NET);
    assert!(!needs_layout(&model));
    let elems = parse(&render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new(),
    ));
    for p in model.places() {
        let c = children(&elems, by_attr(&elems, "data-place", &p.id))
            .into_iter()
            .find(|e| e.name == "circle")
            .unwrap()
            .clone();
        assert_eq!(
            (c.attr("cx"), c.attr("cy")),
            (&*p.x.to_string(), &*p.y.to_string())
        );
    }
    // Forcing the layout moves them; LayoutMode::Never keeps stacked nodes.
    let forced = render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new().layout(LayoutMode::Always),
    );
    assert_ne!(
        forced,
        render_svg(&model, &model.initial_marking(), &RenderOptions::new())
    );
    let stacked = generated(10, 1, false);
    let kept = parse(&render_svg(
        &stacked,
        &stacked.initial_marking(),
        &RenderOptions::new().layout(LayoutMode::Never),
    ));
    assert!(kept
        .iter()
        .filter(|e| e.has_class("pc-place-shape"))
        .all(|e| e.attr("cx") == "0" && e.attr("cy") == "0"));
}

// ---------------------------------------------------------------- determinism

#[test]
fn output_is_deterministic() {
    for (nodes, positions) in [(50, true), (120, false)] {
        let a = generated(nodes, 11, positions);
        let b = generated(nodes, 11, positions);
        let m = a.initial_marking();
        let opts = RenderOptions::new().show_ids(true);
        let first = render_svg(&a, &m, &opts);
        assert_eq!(first, render_svg(&a, &m, &opts));
        assert_eq!(first, render_svg(&b, &m, &opts));
        assert_eq!(layout(&a), layout(&b));
    }
    // Input order does not matter: the model is normalised.
    let mut reversed: serde_json::Value = serde_json::from_str(NO_POSITIONS_NET).unwrap();
    for key in ["places", "transitions", "arcs"] {
        reversed[key].as_array_mut().unwrap().reverse();
    }
    let a = load(NO_POSITIONS_NET);
    let b = load(&reversed.to_string());
    let opts = RenderOptions::new();
    assert_eq!(
        render_svg(&a, &a.initial_marking(), &opts),
        render_svg(&b, &b.initial_marking(), &opts)
    );
}

// ---------------------------------------------------------------- any model

mod any_model {
    use super::*;
    use proptest::prelude::*;

    /// Any text, including markup, quotes and control characters.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{1,6}",
            "\\PC{0,12}",
            proptest::collection::vec(any::<char>(), 0..10)
                .prop_map(|v| v.into_iter().collect::<String>()),
            Just("<script>&\"'</script>".to_string()),
        ]
    }

    fn coord() -> impl Strategy<Value = i32> {
        prop_oneof![Just(0), -500..500i32, any::<i32>()]
    }

    prop_compose! {
        fn net()(
            np in 0..8usize,
            nt in 0..8usize,
            labels in proptest::collection::vec(text(), 16),
            coords in proptest::collection::vec((coord(), coord()), 16),
            counts in proptest::collection::vec(prop_oneof![0..8u64, Just(petrichain::MAX_TOKENS)], 8),
            arcs in proptest::collection::vec(
                (0..8usize, 0..8usize, any::<bool>(), 0..4u8, 1..5u64,
                 proptest::collection::vec((coord(), coord()), 0..3)),
                0..20),
        ) -> Model {
            let places: Vec<Place> = (0..np).map(|i| Place { keyed: false,
                id: format!("p{i}{}", labels[i].chars().take(2).collect::<String>()),
                label: labels[i].clone(),
                initial: counts[i],
                capacity: 0,
                x: coords[i].0,
                y: coords[i].1,
            }).collect();
            let transitions: Vec<Transition> = (0..nt).map(|i| Transition { distinct: Vec::new(), params: Vec::new(),
                id: format!("t{i}"),
                label: labels[8 + i].clone(),
                // (A role may not begin with `$`: kept for the chain's policy.)
                roles: if i % 2 == 0 { vec![format!("r{}", labels[i])] } else { vec![] },
                x: coords[8 + i].0,
                y: coords[8 + i].1,
            }).collect();
            let mut seen = HashSet::new();
            let mut list = Vec::new();
            if np > 0 && nt > 0 {
                for (p, t, into_t, kind, weight, points) in arcs {
                    let (p, t) = (&places[p % np].id, &transitions[t % nt].id);
                    let kind = if into_t {
                        [ArcKind::Normal, ArcKind::Inhibitor, ArcKind::Read, ArcKind::Reset][kind as usize]
                    } else {
                        ArcKind::Normal
                    };
                    let (source, target) = if into_t { (p, t) } else { (t, p) };
                    if seen.insert((source.clone(), target.clone(), kind)) {
                        list.push(Arc { key: None,
                            source: source.clone(),
                            target: target.clone(),
                            weight,
                            kind,
                            points: points.into_iter().map(|(x, y)| Point { x, y }).collect(),
                        });
                    }
                }
            }
            Model::new(ModelData { name: labels[15].clone(), places, transitions, arcs: list, ..Default::default() })
                .expect("generated model is valid")
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_model_renders_well_formed_and_complete(model in net(), ids in any::<bool>(), mode in 0..3u8) {
            let layout_mode = [LayoutMode::Auto, LayoutMode::Always, LayoutMode::Never][mode as usize];
            let options = RenderOptions::new().show_ids(ids).layout(layout_mode).highlight("t0");
            let svg = render_svg(&model, &model.initial_marking(), &options);
            let elems = parse(&svg);
            prop_assert_eq!(elems.iter().filter(|e| e.has_class("pc-place")).count(), model.places().len());
            prop_assert_eq!(elems.iter().filter(|e| e.has_class("pc-arc")).count(), model.arcs().len());
            for t in model.transitions() {
                // Ids survive escaping exactly (they hold no forbidden characters here).
                by_attr(&elems, "data-transition", &t.id);
            }
            let vb = numbers(elems[0].attr("viewBox"));
            prop_assert_eq!(vb.len(), 4);
            prop_assert!(vb[2] > 0.0 && vb[3] > 0.0);
            prop_assert_eq!(svg.clone(), render_svg(&model, &model.initial_marking(), &options));
            let pos = layout(&model);
            let distinct: HashSet<_> = pos.iter().collect();
            prop_assert_eq!(distinct.len(), pos.len());
        }
    }
}

// ---------------------------------------------------------------- browser

/// Runs `cmd`, killing it after `secs` seconds; true if it exited successfully.
fn run_with_timeout(cmd: &mut std::process::Command, secs: u64) -> bool {
    let Ok(mut child) = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(100))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// Headless Chromium paints the drawing: the screenshot holds the enabled
/// green, the disabled grey and the dark token text. `npm test` installs
/// Chromium first; a plain `cargo test` on a machine without it fails unless
/// PETRICHAIN_SKIP_BROWSER=1 says to skip (so the check never passes unseen).
#[test]
fn headless_chromium_paints_enabled_and_disabled_transitions() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            std::env::var_os("PATH")
                .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(b).is_file()))
        })
    else {
        assert!(
            std::env::var_os("PETRICHAIN_SKIP_BROWSER").is_some(),
            "no chromium on PATH: run `scripts/setup.sh --test`, or set PETRICHAIN_SKIP_BROWSER=1 to skip this check"
        );
        eprintln!("SKIPPED (PETRICHAIN_SKIP_BROWSER): headless_chromium_paints_enabled_and_disabled_transitions");
        return;
    };
    let text = std::fs::read_to_string(corpus_dir().join("gopflow-sir_model.json")).unwrap();
    let model = load(&text);
    // S empty: infection is disabled, recovery (I holds 10) is enabled.
    let marking = model.marking_from_map([("I", 10)]).unwrap();
    let svg = render_svg(&model, &marking, &RenderOptions::new().scale(2.0));
    let dir = std::env::temp_dir().join(format!("petrichain-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (svg_path, png_path) = (dir.join("sir.svg"), dir.join("sir.png"));
    std::fs::write(&svg_path, &svg).unwrap();
    let ok = run_with_timeout(
        std::process::Command::new(browser)
            .arg("--headless=new")
            .arg("--no-sandbox")
            .arg("--disable-gpu")
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg("--window-size=700,300")
            .arg(format!("--screenshot={}", png_path.display()))
            .arg(format!("file://{}", svg_path.display())),
        90,
    );
    assert!(
        ok && png_path.is_file(),
        "{browser} did not take a screenshot"
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3 && info.bit_depth == png::BitDepth::Eight);
    let near = |px: &[u8], rgb: (u8, u8, u8)| {
        px[0].abs_diff(rgb.0) <= 12 && px[1].abs_diff(rgb.1) <= 12 && px[2].abs_diff(rgb.2) <= 12
    };
    let (mut green, mut grey, mut dark) = (0, 0, 0);
    for px in buf[..info.buffer_size()].chunks(channels) {
        green += near(px, (0x43, 0xa0, 0x47)) as usize;
        grey += near(px, (0xcf, 0xd8, 0xdc)) as usize;
        dark += near(px, (0x21, 0x21, 0x21)) as usize;
    }
    let _ = std::fs::remove_dir_all(&dir);
    // A 30x30 square at scale 2 is 3,600 pixels, less its border.
    assert!(
        green > 2000,
        "enabled transition painted green: {green} pixels"
    );
    assert!(
        grey > 2000,
        "disabled transition painted grey: {grey} pixels"
    );
    assert!(dark > 20, "token count painted: {dark} pixels");
}

#[test]
fn arcs_are_clipped_at_the_border_whatever_their_bend_points_say() {
    // p (100,100) -> t (300,100). The first bend point lies inside p, the
    // last two inside t (one on its centre): the arc must still leave p at
    // its circle and end on t's square, arrowhead outside.
    let model = load(
        r#"{"places": [{"id": "p", "x": 100, "y": 100}],
            "transitions": [{"id": "t", "x": 300, "y": 100}],
            "arcs": [{"source": "p", "target": "t",
                      "points": [{"x": 105, "y": 103}, {"x": 200, "y": 40},
                                 {"x": 292, "y": 108}, {"x": 300, "y": 100}]}]}"#,
    );
    let elems = parse(&render_svg(
        &model,
        &model.initial_marking(),
        &RenderOptions::new(),
    ));
    let path = elems
        .iter()
        .find(|e| e.name == "path" && e.has_class("pc-arc-line"))
        .unwrap();
    let d = numbers(path.attr("d"));
    assert_eq!(d.len(), 6, "{d:?}: start, the one bend outside, end");
    assert_eq!(&d[2..4], &[200.0, 40.0]);
    let start = ((d[0] - 100.0).powi(2) + (d[1] - 100.0).powi(2)).sqrt();
    assert!((start - 16.0).abs() < 0.02, "starts on p's circle: {start}");
    let (ex, ey) = (d[4] - 300.0, d[5] - 100.0);
    assert!(
        (ex.abs().max(ey.abs()) - 15.0).abs() < 0.02,
        "ends on t's border: {ex},{ey}"
    );
    // Every bend inside both nodes: a straight, clipped arc.
    let model = load(
        r#"{"places": [{"id": "p", "x": 100, "y": 100}],
            "transitions": [{"id": "t", "x": 300, "y": 100}],
            "arcs": [{"source": "p", "target": "t",
                      "points": [{"x": 101, "y": 100}, {"x": 299, "y": 100}]}]}"#,
    );
    let svg = render_svg(&model, &model.initial_marking(), &RenderOptions::new());
    assert!(svg.contains(r#"d="M116,100L285,100""#), "{svg}");
}

/// What the drawing of a laid-out net looks like, read back from the SVG:
/// node centres and shapes, and each arc's path.
struct Drawn {
    nodes: HashMap<String, (f64, f64, bool)>,
    /// Label boxes: left, right, top, bottom (6.5 units a character, as
    /// the renderer estimates them).
    labels: Vec<(f64, f64, f64, f64)>,
    arcs: Vec<(String, String, Vec<f64>)>,
    view_box: Vec<f64>,
}

fn drawn(svg: &str) -> Drawn {
    let elems = parse(svg);
    let mut nodes = HashMap::new();
    let mut arcs = Vec::new();
    let mut labels = Vec::new();
    for (i, e) in elems.iter().enumerate() {
        let parent = || e.parent.map(|p| &elems[p]);
        match e.name.as_str() {
            "circle" if e.has_class("pc-place-shape") => {
                let id = parent().unwrap().attr("data-place").to_string();
                let c = (e.attr("cx").parse().unwrap(), e.attr("cy").parse().unwrap());
                nodes.insert(id, (c.0, c.1, true));
            }
            "rect" if e.has_class("pc-transition-shape") => {
                let id = parent().unwrap().attr("data-transition").to_string();
                let x: f64 = e.attr("x").parse().unwrap();
                let y: f64 = e.attr("y").parse().unwrap();
                nodes.insert(id, (x + 15.0, y + 15.0, false));
            }
            "text" if e.has_class("pc-label") => {
                let x: f64 = e.attr("x").parse().unwrap();
                let y: f64 = e.attr("y").parse().unwrap();
                let half = e.text.chars().count() as f64 * 6.5 / 2.0;
                labels.push((x - half, x + half, y - 9.0, y + 2.0));
            }
            "path" if e.has_class("pc-arc-line") => {
                let g = parent().unwrap();
                arcs.push((
                    g.attr("data-source").to_string(),
                    g.attr("data-target").to_string(),
                    numbers(e.attr("d")),
                ));
            }
            _ => {}
        }
        let _ = i;
    }
    let view_box = numbers(elems[0].attr("viewBox"));
    Drawn {
        nodes,
        labels,
        arcs,
        view_box,
    }
}

/// Whether (x, y) is inside the node (circle r 16 / square half 15), less a
/// small tolerance for the border itself.
fn in_node(node: (f64, f64, bool), x: f64, y: f64, tolerance: f64) -> bool {
    let (dx, dy) = (x - node.0, y - node.1);
    if node.2 {
        dx.hypot(dy) < 16.0 - tolerance
    } else {
        dx.abs() < 15.0 - tolerance && dy.abs() < 15.0 - tolerance
    }
}

/// Whether the segment a-b passes through the node (sampled every 2 units).
fn crosses(node: (f64, f64, bool), a: (f64, f64), b: (f64, f64)) -> bool {
    let len = (b.0 - a.0).hypot(b.1 - a.1);
    let steps = (len / 2.0).ceil().max(1.0) as usize;
    (0..=steps).any(|k| {
        let t = k as f64 / steps as f64;
        in_node(node, a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, 1.0)
    })
}

#[test]
fn layout_reads_at_scale() {
    for (nodes, seed) in [(50, 11), (500, 12), (2000, 13)] {
        let model = generated(nodes, seed, false);
        assert!(needs_layout(&model));
        let started = std::time::Instant::now();
        let svg = render_svg(&model, &model.initial_marking(), &RenderOptions::new());
        let took = started.elapsed();
        let d = drawn(&svg);
        assert_eq!(d.nodes.len(), nodes);
        // No two nodes overlap (their 32 x 32 boxes stay apart).
        let mut sorted: Vec<_> = d.nodes.values().copied().collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for (i, a) in sorted.iter().enumerate() {
            for b in &sorted[i + 1..] {
                if b.0 - a.0 >= 32.0 {
                    break;
                }
                assert!(
                    (a.1 - b.1).abs() >= 32.0,
                    "{nodes}: {a:?} and {b:?} overlap"
                );
            }
        }
        // No two labels collide, and no label covers a node.
        let mut labels = d.labels.clone();
        labels.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                if b.0 >= a.1 {
                    break;
                }
                assert!(
                    b.2 >= a.3 || a.2 >= b.3,
                    "{nodes}: labels {a:?} and {b:?} collide"
                );
            }
        }
        for l in &labels {
            for n in d.nodes.values() {
                let apart = n.0 + 16.0 <= l.0
                    || n.0 - 16.0 >= l.1
                    || n.1 + 16.0 <= l.2
                    || n.1 - 16.0 >= l.3;
                assert!(apart, "{nodes}: label {l:?} covers node {n:?}");
            }
        }
        // Every arc ends on its target's border, its arrowhead (9 units
        // back along the last segment) outside the target, and no arc
        // passes through a node other than its own two.
        let mut through = 0;
        for (source, target, path) in &d.arcs {
            let t = d.nodes[target];
            let k = path.len();
            let (ex, ey) = (path[k - 2], path[k - 1]);
            let (px, py) = (path[k - 4], path[k - 3]);
            assert!(
                !in_node(t, ex, ey, 0.5),
                "{source}->{target} ends inside: {path:?} {t:?}"
            );
            // (An arc and its reverse twin are drawn 4 units apart.)
            assert!(
                in_node(t, ex, ey, -4.5),
                "{source}->{target} ends off the border: {path:?} {t:?}"
            );
            let len = (ex - px).hypot(ey - py);
            let back = (ex - (ex - px) / len * 9.0, ey - (ey - py) / len * 9.0);
            assert!(
                !in_node(t, back.0, back.1, 0.0),
                "{source}->{target}: arrowhead inside"
            );
            for w in path.chunks(2).collect::<Vec<_>>().windows(2) {
                let (a, b) = ((w[0][0], w[0][1]), (w[1][0], w[1][1]));
                through += d
                    .nodes
                    .iter()
                    .filter(|(id, _)| *id != source && *id != target)
                    .filter(|(_, n)| {
                        let (lo_x, hi_x) = (a.0.min(b.0) - 16.0, a.0.max(b.0) + 16.0);
                        let (lo_y, hi_y) = (a.1.min(b.1) - 16.0, a.1.max(b.1) + 16.0);
                        (lo_x..=hi_x).contains(&n.0) && (lo_y..=hi_y).contains(&n.1)
                    })
                    .filter(|(_, n)| crosses(**n, a, b))
                    .count();
            }
        }
        // The drawing's aspect ratio stays between 1:3 and 3:1.
        let aspect = d.view_box[2] / d.view_box[3];
        eprintln!(
            "{nodes} nodes: {} arcs, viewBox {:.0} x {:.0} (aspect {aspect:.2}), {through} arc pieces through other nodes, render {took:?}",
            d.arcs.len(),
            d.view_box[2],
            d.view_box[3]
        );
        assert!(
            (1.0 / 3.0..=3.0).contains(&aspect),
            "{nodes}: aspect {aspect}"
        );
        assert!(
            through <= d.arcs.len() / 100,
            "{nodes}: {through} arc pieces cross nodes"
        );
    }
}

#[test]
fn a_large_layout_follows_the_viewport_aspect_it_is_given() {
    let model = generated(500, 12, false);
    for want in [0.7, 1.0, 2.5] {
        let svg = render_svg(
            &model,
            &model.initial_marking(),
            &RenderOptions::new().aspect(want),
        );
        let vb = drawn(&svg).view_box;
        let got = vb[2] / vb[3];
        assert!(
            got > want / 1.6 && got < want * 1.6,
            "asked {want}, got {got:.2} ({} x {})",
            vb[2],
            vb[3]
        );
    }
}

#[test]
fn a_keyed_place_shows_its_number_of_keys_and_its_total() {
    let model = load(include_str!("../../www/examples/bank.json"));
    let mut marking = model.initial_marking();
    let balance = model.place_index("balance").unwrap();
    marking.0[balance] = 300;
    let svg = render_svg(&model, &marking, &RenderOptions::new().keys("balance", 3));
    let elems = parse(&svg);
    let place = by_attr(&elems, "data-place", "balance");
    assert_eq!(place.attr("data-keyed"), "true");
    assert_eq!(place.attr("data-keys"), "3");
    let inside = children(&elems, place);
    let text = |class: &str| {
        inside
            .iter()
            .find(|e| e.attr("class") == class || e.name == class)
            .map(|e| e.text.clone())
            .unwrap_or_else(|| panic!("no {class} in {svg}"))
    };
    assert_eq!(text("pc-tokens"), "300");
    assert_eq!(text("pc-keys"), "3 keys");
    assert!(text("title").contains("(keyed): 3 keys, total 300 tokens"));
    assert!(inside.iter().any(|e| e.attr("class") == "pc-keyed-ring"));
    // A total drawn as dots would read as one key's tokens: never dots.
    assert!(!inside.iter().any(|e| e.attr("class") == "pc-token"));
    // Without the count, the total alone.
    let svg = render_svg(&model, &marking, &RenderOptions::new());
    assert!(svg.contains("(keyed): total 300 tokens"), "{svg}");
}
