//! Signature runs in headless Chromium (docs/chain-format.md, "Signature
//! runs"): a `fireBatch` of 100 on IndexedDB is stored with one signature
//! and verifies; a sync push sends every event signed, and a ledger that
//! pulls them (strictly) gets the same chain. (An unsigned tail written by
//! hand into IndexedDB is refused by verify and by the next append: the
//! shared suite, web_store.rs.)
#![cfg(target_arch = "wasm32")]

mod websync;

use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

const TICKS: &str = r#"{"places":[{"id":"n"}],"transitions":[{"id":"tick"}],
  "arcs":[{"source":"tick","target":"n"}]}"#;

/// Seqs of the events (a JS array) that carry a 128-hex-digit `sig`; fails
/// on any other `sig` than none or such a one.
fn signed(events: &JsValue) -> Vec<u64> {
    Array::from(events)
        .iter()
        .filter_map(|e| {
            let sig = get(&e, "sig");
            if sig.is_undefined() {
                return None;
            }
            let s = sig.as_string().expect("sig is a string");
            assert!(
                s.len() == 128 && s.bytes().all(|b| b.is_ascii_hexdigit()),
                "{s}"
            );
            Some(num(&e, "seq") as u64)
        })
        .collect()
}

/// The hashes of the events (a JS array), in order.
fn hashes(events: &JsValue) -> Vec<String> {
    Array::from(events)
        .iter()
        .map(|e| get(&e, "hash").as_string().unwrap())
        .collect()
}

#[wasm_bindgen_test]
async fn a_batch_of_100_is_one_signature_and_a_push_sends_every_event_signed() {
    let a = open(&unique("runs-a")).await;
    let stream = new_stream(&a, TICKS, "c").await;
    let batch: Array = (0..100).map(|_| js(r#"{"action":"tick"}"#)).collect();
    let fired = ok(stream.fire_batch(batch.into(), Some(1.0))).await;
    assert_eq!(Array::from(&fired).length(), 100);
    assert_eq!(signed(&fired), vec![100]);
    // Stored as returned, and valid.
    let stored = ok(stream.events(None)).await;
    assert_eq!(signed(&stored), vec![100]);
    assert_eq!(hashes(&stored), hashes(&fired));
    assert_eq!(
        Array::from(&ok(a.verify(Some("c".into()))).await).length(),
        1
    );

    // Pushed through a JS transport: every event arrives signed.
    let backend = js_backend();
    let report = ok(handle(&a, transport_options(&backend, &[])).now()).await;
    assert_eq!(num(&get(&get(&report, "streams"), "0"), "pushed"), 100.0);
    let data = get(&backend, "data");
    let remote = Reflect::get(
        &js_sys::Map::from(data).get(&JsValue::from_str("c")),
        &"events".into(),
    )
    .unwrap();
    assert_eq!(signed(&remote), (1..=100).collect::<Vec<u64>>());
    assert_eq!(hashes(&remote), hashes(&stored));
    // The device keeps its run (the same events).
    assert_eq!(signed(&ok(stream.events(None)).await), vec![100]);

    // Another ledger pulls them (every event must be signed) and agrees.
    let b = open(&unique("runs-b")).await;
    let follow = transport_options(&backend, &[]);
    Reflect::set(&follow, &"follow".into(), &Array::of1(&"c".into())).unwrap();
    ok(handle(&b, follow).now()).await;
    let pulled = ok(stream_of(ok(b.stream("c".into())).await).events(None)).await;
    assert_eq!(hashes(&pulled), hashes(&stored));
    assert_eq!(signed(&pulled).len(), 100);
    assert_eq!(Array::from(&ok(b.verify(None)).await).length(), 1);

    // An export goes out fully signed too.
    let text = ok(a.export_jsonl("c".into())).await.as_string().unwrap();
    assert_eq!(
        text.lines().filter(|l| l.contains("\"sig\":\"")).count(),
        100
    );
    for l in [a, b] {
        l.close();
    }
}
