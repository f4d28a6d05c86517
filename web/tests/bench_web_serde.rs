//! serde-wasm-bindgen against JSON text on the hot paths (issue 20): the
//! values a batch append returns, and a load of stored events, built both
//! ways in the same run (release wasm, headless Chromium). Not part of the
//! test suite (not a web_*.rs file): `npm run bench -- wasm`.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use petrichain::chain::Event;
use petrichain::formats::json::import_json;
use petrichain::store::{Action, Ledger, Store};
use petrichain_web::indexeddb::open_with_device;
use petrichain_web::js::events_to_js;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(
    inline_js = "export function now() { return performance.now(); } export function log(s) { console.log(s); }"
)]
extern "C" {
    fn now() -> f64;
    fn log(s: &str);
}

const NET: &str = r#"{"places":[{"id":"a","initial":1},{"id":"b"}],"transitions":[{"id":"go"},{"id":"back"}],
"arcs":[{"source":"a","target":"go"},{"source":"go","target":"b"},{"source":"b","target":"back"},{"source":"back","target":"a"}]}"#;

fn actions(n: usize) -> Vec<Action> {
    let note = "x".repeat(300);
    (0..n)
        .map(|i| {
            Action::new(if i % 2 == 0 { "go" } else { "back" })
                .actor("bench")
                .payload(format!(
                    r#"{{"i":{i},"sku":"sku-{}","note":"{note}"}}"#,
                    i % 97
                ))
        })
        .collect()
}

/// The events as serde-wasm-bindgen gives them (`Event`'s own derive, as
/// plain objects), each payload parsed in Rust into a value and set in its
/// place (serde-wasm-bindgen cannot pass JSON text through as a value).
fn swb_events(events: &[Event]) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let out = js_sys::Array::new();
    for e in events {
        let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        let value = e.serialize(&serializer).unwrap();
        js_sys::Reflect::set(
            &value,
            &"payload".into(),
            &payload.serialize(&serializer).unwrap(),
        )
        .unwrap();
        out.push(&value);
    }
    out.into()
}

/// Best of `rounds` runs of `f`, in ms.
fn best(rounds: usize, mut f: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let t0 = now();
            f();
            now() - t0
        })
        .fold(f64::MAX, f64::min)
}

fn report(what: &str, json_ms: f64, swb_ms: f64, n: usize) {
    let line = format!(
        "BENCH {what}, {n} events: JSON text {json_ms:.1} ms ({:.0} events/s), serde-wasm-bindgen {swb_ms:.1} ms ({:.0} events/s), JSON / swb time {:.2}",
        n as f64 / json_ms * 1000.0,
        n as f64 / swb_ms * 1000.0,
        json_ms / swb_ms
    );
    log(&line);
    console_log!("{line}");
}

#[wasm_bindgen_test]
async fn bench_json_text_against_serde_wasm_bindgen() {
    const N: usize = 10_000;
    let run = (js_sys::Math::random() * 1e12) as u64;
    let (model, _) = import_json(NET).unwrap();
    let (store, device) = open_with_device(&format!("bench-serde-{run}"))
        .await
        .unwrap();
    let ledger = Ledger::new(store, Rc::new(device));
    let id = ledger.put_model(&model).await.unwrap();
    ledger.create_stream("s", &id).await.unwrap();
    for chunk in actions(N).chunks(1000) {
        ledger
            .fire_batch("s", chunk, 1_700_000_000_000)
            .await
            .unwrap();
    }
    let events = ledger.all_events("s").await.unwrap();
    assert_eq!(events.len(), N);

    // What fireBatch returns, per batch of 100 and 1,000 (interleaved, best of 5).
    for batch in [100usize, 1000] {
        let (mut json, mut swb) = (f64::MAX, f64::MAX);
        for _ in 0..5 {
            json = json.min(best(1, || {
                for c in events.chunks(batch) {
                    std::hint::black_box(events_to_js(c, false).unwrap());
                }
            }));
            swb = swb.min(best(1, || {
                for c in events.chunks(batch) {
                    std::hint::black_box(swb_events(c));
                }
            }));
        }
        report(
            &format!("batch return values, {batch} per batch"),
            json,
            swb,
            N,
        );
    }

    // A load: the stored events (read through the core) to JS values; and
    // the shipped path, the stored lines parsed in JS (hot.js), for scale.
    let store = ledger.store();
    let (mut json, mut swb, mut hot) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..3 {
        let t0 = now();
        let e = store.events("s", 0, None).await.unwrap();
        std::hint::black_box(events_to_js(&e, false).unwrap());
        json = json.min(now() - t0);
        let t0 = now();
        let e = store.events("s", 0, None).await.unwrap();
        std::hint::black_box(swb_events(&e));
        swb = swb.min(now() - t0);
        let t0 = now();
        std::hint::black_box(store.events_js("s", 0, None, false).await.unwrap());
        hot = hot.min(now() - t0);
    }
    report(
        "load (IndexedDB read + parse in wasm + to JS)",
        json,
        swb,
        N,
    );
    let line = format!(
        "BENCH load, shipped path (stored lines parsed once in JS, hot.js), {N} events: {hot:.1} ms ({:.0} events/s)",
        N as f64 / hot * 1000.0
    );
    log(&line);
    console_log!("{line}");
    ledger.close();
}
