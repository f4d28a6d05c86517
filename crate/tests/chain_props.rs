//! Property tests of the chain: random legal runs verify; any single-field
//! tamper (signature, nonce, delta and root included) is detected at the
//! tampered seq.

use petrichain::chain::{verify_events, ChainError, Event};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger};
use petrichain::Model;
use proptest::prelude::*;

fn net() -> Model {
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

/// Runs `steps` (transition pick, multiple, roles pick, payload) on a memory
/// ledger, skipping refused ones; returns the stored events and how many
/// steps the net accepted.
fn run(steps: &[(usize, u64, bool, String)]) -> (Model, Vec<Event>, usize) {
    let model = net();
    let mut accepted = 0;
    let events = block_on(async {
        let ledger = Ledger::memory();
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("s", &id).await.unwrap();
        for (i, (pick, multiple, clerk, payload)) in steps.iter().enumerate() {
            let t = &model.transitions()[pick % model.transitions().len()].id;
            let roles: &[&str] = if *clerk { &["clerk"] } else { &[] };
            let action = Action::new(t.clone())
                .multiple(*multiple)
                .roles(roles.iter().copied())
                .actor(format!("actor{}", i % 3))
                .payload(serde_json::to_string(payload).unwrap());
            match ledger.fire("s", &action, 1_000 + i as u64).await {
                Ok(_) => accepted += 1,
                Err(ChainError::Fire(_)) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        ledger.verify(None).await.unwrap();
        ledger.all_events("s").await.unwrap()
    });
    (model, events, accepted)
}

fn steps() -> impl Strategy<Value = Vec<(usize, u64, bool, String)>> {
    prop::collection::vec((0usize..4, 1u64..3, any::<bool>(), "\\PC{0,8}"), 1..40)
}

/// Changes field `field` of `e` to a different value of the right type.
fn tamper(e: &mut Event, field: usize, salt: u64) {
    let other_hash = |h: &str| {
        let mut b = h.as_bytes().to_vec();
        let i = (salt % b.len() as u64) as usize;
        b[i] = if b[i] == b'0' { b'1' } else { b'0' };
        String::from_utf8(b).unwrap()
    };
    match field {
        0 => e.stream.push('x'),
        1 => e.seq += 1 + salt % 5,
        2 => e.model = other_hash(&e.model),
        3 => {
            e.action = if e.action == "give" {
                "mint".into()
            } else {
                "give".into()
            }
        }
        4 => e.multiple += 1 + salt % 3,
        5 => e.actor.push('!'),
        6 => e.roles.push(format!("role{salt}")),
        7 => e.payload = format!("[{},{}]", e.payload, salt),
        8 => e.ts ^= 1 + salt % 1000,
        9 => e.prev = other_hash(&e.prev),
        10 => match e.delta.len() {
            0 => e.delta.push(("p".into(), salt % 9)),
            n => e.delta[(salt as usize) % n].1 += 1,
        },
        11 => e.root = other_hash(&e.root),
        12 => e.nonce = other_hash(&e.nonce),
        13 => e.signer = other_hash(&e.signer),
        14 => e.sig = other_hash(&e.sig),
        _ => e.hash = other_hash(&e.hash),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_legal_runs_verify_and_round_trip(steps in steps()) {
        let (model, events, accepted) = run(&steps);
        // Every accepted step is stored, once, in order (all steps may be
        // refused, e.g. three `back`s without the clerk role).
        prop_assert_eq!(events.len(), accepted);
        let verified = verify_events(&model, "s", &events).unwrap();
        prop_assert_eq!(verified.events, events.len() as u64);
        // Export and import into another ledger give the same chain.
        let copied = block_on(async {
            let b = Ledger::memory();
            let mut text = String::new();
            petrichain::chain::jsonl::write(&model, "s", &events, &mut text);
            b.import_jsonl(&text).await.unwrap();
            b.all_events("s").await.unwrap()
        });
        prop_assert_eq!(copied, events);
    }

    #[test]
    fn any_single_field_tamper_is_found_at_its_seq(
        steps in steps(), which in any::<prop::sample::Index>(), field in 0usize..16, salt in any::<u64>()
    ) {
        let (model, mut events, _) = run(&steps);
        prop_assume!(!events.is_empty());
        let k = which.index(events.len());
        let before = events[k].clone();
        tamper(&mut events[k], field, salt);
        prop_assert_ne!(&before, &events[k]);
        let err = verify_events(&model, "s", &events).unwrap_err();
        prop_assert_eq!(err.seq(), Some(before.seq), "field {} gave {}", field, err);
    }
}
