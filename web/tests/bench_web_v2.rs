//! In-browser benchmark of chain format 2 (issue 12), one run, side by side:
//! signed appends against the same appends with a no-op signer, the core's
//! batch verifier against WebCrypto `verify` per event (awaited one by one,
//! and all at once), pull + verify + store through a JS transport, and
//! appends on a 10,000-place net against a 3-place one, and verification of
//! a chain written by several signers holding granted roles (issue 13)
//! against one signer's chain without roles. Not part of the test
//! suite (not a web_*.rs file); run with `bash scripts/bench.sh wasm` or the
//! command in BENCHMARKS.md ("Chain format v2"). Figures are printed as
//! `BENCH ...` lines.
#![cfg(target_arch = "wasm32")]

mod websync;

use std::rc::Rc;

use js_sys::{Array, Reflect, Uint8Array};
use petrichain::chain::{signed_message, verify_events, ChainError, Device, DeviceFuture, Event};
use petrichain::formats::json::import_json;
use petrichain::store::{Action, Ledger, MemoryStore};
use petrichain_web::device::{global_crypto, WebCryptoDevice};
use petrichain_web::indexeddb::{event_record, open_with_device, IndexedDbStore};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use websync::*;

wasm_bindgen_test_configure!(run_in_browser);

const N: usize = 10_000;
const TS: u64 = 1_700_000_000_000;
const TWO: &str = r#"{"places":[{"id":"a","initial":1},{"id":"b"},{"id":"c"}],"transitions":[{"id":"go"},{"id":"back"}],
"arcs":[{"source":"a","target":"go"},{"source":"go","target":"b"},{"source":"b","target":"back"},{"source":"back","target":"a"}]}"#;

/// `performance.now()` (called on `performance`: sub-millisecond).
fn now() -> f64 {
    let performance = Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let f: js_sys::Function = Reflect::get(&performance, &"now".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    f.call0(&performance).unwrap().as_f64().unwrap()
}

fn report(what: &str, figure: String) {
    let line = format!("BENCH {what}: {figure}");
    console_log!("{line}");
}

fn actions(n: usize) -> Vec<Action> {
    (0..n)
        .map(|i| {
            Action::new(if i % 2 == 0 { "go" } else { "back" })
                .actor("bench")
                .payload(format!(r#"{{"i":{i},"note":"typical small payload"}}"#))
        })
        .collect()
}

/// The net `TWO` with `extra` more places that no transition touches.
fn wide(extra: usize) -> petrichain::Model {
    let mut places = vec![
        r#"{"id":"a","initial":1}"#.to_string(),
        r#"{"id":"b"}"#.to_string(),
        r#"{"id":"c"}"#.to_string(),
    ];
    places.extend((0..extra).map(|i| format!(r#"{{"id":"p{i:05}","initial":7}}"#)));
    let text = format!(
        r#"{{"places":[{}],"transitions":[{{"id":"go"}},{{"id":"back"}}],
        "arcs":[{{"source":"a","target":"go"}},{{"source":"go","target":"b"}},{{"source":"b","target":"back"}},{{"source":"back","target":"a"}}]}}"#,
        places.join(",")
    );
    import_json(&text).unwrap().0
}

/// The same ledger without the cost of signing: nonces from
/// `getRandomValues`, signatures all zeros (never verified here).
struct NoSign;

impl Device for NoSign {
    fn public_key(&self) -> [u8; 32] {
        [0x11; 32]
    }
    fn random(&self, out: &mut [u8]) -> Result<(), ChainError> {
        global_crypto()?
            .get_random_values_with_u8_array(out)
            .map(|_| ())
            .map_err(|_| ChainError::Storage {
                message: "getRandomValues".into(),
            })
    }
    fn sign<'a>(&'a self, messages: &'a [Vec<u8>]) -> DeviceFuture<'a, Vec<[u8; 64]>> {
        Box::pin(std::future::ready(Ok(vec![[0u8; 64]; messages.len()])))
    }
}

async fn idb(name: &str, signed: bool) -> Ledger<IndexedDbStore> {
    let (store, device) = open_with_device(name).await.unwrap();
    let device: Rc<dyn Device> = if signed {
        Rc::new(device)
    } else {
        Rc::new(NoSign)
    };
    Ledger::new(store, device)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[wasm_bindgen_test]
async fn bench_signed_appends() {
    let run = unique("v2");
    let (model, _) = import_json(TWO).unwrap();
    // 1. Single appends (own transaction each), signed vs no-op signer,
    // alternated so both see the same machine.
    let (signed, unsigned) = (
        idb(&format!("{run}-s"), true).await,
        idb(&format!("{run}-u"), false).await,
    );
    for l in [&signed, &unsigned] {
        let id = l.put_model(&model).await.unwrap();
        l.create_stream("single", &id).await.unwrap();
    }
    let (mut ts, mut tu) = (Vec::new(), Vec::new());
    for a in actions(400) {
        let t0 = now();
        signed.fire("single", &a, TS).await.unwrap();
        ts.push(now() - t0);
        let t0 = now();
        unsigned.fire("single", &a, TS).await.unwrap();
        tu.push(now() - t0);
    }
    ts.sort_by(f64::total_cmp);
    tu.sort_by(f64::total_cmp);
    report(
        "single append (IndexedDB, own transaction), 400 appends",
        format!(
            "signed p50 {:.3} ms p95 {:.3} ms; no-op signer p50 {:.3} ms p95 {:.3} ms",
            ts[200], ts[380], tu[200], tu[380]
        ),
    );
    // 2. Batched appends, N events, median of 3.
    for batch in [100usize, 1000] {
        let (mut s, mut u) = (Vec::new(), Vec::new());
        for round in 0..3 {
            for (ledger, out) in [(&signed, &mut s), (&unsigned, &mut u)] {
                let stream = format!("b{batch}-{round}");
                let id = model.id().to_string();
                ledger.create_stream(&stream, &id).await.unwrap();
                let all = actions(N);
                let t0 = now();
                for chunk in all.chunks(batch) {
                    ledger.fire_batch(&stream, chunk, TS).await.unwrap();
                }
                out.push(now() - t0);
            }
        }
        let (s, u) = (median(s), median(u));
        report(
            &format!("batched appends (IndexedDB), {N} events, {batch} per batch, median of 3"),
            format!(
                "signed {:.0} events/s ({s:.0} ms), no-op signer {:.0} events/s ({u:.0} ms)",
                N as f64 / s * 1000.0,
                N as f64 / u * 1000.0
            ),
        );
    }
    signed.close();
    unsigned.close();
}

#[wasm_bindgen(inline_js = r#"
export async function subtleVerifyEach(key, sigs, messages, all) {
  const k = await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
  const t0 = performance.now();
  let ok = 0;
  if (all) {
    const r = await Promise.all(sigs.map((s, i) => crypto.subtle.verify({ name: "Ed25519" }, k, s, messages[i])));
    ok = r.filter(Boolean).length;
  } else {
    for (let i = 0; i < sigs.length; i++) {
      if (await crypto.subtle.verify({ name: "Ed25519" }, k, sigs[i], messages[i])) ok++;
    }
  }
  return [performance.now() - t0, ok];
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = subtleVerifyEach)]
    async fn subtle_verify_each(
        key: &Uint8Array,
        sigs: Array,
        messages: Array,
        all: bool,
    ) -> JsValue;
}

fn hex32(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// `n` events by one device, every one signed: the form a pull receives
/// (a local `fireBatch` leaves signature runs; a push signs them).
async fn signed_chain(model: &petrichain::Model, n: usize) -> Vec<Event> {
    let device = Rc::new(WebCryptoDevice::generate().await.unwrap().0);
    let ledger = Ledger::new(MemoryStore::new(), device.clone());
    let id = ledger.put_model(model).await.unwrap();
    ledger.create_stream("s", &id).await.unwrap();
    for chunk in actions(n).chunks(1000) {
        ledger.fire_batch("s", chunk, TS).await.unwrap();
    }
    let mut events = ledger.all_events("s").await.unwrap();
    sign_every_event(&[&*device], &mut events).await;
    events
}

/// Signs each event that closes no signature run itself, with the device
/// whose key is its signer, so the chain is as a remote holds it.
async fn sign_every_event(devices: &[&dyn Device], events: &mut [Event]) {
    for device in devices {
        let me = hex::encode(device.public_key());
        let unsigned: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].sig.is_empty() && events[i].signer == me)
            .collect();
        let messages: Vec<Vec<u8>> = unsigned
            .iter()
            .map(|&i| signed_message(&events[i].hash))
            .collect();
        let sigs = device.sign(&messages).await.unwrap();
        for (&i, sig) in unsigned.iter().zip(sigs) {
            events[i].sig = hex::encode(sig);
        }
    }
    assert!(
        events.iter().all(|e| !e.sig.is_empty()),
        "every event signed"
    );
}

#[wasm_bindgen_test]
async fn bench_verify_signed_events() {
    let (model, _) = import_json(TWO).unwrap();
    let events = signed_chain(&model, N).await;
    // The core: replay + rehash + root + batched ed25519-dalek signatures.
    let mut core = Vec::new();
    for _ in 0..3 {
        let t0 = now();
        assert_eq!(
            verify_events(&model, "s", &events).unwrap().events,
            N as u64
        );
        core.push(now() - t0);
    }
    let core = median(core);
    // WebCrypto: the signatures alone, one awaited call per event, and all
    // at once (Promise.all).
    let key = Uint8Array::from(&hex32(&events[0].signer)[..]);
    let sigs: Array = events
        .iter()
        .map(|e| JsValue::from(Uint8Array::from(&hex32(&e.sig)[..])))
        .collect();
    let messages: Array = events
        .iter()
        .map(|e| JsValue::from(Uint8Array::from(&signed_message(&e.hash)[..])))
        .collect();
    let mut figures = Vec::new();
    for all in [false, true] {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let r =
                Array::from(&subtle_verify_each(&key, sigs.clone(), messages.clone(), all).await);
            assert_eq!(r.get(1).as_f64(), Some(N as f64));
            runs.push(r.get(0).as_f64().unwrap());
        }
        figures.push(median(runs));
    }
    report(
        &format!("verify {N} signed events, median of 3"),
        format!(
            "core in wasm (everything: replay, hashes, roots, batched signatures) {:.0} events/s ({core:.0} ms); \
             WebCrypto signatures only: awaited one by one {:.0} events/s ({:.0} ms), Promise.all {:.0} events/s ({:.0} ms)",
            N as f64 / core * 1000.0,
            N as f64 / figures[0] * 1000.0,
            figures[0],
            N as f64 / figures[1] * 1000.0,
            figures[1]
        ),
    );
}

#[wasm_bindgen_test]
async fn bench_pull_verify_store_through_a_js_transport() {
    let (model, _) = import_json(TWO).unwrap();
    let events = signed_chain(&model, N).await;
    // The backend of web/tests/websync holding the chain.
    let backend = js_backend();
    let data = js_sys::Map::from(get(&backend, "data"));
    let list = js(&serde_json::to_string(&events).unwrap());
    let entry = js_sys::Object::new();
    Reflect::set(&entry, &"model".into(), &model.id().into()).unwrap();
    Reflect::set(&entry, &"events".into(), &list).unwrap();
    data.set(&"s".into(), &entry);
    let models = js_sys::Map::from(get(&backend, "models"));
    let doc =
        js(&serde_json::json!({"id": model.id(), "json": model.canonical_json()}).to_string());
    models.set(&model.id().into(), &doc);
    let mut runs = Vec::new();
    for _ in 0..3 {
        let ledger = open(&unique("v2-pull")).await;
        let t0 = now();
        let r = ok(handle(&ledger, transport_options(&backend, &["s"])).now()).await;
        runs.push(now() - t0);
        assert_eq!(num(&get(&get(&r, "streams"), "0"), "pulled"), N as f64);
        ledger.close();
    }
    let ms = median(runs);
    report(
        &format!("pull + verify + store {N} signed events (JS transport, fresh IndexedDB ledger), median of 3"),
        format!("{ms:.0} ms ({:.0} events/s)", N as f64 / ms * 1000.0),
    );
}

#[wasm_bindgen_test]
async fn bench_wide_net_appends() {
    const M: usize = 2_000;
    let run = unique("v2-wide");
    let mut lines = Vec::new();
    for (label, model) in [("3 places", wide(0)), ("10,000 places", wide(9_997))] {
        let ledger = idb(&format!("{run}-{}", model.places().len()), true).await;
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("single", &id).await.unwrap();
        ledger.create_stream("batch", &id).await.unwrap();
        let mut single = Vec::new();
        for a in actions(300) {
            let t0 = now();
            ledger.fire("single", &a, TS).await.unwrap();
            single.push(now() - t0);
        }
        let t0 = now();
        for chunk in actions(M).chunks(100) {
            ledger.fire_batch("batch", chunk, TS).await.unwrap();
        }
        let batched = (now() - t0) / M as f64;
        let events = ledger.all_events("batch").await.unwrap();
        let bytes: usize = events
            .iter()
            .map(|e| {
                let r = event_record(e).unwrap();
                Reflect::get(&r, &"json".into())
                    .unwrap()
                    .as_string()
                    .unwrap()
                    .len()
            })
            .sum();
        let head = serde_json::to_string(&ledger.stream("batch").await.unwrap())
            .unwrap()
            .len();
        lines.push(format!(
            "{label}: single append p50 {:.3} ms, batched (100 per transaction) {:.3} ms/event, {:.0} bytes/event stored (head record {head} bytes)",
            median(single),
            batched,
            bytes as f64 / events.len() as f64
        ));
        ledger.close();
    }
    report(
        "append on a 10,000-place net vs a 3-place net",
        lines.join("; "),
    );
}

/// `TWO` with both transitions restricted to `clerk`.
const ROLED: &str = r#"{"places":[{"id":"a","initial":1},{"id":"b"},{"id":"c"}],"transitions":[{"id":"go","roles":["clerk"]},{"id":"back","roles":["clerk"]}],
"arcs":[{"source":"a","target":"go"},{"source":"go","target":"b"},{"source":"b","target":"back"},{"source":"back","target":"a"}]}"#;

/// `n` events on `ROLED` after the owner's grants: 4 signers, each granted
/// `clerk` by the owner, append in turns of 500 events claiming `clerk`
/// (ledgers on one memory store, each with its own key).
async fn granted_chain(model: &petrichain::Model, n: usize) -> Vec<Event> {
    let store = MemoryStore::new();
    let device = || async { Rc::new(WebCryptoDevice::generate().await.unwrap().0) };
    let owner_device = device().await;
    let owner = Ledger::new(store.connect(), owner_device.clone());
    let id = owner.put_model(model).await.unwrap();
    owner.create_stream("s", &id).await.unwrap();
    let (mut signers, mut keys) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        let key = device().await;
        signers.push(Ledger::new(store.connect(), key.clone()));
        keys.push(key);
    }
    for s in &signers {
        let grant = format!(r#"{{"key":"{}","role":"clerk"}}"#, s.device_key());
        owner
            .fire("s", &Action::new("$grant").payload(grant), TS)
            .await
            .unwrap();
    }
    let actions: Vec<Action> = actions(n).into_iter().map(|a| a.roles(["clerk"])).collect();
    for (k, chunk) in actions.chunks(500).enumerate() {
        signers[k % signers.len()]
            .fire_batch("s", chunk, TS)
            .await
            .unwrap();
    }
    let mut events = owner.all_events("s").await.unwrap();
    let mut all: Vec<&dyn Device> = vec![&*owner_device];
    all.extend(keys.iter().map(|k| &**k as &dyn Device));
    sign_every_event(&all, &mut events).await;
    events
}

#[wasm_bindgen_test]
async fn bench_verify_with_grants() {
    let (plain, _) = import_json(TWO).unwrap();
    let (roled, _) = import_json(ROLED).unwrap();
    let alone = signed_chain(&plain, N).await;
    let granted = granted_chain(&roled, N).await;
    let signers: std::collections::BTreeSet<&str> =
        granted.iter().map(|e| e.signer.as_str()).collect();
    assert_eq!(signers.len(), 5, "the owner and four granted signers");
    let mut figures = Vec::new();
    for (model, events) in [(&plain, &alone), (&roled, &granted)] {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let t0 = now();
            assert_eq!(
                verify_events(model, "s", events).unwrap().events,
                events.len() as u64
            );
            runs.push(now() - t0);
        }
        figures.push(median(runs));
    }
    report(
        "verify with grants, median of 3",
        format!(
            "{} events by 4 signers holding granted roles (+4 grants by the owner): {:.0} events/s ({:.0} ms); \
             {N} events by one signer, no roles, same run: {:.0} events/s ({:.0} ms)",
            granted.len(),
            granted.len() as f64 / figures[1] * 1000.0,
            figures[1],
            N as f64 / figures[0] * 1000.0,
            figures[0]
        ),
    );
}
