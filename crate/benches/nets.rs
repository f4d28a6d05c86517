//! Generated nets shared by the native render bench (benches/render.rs) and
//! the in-browser one (tests/bench_web_render.rs).
#![allow(dead_code)]

use std::collections::HashSet;

use petrichain::{Arc, ArcKind, Model, ModelData, Place, Transition};

/// A small deterministic generator (no RNG crate needed in wasm).
pub struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

/// `nodes` nodes, half places half transitions, each transition with 1-2
/// inputs (some inhibitor / read / reset) and 1-2 outputs.
pub fn generated(nodes: usize, positions: bool) -> Model {
    let mut rng = Lcg(42);
    let (np, nt) = (nodes / 2, nodes - nodes / 2);
    let grid = (nodes as f64).sqrt().ceil() as usize;
    let at = |i: usize| match positions {
        true => ((i % grid) as i32 * 80 + 40, (i / grid) as i32 * 80 + 40),
        false => (0, 0),
    };
    let places = (0..np)
        .map(|i| Place {
            keyed: false,
            id: format!("p{i}"),
            label: format!("place {i}"),
            initial: rng.next(8) as u64,
            capacity: if i % 7 == 0 { 10 } else { 0 },
            x: at(i).0,
            y: at(i).1,
        })
        .collect();
    let transitions = (0..nt)
        .map(|i| Transition {
            distinct: Vec::new(),
            signer: Vec::new(),
            params: Vec::new(),
            id: format!("t{i}"),
            label: format!("step {i}"),
            roles: vec![],
            x: at(np + i).0,
            y: at(np + i).1,
        })
        .collect();
    let mut arcs = Vec::new();
    let mut seen = HashSet::new();
    for t in 0..nt {
        for _ in 0..1 + rng.next(2) {
            let p = rng.next(np);
            let kind = [ArcKind::Inhibitor, ArcKind::Read, ArcKind::Reset]
                .get(rng.next(10))
                .copied()
                .unwrap_or(ArcKind::Normal);
            if seen.insert((p, t, true, kind)) {
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
            if seen.insert((p, t, false, ArcKind::Normal)) {
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
    Model::new(ModelData {
        places,
        transitions,
        arcs,
        ..Default::default()
    })
    .unwrap()
}

/// `model` with the automatic layout's positions and routes written into
/// it, so that rendering it measures drawing alone.
pub fn laid_out(model: &Model) -> Model {
    let routed = petrichain::render::layout_routed(model);
    let np = model.places().len();
    let mut places: Vec<Place> = model.places().to_vec();
    for (i, p) in places.iter_mut().enumerate() {
        (p.x, p.y) = routed.positions[i];
    }
    let mut transitions: Vec<Transition> = model.transitions().to_vec();
    for (i, t) in transitions.iter_mut().enumerate() {
        (t.x, t.y) = routed.positions[np + i];
    }
    let arcs = model
        .arcs()
        .iter()
        .zip(&routed.arcs)
        .map(|(a, route)| Arc {
            points: route.clone(),
            ..a.clone()
        })
        .collect();
    Model::new(ModelData {
        name: model.name().to_string(),
        places,
        transitions,
        arcs,
        ..Default::default()
    })
    .expect("a laid-out copy is valid")
}
