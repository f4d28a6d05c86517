//! The test vectors of docs/chain-format.md, pinned: if the canonical
//! encoding or the hash changes, this fails (and the docs must change too).

use petrichain::chain::{hash, verify_events, Event, GENESIS_PREV};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger};

/// The net of the vectors (docs/chain-format.md, "Test vectors").
pub const NET: &str = r#"{"places":[{"id":"account","initial":100},{"id":"paid","capacity":50}],"transitions":[{"id":"pay","roles":["clerk"]}],"arcs":[{"source":"account","target":"pay"},{"source":"pay","target":"paid"}]}"#;

fn vectors() -> (petrichain::Model, Vec<Event>) {
    let (model, _) = import_json(NET).unwrap();
    let events = block_on(async {
        let ledger = Ledger::memory();
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("book-1", &id).await.unwrap();
        ledger
            .fire(
                "book-1",
                &Action::new("pay").multiple(30).actor("Zoë \"Z\" \\ \n").roles(["clerk", "auditor"]).payload(r#"{"ref":"inv-7","amount":123456789012345678901234567890,"note":"\u00e9 é 😀"}"#),
                1_700_000_000_000,
            )
            .await
            .unwrap();
        ledger
            .fire(
                "book-1",
                &Action::new("pay").multiple(5).roles(["*"]),
                1_700_000_000_001,
            )
            .await
            .unwrap();
        ledger.all_events("book-1").await.unwrap()
    });
    (model, events)
}

#[test]
fn the_documented_vectors_hold() {
    let (model, events) = vectors();
    assert_eq!(
        model.canonical_json(),
        r#"{"arcs":[{"kind":"normal","source":"account","target":"pay","weight":1},{"kind":"normal","source":"pay","target":"paid","weight":1}],"name":"","places":[{"capacity":0,"id":"account","initial":100,"label":"","x":0,"y":0},{"capacity":50,"id":"paid","initial":0,"label":"","x":0,"y":0}],"transitions":[{"id":"pay","label":"","roles":["clerk"],"x":0,"y":0}],"version":1}"#
    );
    assert_eq!(model.id(), MODEL_ID);
    assert_eq!(hash::canonical_text(&events[0]), TEXT_1);
    assert_eq!(events[0].hash, HASH_1);
    assert_eq!(events[0].prev, GENESIS_PREV);
    assert_eq!(hash::canonical_text(&events[1]), TEXT_2);
    assert_eq!(events[1].hash, HASH_2);
    verify_events(&model, "book-1", &events).unwrap();
}

/// docs/chain-format.md shows these same vectors.
#[test]
fn the_docs_show_the_pinned_vectors() {
    let doc = include_str!("../../docs/chain-format.md");
    let (model, events) = vectors();
    for needle in [MODEL_ID, TEXT_1, HASH_1, TEXT_2, HASH_2, NET] {
        assert!(doc.contains(needle), "docs/chain-format.md lacks {needle}");
    }
    for e in &events {
        let line = serde_json::to_string(e).unwrap();
        assert!(
            doc.contains(&line),
            "docs/chain-format.md lacks the JSON line {line}"
        );
    }
    assert!(doc.contains(model.id()));
}

/// Prints the vectors for the docs: `cargo test --test chain_vectors -- --nocapture print`.
#[test]
fn print_vectors() {
    let (model, events) = vectors();
    println!("model id: {}", model.id());
    for e in &events {
        println!(
            "canonical: {}\nhash: {}\njson line: {}",
            hash::canonical_text(e),
            e.hash,
            serde_json::to_string(e).unwrap()
        );
    }
}

const MODEL_ID: &str = "ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342";
const TEXT_1: &str = r#"{"action":"pay","actor":"Zoë \"Z\" \\ \n","model":"ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342","multiple":30,"payload":"{\"ref\":\"inv-7\",\"amount\":123456789012345678901234567890,\"note\":\"\\u00e9 é 😀\"}","prev":"0000000000000000000000000000000000000000000000000000000000000000","roles":["auditor","clerk"],"seq":1,"state":[70,30],"stream":"book-1","ts":1700000000000}"#;
const HASH_1: &str = "2c472fd8e5bb279ed899cc5c762d4b782db97c367756b064ac5450726ced504f";
const TEXT_2: &str = r#"{"action":"pay","actor":"","model":"ee2094d5fec194368e18fea75bb5e0c650d8538b890d2d68031c37febea0a342","multiple":5,"payload":"null","prev":"2c472fd8e5bb279ed899cc5c762d4b782db97c367756b064ac5450726ced504f","roles":["*"],"seq":2,"state":[65,35],"stream":"book-1","ts":1700000000001}"#;
const HASH_2: &str = "00b90a8def752fdd4ff756413801ae3bc262d1fab0639d528b2345cff0fbbea3";
