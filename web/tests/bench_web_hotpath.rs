//! Where a batched append's per-event time goes in the wasm build (issue
//! 20): the core's whole work per event (a memory ledger's `fire_batch` of
//! 1,000: firing, nonce, canonical encoding, SHA-256, the marking's Merkle
//! commitment, one signature per batch), then its parts measured alone on
//! the same events: the canonical encoding, the encoding plus SHA-256, the
//! JSON line the store keeps (serde_json), the Merkle root update, the
//! payload's JSON check, a nonce and a copy of the event. The
//! events have the peers bench's shape (bench/peers/libs.js: the same net
//! and a ~393-byte record, a stored line of ~880 bytes), so the figures
//! compare with its raw loop. Not part of the test suite (not a web_*.rs
//! file): `npm run bench -- wasm` (scripts/bench.sh) runs it, or alone the
//! command of BENCHMARKS.md "Issue 20: the batched append's per-event
//! parts". Figures go to the console as BENCH lines.
#![cfg(target_arch = "wasm32")]

use petrichain::chain::{hash, Event, MarkingTree};
use petrichain::engine::Marking;
use petrichain::formats::json::import_json;
use petrichain::store::{Action, Ledger};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = "export function now() { return performance.now(); }")]
extern "C" {
    fn now() -> f64;
}

/// The peers bench's net: a token going back and forth.
const NET: &str = r#"{"places":[{"id":"a","initial":1},{"id":"b"}],"transitions":[{"id":"go"},{"id":"back"}],
"arcs":[{"source":"a","target":"go"},{"source":"go","target":"b"},{"source":"b","target":"back"},{"source":"back","target":"a"}]}"#;

const N: usize = 10_000;

/// Record i of the peers bench as an action (its payload ~300 bytes).
fn action(i: usize) -> Action {
    let note = "x".repeat(250);
    Action::new(if i % 2 == 0 { "go" } else { "back" })
        .actor("bench")
        .payload(format!(
            r#"{{"i":{i},"sku":"sku-{}","qty":{},"note":"{note}"}}"#,
            i % 97,
            i % 7 + 1
        ))
}

/// Best of 5 runs of `f` over all `events`, in µs per event.
fn per_event(events: &[Event], mut f: impl FnMut(&Event)) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t0 = now();
        for e in events {
            f(e);
        }
        best = best.min(now() - t0);
    }
    best * 1000.0 / events.len() as f64
}

fn report(what: &str, us: f64) {
    console_log!("BENCH hot path, per event: {what}: {us:.2} µs");
}

#[wasm_bindgen_test]
async fn bench_batched_append_parts() {
    let (model, _) = import_json(NET).unwrap();
    let (device, _) = petrichain_web::device::WebCryptoDevice::generate()
        .await
        .unwrap();
    let device = std::rc::Rc::new(device);
    let ledger = Ledger::new(petrichain::store::MemoryStore::new(), device.clone());
    let id = ledger.put_model(&model).await.unwrap();
    let actions: Vec<Action> = (0..N).map(action).collect();
    let mut best = f64::MAX;
    let mut events = Vec::new();
    for round in 0..3 {
        let stream = format!("s{round}");
        ledger.create_stream(&stream, &id).await.unwrap();
        let t0 = now();
        for chunk in actions.chunks(1000) {
            ledger
                .fire_batch(&stream, chunk, 1_700_000_000_000)
                .await
                .unwrap();
        }
        best = best.min(now() - t0);
        events = ledger.all_events(&stream).await.unwrap();
    }
    assert_eq!(events.len(), N);
    report(
        "the core's whole append (memory ledger, fireBatch of 1,000, best of 3)",
        best * 1000.0 / N as f64,
    );

    let mut buf = Vec::with_capacity(1024);
    let mut bytes = 0usize;
    let encode = per_event(&events, |e| {
        buf.clear();
        hash::encode(e, &mut buf);
        bytes += buf.len();
        std::hint::black_box(&buf);
    });
    let digest = per_event(&events, |e| {
        std::hint::black_box(hash::digest_with(e, &mut buf));
    });
    let mut line = Vec::with_capacity(1024);
    let mut line_bytes = 0usize;
    let serialise = per_event(&events, |e| {
        line.clear();
        serde_json::to_writer(&mut line, e).unwrap();
        line_bytes += line.len();
        std::hint::black_box(&line);
    });
    let hex = per_event(&events, |e| {
        std::hint::black_box(hex::encode(hash::digest_with(e, &mut buf)));
    }) - digest;
    // The commitment: one place set and the root recomputed per event (an
    // event of this net changes two places: twice that).
    let mut tree = MarkingTree::new(&model, &Marking(vec![1, 0]));
    let mut k = 0u64;
    let root = per_event(&events, |_| {
        k += 1;
        tree.set(0, "a", k % 2);
        tree.set(1, "b", (k + 1) % 2);
        std::hint::black_box(tree.root());
    });
    let validate = per_event(&events, |e| {
        std::hint::black_box(serde_json::from_str::<serde::de::IgnoredAny>(&e.payload).unwrap());
    });
    let nonce = per_event(&events, |_| {
        let mut b = [0u8; 16];
        petrichain::chain::Device::random(&*device, &mut b).unwrap();
        std::hint::black_box(hex::encode(b));
    });
    let copy = per_event(&events, |e| {
        std::hint::black_box(e.clone());
    });
    let canonical = bytes / (5 * N);
    let stored = line_bytes / (5 * N);
    report(
        &format!("canonical encoding alone ({canonical} bytes)"),
        encode,
    );
    report(
        &format!("SHA-256 of the canonical encoding alone ({canonical} bytes)"),
        digest - encode,
    );
    report(
        &format!("SHA-256 scaled to the stored line ({stored} bytes, at the same cost per byte)"),
        (digest - encode) * stored as f64 / canonical as f64,
    );
    report(
        &format!("the stored JSON line (serde_json, {stored} bytes)"),
        serialise,
    );
    report("hex of the hash", hex.max(0.0));
    report("Merkle root after two place changes", root);
    report(
        "the payload's JSON check (serde_json, IgnoredAny)",
        validate,
    );
    report("a nonce (16 bytes of the device's pool, hex)", nonce);
    report("a copy of the event (its strings and vectors)", copy);
    // That the parts ran on real events (timing is never pass/fail).
    assert!(
        canonical > 500 && stored > canonical,
        "{canonical} / {stored}"
    );
}
