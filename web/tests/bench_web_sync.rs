//! In-browser sync benchmark (release wasm in headless Chromium, against the
//! reference server on loopback): pull, verify (hash, link, replay through
//! the net) and store 10,000 events into a fresh IndexedDB ledger. Side by
//! side with the plain alternatives on the same server: fetch + JSON.parse
//! only, and fetch + a raw IndexedDB put loop (no verification). Run by
//! `npm run bench -- wasm` (scripts/bench.sh starts the server); the server
//! URL is read at compile time and the benchmark fails without it.
#![cfg(target_arch = "wasm32")]
// The server URL is read at compile time but checked at run time.
#![allow(clippy::option_env_unwrap)]

mod websync;

use js_sys::{Function, Promise};
use petrichain_web::JsLedger;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

const EVENTS: u32 = 10_000;

/// A counter with a payload-free tick and a two-place ring, so replay does
/// real firing work: `tick` produces, `move` takes from `a` to `b`, `back` returns.
const NET: &str = r#"{"places":[{"id":"count"},{"id":"a","initial":1},{"id":"b"}],
  "transitions":[{"id":"tick"},{"id":"move","roles":["clerk"]},{"id":"back"}],
  "arcs":[{"source":"tick","target":"count"},
          {"source":"a","target":"move"},{"source":"move","target":"b"},
          {"source":"b","target":"back"},{"source":"back","target":"a"}]}"#;

fn server() -> &'static str {
    option_env!("PETRICHAIN_TEST_SERVER").expect(
        "PETRICHAIN_TEST_SERVER is not set: run the benchmark through scripts/bench.sh, \
         which starts the reference server",
    )
}

/// The plain alternatives, in JS: page through the server's events with
/// fetch and either only parse them, or also put them in IndexedDB (one
/// transaction per page), with no verification at all.
fn plain(store: bool, db: &str, stream: &str) -> Promise {
    let f = Function::new_with_args(
        "base, stream, store, dbName",
        r#"
        return (async () => {
          let db = null;
          if (store) {
            db = await new Promise((ok, err) => {
              const r = indexedDB.open(dbName, 1);
              r.onupgradeneeded = () => r.result.createObjectStore("events", { keyPath: ["stream", "seq"] });
              r.onsuccess = () => ok(r.result); r.onerror = () => err(r.error);
            });
          }
          let after = 0, n = 0;
          for (;;) {
            const r = await fetch(`${base}/v2/streams/${encodeURIComponent(stream)}/events?after=${after}&limit=1000`);
            const page = await r.json();
            if (db) {
              await new Promise((ok, err) => {
                const tx = db.transaction("events", "readwrite");
                const s = tx.objectStore("events");
                for (const e of page.events) s.put(e);
                tx.oncomplete = ok; tx.onerror = () => err(tx.error);
              });
            }
            n += page.events.length;
            if (!page.more) break;
            after = page.events.at(-1).seq;
          }
          if (db) db.close();
          return n;
        })();
        "#,
    );
    let args = js_sys::Array::of4(
        &server().into(),
        &stream.into(),
        &JsValue::from_bool(store),
        &db.into(),
    );
    f.apply(&JsValue::NULL, &args).unwrap().into()
}

async fn timed(p: Promise) -> (f64, JsValue) {
    let start = js_sys::Date::now();
    let v = ok(p).await;
    (js_sys::Date::now() - start, v)
}

#[wasm_bindgen_test]
async fn bench_pull_verify_and_store_10000_events() {
    // Seed: record 10,000 events in memory and push them to the server.
    let stream = unique("bench");
    let seed = JsLedger::in_memory().await.unwrap();
    let s = new_stream(&seed, NET, &stream).await;
    let actions = ["tick", "move", "tick", "back"];
    for chunk in 0..(EVENTS / 1000) {
        let batch = js_sys::Array::new();
        for i in 0..1000u32 {
            let n = chunk * 1000 + i;
            let item = js(&format!(
                r#"{{"action":"{}","actor":"bench","roles":["clerk"],"payload":{{"n":{n},"note":"event number {n}"}}}}"#,
                actions[(n % 4) as usize]
            ));
            batch.push(&item);
        }
        ok(s.fire_batch(batch.into(), Some(1_700_000_000_000.0))).await;
    }
    let (push_ms, _) = timed(handle(&seed, url_options(server(), &[&stream])).now()).await;

    // The client: a fresh IndexedDB ledger pulls, verifies and stores all of it.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let ledger = open(&unique("bench-pull")).await;
        let h = handle(&ledger, url_options(server(), &[&stream]));
        let (ms, report) = timed(h.now()).await;
        let pulled = num(&get(&get(&report, "streams"), "0"), "pulled");
        assert_eq!(pulled, f64::from(EVENTS));
        let verified = js_sys::Array::from(&ok(ledger.verify(Some(stream.clone()))).await);
        assert_eq!(num(&verified.get(0), "events"), f64::from(EVENTS));
        ledger.close();
        runs.push(ms);
    }
    let mut memory_runs = Vec::new();
    for _ in 0..3 {
        let ledger = JsLedger::in_memory().await.unwrap();
        let (ms, _) = timed(handle(&ledger, url_options(server(), &[&stream])).now()).await;
        memory_runs.push(ms);
    }
    let mut parse_runs = Vec::new();
    let mut raw_runs = Vec::new();
    for _ in 0..3 {
        let (ms, n) = timed(plain(false, "", &stream)).await;
        assert_eq!(n.as_f64(), Some(f64::from(EVENTS)));
        parse_runs.push(ms);
        let (ms, n) = timed(plain(true, &unique("bench-raw"), &stream)).await;
        assert_eq!(n.as_f64(), Some(f64::from(EVENTS)));
        raw_runs.push(ms);
    }
    let best = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    let rate = |ms: f64| f64::from(EVENTS) / (ms / 1000.0);
    let (idb, mem, parse, raw) = (
        best(&runs),
        best(&memory_runs),
        best(&parse_runs),
        best(&raw_runs),
    );
    console_log!(
        "BENCH wasm sync pull+verify+store 10000 events into IndexedDB: {:.0} ms ({:.0} events/s; runs {:?} ms; target <= 2000 ms)",
        idb,
        rate(idb),
        runs.iter().map(|m| m.round()).collect::<Vec<_>>()
    );
    console_log!(
        "BENCH wasm sync pull+verify 10000 events into a memory ledger: {:.0} ms ({:.0} events/s)",
        mem,
        rate(mem)
    );
    console_log!(
        "BENCH plain JS fetch+JSON.parse 10000 events (no verify, no store): {:.0} ms",
        parse
    );
    console_log!(
        "BENCH plain JS fetch+raw IndexedDB put 10000 events (no verify): {:.0} ms (sync client at {:.2}x of it)",
        raw,
        raw / idb
    );
    console_log!(
        "BENCH wasm sync push 10000 events (batches of 500) to the server: {:.0} ms ({:.0} events/s)",
        push_ms,
        rate(push_ms)
    );
}
