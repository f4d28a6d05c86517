//! In-browser benchmark of the IndexedDB ledger, side by side with a raw
//! IndexedDB put loop in plain JS on the same records. Not part of the test
//! suite (not a web_*.rs file); run it with `npm run bench -- wasm` (scripts/bench.sh) or the command in docs/storage.md
//! ("Benchmark figures"). Figures are printed to the console.
#![cfg(target_arch = "wasm32")]

use petrichain::chain::{hash, verify_events, Event};
use petrichain::formats::json::import_json;
use petrichain::store::{Action, Ledger};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export async function rawPutLoop(name, records, batch) {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => {
      const s = r.result.createObjectStore("events", { keyPath: ["stream", "seq"] });
      s.createIndex("hash", "hash");
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += batch) {
    await new Promise((resolve, reject) => {
      const tx = db.transaction("events", "readwrite");
      const s = tx.objectStore("events");
      for (let j = i; j < Math.min(i + batch, records.length); j++) s.put(records[j]);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const ms = performance.now() - t0;
  db.close();
  return ms;
}
export function now() { return performance.now(); }
export function log(s) { console.log(s); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = rawPutLoop)]
    async fn raw_put_loop(name: &str, records: JsValue, batch: u32) -> JsValue;
    fn now() -> f64;
    fn log(s: &str);
}

const NET: &str = r#"{"places":[{"id":"a","initial":1},{"id":"b"}],"transitions":[{"id":"go"},{"id":"back"}],
"arcs":[{"source":"a","target":"go"},{"source":"go","target":"b"},{"source":"b","target":"back"},{"source":"back","target":"a"}]}"#;

fn actions(n: usize) -> Vec<Action> {
    (0..n)
        .map(|i| {
            Action::new(if i % 2 == 0 { "go" } else { "back" })
                .actor("bench")
                .payload(format!(r#"{{"i":{i},"note":"typical small payload"}}"#))
        })
        .collect()
}

fn report(what: &str, figure: String) {
    let line = format!("BENCH {what}: {figure}");
    log(&line);
    console_log!("{line}");
}

/// The records exactly as the ledger stores them.
fn to_js(events: &[Event]) -> JsValue {
    events
        .iter()
        .map(|e| petrichain_web::indexeddb::event_record(e).unwrap())
        .collect::<js_sys::Array>()
        .into()
}

#[wasm_bindgen_test]
async fn bench_indexeddb_ledger() {
    const N: usize = 10_000;
    let run = (js_sys::Math::random() * 1e12) as u64;
    let (model, _) = import_json(NET).unwrap();
    let (store, device) = petrichain_web::indexeddb::open_with_device(&format!("bench-{run}"))
        .await
        .unwrap();
    let ledger = Ledger::new(store, std::rc::Rc::new(device));
    let id = ledger.put_model(&model).await.unwrap();

    // 1. Single appends, each in its own transaction.
    ledger.create_stream("single", &id).await.unwrap();
    let mut times = Vec::new();
    for a in actions(300) {
        let t0 = now();
        ledger.fire("single", &a, 1_700_000_000_000).await.unwrap();
        times.push(now() - t0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    report(
        "single append (validate+hash+write, own transaction), 300 appends",
        format!("p50 {:.3} ms, p95 {:.3} ms", times[150], times[285]),
    );

    // 2. Batched appends, then the raw JS loop on the same records;
    // alternated three times (the machine is shared), medians reported.
    for batch in [100usize, 1000] {
        let (mut ours, mut raws) = (Vec::new(), Vec::new());
        for round in 0..3 {
            let stream = format!("batch{batch}-{round}");
            ledger.create_stream(&stream, &id).await.unwrap();
            let all = actions(N);
            let t0 = now();
            for chunk in all.chunks(batch) {
                ledger
                    .fire_batch(&stream, chunk, 1_700_000_000_000)
                    .await
                    .unwrap();
            }
            ours.push(now() - t0);
            let records = to_js(&ledger.all_events(&stream).await.unwrap());
            let raw = raw_put_loop(
                &format!("bench-raw-{run}-{batch}-{round}"),
                records,
                batch as u32,
            )
            .await
            .as_f64()
            .unwrap();
            raws.push(raw);
        }
        ours.sort_by(|a, b| a.total_cmp(b));
        raws.sort_by(|a, b| a.total_cmp(b));
        let (ours, raw) = (ours[1], raws[1]);
        report(
            &format!("batched appends, {N} events, {batch} per transaction (median of 3)"),
            format!(
                "ledger {:.0} events/s ({ours:.0} ms), raw JS put loop {:.0} events/s ({raw:.0} ms), ratio {:.2}",
                N as f64 / ours * 1000.0,
                N as f64 / raw * 1000.0,
                raw / ours
            ),
        );
    }

    // Where the time of a batch goes: engine + hashing alone (memory store),
    // and converting the events to JS objects for IndexedDB.
    for batch in [100usize, 1000] {
        let (device, _) = petrichain_web::device::WebCryptoDevice::generate()
            .await
            .unwrap();
        let mem = Ledger::new(
            petrichain::store::MemoryStore::new(),
            std::rc::Rc::new(device),
        );
        let mid = mem.put_model(&model).await.unwrap();
        mem.create_stream("m", &mid).await.unwrap();
        let all = actions(N);
        let t0 = now();
        for chunk in all.chunks(batch) {
            mem.fire_batch("m", chunk, 1_700_000_000_000).await.unwrap();
        }
        let compute = now() - t0;
        let events = mem.all_events("m").await.unwrap();
        let t0 = now();
        for chunk in events.chunks(batch) {
            std::hint::black_box(to_js(chunk));
        }
        let convert = now() - t0;
        report(
            &format!("breakdown, {N} events, {batch} per batch"),
            format!("validate+hash (memory store) {compute:.0} ms, events to JS objects {convert:.0} ms"),
        );
    }

    // 3. Loading a 10,000-event stream: first read, then best of 3.
    let mut loads = Vec::new();
    let mut events = Vec::new();
    for _ in 0..4 {
        let t0 = now();
        events = ledger.all_events("batch100-0").await.unwrap();
        loads.push(now() - t0);
    }
    assert_eq!(events.len(), N);
    let first = loads[0];
    let best = loads[1..].iter().copied().fold(f64::MAX, f64::min);
    report(
        "loading a 10,000-event stream from IndexedDB",
        format!(
            "first read {:.0} events/s ({first:.0} ms), warm best of 3 {:.0} events/s ({best:.0} ms)",
            N as f64 / first * 1000.0,
            N as f64 / best * 1000.0
        ),
    );

    // 4. Verification from memory, and hashing alone.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t0 = now();
        verify_events(&model, "batch100-0", &events).unwrap();
        best = best.min(now() - t0);
    }
    report(
        "verify from memory (replay + rehash), 10,000 events, best of 5",
        format!("{:.0} events/s ({best:.1} ms)", N as f64 / best * 1000.0),
    );
    let mut buf = Vec::new();
    let t0 = now();
    for e in &events {
        std::hint::black_box(hash::digest_with(e, &mut buf));
    }
    let h = now() - t0;
    report(
        "encode + SHA-256 only, 10,000 events",
        format!("{:.0} events/s", N as f64 / h * 1000.0),
    );
    let t0 = now();
    ledger.verify(Some("batch100-0")).await.unwrap();
    let v = now() - t0;
    report(
        "ledger.verify (load from IndexedDB + replay), 10,000 events",
        format!("{:.0} events/s ({v:.0} ms)", N as f64 / v * 1000.0),
    );
    ledger.close();
}
