//! Property tests of the analysis on random small nets: every P-invariant
//! holds along random firing sequences (any multiple, any roles the engine
//! accepts); T-invariants and P-invariants solve their equations; every
//! reported deadlock is reached by its sequence and is dead; the explorer's
//! states are exactly the markings the engine reaches; the state equation
//! holds for replayed logs.

use std::collections::{BTreeSet, VecDeque};

use petrichain::analysis::{
    events_csv, explore, find_marking, firing_counts, incidence, p_invariants, siphons_and_traps,
    t_invariants, ExploreLimits, Firing, NoClock, Reachability,
};
use petrichain::{Arc, ArcKind, FireOptions, Marking, Model, ModelData, Place, Transition};
use proptest::prelude::*;

/// (from, to, weight, kind) arcs between `np` places and `nt` transitions.
type ArcSpec = (usize, usize, u64, u8, bool);

fn build(np: usize, nt: usize, initial: &[u64], caps: &[u64], arcs: &[ArcSpec]) -> Option<Model> {
    let mut data = ModelData {
        places: (0..np)
            .map(|i| Place {
                keyed: false,
                id: format!("p{i}"),
                label: String::new(),
                initial: initial[i % initial.len()],
                capacity: caps[i % caps.len()],
                x: 0,
                y: 0,
            })
            .collect(),
        transitions: (0..nt)
            .map(|i| Transition {
                distinct: Vec::new(),
                signer: Vec::new(),
                params: Vec::new(),
                id: format!("t{i}"),
                label: String::new(),
                roles: if i % 3 == 2 {
                    vec!["clerk".into()]
                } else {
                    vec![]
                },
                x: 0,
                y: 0,
            })
            .collect(),
        ..Default::default()
    };
    let mut seen = BTreeSet::new();
    for &(p, t, w, kind, out) in arcs {
        let (p, t) = (p % np, t % nt);
        let kind = match kind % 8 {
            5 => ArcKind::Read,
            6 => ArcKind::Inhibitor,
            7 => ArcKind::Reset,
            _ => ArcKind::Normal,
        };
        let out = out && kind == ArcKind::Normal;
        let (source, target) = if out {
            (format!("t{t}"), format!("p{p}"))
        } else {
            (format!("p{p}"), format!("t{t}"))
        };
        if !seen.insert((source.clone(), target.clone())) {
            continue;
        }
        data.arcs.push(Arc {
            key: None,
            source,
            target,
            weight: w,
            kind,
            points: vec![],
        });
    }
    // Capacities below the initial marking are invalid: skip such nets.
    Model::new(data).ok()
}

fn nets() -> impl Strategy<Value = Model> {
    (
        1usize..5,
        1usize..5,
        prop::collection::vec(0u64..4, 1..5),
        prop::collection::vec(prop_oneof![Just(0u64), 2u64..6], 1..5),
        prop::collection::vec(
            (0usize..5, 0usize..5, 1u64..3, 0u8..8, any::<bool>()),
            0..12,
        ),
    )
        .prop_filter_map("valid net", |(np, nt, init, caps, arcs)| {
            build(np, nt, &init, &caps, &arcs)
        })
}

fn dot(weights: &[petrichain::analysis::Weighted], model: &Model, m: &Marking) -> u128 {
    weights
        .iter()
        .map(|w| w.weight as u128 * m.0[model.place_index(&w.id).unwrap()] as u128)
        .sum()
}

/// Every marking the engine reaches by single firings, breadth first (small nets only).
fn engine_states(model: &Model, cap: usize) -> Option<BTreeSet<Vec<u64>>> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::new();
    let m0 = model.initial_marking();
    seen.insert(m0.0.clone());
    queue.push_back(m0);
    let all = model.roles(&["*"]);
    while let Some(m) = queue.pop_front() {
        for t in 0..model.transitions().len() {
            let mut next = m.clone();
            if model.fire_in_place(&mut next, t, 1, &all).is_ok() && seen.insert(next.0.clone()) {
                if seen.len() > cap {
                    return None;
                }
                queue.push_back(next);
            }
        }
    }
    Some(seen)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn p_invariants_hold_along_random_runs(
        model in nets(),
        steps in prop::collection::vec((0usize..5, 1u64..4, any::<bool>()), 0..40),
    ) {
        let p = p_invariants(&model).unwrap();
        let c = incidence(&model);
        // y^T C = 0 for every invariant.
        for inv in &p.invariants {
            for t in 0..c.transitions.len() {
                let sum: i128 = inv.weights.iter().map(|w| {
                    w.weight as i128 * c.get(model.place_index(&w.id).unwrap(), t) as i128
                }).sum();
                prop_assert_eq!(sum, 0, "{} on {}", inv.formula, c.transitions[t]);
            }
        }
        let mut m = model.initial_marking();
        for (pick, multiple, clerk) in steps {
            let t = &model.transitions()[pick % model.transitions().len()].id;
            let roles: &[&str] = if clerk { &["clerk"] } else { &[] };
            if let Ok(next) = model.fire(&m, t, &FireOptions { multiple, roles }) {
                m = next;
                for inv in &p.invariants {
                    prop_assert_eq!(Some(dot(&inv.weights, &model, &m)), inv.total.map(u128::from), "{}", inv.formula);
                }
                for (i, bound) in p.bounds.iter().enumerate() {
                    if let Some(b) = bound {
                        prop_assert!(m.0[i] <= *b, "place {} holds {} above its proven bound {}", i, m.0[i], b);
                    }
                }
            }
        }
    }

    #[test]
    fn t_invariants_solve_the_state_equation(model in nets()) {
        let t = t_invariants(&model).unwrap();
        let c = incidence(&model);
        for inv in &t.invariants {
            for p in 0..c.places.len() {
                let sum: i128 = inv.weights.iter().map(|w| {
                    w.weight as i128 * c.get(p, model.transition_index(&w.id).unwrap()) as i128
                }).sum();
                prop_assert_eq!(sum, 0, "{} on {}", inv.formula, c.places[p]);
            }
        }
    }

    #[test]
    fn deadlocks_are_reached_by_their_sequence_and_dead(model in nets()) {
        let limits = ExploreLimits { max_states: 20_000, max_deadlocks: 50, ..Default::default() };
        let space = explore(&model, &limits, &NoClock).unwrap();
        prop_assert!(space.states <= 20_000);
        prop_assert_eq!(space.complete, space.stopped.is_none());
        let all = model.roles(&["*"]);
        for d in &space.deadlocks {
            let mut m = model.initial_marking();
            for t in &d.sequence {
                m = model.fire(&m, t, &FireOptions { multiple: 1, roles: &["*"] }).unwrap();
            }
            prop_assert_eq!(&model.marking_map(&m), &d.marking);
            prop_assert!(model.enabled(&m, &all).is_empty());
        }
        if space.complete && !space.coverability {
            prop_assert_eq!(space.deadlocks.len() as u64, space.deadlock_count.min(50));
        }
    }

    #[test]
    fn the_explored_states_are_the_engines_states(model in nets()) {
        let Some(expected) = engine_states(&model, 5_000) else { return Ok(()) };
        let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
        prop_assert!(space.complete);
        if !space.coverability {
            prop_assert_eq!(space.states, expected.len() as u64);
            for (i, b) in space.bounds.iter().enumerate() {
                prop_assert_eq!(b.max, expected.iter().map(|m| m[i]).max());
            }
            let all = model.roles(&["*"]);
            let dead = expected.iter().filter(|m| model.enabled(&Marking(m.to_vec()), &all).is_empty()).count();
            prop_assert_eq!(space.deadlock_count, dead as u64);
        }
        // Each engine state is found reachable, with a sequence that reaches it.
        for m in expected.iter().take(20) {
            let target = Marking(m.clone());
            match find_marking(&model, &target, &ExploreLimits::default(), &NoClock).unwrap() {
                Reachability::Reachable { sequence, .. } => {
                    let mut at = model.initial_marking();
                    for t in &sequence {
                        at = model.fire(&at, t, &FireOptions { multiple: 1, roles: &["*"] }).unwrap();
                    }
                    prop_assert_eq!(at, target);
                }
                other => prop_assert!(false, "{:?} not found: {:?}", m, other),
            }
        }
    }

    #[test]
    fn replayed_logs_satisfy_the_state_equation(
        model in nets(),
        steps in prop::collection::vec((0usize..5, 1u64..4), 0..30),
    ) {
        // Build a legal log with the engine, then replay it.
        let mut m = model.initial_marking();
        let mut log = Vec::new();
        for (pick, multiple) in steps {
            let t = &model.transitions()[pick % model.transitions().len()].id;
            if let Ok(next) = model.fire(&m, t, &FireOptions { multiple, roles: &["*"] }) {
                m = next;
                log.push(Firing { seq: log.len() as u64 + 1, action: t.clone(), multiple, roles: vec!["*".into()], actor: String::new(), ts: 0 });
            }
        }
        let counts = firing_counts(&model, &log).unwrap();
        prop_assert_eq!(&counts.marking, &model.marking_map(&m));
        let csv = events_csv(&model, &log).unwrap();
        prop_assert_eq!(csv.lines().count(), log.len() + 1);
        let c = incidence(&model);
        if c.reset.is_empty() {
            let m0 = model.initial_marking();
            for p in 0..c.places.len() {
                let change: i128 = counts.counts.iter().enumerate()
                    .map(|(t, n)| n.count as i128 * c.get(p, t) as i128).sum();
                prop_assert_eq!(m0.0[p] as i128 + change, m.0[p] as i128);
            }
        }
    }

    #[test]
    fn huge_weights_give_exact_invariants_or_a_typed_error(
        np in 1usize..5,
        nt in 1usize..5,
        arcs in prop::collection::vec((0usize..5, 0usize..5, 1u64..(1u64 << 50), 0u8..5, any::<bool>()), 1..12),
    ) {
        let Some(model) = build(np, nt, &[1], &[0], &arcs) else { return Ok(()) };
        let c = incidence(&model);
        match p_invariants(&model) {
            Ok(p) => {
                for inv in &p.invariants {
                    for t in 0..c.transitions.len() {
                        let sum: i128 = inv.weights.iter().map(|w| {
                            w.weight as i128 * c.get(model.place_index(&w.id).unwrap(), t) as i128
                        }).sum();
                        prop_assert_eq!(sum, 0, "{}", inv.formula);
                    }
                }
            }
            Err(e) => prop_assert!(matches!(e.code(), "OVERFLOW" | "TOO_LARGE"), "{}", e),
        }
        match t_invariants(&model) {
            Ok(_) => {}
            Err(e) => prop_assert!(matches!(e.code(), "OVERFLOW" | "TOO_LARGE"), "{}", e),
        }
    }

    #[test]
    fn the_empty_siphon_stays_empty_and_the_marked_trap_marked(model in nets()) {
        let Some(states) = engine_states(&model, 5_000) else { return Ok(()) };
        let st = siphons_and_traps(&model);
        let index = |id: &String| model.place_index(id).unwrap();
        let all = model.roles(&["*"]);
        for m in &states {
            for p in &st.empty_siphon {
                prop_assert_eq!(m[index(p)], 0, "{} in {:?}", p, m);
            }
            if !st.marked_trap.is_empty() {
                prop_assert!(st.marked_trap.iter().any(|p| m[index(p)] > 0), "trap {:?} empty in {:?}", st.marked_trap, m);
            }
            for t in &st.never_enabled {
                let t = model.transition_index(t).unwrap();
                prop_assert!(model.check(&Marking(m.clone()), t, 1, &all).is_err());
            }
        }
    }
}
