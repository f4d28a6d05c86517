//! Generated nets shared by the analysis tests (crate/tests/analysis*.rs),
//! the native analysis bench (benches/analysis.rs) and the in-browser one
//! (web/tests/bench_web_analysis.rs).
#![allow(dead_code)]

use petrichain::{Arc, ArcKind, Model, ModelData, Place, Transition};

fn place(id: String, initial: u64) -> Place {
    Place {
        keyed: false,
        id,
        label: String::new(),
        initial,
        capacity: 0,
        x: 0,
        y: 0,
    }
}

fn transition(id: String) -> Transition {
    Transition {
        distinct: Vec::new(),
        signer: Vec::new(),
        params: Vec::new(),
        id,
        label: String::new(),
        roles: vec![],
        x: 0,
        y: 0,
    }
}

fn arc(source: &str, target: &str) -> Arc {
    Arc {
        key: None,
        source: source.into(),
        target: target.into(),
        weight: 1,
        kind: ArcKind::Normal,
        points: vec![],
    }
}

/// The Model Checking Contest's "Philosophers" PT model with `n` dining
/// philosophers (Philosophers-PT-00000n): per philosopher i the places
/// Think_i (1 token), Fork_i (1 token), Catch1_i, Catch2_i, Eat_i and the
/// transitions FF1a_i (Think_i + Fork_i -> Catch1_i: left fork first),
/// FF1b_i (Think_i + Fork_{i+1} -> Catch2_i: right fork first), FF2a_i
/// (Catch1_i + Fork_{i+1} -> Eat_i), FF2b_i (Catch2_i + Fork_i -> Eat_i)
/// and End_i (Eat_i -> Think_i + Fork_i + Fork_{i+1}): 5n places, 5n
/// transitions, 9n input and 7n output arcs (for n = 5: 25, 25, 45, 35, as
/// the contest's model).
pub fn philosophers(n: usize) -> Model {
    let mut data = ModelData {
        name: format!("Philosophers-PT-{n:06}"),
        ..Default::default()
    };
    let id = |kind: &str, i: usize| format!("{kind}_{}", i + 1);
    for i in 0..n {
        data.places.push(place(id("Think", i), 1));
        data.places.push(place(id("Fork", i), 1));
        data.places.push(place(id("Catch1", i), 0));
        data.places.push(place(id("Catch2", i), 0));
        data.places.push(place(id("Eat", i), 0));
        for t in ["FF1a", "FF1b", "FF2a", "FF2b", "End"] {
            data.transitions.push(transition(id(t, i)));
        }
        let right = id("Fork", (i + 1) % n);
        let (think, fork, c1, c2, eat) = (
            id("Think", i),
            id("Fork", i),
            id("Catch1", i),
            id("Catch2", i),
            id("Eat", i),
        );
        let (ff1a, ff1b, ff2a, ff2b, end) = (
            id("FF1a", i),
            id("FF1b", i),
            id("FF2a", i),
            id("FF2b", i),
            id("End", i),
        );
        for (s, t) in [
            (&think, &ff1a),
            (&fork, &ff1a),
            (&ff1a, &c1),
            (&think, &ff1b),
            (&right, &ff1b),
            (&ff1b, &c2),
            (&c1, &ff2a),
            (&right, &ff2a),
            (&ff2a, &eat),
            (&c2, &ff2b),
            (&fork, &ff2b),
            (&ff2b, &eat),
            (&eat, &end),
            (&end, &think),
            (&end, &fork),
            (&end, &right),
        ] {
            data.arcs.push(arc(s, t));
        }
    }
    Model::new(data).expect("a valid net")
}

/// A ring of `n` places and `n` transitions passing `tokens` tokens around
/// (t_i moves one token from p_i to p_{i+1}): one P-invariant (the sum),
/// one T-invariant (every transition once), C(n + tokens - 1, tokens)
/// reachable markings.
pub fn ring(n: usize, tokens: u64) -> Model {
    let mut data = ModelData::default();
    for i in 0..n {
        data.places
            .push(place(format!("p{i:04}"), if i == 0 { tokens } else { 0 }));
        data.transitions.push(transition(format!("t{i:04}")));
    }
    for i in 0..n {
        data.arcs
            .push(arc(&format!("p{i:04}"), &format!("t{i:04}")));
        data.arcs
            .push(arc(&format!("t{i:04}"), &format!("p{:04}", (i + 1) % n)));
    }
    Model::new(data).expect("a valid net")
}
