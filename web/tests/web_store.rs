//! The shared behavioural suite (crate/tests/suite, also run against the
//! memory store by crate/tests/store_memory.rs) against IndexedDB, in headless
//! Chromium (scripts/ci/wasm-browser.sh), plus checks only a browser can make.
#![cfg(target_arch = "wasm32")]

// The one suite every store must pass lives with the core crate.
#[path = "../../crate/tests/suite/mod.rs"]
mod suite;

use petrichain::chain::Event;
use petrichain::store::Ledger;
use petrichain_web::indexeddb::{self, IndexedDbStore};
use rexie::TransactionMode;
use suite::Backend;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Ledger names get a per-run prefix, so reruns in one profile start empty.
struct Idb(String);

impl Idb {
    fn new() -> Self {
        Idb(format!("t{}", (js_sys::Math::random() * 1e12) as u64))
    }
    fn name(&self, name: &str) -> String {
        format!("{}-{name}", self.0)
    }
}

fn key(stream: &str, seq: u64) -> JsValue {
    js_sys::Array::of2(&stream.into(), &(seq as f64).into()).into()
}

impl Backend for Idb {
    type S = IndexedDbStore;
    async fn open(&self, name: &str) -> Ledger<IndexedDbStore> {
        Ledger::new(IndexedDbStore::open(&self.name(name)).await.unwrap())
    }
    async fn tamper(
        &self,
        name: &str,
        stream: &str,
        seq: u64,
        edit: &dyn Fn(&mut serde_json::Value),
    ) -> bool {
        let db = indexeddb::open_raw(&self.name(name)).await.unwrap();
        let tx = db
            .transaction(&["events"], TransactionMode::ReadWrite)
            .unwrap();
        let events = tx.store("events").unwrap();
        let raw = events.get(key(stream, seq)).await.unwrap().unwrap();
        // Edit the event's JSON text, leaving the key fields alone.
        let json = js_sys::Reflect::get(&raw, &"json".into())
            .unwrap()
            .as_string()
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        edit(&mut v);
        js_sys::Reflect::set(
            &raw,
            &"json".into(),
            &serde_json::to_string(&v).unwrap().into(),
        )
        .unwrap();
        events.put(&raw, None).await.unwrap();
        tx.done().await.unwrap();
        db.close();
        true
    }
    async fn put_raw(&self, name: &str, event: &Event) {
        let db = indexeddb::open_raw(&self.name(name)).await.unwrap();
        let tx = db
            .transaction(&["events"], TransactionMode::ReadWrite)
            .unwrap();
        tx.store("events")
            .unwrap()
            .put(&indexeddb::event_record(event).unwrap(), None)
            .await
            .unwrap();
        tx.done().await.unwrap();
        db.close();
    }
    async fn settle(&self) {
        sleep(100).await;
    }
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $name() {
            suite::$name(&Idb::new()).await;
        }
    )*};
}

suite!(
    fire_chains_events_and_moves_the_head,
    refused_actions_store_nothing_and_say_why,
    a_real_net_from_the_corpus_plays,
    a_ledger_persists_across_close_and_reopen,
    a_tampered_event_is_found_at_its_seq,
    an_aborted_commit_leaves_no_trace,
    export_and_import_round_trip_and_refuse_tampering,
    payloads_survive_byte_for_byte,
    subscribers_hear_of_changes_from_every_connection,
);

/// 30 rounds of two connections racing 8 appends each for 8 tokens.
#[wasm_bindgen_test]
async fn two_connections_racing_never_fork() {
    let mixed = suite::two_connections_racing_never_fork(&Idb::new(), 30, 8).await;
    // The two connections really did interleave their transactions.
    assert!(mixed > 0, "no round had both connections appending");
}

#[wasm_bindgen_test]
async fn the_layout_is_the_documented_one() {
    let b = Idb::new();
    let ledger = b.open("layout").await;
    ledger.close();
    let db = indexeddb::open_raw(&b.name("layout")).await.unwrap();
    let mut names = db.store_names();
    names.sort();
    assert_eq!(names, ["conflicts", "events", "models", "streams", "sync"]);
    assert_eq!(db.version(), Ok(indexeddb::SCHEMA_VERSION));
    assert!(db.name().starts_with("petrichain-"));
    db.close();
    indexeddb::delete(&b.name("layout")).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_event_record_whose_key_disagrees_is_corrupt() {
    let b = Idb::new();
    let ledger = b.open("key-disagrees").await;
    let model = suite::shop(5);
    let id = ledger.put_model(&model).await.unwrap();
    ledger.create_stream("s", &id).await.unwrap();
    let mut e = ledger
        .fire("s", &petrichain::store::Action::new("take"), suite::TS)
        .await
        .unwrap();
    // A copy of event 1 stored under seq 2: its text says seq 1.
    let record = indexeddb::event_record(&e).unwrap();
    js_sys::Reflect::set(&record, &"seq".into(), &2.into()).unwrap();
    let db = indexeddb::open_raw(&b.name("key-disagrees")).await.unwrap();
    let tx = db
        .transaction(&["events"], TransactionMode::ReadWrite)
        .unwrap();
    tx.store("events")
        .unwrap()
        .put(&record, None)
        .await
        .unwrap();
    tx.done().await.unwrap();
    db.close();
    let err = ledger.verify(Some("s")).await.unwrap_err();
    assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
    e.seq = 2;
    assert!(err.to_string().contains("[s, 2]"), "{err}");
    ledger.close();
}

#[wasm_bindgen_test]
async fn a_bad_ledger_name_is_refused() {
    let err = IndexedDbStore::open("").await.err().unwrap();
    assert_eq!(err.code(), "INVALID_INPUT");
}
