//! Every file of tests/fixtures (real files from public projects): it
//! imports through the one content-detecting entry point, its counts are the
//! ones read by hand from the file, it fires as its source tool would, and
//! it survives import -> PNML export -> import with the same model id.

use std::collections::BTreeMap;

use petrichain::formats::{self, pnml, Warning};
use petrichain::{ArcKind, FireError, FireOptions, Marking, Model};

macro_rules! corpus {
    ($file:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/",
            $file
        ))
    };
}

/// What a file holds, counted by hand from the file itself.
struct Counts {
    places: usize,
    transitions: usize,
    normal: usize,
    inhibitor: usize,
    reset: usize,
    tokens: u64,
    /// role -> number of transitions carrying it.
    roles: &'static [(&'static str, usize)],
}

fn load(bytes: &[u8], expected: Counts) -> (Model, Vec<Warning>) {
    let (model, warnings) = formats::import(bytes).unwrap_or_else(|e| panic!("{e}"));
    let kind = |k: ArcKind| model.arcs().iter().filter(|a| a.kind == k).count();
    assert_eq!(model.places().len(), expected.places, "places");
    assert_eq!(
        model.transitions().len(),
        expected.transitions,
        "transitions"
    );
    assert_eq!(kind(ArcKind::Normal), expected.normal, "normal arcs");
    assert_eq!(
        kind(ArcKind::Inhibitor),
        expected.inhibitor,
        "inhibitor arcs"
    );
    assert_eq!(kind(ArcKind::Reset), expected.reset, "reset arcs");
    assert_eq!(kind(ArcKind::Read), 0, "read arcs");
    let tokens: u64 = model.places().iter().map(|p| p.initial).sum();
    assert_eq!(tokens, expected.tokens, "initial tokens");
    let mut roles: BTreeMap<&str, usize> = BTreeMap::new();
    for t in model.transitions() {
        for r in &t.roles {
            *roles.entry(r.as_str()).or_default() += 1;
        }
    }
    assert_eq!(
        roles,
        expected.roles.iter().copied().collect::<BTreeMap<_, _>>(),
        "roles"
    );
    // Round trip through PNML keeps everything the id covers.
    let exported = pnml::export_pnml(&model).unwrap();
    let (again, again_warnings) = formats::import(exported.as_bytes()).unwrap();
    assert_eq!(again.id(), model.id(), "PNML round trip changed the model");
    assert!(again_warnings.is_empty(), "{again_warnings:?}");
    // And through canonical JSON.
    let (again, _) = formats::import(model.canonical_json().as_bytes()).unwrap();
    assert_eq!(again.id(), model.id(), "JSON round trip changed the model");
    (model, warnings)
}

fn fire(model: &Model, m: &Marking, t: &str, roles: &[&str]) -> Result<Marking, FireError> {
    model.fire(m, t, &FireOptions { multiple: 1, roles })
}

fn run(model: &Model, sequence: &[(&str, &str)]) -> Marking {
    let mut m = model.initial_marking();
    for (t, role) in sequence {
        let roles: &[&str] = if role.is_empty() { &[] } else { &[role] };
        m = fire(model, &m, t, roles).unwrap_or_else(|e| panic!("{t}: {e}"));
    }
    m
}

#[test]
fn pipe_inhibitor_sample_blocks_when_its_place_is_marked() {
    let (model, warnings) = load(
        corpus!("pipe-inhibitorArc.xml"),
        Counts {
            places: 1,
            transitions: 1,
            normal: 0,
            inhibitor: 1,
            reset: 0,
            tokens: 0,
            roles: &[],
        },
    );
    let arc = &model.arcs()[0];
    assert_eq!(
        (arc.source.as_str(), arc.target.as_str(), arc.weight),
        ("P0", "T0", 1)
    );
    assert_eq!(arc.points, vec![petrichain::Point { x: 40, y: 60 }]);
    // The arc's name "arc0" is a label petrichain does not keep.
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].element, "P0 TO T0");
    assert_eq!(warnings[0].position.unwrap().to_string(), "39:13");
    // Empty P0: T0 may fire (and changes nothing).
    let m0 = model.initial_marking();
    assert_eq!(fire(&model, &m0, "T0", &[]).unwrap(), m0);
    // One token in P0: the inhibitor arc blocks T0.
    let marked = model.marking_from_map([("P0", 1)]).unwrap();
    assert!(matches!(
        fire(&model, &marked, "T0", &[]),
        Err(FireError::Inhibited {
            has: 1,
            limit: 1,
            ..
        })
    ));
}

#[test]
fn bitwrap_counter_counts_up_and_down() {
    let (model, warnings) = load(
        corpus!("bitwrap-counter.xml"),
        Counts {
            places: 1,
            transitions: 2,
            normal: 2,
            inhibitor: 0,
            reset: 0,
            tokens: 0,
            roles: &[],
        },
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let p0 = &model.places()[0];
    // PIPE writes the top-left corner of the node's 30 x 30 box (105, 30);
    // its centre is 15 right of and below it (issue 15, class 1).
    assert_eq!(
        (p0.id.as_str(), p0.x, p0.y, p0.capacity),
        ("P0", 120, 45, 0)
    );
    let m0 = model.initial_marking();
    assert!(matches!(
        fire(&model, &m0, "DEC", &[]),
        Err(FireError::NotEnabled {
            has: 0,
            needs: 1,
            ..
        })
    ));
    let m = run(&model, &[("INC", ""), ("INC", ""), ("DEC", "")]);
    assert_eq!(model.marking_map(&m)["P0"], 1);
}

#[test]
fn bitwrap_vote_is_a_one_shot_ballot_that_can_change_its_mind() {
    let (model, warnings) = load(
        corpus!("bitwrap-vote.xml"),
        Counts {
            places: 3,
            transitions: 4,
            normal: 8,
            inhibitor: 0,
            reset: 0,
            tokens: 1,
            roles: &[],
        },
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let m = run(&model, &[("YAY", "")]);
    assert_eq!(model.marking_map(&m)["affirmative"], 1);
    // The vote token is spent: no second vote.
    assert!(fire(&model, &m, "NAY", &[]).is_err());
    let m = run(&model, &[("YAY", ""), ("dissent", ""), ("convert", "")]);
    assert_eq!(model.marking_map(&m)["affirmative"], 1);
    assert_eq!(model.marking_map(&m)["negative"], 0);
}

#[test]
fn pm4py_running_example_reaches_its_final_marking() {
    let (model, warnings) = load(
        corpus!("pm4py-running-example.pnml"),
        Counts {
            places: 9,
            transitions: 10,
            normal: 22,
            inhibitor: 0,
            reset: 0,
            tokens: 1,
            roles: &[],
        },
    );
    assert_eq!(model.name(), "Petri net");
    // 9 + 10 + 22 <toolspecific> elements (2 of them mark invisible
    // transitions) and 2 arcs whose name is a label, not the weight.
    assert_eq!(warnings.len(), 43, "{warnings:?}");
    let invisible: Vec<_> = warnings
        .iter()
        .filter(|w| w.message.contains("invisible"))
        .map(|w| w.element.as_str())
        .collect();
    assert_eq!(invisible, ["n11", "n17"]);
    assert_eq!(
        warnings
            .iter()
            .filter(|w| w.message.starts_with("arc label"))
            .count(),
        2
    );
    let n1 = &model.places()[model.place_index("n1").unwrap()];
    assert_eq!((n1.label.as_str(), n1.x, n1.y), ("source 45", 6, 104));
    // The final marking: one token in the sink n2 (all others listed as 0).
    assert_eq!(model.final_markings().len(), 1);
    let fm = &model.final_markings()[0];
    assert_eq!(fm.len(), 9);
    assert_eq!(fm["n2"], 1);
    // register, tau split, check ticket, examine thoroughly, decide,
    // tau, reject.
    let m = run(
        &model,
        &[
            ("n10", ""),
            ("n11", ""),
            ("n12", ""),
            ("n14", ""),
            ("n15", ""),
            ("n17", ""),
            ("n19", ""),
        ],
    );
    let expected = model
        .marking_from_map(fm.iter().map(|(p, n)| (p.as_str(), *n)))
        .unwrap();
    assert_eq!(m, expected);
    // decide needs both branches done.
    let half = run(&model, &[("n10", ""), ("n11", ""), ("n12", "")]);
    assert!(matches!(
        fire(&model, &half, "n15", &[]),
        Err(FireError::NotEnabled { .. })
    ));
}

#[test]
fn pneditor_insurance_company_enforces_roles_and_weights() {
    let (model, warnings) = load(
        corpus!("pneditor-insurance-company.pflow"),
        Counts {
            places: 13,
            transitions: 14,
            normal: 29,
            inhibitor: 0,
            reset: 0,
            tokens: 1,
            roles: &[("Claim handler", 3), ("Employee", 7), ("Finance", 4)],
        },
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let weight = |s: &str, t: &str| {
        model
            .arcs()
            .iter()
            .find(|a| a.source == s && a.target == t)
            .unwrap()
            .weight
    };
    assert_eq!(weight("14", "12"), 2);
    assert_eq!(weight("11", "14"), 2);
    let bent = model
        .arcs()
        .iter()
        .find(|a| a.source == "14" && a.target == "12");
    assert_eq!(bent.unwrap().points.len(), 4);
    let m0 = model.initial_marking();
    // Register is an Employee's job.
    assert!(matches!(
        fire(&model, &m0, "23", &["Finance"]),
        Err(FireError::RoleDenied { .. })
    ));
    // Simple claim: both garage and insurance checks feed the decision
    // (weight 2), then pay and send the letter.
    let checked_once = run(
        &model,
        &[
            ("23", "Employee"),
            ("25", "Claim handler"),
            ("22", "Claim handler"),
            ("24", "Employee"),
        ],
    );
    assert!(matches!(
        fire(&model, &checked_once, "12", &["Finance"]),
        Err(FireError::NotEnabled {
            has: 1,
            needs: 2,
            ..
        })
    ));
    let m = run(
        &model,
        &[
            ("23", "Employee"),
            ("25", "Claim handler"),
            ("22", "Claim handler"),
            ("24", "Employee"),
            ("18", "Employee"),
            ("12", "Finance"),
            ("13", "Finance"),
            ("9", "Finance"),
            ("27", "Employee"),
        ],
    );
    let end = model.marking_map(&m);
    assert_eq!(end["19"], 1);
    assert_eq!(end.values().sum::<u64>(), 1);
}

#[test]
fn ptflow_counter_respects_capacity_and_roles() {
    let (model, warnings) = load(
        corpus!("ptflow-counter.pflow"),
        Counts {
            places: 2,
            transitions: 4,
            normal: 4,
            inhibitor: 0,
            reset: 0,
            tokens: 0,
            roles: &[("role0", 2), ("role1", 2)],
        },
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(model.places().iter().all(|p| p.capacity == 20));
    let mut m = model.initial_marking();
    for _ in 0..20 {
        m = fire(&model, &m, "3", &["role0"]).unwrap();
    }
    assert!(matches!(
        fire(&model, &m, "3", &["role0"]),
        Err(FireError::CapacityExceeded {
            would_have: 21,
            capacity: 20,
            ..
        })
    ));
    assert!(matches!(
        fire(&model, &m, "5", &["role1"]),
        Err(FireError::RoleDenied { .. })
    ));
    let m = fire(&model, &m, "5", &["role0"]).unwrap();
    assert_eq!(model.marking_map(&m)["1"], 19);
}

#[test]
fn gopflow_sir_model_infects_and_recovers() {
    let (model, _) = load(
        corpus!("gopflow-sir_model.json"),
        Counts {
            places: 3,
            transitions: 2,
            normal: 5,
            inhibitor: 0,
            reset: 0,
            tokens: 1000,
            roles: &[],
        },
    );
    let m = run(&model, &[("infection", ""), ("recovery", "")]);
    let map = model.marking_map(&m);
    assert_eq!((map["S"], map["I"], map["R"]), (989, 10, 1));
}

#[test]
fn gopflow_producer_consumer() {
    let (model, _) = load(
        corpus!("gopflow-pc_small.json"),
        Counts {
            places: 4,
            transitions: 2,
            normal: 7,
            inhibitor: 0,
            reset: 0,
            tokens: 2,
            roles: &[],
        },
    );
    let m0 = model.initial_marking();
    assert!(fire(&model, &m0, "consume", &[]).is_err());
    let m = run(&model, &[("produce", ""), ("produce", ""), ("consume", "")]);
    let map = model.marking_map(&m);
    assert_eq!((map["Buffer"], map["Consumed"]), (1, 1));
}

#[test]
fn gopflow_tictactoe_takes_turns() {
    let (model, _) = load(
        corpus!("gopflow-tictactoe.jsonld"),
        Counts {
            places: 30,
            transitions: 34,
            normal: 118,
            inhibitor: 0,
            reset: 0,
            tokens: 9,
            roles: &[("o", 17), ("x", 17)],
        },
    );
    let m = run(&model, &[("X11", "x")]);
    // X may not move twice: Next has capacity 1.
    assert!(matches!(
        fire(&model, &m, "X00", &["x"]),
        Err(FireError::CapacityExceeded { .. })
    ));
    assert!(matches!(
        fire(&model, &m, "O00", &["x"]),
        Err(FireError::RoleDenied { .. })
    ));
    // The centre is taken.
    assert!(matches!(
        fire(&model, &m, "O11", &["o"]),
        Err(FireError::NotEnabled { .. })
    ));
    let m = fire(&model, &m, "O00", &["o"]).unwrap();
    assert_eq!(model.marking_map(&m)["Next"], 0);
}

/// Every cut of every XML corpus file before its last `>` is reported as a
/// truncated file (never a panic, never a wrong net).
#[test]
fn truncated_corpus_files_say_so() {
    let files: [&[u8]; 6] = [
        corpus!("pipe-inhibitorArc.xml"),
        corpus!("bitwrap-counter.xml"),
        corpus!("bitwrap-vote.xml"),
        corpus!("pm4py-running-example.pnml"),
        corpus!("pneditor-insurance-company.pflow"),
        corpus!("ptflow-counter.pflow"),
    ];
    for file in files {
        let end = file.iter().rposition(|&b| b == b'>').unwrap();
        // Past the XML declaration, so that detection sees the root.
        let start = file.windows(2).position(|w| w == b"?>").unwrap() + 2;
        for cut in (start..end).step_by(7) {
            let err = formats::import(&file[..cut]).unwrap_err();
            assert_eq!(err.code(), "TRUNCATED", "cut at {cut}: {err}");
        }
    }
}

/// The classic entity-expansion bomb never gets as far as an entity.
#[test]
fn billion_laughs_is_refused_before_any_expansion() {
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE pnml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<pnml><net id="n"><place id="&lol3;"/></net></pnml>"#;
    let err = formats::import(bomb).unwrap_err();
    assert_eq!(err.code(), "DTD_REFUSED");
    assert!(err.to_string().starts_with("2:1: "), "{err}");
    // Without the DTD, the entity is simply undefined.
    let err =
        formats::import(br#"<pnml><net id="n"><place id="&lol3;"/></net></pnml>"#).unwrap_err();
    assert_eq!(err.code(), "SYNTAX");
}
