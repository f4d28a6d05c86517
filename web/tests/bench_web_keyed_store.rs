//! Key records in IndexedDB (headless Chromium, the shipped wasm-release
//! profile; `npm run bench -- wasm`, BENCHMARKS.md "Keyed places (issue
//! 14)", "Key records in IndexedDB"): a Bank stream of 5,000 accounts
//! (10,000 key records: balance and registered) with 5,000 random
//! transfers (10,000 events), and the same with 45,000 (50,000 events).
//! Opening its tip in a new connection (the first firing after a reload: a
//! refused transfer, so nothing is written) by replaying the events, as
//! before schema 3, against reading the key records; then, from the
//! records with no tip held, the count of one key, a page of 100 keys, a
//! prefix search and the top 20; and the schema upgrade's fill of the
//! records from the events. Figures are printed as `BENCH ...` lines.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use js_sys::Reflect;
use petrichain::engine::Marking;
use petrichain::formats::json::import_json;
use petrichain::store::{tip_from_records, Action, Ledger, Store};
use petrichain_web::indexeddb::{self, IndexedDbStore};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const BANK: &str = include_str!("../../www/examples/bank.json");
/// Accounts opened: 10,000 key records (balance and registered).
const ACCOUNTS: usize = 5_000;

fn now() -> f64 {
    let performance = Reflect::get(&js_sys::global(), &"performance".into()).unwrap();
    let f: js_sys::Function = Reflect::get(&performance, &"now".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    f.call0(&performance).unwrap().as_f64().unwrap()
}

fn user(i: usize) -> String {
    format!("user{i:05}")
}

/// Median of `runs` (sorted in place).
fn median(runs: &mut [f64]) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

/// A transfer the net refuses (more than any balance): opens the tip,
/// writes nothing.
fn refused() -> Action {
    Action::new("transfer")
        .arg("from", user(1))
        .arg("to", user(2))
        .multiple(1_000)
}

/// A small deterministic generator (xorshift64), so runs compare.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// A new IndexedDB ledger `name` with a Bank stream of `ACCOUNTS` accounts
/// opened and `transfers` random transfers of 1 among them.
async fn bank(name: &str, transfers: usize) {
    let (model, _) = import_json(BANK).unwrap();
    let (store, device) = indexeddb::open_with_device(name).await.unwrap();
    let ledger = Ledger::new(store, Rc::new(device));
    let id = ledger.put_model(&model).await.unwrap();
    ledger.create_stream("bank", &id).await.unwrap();
    let opens: Vec<Action> = (0..ACCOUNTS)
        .map(|i| Action::new("open").arg("user", user(i)))
        .collect();
    for chunk in opens.chunks(1000) {
        ledger.fire_batch("bank", chunk, 1).await.unwrap();
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let moves: Vec<Action> = (0..transfers)
        .map(|_| {
            let from = rng.below(ACCOUNTS);
            let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
            Action::new("transfer")
                .arg("from", user(from))
                .arg("to", user(to))
        })
        .collect();
    for chunk in moves.chunks(1000) {
        ledger.fire_batch("bank", chunk, 1).await.unwrap();
    }
    ledger.close();
}

/// Opening the tip of `name`'s stream in a new connection, by replay and
/// from the key records: medians of 3, ms.
async fn open_tip(name: &str) -> (f64, f64) {
    let (mut replay, mut records) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        // Without the fill step the connection reads no key records: the
        // tip is rebuilt from the events (schema 2's way).
        let store = IndexedDbStore::open(name).await.unwrap();
        let device = store.device().await.unwrap();
        let ledger = Ledger::new(store, Rc::new(device));
        assert_eq!(ledger.store().stream_keys("bank").await.unwrap(), None);
        let t0 = now();
        let err = ledger.fire("bank", &refused(), 2).await.unwrap_err();
        replay.push(now() - t0);
        assert_eq!(err.code(), "NOT_ENABLED");
        ledger.close();

        let (store, device) = indexeddb::open_with_device(name).await.unwrap();
        let ledger = Ledger::new(store, Rc::new(device));
        let t0 = now();
        let err = ledger.fire("bank", &refused(), 2).await.unwrap_err();
        records.push(now() - t0);
        assert_eq!(err.code(), "NOT_ENABLED");
        ledger.close();
    }
    (median(&mut replay), median(&mut records))
}

#[wasm_bindgen_test]
async fn bench_key_records_against_a_replay() {
    let (model, _) = import_json(BANK).unwrap();
    let seed = (js_sys::Math::random() * 1e12) as u64;
    // 10,000 events, 10,000 key records; then 50,000 events, the same keys.
    let mut shapes = Vec::new();
    for transfers in [ACCOUNTS, 9 * ACCOUNTS] {
        let shape = format!("bench-keys-{seed}-{transfers}");
        bank(&shape, transfers).await;
        let (replay, records) = open_tip(&shape).await;
        console_log!(
            "BENCH key records: open a keyed tip ({} events, {} key records) by replay: {replay:.1} ms; from the key records: {records:.1} ms ({:.1}x), median of 3",
            ACCOUNTS + transfers,
            2 * ACCOUNTS,
            replay / records
        );
        shapes.push(shape);
    }
    let name = shapes[0].clone();

    // Where the time goes: reading the records (with the head and its
    // root, one transaction) against reading the 10,000 events; building
    // the tip (key tries and marking tree) from the records.
    let (store, _) = indexeddb::open_with_device(&name).await.unwrap();
    let (mut read, mut build, mut events) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let t0 = now();
        let stored = store.stream_keys("bank").await.unwrap().unwrap();
        read.push(now() - t0);
        let t0 = now();
        let tip = tip_from_records(
            &model,
            "bank",
            Marking(stored.head.state.clone()),
            stored.keys,
        )
        .unwrap();
        build.push(now() - t0);
        assert_eq!(Some(tip.root_hex()), stored.root);
        let t0 = now();
        let all = store.events("bank", 0, None).await.unwrap();
        events.push(now() - t0);
        assert_eq!(all.len(), 2 * ACCOUNTS);
    }
    store.close();
    console_log!(
        "BENCH key records, breakdown: read {} records with head and root {:.1} ms; build the tip from them {:.1} ms; read the {} events (what a replay reads) {:.1} ms (medians of 3)",
        2 * ACCOUNTS,
        median(&mut read),
        median(&mut build),
        2 * ACCOUNTS,
        median(&mut events)
    );

    // Reads from the records, no tip held (a fresh connection, the model
    // cached by a first read).
    let (store, device) = indexeddb::open_with_device(&name).await.unwrap();
    let ledger = Ledger::new(store, Rc::new(device));
    assert!(ledger.count("bank", "balance", &user(0)).await.unwrap() > 0);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut pick = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % ACCOUNTS as u64) as usize
    };
    let mut runs = Vec::new();
    for _ in 0..200 {
        let k = user(pick());
        let t0 = now();
        let n = ledger.count("bank", "balance", &k).await.unwrap();
        runs.push(now() - t0);
        assert!(n > 0, "every account holds something");
    }
    let count = median(&mut runs);
    let mut runs = Vec::new();
    for _ in 0..50 {
        let after = user(pick());
        let t0 = now();
        let page = ledger
            .keys("bank", "balance", Some(&after), 100)
            .await
            .unwrap();
        runs.push(now() - t0);
        assert_eq!(page.count, ACCOUNTS as u64);
        assert!(
            page.keys.len() <= 100 && page.keys.first().map(|(k, _)| k > &after) != Some(false)
        );
    }
    let page = median(&mut runs);
    let mut runs = Vec::new();
    for i in 0..50 {
        let prefix = format!("user0{:02}", (i * 7) % 50);
        let t0 = now();
        let found = ledger
            .find_keys("bank", "balance", &prefix, None, 100)
            .await
            .unwrap();
        runs.push(now() - t0);
        assert_eq!(found.keys.len(), 100);
    }
    let search = median(&mut runs);
    let mut runs = Vec::new();
    for _ in 0..50 {
        let t0 = now();
        let top = ledger.top("bank", "balance", 20).await.unwrap();
        runs.push(now() - t0);
        assert_eq!(top.keys.len(), 20);
        assert!(
            top.keys
                .windows(2)
                .all(|w| w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0 < w[1].0)),
            "highest first, ties by key"
        );
    }
    let top = median(&mut runs);
    console_log!(
        "BENCH key records, no tip held ({ACCOUNTS} accounts): count of one key {count:.2} ms; a page of 100 keys {page:.2} ms; a prefix search of 100 keys {search:.2} ms; top 20 {top:.2} ms (medians)"
    );
    ledger.close();

    // The schema 2 -> 3 upgrade's fill of this stream: the marker and the
    // records removed by hand, then filled again from the 10,000 events.
    let db = indexeddb::open_raw(&name).await.unwrap();
    let tx = db
        .transaction(&["meta", "keys"], rexie::TransactionMode::ReadWrite)
        .unwrap();
    tx.store("meta")
        .unwrap()
        .delete("keys".into())
        .await
        .unwrap();
    tx.store("keys").unwrap().clear().await.unwrap();
    tx.done().await.unwrap();
    db.close();
    let store = IndexedDbStore::open(&name).await.unwrap();
    let t0 = now();
    let report = store.fill_keys().await.unwrap();
    let fill = now() - t0;
    assert_eq!(report.filled, ["bank"]);
    assert_eq!(
        store.stream_keys("bank").await.unwrap().unwrap().keys.len(),
        2 * ACCOUNTS
    );
    store.close();
    console_log!(
        "BENCH key records: the upgrade's fill of a {}-event stream ({} records): {fill:.0} ms",
        2 * ACCOUNTS,
        2 * ACCOUNTS
    );
    for shape in shapes {
        indexeddb::delete(&shape).await.unwrap();
    }
}
