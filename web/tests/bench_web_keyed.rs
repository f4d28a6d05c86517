//! Keyed places in wasm (headless Chromium, the shipped wasm-release
//! profile; `npm run bench -- wasm`, BENCHMARKS.md "Keyed places"): verifying
//! 10,000 signed transfer events among 10,000 accounts (replay with the
//! recorded arguments, rehash, key trie and marking root, batched
//! signatures), for the two chains a verifier meets: the ledger's own
//! (signature runs: one signature per batch of 1,000, `accept_runs`) and
//! a pulled one (every event signed, as a push sends them; strict). The
//! difference between the two is the signature checks. Figures are printed
//! as `BENCH ...` lines.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use js_sys::Reflect;
use petrichain::chain::{signed_message, Event, Verifier};
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
    let runs = ledger.all_events("bank").await.unwrap();
    assert_eq!(runs.len(), ACCOUNTS + TRANSFERS);
    // The same chain with every event signed (a push signs the events a
    // run left unsigned before they leave the device).
    let mut signed = runs.clone();
    let at: Vec<usize> = (0..signed.len())
        .filter(|&i| signed[i].sig.is_empty())
        .collect();
    let messages: Vec<Vec<u8>> = at
        .iter()
        .map(|&i| signed_message(&signed[i].hash))
        .collect();
    let sigs = ledger.device().sign(&messages).await.unwrap();
    for (i, sig) in at.into_iter().zip(sigs) {
        signed[i].sig = hex::encode(sig);
    }
    assert!(signed.iter().all(|e| !e.sig.is_empty()));
    for (name, events, accept_runs) in [
        ("signature runs", &runs, true),
        ("every event signed", &signed, false),
    ] {
        let ms = median_verify(&model, events, accept_runs);
        let line = format!(
            "BENCH keyed verify {TRANSFERS} transfer events among {ACCOUNTS} accounts ({name}): {ms:.0} ms, {:.0} events/s",
            TRANSFERS as f64 / (ms / 1000.0)
        );
        console_log!("{line}");
    }
}

/// The median of 3 verifications of the transfers (the opens pushed
/// first, not timed), in ms.
fn median_verify(model: &petrichain::Model, events: &[Event], accept_runs: bool) -> f64 {
    let (open_events, transfer_events) = events.split_at(ACCOUNTS);
    let mut runs = Vec::new();
    for _ in 0..3 {
        let v = Verifier::new(model, "bank");
        let mut v = if accept_runs { v.accept_runs() } else { v };
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
    runs[1]
}
