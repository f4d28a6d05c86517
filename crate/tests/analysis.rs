//! The analysis against reference figures: the Model Checking Contest's
//! published state-space sizes of its Philosophers model, the money-transfer
//! example's conservation law, and small nets whose answers follow from
//! their definition. docs/analysis.md lists the figures with their sources.

#[path = "../benches/analysis_nets.rs"]
mod nets;

use petrichain::analysis::{
    events_csv, explore, find_marking, firing_counts, incidence, p_invariants, siphons_and_traps,
    t_invariants, Clock, ExploreLimits, Firing, NoClock, Reachability, Stopped,
};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger};
use petrichain::{FireOptions, Model};

fn json(text: &str) -> Model {
    import_json(text).unwrap().0
}

fn transfer() -> Model {
    json(include_str!("../../www/examples/transfer.json"))
}

#[test]
fn philosophers_5_matches_the_contest_figures() {
    let model = nets::philosophers(5);
    assert_eq!(model.places().len(), 25);
    assert_eq!(model.transitions().len(), 25);
    let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
    // MCC StateSpace of Philosophers-PT-000005: 243 states, 945 firings,
    // at most 1 token per place, at most 10 tokens in a marking.
    assert_eq!((space.states, space.edges), (243, 945));
    assert!(space.complete && !space.coverability);
    assert!(space.bounds.iter().all(|b| b.max == Some(1)));
    assert_eq!(space.max_total, Some(10));
    assert_eq!(
        space.summary,
        "explored 243 states and 945 firings: exhaustive"
    );
    assert!(space.dead_transitions.is_empty());
    // ReachabilityDeadlock is TRUE: everyone holds one fork, the left
    // ones or the right ones.
    assert_eq!(space.deadlock_count, 2);
    for d in &space.deadlocks {
        assert_eq!(d.sequence.len(), 5, "{d:?}");
        let mut m = model.initial_marking();
        for t in &d.sequence {
            m = model.fire(&m, t, &FireOptions::default()).unwrap();
        }
        assert_eq!(model.marking_map(&m), d.marking);
        assert!(model.enabled(&m, &model.roles(&["*"])).is_empty());
        let catch1 = (1..=5).all(|i| d.marking[&format!("Catch1_{i}")] == 1);
        let catch2 = (1..=5).all(|i| d.marking[&format!("Catch2_{i}")] == 1);
        assert!(catch1 ^ catch2, "{d:?}");
    }
}

#[test]
fn philosophers_10_matches_the_contest_state_count() {
    let space = explore(&nets::philosophers(10), &ExploreLimits::default(), &NoClock).unwrap();
    assert_eq!(space.states, 59_049); // 3^10, MCC Philosophers-PT-000010
    assert!(space.complete);
    assert_eq!(space.max_total, Some(20));
}

#[test]
fn philosophers_invariants_are_one_per_philosopher_and_one_per_fork() {
    let model = nets::philosophers(5);
    let p = p_invariants(&model).unwrap();
    assert_eq!(p.invariants.len(), 10, "{:#?}", p.invariants);
    assert!(p.uncovered.is_empty() && p.excluded.is_empty() && p.bounded);
    assert!(p.bounds.iter().all(|&b| b == Some(1)));
    let formulas: Vec<&str> = p.invariants.iter().map(|i| i.formula.as_str()).collect();
    assert!(
        formulas.contains(&"Catch1_1 + Catch2_1 + Eat_1 + Think_1 = 1"),
        "{formulas:?}"
    );
    // Fork_2 is held by philosopher 2 (left) or philosopher 1 (right).
    assert!(
        formulas.contains(&"Catch1_2 + Catch2_1 + Eat_1 + Eat_2 + Fork_2 = 1"),
        "{formulas:?}"
    );
    let t = t_invariants(&model).unwrap();
    assert_eq!(t.invariants.len(), 10);
    assert!(t.uncovered.is_empty());
    let formulas: Vec<&str> = t.invariants.iter().map(|i| i.formula.as_str()).collect();
    assert!(
        formulas.contains(&"End_1 + FF1a_1 + FF2a_1"),
        "{formulas:?}"
    );
}

#[test]
fn the_transfer_example_conserves_175() {
    let model = transfer();
    let p = p_invariants(&model).unwrap();
    assert_eq!(p.invariants.len(), 1);
    let inv = &p.invariants[0];
    assert_eq!(inv.formula, "alice + bob + carol = 175");
    assert_eq!(
        inv.sentence,
        "The total of Alice, Bob and Carol is always 175."
    );
    assert_eq!(inv.total, Some(175));
    assert_eq!(p.bounds, vec![Some(175); 3]);
    let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
    // Every way of splitting 175 tokens over 3 places: C(177, 2).
    assert_eq!(space.states, 177 * 176 / 2);
    assert_eq!(space.deadlock_count, 0);
    assert!(space.multiples_covered);
    // T-invariants: each pair of opposite transfers, and each cycle of three.
    let t = t_invariants(&model).unwrap();
    assert_eq!(t.invariants.len(), 5, "{:#?}", t.invariants);
}

#[test]
fn weighted_invariants_and_their_sentence() {
    // A reservation takes 2 seats from "free" into one "booking".
    let model = json(
        r#"{"places":[{"id":"free","label":"Free seats","initial":10},{"id":"booked","label":"Bookings"}],
        "transitions":[{"id":"book"},{"id":"cancel"}],
        "arcs":[{"source":"free","target":"book","weight":2},{"source":"book","target":"booked"},
                {"source":"booked","target":"cancel"},{"source":"cancel","target":"free","weight":2}]}"#,
    );
    let p = p_invariants(&model).unwrap();
    assert_eq!(p.invariants[0].formula, "2*booked + free = 10");
    assert_eq!(
        p.invariants[0].sentence,
        "2 × Bookings + Free seats is always 10."
    );
    assert_eq!(p.bounds, vec![Some(5), Some(10)]);
    let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
    assert_eq!(space.states, 6);
    assert_eq!(space.bounds[0].max, Some(5));
}

#[test]
fn incidence_matrix_and_its_csv() {
    let model = json(
        r#"{"places":[{"id":"a","initial":1},{"id":"b"}],"transitions":[{"id":"t"},{"id":"z"}],
        "arcs":[{"source":"a","target":"t","weight":2},{"source":"t","target":"b"},{"source":"b","target":"z","kind":"reset"},
                {"source":"a","target":"z","kind":"read"}]}"#,
    );
    let c = incidence(&model);
    assert_eq!(c.dense().unwrap(), vec![vec![-2, 0], vec![1, 0]]);
    assert_eq!(c.reset, vec![(1, 1)]);
    assert_eq!(c.to_csv().unwrap(), "place,t,z\na,-2,0\nb,1,R\n");
    // b is reset by z: it is left out of the invariants.
    let p = p_invariants(&model).unwrap();
    assert_eq!(p.excluded, vec!["b".to_string()]);
    assert!(p.invariants.is_empty());
    assert!(!p.bounded);
    let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
    assert!(!space.multiples_covered);
}

#[test]
fn an_unbounded_net_gets_a_finite_coverability_graph() {
    // "make" puts a token in "stock" for ever; "sell" takes one back.
    let model = json(
        r#"{"places":[{"id":"stock"},{"id":"on","initial":1}],"transitions":[{"id":"make"},{"id":"sell"},{"id":"stop"}],
        "arcs":[{"source":"on","target":"make","kind":"read"},{"source":"make","target":"stock"},{"source":"stock","target":"sell"},
                {"source":"on","target":"stop"}]}"#,
    );
    let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
    assert!(space.complete && space.coverability, "{space:?}");
    assert!(space.states < 10, "{space:?}");
    // Places are in id order: "on", "stock".
    assert_eq!(space.bounds[0].max, Some(1));
    assert_eq!(space.bounds[1].place, "stock");
    assert_eq!(space.bounds[1].max, None, "stock is unbounded");
    assert_eq!(space.max_total, None);
    assert!(space.dead_transitions.is_empty());
    // The only ω-free deadlock: stopped at once with an empty stock.
    assert_eq!(space.deadlock_count, 1);
    assert_eq!(space.deadlocks[0].sequence, vec!["stop".to_string()]);
    let p = p_invariants(&model).unwrap();
    assert!(!p.bounded);
    // "on" only ever loses its token: no invariant holds it either.
    assert_eq!(p.uncovered, vec!["on".to_string(), "stock".to_string()]);
}

#[test]
fn an_unbounded_net_with_an_inhibitor_arc_stops_at_the_limit_and_says_so() {
    // ω would be unsound with an inhibitor arc: plain exploration, limited.
    let model = json(
        r#"{"places":[{"id":"n"},{"id":"gate"}],"transitions":[{"id":"inc"}],
        "arcs":[{"source":"gate","target":"inc","kind":"inhibitor"},{"source":"inc","target":"n"}]}"#,
    );
    let limits = ExploreLimits {
        max_states: 1_000,
        ..Default::default()
    };
    let space = explore(&model, &limits, &NoClock).unwrap();
    assert!(!space.complete && !space.coverability);
    assert_eq!(space.states, 1_000);
    assert_eq!(space.stopped, Some(Stopped::States { max: 1_000 }));
    assert_eq!(
        space.summary,
        "explored 1,000 states, not exhaustive: the state limit (1,000) was reached"
    );
    assert_eq!(space.bounds[1].place, "n");
    assert_eq!(
        space.bounds[1].max,
        Some(999),
        "a lower bound, as far as explored"
    );
}

struct Ticks(std::cell::Cell<u64>);
impl Clock for Ticks {
    fn now_ms(&self) -> u64 {
        let t = self.0.get();
        self.0.set(t + 1);
        t
    }
}

#[test]
fn the_time_limit_is_honoured_and_reported() {
    let limits = ExploreLimits {
        max_millis: Some(3),
        ..Default::default()
    };
    let space = explore(&nets::philosophers(10), &limits, &Ticks(0.into())).unwrap();
    assert!(!space.complete);
    assert_eq!(space.stopped, Some(Stopped::Time { max: 3 }));
    assert!(space.states < 59_049);
    assert!(
        space
            .summary
            .contains("not exhaustive: the time limit (3 ms)"),
        "{}",
        space.summary
    );
}

#[test]
fn the_memory_limit_is_honoured_and_reported() {
    let limits = ExploreLimits {
        max_bytes: 64 << 10,
        ..Default::default()
    };
    let space = explore(&nets::philosophers(10), &limits, &NoClock).unwrap();
    assert_eq!(space.stopped, Some(Stopped::Memory { max: 64 << 10 }));
    assert!(space.states < 59_049);
}

#[test]
fn bad_limits_are_typed_errors() {
    let model = transfer();
    for limits in [
        ExploreLimits {
            max_states: 0,
            ..Default::default()
        },
        ExploreLimits {
            max_deadlocks: 1_000_000,
            ..Default::default()
        },
        ExploreLimits {
            max_bytes: 10,
            ..Default::default()
        },
    ] {
        assert_eq!(
            explore(&model, &limits, &NoClock).unwrap_err().code(),
            "INVALID_INPUT"
        );
    }
}

#[test]
fn reachable_markings_come_with_a_shortest_sequence() {
    let model = transfer();
    let target = model
        .marking_from_map([("alice", 98), ("bob", 51), ("carol", 26)])
        .unwrap();
    let limits = ExploreLimits::default();
    match find_marking(&model, &target, &limits, &NoClock).unwrap() {
        Reachability::Reachable { sequence, .. } => {
            assert_eq!(sequence.len(), 2, "{sequence:?}");
            let mut m = model.initial_marking();
            for t in &sequence {
                m = model
                    .fire(
                        &m,
                        t,
                        &FireOptions {
                            multiple: 1,
                            roles: &["*"],
                        },
                    )
                    .unwrap();
            }
            assert_eq!(m, target);
        }
        other => panic!("{other:?}"),
    }
    // 176 tokens break the conservation law: no search needed.
    let target = model
        .marking_from_map([("alice", 100), ("bob", 51), ("carol", 25)])
        .unwrap();
    match find_marking(&model, &target, &limits, &NoClock).unwrap() {
        Reachability::Unreachable { reason, states } => {
            assert_eq!(states, 0);
            assert_eq!(
                reason,
                "it breaks the invariant alice + bob + carol = 175 (its sum is 176)"
            );
        }
        other => panic!("{other:?}"),
    }
    let wrong = petrichain::Marking(vec![1, 2]);
    assert_eq!(
        find_marking(&model, &wrong, &limits, &NoClock)
            .unwrap_err()
            .code(),
        "WRONG_MARKING_SIZE"
    );
}

#[test]
fn unreachable_by_search_and_unknown_at_the_limit() {
    // "t" needs a token in "key", which nothing ever puts there.
    let model = json(
        r#"{"places":[{"id":"p","initial":1},{"id":"q"},{"id":"key"}],"transitions":[{"id":"t"}],
        "arcs":[{"source":"p","target":"t"},{"source":"t","target":"q"},{"source":"key","target":"t","kind":"read"}]}"#,
    );
    let q = model.marking_from_map([("q", 1)]).unwrap();
    match find_marking(&model, &q, &ExploreLimits::default(), &NoClock).unwrap() {
        Reachability::Unreachable { reason, states } => {
            assert_eq!(states, 1);
            assert_eq!(
                reason,
                "explored 1 state: exhaustive, and it is not among them (single firings: with read, inhibitor or reset arcs a firing with multiple > 1 can reach more)"
            );
        }
        other => panic!("{other:?}"),
    }
    let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
    assert_eq!(space.dead_transitions, vec!["t".to_string()]);
    // The same, proven without exploring: {key, q} is an empty siphon.
    let st = siphons_and_traps(&model);
    assert_eq!(st.empty_siphon, vec!["key".to_string(), "q".to_string()]);
    assert_eq!(st.never_enabled, vec!["t".to_string()]);
    // Every place together is a trap ("t" takes from p and gives to q),
    // marked at the start: p or q always holds the token.
    assert_eq!(
        st.marked_trap,
        vec!["key".to_string(), "p".to_string(), "q".to_string()]
    );
    // A sink that swallows the token leaves no marked trap.
    let sink = json(
        r#"{"places":[{"id":"p","initial":1}],"transitions":[{"id":"eat"}],"arcs":[{"source":"p","target":"eat"}]}"#,
    );
    assert!(siphons_and_traps(&sink).marked_trap.is_empty());
    // In the transfer net the three accounts are a marked trap.
    let st = siphons_and_traps(&transfer());
    assert!(st.empty_siphon.is_empty() && st.never_enabled.is_empty());
    assert_eq!(
        st.marked_trap,
        vec!["alice".to_string(), "bob".to_string(), "carol".to_string()]
    );

    let phil = nets::philosophers(10);
    let mut all_eat_odd = phil.initial_marking();
    for i in [1, 3, 5, 7, 9] {
        for (place, n) in [("Think", 0), ("Eat", 1), ("Fork", 0)] {
            all_eat_odd.0[phil.place_index(&format!("{place}_{i}")).unwrap()] = n;
        }
        all_eat_odd.0[phil.place_index(&format!("Fork_{}", i + 1)).unwrap()] = 0;
    }
    let small = ExploreLimits {
        max_states: 50,
        ..Default::default()
    };
    match find_marking(&phil, &all_eat_odd, &small, &NoClock).unwrap() {
        Reachability::Unknown {
            states, summary, ..
        } => {
            assert_eq!(states, 50);
            assert!(summary.contains("not exhaustive"));
        }
        other => panic!("{other:?}"),
    }
    match find_marking(&phil, &all_eat_odd, &ExploreLimits::default(), &NoClock).unwrap() {
        Reachability::Reachable { sequence, .. } => assert_eq!(sequence.len(), 10),
        other => panic!("{other:?}"),
    }
}

fn transfer_log() -> (Model, Vec<petrichain::chain::Event>) {
    let model = transfer();
    let events = block_on(async {
        let ledger = Ledger::memory();
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("s", &id).await.unwrap();
        for (i, (t, k, who)) in [
            ("alice_to_bob", 10, "alice"),
            ("bob_to_carol", 5, "bob"),
            ("alice_to_bob", 1, "alice"),
            ("carol_to_alice", 30, "carol"),
        ]
        .into_iter()
        .enumerate()
        {
            let action = Action::new(t)
                .multiple(k)
                .roles([who])
                .actor(format!("{who}, Inc."));
            ledger.fire("s", &action, 1_000 + i as u64).await.unwrap();
        }
        ledger.all_events("s").await.unwrap()
    });
    (model, events)
}

#[test]
fn a_log_exports_as_csv_of_replayed_state_vectors() {
    let (model, events) = transfer_log();
    let csv = events_csv(&model, &events).unwrap();
    assert_eq!(
        csv,
        "seq,action,actor,ts,alice,bob,carol\n\
         1,alice_to_bob,\"alice, Inc.\",1000,90,60,25\n\
         2,bob_to_carol,\"bob, Inc.\",1001,90,55,30\n\
         3,alice_to_bob,\"alice, Inc.\",1002,89,56,30\n\
         4,carol_to_alice,\"carol, Inc.\",1003,119,56,0\n"
    );
    let counts = firing_counts(&model, &events).unwrap();
    assert_eq!(counts.events, 4);
    let by_id: Vec<(String, u64)> = counts
        .counts
        .iter()
        .map(|c| (c.transition.clone(), c.count))
        .collect();
    assert!(by_id.contains(&("alice_to_bob".into(), 11)));
    assert!(by_id.contains(&("carol_to_alice".into(), 30)));
    assert!(by_id.contains(&("bob_to_alice".into(), 0)));
    assert_eq!(counts.marking["alice"], 119);
}

#[test]
fn a_log_that_does_not_replay_is_an_error_naming_the_event() {
    let (model, events) = transfer_log();
    let firings: Vec<Firing> = events
        .iter()
        .map(|e| Firing {
            seq: e.seq,
            action: e.action.clone(),
            multiple: e.multiple,
            roles: e.roles.clone(),
            actor: e.actor.clone(),
            ts: e.ts,
        })
        .collect();
    assert_eq!(
        events_csv(&model, &firings).unwrap(),
        events_csv(&model, &events).unwrap()
    );

    let mut gap = firings.clone();
    gap.remove(1);
    let err = events_csv(&model, &gap).unwrap_err();
    assert_eq!(err.code(), "SEQ_GAP");

    let mut greedy = firings.clone();
    greedy[0].multiple = 101; // Alice has 100
    let err = firing_counts(&model, &greedy).unwrap_err();
    assert_eq!(err.code(), "NOT_ENABLED");
    assert!(
        err.to_string()
            .starts_with("event 1 ('alice_to_bob') cannot be replayed"),
        "{err}"
    );

    let mut impostor = firings.clone();
    impostor[1].roles = vec!["alice".into()];
    assert_eq!(
        events_csv(&model, &impostor).unwrap_err().code(),
        "ROLE_DENIED"
    );

    let mut unknown = firings;
    unknown[2].action = "mint".into();
    assert_eq!(
        events_csv(&model, &unknown).unwrap_err().code(),
        "UNKNOWN_TRANSITION"
    );
}

#[test]
fn degenerate_nets_have_exact_answers() {
    // No transitions: the initial marking is the only state, and dead.
    let still = json(r#"{"places":[{"id":"p","initial":2}]}"#);
    let space = explore(&still, &ExploreLimits::default(), &NoClock).unwrap();
    assert_eq!((space.states, space.edges, space.deadlock_count), (1, 0, 1));
    assert_eq!(space.deadlocks[0].sequence, Vec::<String>::new());
    assert_eq!(
        p_invariants(&still).unwrap().invariants[0].sentence,
        "p always holds 2."
    );
    // No places: one state, the transition loops on it for ever.
    let idle = json(r#"{"transitions":[{"id":"tick"}]}"#);
    let space = explore(&idle, &ExploreLimits::default(), &NoClock).unwrap();
    assert_eq!((space.states, space.edges, space.deadlock_count), (1, 1, 0));
    assert_eq!(space.max_total, Some(0));
    let t = t_invariants(&idle).unwrap();
    assert_eq!(t.invariants[0].formula, "tick");
    assert_eq!(incidence(&idle).to_csv().unwrap(), "place,tick\n");
    assert_eq!(
        events_csv(&idle, &[] as &[Firing]).unwrap(),
        "seq,action,actor,ts\n"
    );
}

#[test]
fn counts_above_a_byte_are_packed_wider_without_loss() {
    // 300 tokens cycle between two places: counts need 16 bits.
    let model = json(
        r#"{"places":[{"id":"a","initial":300},{"id":"b"}],"transitions":[{"id":"ab"},{"id":"ba"}],
        "arcs":[{"source":"a","target":"ab"},{"source":"ab","target":"b"},{"source":"b","target":"ba"},{"source":"ba","target":"a"}]}"#,
    );
    let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
    assert_eq!(space.states, 301);
    assert_eq!(space.bounds[1].max, Some(300));
    let target = model.marking_from_map([("a", 1), ("b", 299)]).unwrap();
    match find_marking(&model, &target, &ExploreLimits::default(), &NoClock).unwrap() {
        Reachability::Reachable { sequence, .. } => assert_eq!(sequence.len(), 299),
        other => panic!("{other:?}"),
    }
}
