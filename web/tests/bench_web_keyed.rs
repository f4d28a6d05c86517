//! Keyed places in wasm (headless Chromium, the shipped wasm-release
//! profile; `npm run bench -- wasm`, BENCHMARKS.md "Keyed places"): verifying
//! 10,000 signed transfer events among 10,000 accounts (replay with the
//! recorded arguments, rehash, key trie and marking root, batched
//! signatures). Figures are printed as `BENCH ...` lines.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use js_sys::Reflect;
use petrichain::chain::Verifier;
use petrichain::formats::json::import_json;
use petrichain::store::{Action, Ledger, MemoryStore};
use petrichain_web::device::WebCryptoDevice;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const BANK: &str = include_str!("../../www/examples/bank.json");
const ACCOUNTS: usize = 10_000;
const TRANSFERS: usize = 10_000;

fn now() -> f64 {
    let performance = Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let f: js_sys::Function = Reflect::get(&performance, &"now".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    f.call0(&performance).unwrap().as_f64().unwrap()
}

/// A small deterministic generator (xorshift64*), so runs compare.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

#[wasm_bindgen_test]
async fn bench_verify_keyed_transfers() {
    let (model, _) = import_json(BANK).unwrap();
    let (device, _) = WebCryptoDevice::generate().await.unwrap();
    let ledger = Ledger::new(MemoryStore::new(), Rc::new(device));
    let id = ledger.put_model(&model).await.unwrap();
    ledger.create_stream("bank", &id).await.unwrap();
    let opens: Vec<Action> = (0..ACCOUNTS)
        .map(|i| Action::new("open").arg("user", format!("user{i:05}")))
        .collect();
    for chunk in opens.chunks(1000) {
        ledger.fire_batch("bank", chunk, 1).await.unwrap();
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let transfers: Vec<Action> = (0..TRANSFERS)
        .map(|_| {
            let from = rng.below(ACCOUNTS);
            let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
            Action::new("transfer")
                .arg("from", format!("user{from:05}"))
                .arg("to", format!("user{to:05}"))
                .multiple(1)
        })
        .collect();
    for chunk in transfers.chunks(1000) {
        ledger.fire_batch("bank", chunk, 2).await.unwrap();
    }
    let events = ledger.all_events("bank").await.unwrap();
    assert_eq!(events.len(), ACCOUNTS + TRANSFERS);
    let (open_events, transfer_events) = events.split_at(ACCOUNTS);

    let mut runs = Vec::new();
    for _ in 0..3 {
        // The accounts opened (not timed), then the transfers (timed).
        // The ledger's own chain: one signature per batch (signature runs).
        let mut v = Verifier::new(&model, "bank").accept_runs();
        for e in open_events {
            v.push(e).unwrap();
        }
        v.flush().unwrap();
        let t0 = now();
        for e in transfer_events {
            v.push(e).unwrap();
        }
        let verified = v.finish().unwrap();
        runs.push(now() - t0);
        assert_eq!(verified.events, (ACCOUNTS + TRANSFERS) as u64);
        assert_eq!(
            verified.marking[0],
            100 * ACCOUNTS as u64,
            "total conserved"
        );
    }
    runs.sort_by(f64::total_cmp);
    let ms = runs[1];
    let line = format!(
        "BENCH keyed verify {TRANSFERS} transfer events among {ACCOUNTS} accounts: {ms:.0} ms, {:.0} events/s",
        TRANSFERS as f64 / (ms / 1000.0)
    );
    console_log!("{line}");
}
