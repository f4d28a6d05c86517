//! Fuzzing the chain verifier through JSON-lines import, on stable,
//! bounded, in CI (issue 17; driver: tests/fuzzing/mod.rs). Seeds are real
//! exported chains (signed, with deltas, roots, read / reset / inhibitor
//! arcs); every mutated file must parse and verify or fail with a typed
//! error, never panic; and a file that is accepted must be a chain the
//! verifier accepts again after export, ending at the same head.

mod fuzzing;

use petrichain::chain::jsonl::{self, Chain};
use petrichain::chain::verify_events;
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger};

fn net() -> petrichain::Model {
    import_json(
        r#"{"places":[{"id":"p","initial":4},{"id":"q","capacity":6},{"id":"r"}],
        "transitions":[{"id":"give"},{"id":"back","roles":["clerk"]},{"id":"sweep"},{"id":"mint"}],
        "arcs":[{"source":"p","target":"give"},{"source":"give","target":"q"},
                {"source":"q","target":"back"},{"source":"back","target":"p"},
                {"source":"q","target":"sweep","kind":"reset"},{"source":"p","target":"sweep","kind":"read"},
                {"source":"sweep","target":"r"},
                {"source":"r","target":"mint","kind":"inhibitor","weight":2},{"source":"mint","target":"p","weight":2}]}"#,
    )
    .unwrap()
    .0
}

/// A signed chain of `steps` (transition, multiple, clerk role) as a
/// JSON-lines export.
fn exported(steps: &[(&str, u64, bool)]) -> Vec<u8> {
    let model = net();
    block_on(async {
        let ledger = Ledger::memory();
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("s", &id).await.unwrap();
        for (i, (t, multiple, clerk)) in steps.iter().enumerate() {
            let roles: &[&str] = if *clerk { &["clerk"] } else { &[] };
            let action = Action::new(*t)
                .multiple(*multiple)
                .roles(roles.iter().copied())
                .actor(format!("actor{i}"))
                .payload(serde_json::json!({"n": i, "note": "é\"\\"}).to_string());
            ledger.fire("s", &action, 1_000 + i as u64).await.unwrap();
        }
        let events = ledger.all_events("s").await.unwrap();
        let mut text = String::new();
        jsonl::write(&model, "s", &events, &mut text);
        text.into_bytes()
    })
}

fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = jsonl::parse(text) else {
        return;
    };
    if let Chain::V2 { events, verified } = parsed.chain {
        assert_eq!(verified.events, events.len() as u64);
        let again = verify_events(&parsed.model, &parsed.stream, &events)
            .expect("an accepted chain verifies again");
        assert_eq!(again.head, verified.head);
        let mut out = String::new();
        jsonl::write(&parsed.model, &parsed.stream, &events, &mut out);
        let reparsed = jsonl::parse(&out).expect("an accepted chain re-imports from its export");
        match reparsed.chain {
            Chain::V2 { verified: v, .. } => assert_eq!(v.head, verified.head),
            Chain::V1(_) => panic!("a version 2 export read back as version 1"),
        }
    }
}

#[test]
fn the_chain_verifier_survives_mutated_exports() {
    let seeds = vec![
        exported(&[("give", 1, false), ("give", 2, false), ("back", 1, true)]),
        exported(&[
            ("give", 3, false),
            ("sweep", 1, false),
            ("mint", 1, false),
            ("give", 1, false),
        ]),
        exported(&[]),
    ];
    let dict: &[&[u8]] = &[
        b"\"seq\":",
        b"\"prev\":\"",
        b"\"delta\":[[\"p\",1]]",
        b"\"sig\":\"",
        b"\"v\":2,",
        b"\"version\":1",
        b"\"multiple\":",
        b"\"roles\":[\"clerk\"]",
        b"\n",
        b"0000000000000000000000000000000000000000000000000000000000000000",
    ];
    fuzzing::run("chain", &seeds, dict, 1_500, 17, check);
}
