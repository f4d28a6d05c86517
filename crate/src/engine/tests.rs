use proptest::prelude::*;

use super::*;
use crate::model::tests::{arc, place, transition};
use crate::model::{ArcKind, ModelData, Place};

fn net(places: Vec<Place>, transitions: &[&str], arcs: Vec<crate::Arc>) -> Model {
    Model::new(ModelData {
        places,
        transitions: transitions.iter().map(|t| transition(t)).collect(),
        arcs,
        ..Default::default()
    })
    .unwrap()
}

fn fire(model: &Model, m: &[u64], t: &str, multiple: u64) -> Result<Vec<u64>, FireError> {
    model
        .fire(
            &Marking(m.to_vec()),
            t,
            &FireOptions {
                multiple,
                roles: &["*"],
            },
        )
        .map(|m| m.0)
}

#[test]
fn normal_arcs_consume_and_produce() {
    let m = net(
        vec![place("a", 2), place("b", 0)],
        &["t"],
        vec![
            arc("a", "t", 2, ArcKind::Normal),
            arc("t", "b", 3, ArcKind::Normal),
        ],
    );
    assert_eq!(fire(&m, &[2, 0], "t", 1).unwrap(), vec![0, 3]);
    assert_eq!(
        fire(&m, &[1, 0], "t", 1).unwrap_err(),
        FireError::NotEnabled {
            transition: "t".into(),
            place: "a".into(),
            has: 1,
            needs: 2
        }
    );
}

#[test]
fn a_self_loop_nets_out() {
    let m = net(
        vec![place("a", 1)],
        &["t"],
        vec![
            arc("a", "t", 1, ArcKind::Normal),
            arc("t", "a", 1, ArcKind::Normal),
        ],
    );
    assert_eq!(fire(&m, &[1], "t", 1).unwrap(), vec![1]);
    assert!(fire(&m, &[0], "t", 1).is_err());
}

#[test]
fn inhibitor_blocks_at_its_weight() {
    let m = net(
        vec![place("lock", 0), place("out", 0)],
        &["t"],
        vec![
            arc("lock", "t", 2, ArcKind::Inhibitor),
            arc("t", "out", 1, ArcKind::Normal),
        ],
    );
    assert_eq!(
        fire(&m, &[1, 0], "t", 1).unwrap(),
        vec![1, 1],
        "1 < 2: allowed, nothing consumed"
    );
    assert_eq!(
        fire(&m, &[2, 0], "t", 1).unwrap_err(),
        FireError::Inhibited {
            transition: "t".into(),
            place: "lock".into(),
            has: 2,
            limit: 2
        }
    );
}

#[test]
fn read_arc_tests_without_consuming() {
    let m = net(
        vec![place("key", 1), place("out", 0)],
        &["t"],
        vec![
            arc("key", "t", 1, ArcKind::Read),
            arc("t", "out", 1, ArcKind::Normal),
        ],
    );
    assert_eq!(
        fire(&m, &[1, 0], "t", 3).unwrap(),
        vec![1, 3],
        "guards are not scaled by multiple"
    );
    assert_eq!(
        fire(&m, &[0, 0], "t", 1).unwrap_err(),
        FireError::ReadArcUnmet {
            transition: "t".into(),
            place: "key".into(),
            has: 0,
            needs: 1
        }
    );
}

#[test]
fn reset_empties_then_produces() {
    let m = net(
        vec![place("bin", 7), place("a", 1)],
        &["t", "u"],
        vec![
            arc("bin", "t", 1, ArcKind::Reset),
            arc("a", "u", 1, ArcKind::Reset),
            arc("u", "a", 2, ArcKind::Normal),
        ],
    );
    // Places are sorted: a=0, bin=1.
    assert_eq!(fire(&m, &[1, 7], "t", 1).unwrap(), vec![1, 0]);
    assert_eq!(
        fire(&m, &[0, 0], "t", 1).unwrap(),
        vec![0, 0],
        "reset of an empty place is allowed"
    );
    assert_eq!(fire(&m, &[5, 0], "u", 1).unwrap(), vec![2, 0]);
}

#[test]
fn capacity_is_checked_after_firing() {
    let mut cup = place("cup", 0);
    cup.capacity = 3;
    let m = net(
        vec![cup],
        &["pour"],
        vec![arc("pour", "cup", 2, ArcKind::Normal)],
    );
    assert_eq!(fire(&m, &[1], "pour", 1).unwrap(), vec![3]);
    assert_eq!(
        fire(&m, &[2], "pour", 1).unwrap_err(),
        FireError::CapacityExceeded {
            transition: "pour".into(),
            place: "cup".into(),
            would_have: 4,
            capacity: 3
        }
    );
}

#[test]
fn multiple_scales_weights() {
    let m = net(
        vec![place("from", 10), place("to", 0)],
        &["move"],
        vec![
            arc("from", "move", 2, ArcKind::Normal),
            arc("move", "to", 1, ArcKind::Normal),
        ],
    );
    assert_eq!(fire(&m, &[10, 0], "move", 5).unwrap(), vec![0, 5]);
    assert_eq!(
        fire(&m, &[10, 0], "move", 6).unwrap_err(),
        FireError::NotEnabled {
            transition: "move".into(),
            place: "from".into(),
            has: 10,
            needs: 12
        }
    );
    assert_eq!(
        fire(&m, &[10, 0], "move", 0).unwrap_err(),
        FireError::InvalidMultiple {
            transition: "move".into()
        }
    );
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    let m = net(
        vec![place("a", 0), place("b", 0)],
        &["t"],
        vec![
            arc("a", "t", MAX_TOKENS, ArcKind::Normal),
            arc("t", "b", MAX_TOKENS, ArcKind::Normal),
        ],
    );
    let overflow = FireError::Overflow {
        transition: "t".into(),
        place: "a".into(),
    };
    assert_eq!(
        fire(&m, &[MAX_TOKENS, 0], "t", u64::MAX).unwrap_err(),
        overflow
    );
    let overflow = FireError::Overflow {
        transition: "t".into(),
        place: "b".into(),
    };
    assert_eq!(fire(&m, &[MAX_TOKENS, 1], "t", 1).unwrap_err(), overflow);
    assert_eq!(
        fire(&m, &[MAX_TOKENS, 0], "t", 1).unwrap(),
        vec![0, MAX_TOKENS]
    );
}

#[test]
fn roles_gate_transitions() {
    let mut data = ModelData {
        places: vec![place("p", 5)],
        transitions: vec![transition("approve"), transition("look")],
        arcs: vec![arc("p", "approve", 1, ArcKind::Normal)],
        ..Default::default()
    };
    data.transitions[0].roles = vec!["manager".into(), "admin".into()];
    let m = Model::new(data).unwrap();
    let start = m.initial_marking();
    let as_role = |roles: &[&str]| m.fire(&start, "approve", &FireOptions { multiple: 1, roles });
    assert!(as_role(&["admin"]).is_ok());
    assert!(as_role(&["*"]).is_ok());
    assert_eq!(
        as_role(&["clerk", "manager2"]).unwrap_err(),
        FireError::RoleDenied {
            transition: "approve".into(),
            required: vec!["admin".into(), "manager".into()],
            held: vec![]
        }
    );
    let err = as_role(&[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "'approve' requires role one of [admin, manager]; actor holds []"
    );
    // A transition without roles is open to everyone.
    assert!(m.fire(&start, "look", &FireOptions::default()).is_ok());
    assert_eq!(m.enabled(&start, &RoleSet::none()), vec![1]);
    assert_eq!(m.enabled(&start, &m.roles(&["manager"])), vec![0, 1]);
}

#[test]
fn unknown_names_and_wrong_shapes_are_errors() {
    let m = net(vec![place("a", 0)], &["t"], vec![]);
    assert_eq!(
        fire(&m, &[0], "nope", 1).unwrap_err().code(),
        "UNKNOWN_TRANSITION"
    );
    assert_eq!(
        fire(&m, &[0, 0], "t", 1).unwrap_err(),
        FireError::WrongMarkingSize {
            expected: 1,
            got: 2
        }
    );
    assert_eq!(
        m.marking_from_map([("zzz", 1)]).unwrap_err().code(),
        "UNKNOWN_PLACE"
    );
    assert_eq!(
        m.marking_from_map([("a", MAX_TOKENS + 1)])
            .unwrap_err()
            .code(),
        "OVERFLOW"
    );
    assert!(m.enabled(&Marking(vec![]), &RoleSet::All).is_empty());
}

#[test]
fn errors_serialise_with_a_code() {
    let err = FireError::NotEnabled {
        transition: "t".into(),
        place: "p".into(),
        has: 0,
        needs: 1,
    };
    assert_eq!(
        serde_json::to_string(&err).unwrap(),
        r#"{"code":"NOT_ENABLED","transition":"t","place":"p","has":0,"needs":1}"#
    );
    let err = FireError::CapacityExceeded {
        transition: "t".into(),
        place: "p".into(),
        would_have: 2,
        capacity: 1,
    };
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["wouldHave"], 2);
    assert_eq!(json["code"], err.code());
}

/// A random net: up to 6 places, 5 transitions, arcs of every kind.
fn arb_model() -> impl Strategy<Value = Model> {
    let places = prop::collection::vec((0u64..6, prop_oneof![Just(0u64), 1u64..8]), 1..6);
    (places, 1usize..5)
        .prop_flat_map(|(places, nt)| {
            let np = places.len();
            let arcs = prop::collection::vec((0..np, 0..nt, 1u64..4, 0u8..5), 0..12);
            (Just(places), Just(nt), arcs)
        })
        .prop_map(|(places, nt, arcs)| {
            let places: Vec<Place> = places
                .into_iter()
                .enumerate()
                .map(|(i, (initial, capacity))| Place {
                    capacity,
                    initial: if capacity > 0 {
                        initial.min(capacity)
                    } else {
                        initial
                    },
                    ..place(&format!("p{i}"), 0)
                })
                .collect();
            let mut seen = std::collections::HashSet::new();
            let arcs = arcs
                .into_iter()
                .filter_map(|(p, t, w, k)| {
                    let (p, t) = (format!("p{p}"), format!("t{t}"));
                    let (s, d, kind) = match k {
                        0 => (p, t, ArcKind::Normal),
                        1 => (t, p, ArcKind::Normal),
                        2 => (p, t, ArcKind::Inhibitor),
                        3 => (p, t, ArcKind::Read),
                        _ => (p, t, ArcKind::Reset),
                    };
                    seen.insert((s.clone(), d.clone(), kind))
                        .then(|| arc(&s, &d, w, kind))
                })
                .collect();
            let transitions = (0..nt).map(|i| transition(&format!("t{i}"))).collect();
            Model::new(ModelData {
                places,
                transitions,
                arcs,
                ..Default::default()
            })
            .unwrap()
        })
}

proptest! {
    /// Random walks: every firing keeps counts within capacity (and so never
    /// "negative": a refused firing changes nothing), and whether fire()
    /// succeeds always matches enabled().
    #[test]
    fn firing_respects_capacity_and_agrees_with_enabled(model in arb_model(), steps in prop::collection::vec(0usize..5, 0..40)) {
        let mut m = model.initial_marking();
        let all = RoleSet::All;
        for step in steps {
            let t = step % model.transitions().len();
            let enabled = model.enabled(&m, &all).contains(&t);
            let before = m.clone();
            let result = model.fire_in_place(&mut m, t, 1, &all);
            prop_assert_eq!(result.is_ok(), enabled);
            if result.is_err() {
                prop_assert_eq!(&m, &before);
            }
            for (count, p) in m.0.iter().zip(model.places()) {
                prop_assert!(*count <= MAX_TOKENS);
                prop_assert!(p.capacity == 0 || *count <= p.capacity, "place {} holds {}", p.id, count);
            }
        }
    }

    /// fire(k) equals k single firings whenever no guard is involved.
    #[test]
    fn multiple_equals_repeated_single_firings(model in arb_model(), k in 1u64..4, t in 0usize..5) {
        let t = t % model.transitions().len();
        prop_assume!(model.net().transitions[t].guards.is_empty() && !model.net().transitions[t].effects.iter().any(|e| e.reset));
        let all = RoleSet::All;
        let mut once = model.initial_marking();
        let batched = model.fire_in_place(&mut once, t, k, &all);
        let mut stepwise = model.initial_marking();
        let steps: Result<Vec<()>, _> = (0..k).map(|_| model.fire_in_place(&mut stepwise, t, 1, &all)).collect();
        if batched.is_ok() {
            prop_assert!(steps.is_ok());
            prop_assert_eq!(once, stepwise);
        }
    }

    /// No input panics: arbitrary markings, multiples and transitions.
    #[test]
    fn no_panic_on_any_marking(model in arb_model(), counts in prop::collection::vec(any::<u64>(), 0..7), k in any::<u64>(), t in any::<usize>()) {
        let mut m = Marking(counts);
        let _ = model.fire_in_place(&mut m, t, k, &RoleSet::All);
        let _ = model.enabled(&m, &RoleSet::none());
    }
}
