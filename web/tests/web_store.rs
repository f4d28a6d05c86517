//! The shared behavioural suite (crate/tests/suite, also run against the
//! memory store by crate/tests/store_memory.rs) against IndexedDB, in headless
//! Chromium (scripts/ci/wasm-browser.sh), plus checks only a browser can make.
#![cfg(target_arch = "wasm32")]

// The one suite every store must pass lives with the core crate.
#[path = "../../crate/tests/suite/mod.rs"]
mod suite;

use std::rc::Rc;

use petrichain::chain::Event;
use petrichain::store::Ledger;
use petrichain_web::indexeddb::{self, IndexedDbStore, LATE_IN_A_ROW};
use rexie::TransactionMode;
use suite::Backend;
use wasm_bindgen::prelude::*;
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
    /// Each ledger name is its own database with its own device key (kept
    /// in it: every connection to one name signs with the same key).
    async fn open(&self, name: &str) -> Ledger<IndexedDbStore> {
        let (store, device) = indexeddb::open_with_device(&self.name(name)).await.unwrap();
        Ledger::new(store, Rc::new(device))
    }
    async fn tamper(
        &self,
        name: &str,
        stream: &str,
        seq: u64,
        edit: &dyn Fn(&mut serde_json::Value),
    ) -> bool {
        // Edit the event's line in the record that holds it, leaving the
        // key fields alone.
        edit_line(&self.name(name), stream, seq, &|line, _| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            edit(&mut v);
            (serde_json::to_string(&v).unwrap(), None)
        })
        .await
    }
    async fn put_raw(&self, name: &str, event: &Event) {
        let (ledger, line) = (self.name(name), serde_json::to_string(event).unwrap());
        let replace = |_: &str, _: &str| (line.clone(), Some(event.hash.clone()));
        if !edit_line(&ledger, &event.stream, event.seq, &replace).await {
            let db = indexeddb::open_raw(&ledger).await.unwrap();
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
    }
    async fn settle(&self) {
        sleep(100).await;
    }
}

/// A new line for an event's line and hash, and its new hash if it changes.
type LineEdit<'a> = dyn Fn(&str, &str) -> (String, Option<String>) + 'a;

/// Replaces the line (and, if `edit` says, the hash) of event `seq` in the
/// stored record that holds it (a block of one event or more); false if no
/// record holds it.
async fn edit_line(ledger: &str, stream: &str, seq: u64, edit: &LineEdit<'_>) -> bool {
    let db = indexeddb::open_raw(ledger).await.unwrap();
    let tx = db
        .transaction(&["events"], TransactionMode::ReadWrite)
        .unwrap();
    let events = tx.store("events").unwrap();
    let range =
        rexie::KeyRange::bound(&key(stream, 0), &key(stream, seq), Some(false), Some(false))
            .unwrap();
    let found = events
        .scan(Some(range), Some(1), None, Some(rexie::Direction::Prev))
        .await
        .unwrap();
    let get = |r: &JsValue, k: &str| js_sys::Reflect::get(r, &k.into()).unwrap();
    let mut done = false;
    if let Some((_, raw)) = found.into_iter().next() {
        let first = get(&raw, "seq").as_f64().unwrap() as u64;
        let json = get(&raw, "json").as_string().unwrap();
        let mut hashes = get(&raw, "hash").as_string().unwrap();
        let mut lines: Vec<String> = json.split('\n').map(String::from).collect();
        let i = (seq - first) as usize;
        if i < lines.len() {
            let (line, hash) = edit(&lines[i], &hashes[i * 64..i * 64 + 64]);
            lines[i] = line;
            if let Some(h) = hash {
                hashes.replace_range(i * 64..i * 64 + 64, &h);
            }
            js_sys::Reflect::set(&raw, &"json".into(), &lines.join("\n").into()).unwrap();
            js_sys::Reflect::set(&raw, &"hash".into(), &hashes.into()).unwrap();
            events.put(&raw, None).await.unwrap();
            done = true;
        }
    }
    tx.done().await.unwrap();
    db.close();
    done
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
    a_single_append_never_overwrites_a_stored_record,
    export_and_import_round_trip_and_refuse_tampering,
    payloads_survive_byte_for_byte,
    subscribers_hear_of_changes_from_every_connection,
    deleting_a_stream_removes_it_and_nothing_else,
    key_records_follow_every_commit,
    a_pull_and_a_rebase_keep_the_key_records_in_step,
    a_batch_is_one_signature_run_and_an_unsigned_head_is_refused,
);

/// 30 rounds of two connections racing 8 appends each for 8 tokens, back
/// to back: no fork, no acknowledged event lost. (Since appends sign
/// outside the transaction and chain on a cached tip, the connection that
/// appended last usually wins every race; see the test below for
/// interleaved commits.)
#[wasm_bindgen_test]
async fn two_connections_racing_never_fork() {
    suite::two_connections_racing_never_fork(&Idb::new(), 30, 8).await;
}

/// Two connections taking tokens with random pauses, so that their commits
/// interleave: each appends some, none forks, every acknowledged event is
/// the stored one and the chain verifies. (The pauses are long next to a
/// commit: a connection whose cached head is current commits in one round
/// trip, the other needs two, and with short pauses the first could take
/// every token.)
#[wasm_bindgen_test]
async fn two_connections_interleaving_never_fork() {
    const CAP: u64 = 16;
    let b = Idb::new();
    let (a, c) = (b.open("interleave").await, b.open("interleave").await);
    let id = a.put_model(&suite::shop(CAP)).await.unwrap();
    a.create_stream("s", &id).await.unwrap();
    async fn racer(ledger: &Ledger<IndexedDbStore>, who: &str) -> Vec<Event> {
        let mut ok = Vec::new();
        loop {
            sleep((js_sys::Math::random() * 20.0) as i32).await;
            match ledger
                .fire(
                    "s",
                    &petrichain::store::Action::new("take").actor(who),
                    suite::TS,
                )
                .await
            {
                Ok(e) => ok.push(e),
                Err(e) if e.code() == "NOT_ENABLED" => return ok,
                Err(e) => panic!("{e}"),
            }
        }
    }
    let (ok_a, ok_c) = futures_util::future::join(racer(&a, "a"), racer(&c, "c")).await;
    assert!(!ok_a.is_empty() && !ok_c.is_empty(), "no interleaving");
    assert_eq!(ok_a.len() + ok_c.len(), CAP as usize);
    let stored = a.all_events("s").await.unwrap();
    for e in ok_a.iter().chain(&ok_c) {
        assert_eq!(&stored[(e.seq - 1) as usize], e, "acknowledged event lost");
    }
    assert_eq!(c.verify(Some("s")).await.unwrap()[0].events, CAP);
    a.close();
    c.close();
}

/// The one-round-trip commit (`IndexedDbStore::commit`): alone, every
/// append after the first commit takes it; with two ledgers on one database
/// appending in turn, each finds the other's head stored, falls back, and
/// the chain stays one: every acknowledged event is the stored one, seqs
/// run 1..n, the chain verifies.
#[wasm_bindgen_test]
async fn one_round_trip_commits_fall_back_when_another_ledger_appended() {
    const ROUNDS: u64 = 6;
    let b = Idb::new();
    let (a, c) = (b.open("one-trip").await, b.open("one-trip").await);
    let id = a.put_model(&suite::shop(4 * ROUNDS + 8)).await.unwrap();
    a.create_stream("s", &id).await.unwrap();
    let take = |who: &str| petrichain::store::Action::new("take").actor(who);
    let mut acked = Vec::new();
    for _ in 0..4 {
        acked.push(a.fire("s", &take("a"), suite::TS).await.unwrap());
    }
    let alone = a.store().commit_paths();
    assert_eq!(alone.one_trip, 4, "{alone:?}");
    assert_eq!(alone.fell_back, 0, "{alone:?}");
    for _ in 0..ROUNDS {
        acked.push(c.fire("s", &take("c"), suite::TS).await.unwrap());
        acked.push(a.fire("s", &take("a"), suite::TS).await.unwrap());
        // A batch too, on a head the other ledger moved.
        let batch = [take("c"), take("c")];
        acked.extend(c.fire_batch("s", &batch, suite::TS).await.unwrap());
    }
    let (pa, pc) = (a.store().commit_paths(), c.store().commit_paths());
    assert!(pa.fell_back >= ROUNDS - 1, "{pa:?}");
    assert!(pc.fell_back >= ROUNDS - 1, "{pc:?}");
    let stored = a.all_events("s").await.unwrap();
    assert_eq!(stored.len(), acked.len());
    for (i, e) in stored.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    for e in &acked {
        assert_eq!(&stored[(e.seq - 1) as usize], e, "acknowledged event lost");
    }
    assert_eq!(
        c.verify(Some("s")).await.unwrap()[0].events,
        acked.len() as u64
    );
    // And back alone: one round trip again once the head is known.
    let before = c.store().commit_paths().one_trip;
    c.fire("s", &take("c"), suite::TS).await.unwrap();
    c.fire("s", &take("c"), suite::TS).await.unwrap();
    assert!(c.store().commit_paths().one_trip > before);
    a.close();
    c.close();
}

/// `begin_commit` (what `stream.fire` calls before chaining): the next
/// commit, made in the same task, writes on the transaction begun early.
/// One begun for another stream, or one whose task ended while another
/// ledger appended, is not written on: the commit takes a transaction of
/// its own, finds that ledger's head and falls back, and the chain stays
/// one. After `LATE_IN_A_ROW` such late ones in a row, nothing is begun on
/// that connection any more. (In the same task: Chromium settles an
/// Ed25519 signature at once.)
#[wasm_bindgen_test]
async fn a_commit_writes_on_the_transaction_begun_early_only_while_it_is_active() {
    let b = Idb::new();
    let (a, c) = (b.open("begun").await, b.open("begun").await);
    let id = a.put_model(&suite::shop(30)).await.unwrap();
    a.create_stream("s", &id).await.unwrap();
    a.create_stream("t", &id).await.unwrap();
    let take = |who: &str| petrichain::store::Action::new("take").actor(who);
    // The head known and the second connection open.
    let mut acked = vec![a.fire("s", &take("a"), suite::TS).await.unwrap()];
    a.fire("t", &take("a"), suite::TS).await.unwrap();
    for _ in 0..3 {
        let before = a.store().commit_paths();
        a.store().begin_commit("s");
        acked.push(a.fire("s", &take("a"), suite::TS).await.unwrap());
        let after = a.store().commit_paths();
        assert_eq!(after.begun_early, before.begun_early + 1, "{after:?}");
        assert_eq!(after.one_trip, before.one_trip + 1, "{after:?}");
    }
    // Begun for "s", committed on "t": a transaction of its own.
    let before = a.store().commit_paths();
    a.store().begin_commit("s");
    a.fire("t", &take("a"), suite::TS).await.unwrap();
    let after = a.store().commit_paths();
    assert_eq!(after.begun_early, before.begun_early, "{after:?}");
    assert_eq!(after.begun_late, before.begun_late, "{after:?}");
    assert_eq!(after.one_trip, before.one_trip + 1, "{after:?}");
    // Begun, then another ledger appends (the task ends meanwhile).
    for _ in 0..LATE_IN_A_ROW {
        a.store().begin_commit("s");
        acked.push(c.fire("s", &take("c"), suite::TS).await.unwrap());
        let before = a.store().commit_paths();
        let mine = a.fire("s", &take("a"), suite::TS).await.unwrap();
        let after = a.store().commit_paths();
        assert_eq!(after.begun_early, before.begun_early, "{after:?}");
        assert_eq!(after.begun_late, before.begun_late + 1, "{after:?}");
        assert_eq!(after.fell_back, before.fell_back + 1, "{after:?}");
        let theirs = acked.last().unwrap();
        assert_eq!((mine.seq, &mine.prev), (theirs.seq + 1, &theirs.hash));
        acked.push(mine);
    }
    // That many late in a row: nothing begun any more on this connection.
    let before = a.store().commit_paths();
    a.store().begin_commit("s");
    acked.push(a.fire("s", &take("a"), suite::TS).await.unwrap());
    let after = a.store().commit_paths();
    assert_eq!(
        (after.begun_early, after.begun_late),
        (before.begun_early, before.begun_late),
        "{after:?}"
    );
    assert_eq!(after.one_trip, before.one_trip + 1, "{after:?}");
    assert_eq!(a.all_events("s").await.unwrap(), acked);
    assert_eq!(
        a.verify(Some("s")).await.unwrap()[0].events,
        acked.len() as u64
    );
    a.close();
    c.close();
}

/// Another connection deletes the stream and recreates it, with or without
/// an append: the first connection's next append, on the head it cached,
/// finds another head stored, falls back and chains on the new stream,
/// never on the deleted chain.
#[wasm_bindgen_test]
async fn a_stream_deleted_and_recreated_elsewhere_is_not_built_on() {
    let b = Idb::new();
    let (a, c) = (b.open("recreated").await, b.open("recreated").await);
    let id = a.put_model(&suite::shop(20)).await.unwrap();
    let take = |who: &str| petrichain::store::Action::new("take").actor(who);
    a.create_stream("s", &id).await.unwrap();
    for _ in 0..3 {
        a.fire("s", &take("a"), suite::TS).await.unwrap();
    }
    assert!(a.store().commit_paths().one_trip >= 2);
    // Recreated and appended to.
    c.delete_stream("s").await.unwrap();
    c.create_stream("s", &id).await.unwrap();
    let theirs = c.fire("s", &take("c"), suite::TS).await.unwrap();
    let before = a.store().commit_paths();
    let mine = a.fire("s", &take("a"), suite::TS).await.unwrap();
    assert_eq!((mine.seq, &mine.prev), (2, &theirs.hash));
    let after = a.store().commit_paths();
    assert_eq!(after.fell_back, before.fell_back + 1, "{after:?}");
    assert_eq!(a.all_events("s").await.unwrap(), [theirs, mine]);
    assert_eq!(a.verify(Some("s")).await.unwrap()[0].events, 2);
    // Recreated only: the new head is at seq 0.
    c.delete_stream("s").await.unwrap();
    c.create_stream("s", &id).await.unwrap();
    let first = a.fire("s", &take("a"), suite::TS).await.unwrap();
    assert_eq!(
        (first.seq, first.prev.as_str()),
        (1, petrichain::chain::GENESIS_PREV)
    );
    assert_eq!(a.all_events("s").await.unwrap(), [first]);
    assert_eq!(c.verify(Some("s")).await.unwrap()[0].events, 1);
    a.close();
    c.close();
}

#[wasm_bindgen(inline_js = "export function openNewer(name) {
  return new Promise((resolve) => {
    const r = indexedDB.open(name, 1000);
    r.onblocked = () => resolve('blocked');
    r.onerror = () => resolve('error');
    r.onsuccess = () => { r.result.close(); resolve('opened'); };
  });
}")]
extern "C" {
    #[wasm_bindgen(js_name = openNewer)]
    fn open_newer(name: &str) -> js_sys::Promise;
}

/// A newer schema opened elsewhere (a tab with a later release) is not kept
/// waiting by this connection: once it has made its second connection (on
/// its first append or load), both close, and its calls fail with `CLOSED`.
#[wasm_bindgen_test]
async fn an_upgrade_elsewhere_is_not_blocked_by_an_open_ledger() {
    let b = Idb::new();
    let a = b.open("upgraded").await;
    let id = a.put_model(&suite::shop(20)).await.unwrap();
    a.create_stream("s", &id).await.unwrap();
    let take = petrichain::store::Action::new("take").actor("a");
    a.fire("s", &take, suite::TS).await.unwrap();
    a.fire("s", &take, suite::TS).await.unwrap();
    assert!(a.store().commit_paths().one_trip >= 1);
    let name = indexeddb::database_name(&b.name("upgraded"));
    let answer = wasm_bindgen_futures::JsFuture::from(open_newer(&name))
        .await
        .unwrap();
    assert_eq!(answer.as_string().as_deref(), Some("opened"));
    let e = a.fire("s", &take, suite::TS).await.unwrap_err();
    assert_eq!(e.code(), "CLOSED", "{e}");
    a.close();
}

/// A commit's events are stored in blocks (records of up to 256 events,
/// keyed by the first one's seq): every read finds each event in its block,
/// through the core and `hot.js` alike, by seq, range, limit and hash; a
/// sync that keeps a prefix cuts the block across the cut.
#[wasm_bindgen_test]
async fn a_batch_is_stored_in_blocks_and_read_back_across_them() {
    use petrichain::store::{StreamRecord, SyncCommit, SyncRecord, SyncStore};
    let b = Idb::new();
    let ledger = b.open("blocks").await;
    let id = ledger.put_model(&suite::shop(700)).await.unwrap();
    ledger.create_stream("s", &id).await.unwrap();
    let take = petrichain::store::Action::new("take");
    let batch: Vec<_> = (0..600).map(|_| take.clone()).collect();
    let fired = ledger.fire_batch("s", &batch, suite::TS).await.unwrap();
    ledger.fire("s", &take, suite::TS).await.unwrap();
    let record_seqs = || async {
        let db = indexeddb::open_raw(&b.name("blocks")).await.unwrap();
        let tx = db
            .transaction(&["events"], TransactionMode::ReadOnly)
            .unwrap();
        let all = tx
            .store("events")
            .unwrap()
            .get_all(None, None)
            .await
            .unwrap();
        db.close();
        all.iter()
            .map(|r| {
                js_sys::Reflect::get(r, &"seq".into())
                    .unwrap()
                    .as_f64()
                    .unwrap()
            })
            .collect::<Vec<f64>>()
    };
    assert_eq!(record_seqs().await, [1.0, 257.0, 513.0, 601.0]);
    let events = ledger.all_events("s").await.unwrap();
    assert_eq!(&events[..600], &fired[..]);
    let cases = [
        (0, Some(1)),
        (0, Some(3)),
        (1, Some(300)),
        (255, Some(2)),
        (256, None),
        (400, Some(200)),
        (500, Some(101)),
        (512, Some(1)),
        (600, None),
        (601, None),
    ];
    for (after, limit) in cases {
        let want: Vec<Event> = events
            .iter()
            .filter(|e| e.seq > after)
            .take(limit.unwrap_or(u32::MAX) as usize)
            .cloned()
            .collect();
        let got = ledger.events("s", after, limit).await.unwrap();
        assert_eq!(got, want, "after {after} limit {limit:?}");
        let js = ledger
            .store()
            .events_js("s", after, limit, true)
            .await
            .unwrap();
        let js: Vec<(u64, String)> = js_sys::Array::from(&js)
            .iter()
            .map(|e| {
                let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).unwrap();
                (
                    get("seq").as_f64().unwrap() as u64,
                    get("hash").as_string().unwrap(),
                )
            })
            .collect();
        let want: Vec<(u64, String)> = want.iter().map(|e| (e.seq, e.hash.clone())).collect();
        assert_eq!(js, want, "hot.js: after {after} limit {limit:?}");
    }
    for e in [&events[0], &events[270], &events[599], &events[600]] {
        assert_eq!(
            ledger.event_by_hash(&e.hash).await.unwrap().as_ref(),
            Some(e)
        );
    }
    assert_eq!(ledger.event_by_hash(&"0".repeat(64)).await.unwrap(), None);
    assert_eq!(ledger.verify(Some("s")).await.unwrap()[0].events, 601);

    // A sync keeping 299 events, then the remote's copy of event 300 (signed
    // on its own, as pushes send it: the head a ledger appends on must carry
    // a signature): the block of 257..512 keeps 257..299.
    let mut at = events[299].clone();
    let sig = ledger
        .device()
        .sign(&[petrichain::chain::signed_message(&at.hash)])
        .await
        .unwrap();
    at.sig = hex::encode(sig[0]);
    ledger
        .store()
        .commit_sync("s", &mut |current, _| {
            let current = current.unwrap();
            Ok(SyncCommit {
                record: StreamRecord {
                    id: "s".into(),
                    model: current.model.clone(),
                    seq: 300,
                    hash: at.hash.clone(),
                    state: vec![400, 300],
                    policy: current.policy.clone(),
                },
                keep: 299,
                events: vec![at.clone()],
                restored: Vec::new(),
                sync: SyncRecord {
                    stream: "s".into(),
                    remotes: Default::default(),
                },
                conflicts: Vec::new(),
            })
        })
        .await
        .unwrap();
    assert_eq!(record_seqs().await, [1.0, 257.0, 300.0]);
    let kept = ledger.all_events("s").await.unwrap();
    assert_eq!(kept[..299], events[..299]);
    assert_eq!(kept[299], at);
    assert_eq!(ledger.event_by_hash(&events[300].hash).await.unwrap(), None);
    let again = ledger.fire("s", &take, suite::TS).await.unwrap();
    assert_eq!(again.seq, 301);
    assert_eq!(record_seqs().await, [1.0, 257.0, 300.0, 301.0]);
    assert_eq!(ledger.verify(Some("s")).await.unwrap()[0].events, 301);
    ledger.close();
}

#[wasm_bindgen_test]
async fn the_layout_is_the_documented_one() {
    let b = Idb::new();
    let ledger = b.open("layout").await;
    ledger.close();
    let db = indexeddb::open_raw(&b.name("layout")).await.unwrap();
    let mut names = db.store_names();
    names.sort();
    assert_eq!(
        names,
        [
            "conflicts",
            "events",
            "keys",
            "meta",
            "models",
            "streams",
            "sync"
        ]
    );
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

#[wasm_bindgen_test]
async fn every_connection_to_a_ledger_signs_with_its_one_device_key() {
    let b = Idb::new();
    let first = b.open("device").await;
    let key = first.device_key();
    assert_eq!(key.len(), 64);
    let (second, other) = (b.open("device").await, b.open("another").await);
    assert_eq!(second.device_key(), key, "same ledger, same key");
    assert_ne!(other.device_key(), key, "another ledger, another key");
    // Two tabs opening a new ledger at once both make a key; the first
    // stored wins and both sign with it.
    for round in 0..5 {
        let name = format!("device-race-{round}");
        let (x, y) = futures_util::future::join(b.open(&name), b.open(&name)).await;
        assert_eq!(x.device_key(), y.device_key(), "round {round}");
        let z = b.open(&name).await;
        assert_eq!(z.device_key(), x.device_key());
        for l in [x, y, z] {
            l.close();
        }
    }
    first.close();
    second.close();
    // Reopened later: still the same key; the stored private key is a
    // non-extractable Ed25519 CryptoKey (exportKey refuses it).
    let again = b.open("device").await;
    assert_eq!(again.device_key(), key);
    again.close();
    let db = indexeddb::open_raw(&b.name("device")).await.unwrap();
    let tx = db
        .transaction(&["meta"], TransactionMode::ReadOnly)
        .unwrap();
    let record = tx
        .store("meta")
        .unwrap()
        .get("device".into())
        .await
        .unwrap()
        .unwrap();
    db.close();
    let private: web_sys::CryptoKey = wasm_bindgen::JsCast::unchecked_into(
        js_sys::Reflect::get(&record, &"privateKey".into()).unwrap(),
    );
    assert!(!private.extractable());
    let subtle = petrichain_web::device::global_crypto().unwrap().subtle();
    for format in ["pkcs8", "jwk", "raw"] {
        let exported =
            wasm_bindgen_futures::JsFuture::from(subtle.export_key(format, &private).unwrap())
                .await;
        assert!(exported.is_err(), "{format} export of the private key");
    }
}

mod v1_database {
    //! A database written by the previous release (schema 1, chain format
    //! version 1), built exactly as that code wrote it (303c289
    //! web/src/indexeddb.rs), then opened by this code.
    use super::*;
    use petrichain::chain::v1::{self, EventV1};
    use petrichain::store::{Action, SyncStore};
    use rexie::{Index, ObjectStore, Rexie};

    const BACKEND: &str = "https://example.test/ledger";

    fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
        js_sys::Reflect::set(o, &k.into(), v).unwrap();
    }

    /// The three events of `take` by ann / bob / ann on shop(5), version 1.
    fn v1_chain(model: &petrichain::Model) -> Vec<EventV1> {
        let mut prev = petrichain::chain::GENESIS_PREV.to_string();
        let mut out = Vec::new();
        for (i, actor) in ["ann", "bob", "ann"].into_iter().enumerate() {
            let seq = i as u64 + 1;
            let mut e = EventV1 {
                stream: "s".into(),
                seq,
                model: model.id().into(),
                action: "take".into(),
                multiple: 1,
                actor: actor.into(),
                roles: vec![],
                payload: format!("{{\"n\":{seq}}}"),
                ts: suite::TS + seq,
                prev: prev.clone(),
                state: vec![5 - seq, seq],
                hash: String::new(),
            };
            e.hash = v1::event_hash(&e);
            prev.clone_from(&e.hash);
            out.push(e);
        }
        out
    }

    async fn write_v1(name: &str, model: &petrichain::Model, events: &[EventV1], tamper: bool) {
        let db = Rexie::builder(&indexeddb::database_name(name))
            .version(1)
            .add_object_store(ObjectStore::new("models").key_path("id"))
            .add_object_store(ObjectStore::new("streams").key_path("id"))
            .add_object_store(
                ObjectStore::new("events")
                    .key_path_array(["stream", "seq"])
                    .add_index(Index::new("hash", "hash")),
            )
            .add_object_store(ObjectStore::new("sync").key_path("stream"))
            .add_object_store(
                ObjectStore::new("conflicts")
                    .auto_increment(true)
                    .add_index(Index::new("stream", "stream")),
            )
            .build()
            .await
            .unwrap();
        let tx = db
            .transaction(
                &["models", "streams", "events", "sync", "conflicts"],
                TransactionMode::ReadWrite,
            )
            .unwrap();
        let json = |v: serde_json::Value| js_sys::JSON::parse(&v.to_string()).unwrap();
        tx.store("models")
            .unwrap()
            .put(
                &json(serde_json::json!({"id": model.id(), "json": model.canonical_json()})),
                None,
            )
            .await
            .unwrap();
        let last = events.last().unwrap();
        for (id, seq, hash, state) in [
            ("s", last.seq, last.hash.clone(), last.state.clone()),
            (
                "empty",
                0,
                petrichain::chain::GENESIS_PREV.to_string(),
                vec![5, 0],
            ),
        ] {
            tx.store("streams")
                .unwrap()
                .put(
                    &json(serde_json::json!({"id": id, "model": model.id(), "seq": seq, "hash": hash, "state": state})),
                    None,
                )
                .await
                .unwrap();
        }
        for e in events {
            let mut text = serde_json::to_string(e).unwrap();
            if tamper && e.seq == 2 {
                text = text.replace("\"bob\"", "\"eve\"");
            }
            let record = js_sys::Object::new();
            set(&record, "stream", &e.stream.as_str().into());
            set(&record, "seq", &(e.seq as f64).into());
            set(&record, "hash", &e.hash.as_str().into());
            set(&record, "json", &text.into());
            tx.store("events")
                .unwrap()
                .add(&record.into(), None)
                .await
                .unwrap();
        }
        tx.store("sync")
            .unwrap()
            .put(
                &json(serde_json::json!({"stream": "s", "remotes": {BACKEND: {"seq": 2, "hash": events[1].hash}}})),
                None,
            )
            .await
            .unwrap();
        // A conflict recorded by the previous release: an offline `take`
        // the net refused after a rebase.
        let mut refused = serde_json::to_value(&events[2]).unwrap();
        refused["actor"] = "carol".into();
        tx.store("conflicts")
            .unwrap()
            .add(
                &json(serde_json::json!({
                    "stream": "s", "backend": BACKEND, "event": refused, "code": "NOT_ENABLED",
                    "message": "place 'stock' has 0 tokens", "reason": "{\"code\":\"NOT_ENABLED\"}",
                    "remote": {"seq": 3, "hash": events[2].hash}, "detected": 5
                })),
                None,
            )
            .await
            .unwrap();
        tx.done().await.unwrap();
        db.close();
    }

    #[wasm_bindgen_test]
    async fn is_upgraded_to_signed_version_2_when_opened() {
        let b = Idb::new();
        let model = suite::shop(5);
        let old = v1_chain(&model);
        write_v1(&b.name("v1"), &model, &old, false).await;

        let ledger = b.open("v1").await;
        let events = ledger.all_events("s").await.unwrap();
        assert_eq!(events.len(), 3);
        for (e, o) in events.iter().zip(&old) {
            assert_eq!(
                (e.v, e.seq, &e.action, &e.actor, &e.payload, e.ts),
                (2, o.seq, &o.action, &o.actor, &o.payload, o.ts)
            );
            assert_eq!(e.signer, ledger.device_key());
            assert_eq!(e.nonce, v1::upgrade_nonce(&o.hash));
            assert_eq!(
                e.delta,
                vec![
                    ("stock".to_string(), o.state[0]),
                    ("taken".to_string(), o.state[1])
                ]
            );
        }
        let head = ledger.stream("s").await.unwrap();
        assert_eq!(
            (head.seq, &head.hash, &head.state),
            (3, &events[2].hash, &vec![2, 3])
        );
        assert_eq!(ledger.verify(None).await.unwrap().len(), 2);
        assert_eq!(ledger.stream("empty").await.unwrap().seq, 0);
        // The backends knew version 1 hashes: the sync state starts over.
        assert_eq!(ledger.store().sync_record("s").await.unwrap(), None);
        // The conflict is still listed, its action as recorded.
        let conflicts = ledger.store().conflicts("s").await.unwrap();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(
            (
                conflicts[0].event.v,
                conflicts[0].event.actor.as_str(),
                conflicts[0].code.as_str()
            ),
            (2, "carol", "NOT_ENABLED")
        );
        // The upgraded stream goes on.
        let e4 = ledger
            .fire("s", &Action::new("take"), suite::TS)
            .await
            .unwrap();
        assert_eq!((e4.seq, &e4.prev), (4, &events[2].hash));
        ledger.close();

        // Upgraded once: reopening changes nothing, and says version 2.
        let again = b.open("v1").await;
        assert_eq!(again.all_events("s").await.unwrap()[..3], events[..]);
        again.close();
        let db = indexeddb::open_raw(&b.name("v1")).await.unwrap();
        assert_eq!(db.version(), Ok(indexeddb::SCHEMA_VERSION));
        let tx = db
            .transaction(&["meta"], TransactionMode::ReadOnly)
            .unwrap();
        let format = tx
            .store("meta")
            .unwrap()
            .get("format".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(js_sys::Reflect::get(&format, &"version".into()).unwrap(), 2);
        db.close();
    }

    #[wasm_bindgen_test]
    async fn a_version_1_chain_that_does_not_verify_is_left_as_it_was() {
        let b = Idb::new();
        let model = suite::shop(5);
        let old = v1_chain(&model);
        write_v1(&b.name("v1-bad"), &model, &old, true).await;
        let ledger = b.open("v1-bad").await;
        // Not re-signed: reading it says the record is not a version 2 event.
        let err = ledger.verify(Some("s")).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
        let report = ledger.store().upgrade_v1(&**ledger.device()).await.unwrap();
        assert!(report.upgraded.is_empty());
        assert_eq!(report.failed.len(), 1);
        assert_eq!(
            (report.failed[0].1.code(), report.failed[0].1.seq()),
            ("HASH_MISMATCH", Some(2))
        );
        ledger.close();
    }
}

mod v2_database {
    //! A database written by the previous schema (version 2: no key
    //! records), with a keyed stream as that code stored it, then opened by
    //! this code: the upgrade fills the key records from the events.
    use super::*;
    use petrichain::store::{Action, MemoryStore, Store};
    use petrichain_web::device::WebCryptoDevice;
    use rexie::{Index, ObjectStore, Rexie};

    fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
        js_sys::Reflect::set(o, &k.into(), v).unwrap();
    }

    /// A bank of 40 accounts and 41 transfers (u1 emptied),
    /// chained in memory: the events as a version 2 ledger stored them.
    async fn bank_chain() -> Ledger<MemoryStore> {
        let l = Ledger::new(
            MemoryStore::new(),
            Rc::new(WebCryptoDevice::generate().await.unwrap().0),
        );
        let id = l.put_model(&suite::keys::bank()).await.unwrap();
        l.create_stream("bank", &id).await.unwrap();
        let opens: Vec<Action> = (0..40)
            .map(|i| suite::keys::open(&format!("u{i}")))
            .collect();
        l.fire_batch("bank", &opens, suite::TS).await.unwrap();
        for i in 0..40u64 {
            let (from, to) = (format!("u{i}"), format!("u{}", (i * 7 + 3) % 40));
            l.fire(
                "bank",
                &suite::keys::transfer(&from, &to, 1 + i % 9),
                suite::TS,
            )
            .await
            .unwrap();
        }
        // u1 emptied: its record goes.
        let left = l.count("bank", "balance", "u1").await.unwrap();
        l.fire("bank", &suite::keys::transfer("u1", "u2", left), suite::TS)
            .await
            .unwrap();
        l
    }

    /// Writes `chain`'s models, heads and events as schema 2 did.
    async fn write_v2(name: &str, chain: &Ledger<MemoryStore>) {
        let db = Rexie::builder(&indexeddb::database_name(name))
            .version(2)
            .add_object_store(ObjectStore::new("models").key_path("id"))
            .add_object_store(ObjectStore::new("streams").key_path("id"))
            .add_object_store(
                ObjectStore::new("events")
                    .key_path_array(["stream", "seq"])
                    .add_index(Index::new("hash", "hash")),
            )
            .add_object_store(ObjectStore::new("sync").key_path("stream"))
            .add_object_store(
                ObjectStore::new("conflicts")
                    .auto_increment(true)
                    .add_index(Index::new("stream", "stream")),
            )
            .add_object_store(ObjectStore::new("meta").key_path("id"))
            .build()
            .await
            .unwrap();
        let tx = db
            .transaction(
                &["models", "streams", "events", "meta"],
                TransactionMode::ReadWrite,
            )
            .unwrap();
        for head in chain.streams().await.unwrap() {
            let model = chain.store().model(&head.model).await.unwrap().unwrap();
            let m = js_sys::Object::new();
            set(&m, "id", &model.id.as_str().into());
            set(&m, "json", &model.json.as_str().into());
            tx.store("models")
                .unwrap()
                .put(&m.into(), None)
                .await
                .unwrap();
            let h = js_sys::Object::new();
            set(&h, "id", &head.id.as_str().into());
            set(&h, "model", &head.model.as_str().into());
            set(&h, "seq", &(head.seq as f64).into());
            set(&h, "hash", &head.hash.as_str().into());
            set(
                &h,
                "state",
                &serde_json::to_string(&head.state).unwrap().into(),
            );
            tx.store("streams")
                .unwrap()
                .put(&h.into(), None)
                .await
                .unwrap();
            for e in chain.all_events(&head.id).await.unwrap() {
                tx.store("events")
                    .unwrap()
                    .add(&indexeddb::event_record(&e).unwrap(), None)
                    .await
                    .unwrap();
            }
        }
        let f = js_sys::Object::new();
        set(&f, "id", &"format".into());
        set(&f, "version", &2.into());
        tx.store("meta")
            .unwrap()
            .put(&f.into(), None)
            .await
            .unwrap();
        tx.done().await.unwrap();
        db.close();
    }

    async fn same_keys<S: Store, T: Store>(a: &Ledger<S>, b: &Ledger<T>) {
        let (x, y) = (
            a.store().stream_keys("bank").await.unwrap(),
            b.store().stream_keys("bank").await.unwrap().unwrap(),
        );
        let x = x.expect("the key records are read");
        // Same keys and root; the hashes differ once each side appended
        // with its own device.
        assert_eq!(
            (&x.keys, &x.root, &x.head.state),
            (&y.keys, &y.root, &y.head.state)
        );
        assert_eq!(x.head, a.stream("bank").await.unwrap());
        for i in 0..41 {
            let k = format!("u{i}");
            assert_eq!(
                a.count("bank", "balance", &k).await.unwrap(),
                b.count("bank", "balance", &k).await.unwrap(),
                "{k}"
            );
        }
        for (prefix, after) in [
            ("", None),
            ("u1", None),
            ("u", Some("u25")),
            ("u3", Some("u3")),
        ] {
            assert_eq!(
                a.find_keys("bank", "balance", prefix, after, 7)
                    .await
                    .unwrap(),
                b.find_keys("bank", "balance", prefix, after, 7)
                    .await
                    .unwrap()
            );
        }
        for place in ["balance", "registered"] {
            assert_eq!(
                a.top("bank", place, 20).await.unwrap(),
                b.top("bank", place, 20).await.unwrap()
            );
        }
    }

    #[wasm_bindgen_test]
    async fn gains_key_records_filled_from_its_events() {
        let b = Idb::new();
        let chain = bank_chain().await;
        write_v2(&b.name("v2"), &chain).await;

        let ledger = b.open("v2").await;
        same_keys(&ledger, &chain).await;
        let top = ledger.top("bank", "balance", 3).await.unwrap();
        assert_eq!((top.count, top.total), (39, 4000), "u1 emptied, total kept");
        // Filled once: the marker is there, a second fill does nothing.
        let again = ledger.store().fill_keys().await.unwrap();
        assert!(again.filled.is_empty() && again.failed.is_empty());
        // The upgraded stream goes on, its records in step.
        let e = ledger
            .fire("bank", &suite::keys::transfer("u2", "u1", 7), suite::TS)
            .await
            .unwrap();
        chain
            .fire("bank", &suite::keys::transfer("u2", "u1", 7), suite::TS)
            .await
            .unwrap();
        assert_eq!(
            e.keys,
            chain.all_events("bank").await.unwrap().last().unwrap().keys
        );
        assert_eq!(ledger.verify(None).await.unwrap()[0].events, e.seq);
        ledger.close();
        let cold = b.open("v2").await;
        same_keys(&cold, &chain).await;
        cold.close();

        let db = indexeddb::open_raw(&b.name("v2")).await.unwrap();
        assert_eq!(db.version(), Ok(indexeddb::SCHEMA_VERSION));
        let tx = db
            .transaction(&["meta"], TransactionMode::ReadOnly)
            .unwrap();
        let marker = tx
            .store("meta")
            .unwrap()
            .get("keys".into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(js_sys::Reflect::get(&marker, &"version".into()).unwrap(), 1);
        db.close();
    }

    #[wasm_bindgen_test]
    async fn a_connection_that_did_not_fill_replays_the_events() {
        let b = Idb::new();
        let chain = bank_chain().await;
        write_v2(&b.name("v2-replay"), &chain).await;
        // Opened without the fill step: no key records are read, the
        // answers come from a replay, the same.
        let store = IndexedDbStore::open(&b.name("v2-replay")).await.unwrap();
        let ledger = Ledger::new(store, Rc::new(WebCryptoDevice::generate().await.unwrap().0));
        assert_eq!(ledger.store().stream_keys("bank").await.unwrap(), None);
        assert_eq!(
            ledger.count("bank", "balance", "u2").await.unwrap(),
            chain.count("bank", "balance", "u2").await.unwrap()
        );
        assert_eq!(
            ledger.top("bank", "balance", 5).await.unwrap(),
            chain.top("bank", "balance", 5).await.unwrap()
        );
        let report = ledger.store().fill_keys().await.unwrap();
        assert_eq!(report.filled, ["bank"]);
        same_keys(&ledger, &chain).await;
        ledger.close();
    }
}

mod v2_database_broken {
    //! A schema 2 database whose keyed stream has an unreadable event: the
    //! fill reports it and writes no marker; the stream's reads say why.
    use super::*;
    use petrichain::store::Store;

    #[wasm_bindgen_test]
    async fn a_stream_that_cannot_be_read_is_reported_and_left_to_replay() {
        let b = Idb::new();
        let name = b.name("v2-broken");
        let ledger = b.open("v2-broken").await;
        let id = ledger.put_model(&suite::keys::bank()).await.unwrap();
        ledger.create_stream("bank", &id).await.unwrap();
        ledger
            .fire_batch(
                "bank",
                &[suite::keys::open("alice"), suite::keys::open("bob")],
                suite::TS,
            )
            .await
            .unwrap();
        ledger.close();
        // As if written before schema 3: no marker, no records; and event 2
        // is no longer JSON.
        let db = indexeddb::open_raw(&name).await.unwrap();
        let tx = db
            .transaction(&["meta", "keys", "events"], TransactionMode::ReadWrite)
            .unwrap();
        tx.store("meta")
            .unwrap()
            .delete("keys".into())
            .await
            .unwrap();
        tx.store("keys").unwrap().clear().await.unwrap();
        tx.done().await.unwrap();
        let not_json = |_: &str, _: &str| ("{not json".to_string(), None);
        assert!(edit_line(&name, "bank", 2, &not_json).await);
        db.close();

        let ledger = b.open("v2-broken").await;
        assert_eq!(ledger.store().stream_keys("bank").await.unwrap(), None);
        let report = ledger.store().fill_keys().await.unwrap();
        assert!(report.filled.is_empty());
        assert_eq!(report.failed.len(), 1);
        assert_eq!(
            (report.failed[0].0.as_str(), report.failed[0].1.code()),
            ("bank", "CORRUPT_RECORD")
        );
        // Reads fall back to the replay, which finds the bad record.
        let err = ledger.count("bank", "balance", "alice").await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
        ledger.close();
        let db = indexeddb::open_raw(&name).await.unwrap();
        let tx = db
            .transaction(&["meta"], TransactionMode::ReadOnly)
            .unwrap();
        assert!(
            tx.store("meta")
                .unwrap()
                .get("keys".into())
                .await
                .unwrap()
                .filter(|v| !v.is_undefined())
                .is_none(),
            "no marker"
        );
        db.close();
    }
}

/// A key record edited by hand: the tip rebuilt from the records is
/// `CORRUPT_RECORD` naming the stream and place; one record that is not a
/// key record is named too.
#[wasm_bindgen_test]
async fn a_key_record_edited_by_hand_is_corrupt() {
    let b = Idb::new();
    let ledger = b.open("keys-corrupt").await;
    let id = ledger.put_model(&suite::keys::bank()).await.unwrap();
    ledger.create_stream("bank", &id).await.unwrap();
    ledger
        .fire_batch(
            "bank",
            &[suite::keys::open("alice"), suite::keys::open("bob")],
            suite::TS,
        )
        .await
        .unwrap();
    ledger.close();
    let edit = |count: f64, rank: f64| {
        let name = b.name("keys-corrupt");
        async move {
            let db = indexeddb::open_raw(&name).await.unwrap();
            let tx = db
                .transaction(&["keys"], TransactionMode::ReadWrite)
                .unwrap();
            let keys = tx.store("keys").unwrap();
            let k: JsValue = js_sys::Uint8Array::from(&b"alice"[..]).into();
            let id: JsValue = js_sys::Array::of3(&"bank".into(), &"balance".into(), &k).into();
            let record = keys.get(id).await.unwrap().unwrap();
            js_sys::Reflect::set(&record, &"count".into(), &count.into()).unwrap();
            js_sys::Reflect::set(&record, &"rank".into(), &rank.into()).unwrap();
            keys.put(&record, None).await.unwrap();
            tx.done().await.unwrap();
            db.close();
        }
    };
    let max = petrichain::MAX_TOKENS as f64;
    edit(90.0, max - 90.0).await;
    let cold = b.open("keys-corrupt").await;
    assert_eq!(cold.count("bank", "balance", "alice").await.unwrap(), 90);
    let err = cold
        .fire("bank", &suite::keys::open("carol"), suite::TS)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CORRUPT_RECORD");
    assert!(err.to_string().contains("bank/balance"), "{err}");
    cold.close();
    // Count and rank disagree: not a key record.
    edit(100.0, 5.0).await;
    let cold = b.open("keys-corrupt").await;
    let err = cold.count("bank", "balance", "alice").await.unwrap_err();
    assert_eq!(err.code(), "CORRUPT_RECORD");
    assert!(err.to_string().contains("bank/balance"), "{err}");
    // Put right: the stream goes on.
    cold.close();
    edit(100.0, max - 100.0).await;
    let cold = b.open("keys-corrupt").await;
    cold.fire("bank", &suite::keys::open("carol"), suite::TS)
        .await
        .unwrap();
    assert_eq!(cold.top("bank", "balance", 5).await.unwrap().count, 3);
    cold.close();
}

/// A net of 3,000 places (three 1,024-count chunks): the head keeps
/// `places` instead of the marking, an append rewrites only the chunk it
/// changed, a new connection (no cache) reads the same marking back, the
/// chain verifies, and a missing chunk is a corrupt record, not a panic.
#[wasm_bindgen_test]
async fn a_long_marking_lives_in_chunks_and_reads_back() {
    let b = Idb::new();
    let ledger = b.open("chunks").await;
    let places: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"id":"p{i:04}","initial":{}}}"#, u64::from(i == 2500)))
        .collect();
    let (model, _) = petrichain::formats::json::import_json(&format!(
        r#"{{"places":[{}],"transitions":[{{"id":"go"}}],
            "arcs":[{{"source":"p2500","target":"go"}},{{"source":"go","target":"p2999"}}]}}"#,
        places.join(",")
    ))
    .unwrap();
    let id = ledger.put_model(&model).await.unwrap();
    ledger.create_stream("s", &id).await.unwrap();
    // Mark chunk 0 so that a rewrite of it would show.
    let db = indexeddb::open_raw(&b.name("chunks")).await.unwrap();
    let tx = db
        .transaction(&["meta"], TransactionMode::ReadWrite)
        .unwrap();
    let meta = tx.store("meta").unwrap();
    let chunk0 = JsValue::from_str("marking\u{0}s\u{0}00000000");
    let record = meta.get(chunk0.clone()).await.unwrap().unwrap();
    js_sys::Reflect::set(&record, &"untouched".into(), &true.into()).unwrap();
    meta.put(&record, None).await.unwrap();
    tx.done().await.unwrap();
    ledger
        .fire("s", &petrichain::store::Action::new("go"), suite::TS)
        .await
        .unwrap();
    let tx = db
        .transaction(&["meta", "streams"], TransactionMode::ReadOnly)
        .unwrap();
    let head = tx
        .store("streams")
        .unwrap()
        .get(JsValue::from_str("s"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        js_sys::Reflect::get(&head, &"places".into()).unwrap(),
        JsValue::from(3000)
    );
    assert!(js_sys::Reflect::get(&head, &"state".into())
        .unwrap()
        .is_undefined());
    let kept = tx
        .store("meta")
        .unwrap()
        .get(chunk0.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        js_sys::Reflect::get(&kept, &"untouched".into()).unwrap(),
        JsValue::TRUE,
        "chunk 0 was rewritten although the append changed only chunk 2"
    );
    drop(tx);
    ledger.close();
    let again = b.open("chunks").await;
    let head = again.stream("s").await.unwrap();
    assert_eq!(head.state.len(), 3000);
    assert_eq!((head.state[2500], head.state[2999]), (0, 1));
    assert_eq!(
        again.verify(Some("s")).await.unwrap()[0].marking,
        head.state
    );
    again.close();
    // A missing chunk: a corrupt record.
    let tx = db
        .transaction(&["meta"], TransactionMode::ReadWrite)
        .unwrap();
    tx.store("meta")
        .unwrap()
        .delete(JsValue::from_str("marking\u{0}s\u{0}00000001"))
        .await
        .unwrap();
    tx.done().await.unwrap();
    db.close();
    let third = b.open("chunks").await;
    let err = third.stream("s").await.unwrap_err();
    assert_eq!(err.code(), "CORRUPT_RECORD", "{err}");
    third.close();
}

/// A wide head written inline by an earlier build (whole `state`, no
/// chunks) is read, and the next commit writes every chunk, not only the
/// changed one: a new connection reads the full marking back.
#[wasm_bindgen_test]
async fn an_inline_wide_head_moves_to_chunks_whole() {
    let b = Idb::new();
    let ledger = b.open("inline-wide").await;
    let places: Vec<String> = (0..2100)
        .map(|i| format!(r#"{{"id":"p{i:04}","initial":{}}}"#, 1 + u64::from(i == 5)))
        .collect();
    let (model, _) = petrichain::formats::json::import_json(&format!(
        r#"{{"places":[{}],"transitions":[{{"id":"go"}}],
            "arcs":[{{"source":"p0005","target":"go"}},{{"source":"go","target":"p2099"}}]}}"#,
        places.join(",")
    ))
    .unwrap();
    let id = ledger.put_model(&model).await.unwrap();
    ledger.create_stream("s", &id).await.unwrap();
    ledger.close();
    // Rewrite the head the old way and drop the chunks.
    let db = indexeddb::open_raw(&b.name("inline-wide")).await.unwrap();
    let tx = db
        .transaction(&["meta", "streams"], TransactionMode::ReadWrite)
        .unwrap();
    let streams = tx.store("streams").unwrap();
    let head = streams.get(JsValue::from_str("s")).await.unwrap().unwrap();
    let state = serde_json::to_string(&model.initial_marking().0).unwrap();
    js_sys::Reflect::set(&head, &"state".into(), &state.into()).unwrap();
    js_sys::Reflect::delete_property(&head.clone().into(), &"places".into()).unwrap();
    streams.put(&head, None).await.unwrap();
    for k in 0..3 {
        tx.store("meta")
            .unwrap()
            .delete(JsValue::from_str(&format!("marking\u{0}s\u{0}{k:08}")))
            .await
            .unwrap();
    }
    tx.done().await.unwrap();
    db.close();
    let again = b.open("inline-wide").await;
    again
        .fire("s", &petrichain::store::Action::new("go"), suite::TS)
        .await
        .unwrap();
    again.close();
    let third = b.open("inline-wide").await;
    let head = third.stream("s").await.unwrap();
    assert_eq!(head.state.len(), 2100);
    assert_eq!((head.state[0], head.state[5], head.state[2099]), (1, 1, 2));
    third.verify(Some("s")).await.unwrap();
    third.close();
}

/// Deleting a stream in IndexedDB takes everything kept about it in one
/// transaction: the head, the events, the marking's chunks, the sync record
/// and the conflicts; a stream whose id starts the same keeps all of its own.
#[wasm_bindgen_test]
async fn deleting_a_wide_stream_takes_its_chunks_sync_record_and_conflicts() {
    let b = Idb::new();
    let ledger = b.open("delete-wide").await;
    let places: Vec<String> = (0..2100)
        .map(|i| format!(r#"{{"id":"p{i:04}","initial":{}}}"#, u64::from(i == 0)))
        .collect();
    let (model, _) = petrichain::formats::json::import_json(&format!(
        r#"{{"places":[{}],"transitions":[{{"id":"go"}}],
            "arcs":[{{"source":"p0000","target":"go"}},{{"source":"go","target":"p2099"}}]}}"#,
        places.join(",")
    ))
    .unwrap();
    let id = ledger.put_model(&model).await.unwrap();
    for s in ["s", "s2"] {
        ledger.create_stream(s, &id).await.unwrap();
        ledger
            .fire(s, &petrichain::store::Action::new("go"), suite::TS)
            .await
            .unwrap();
    }
    // What a sync keeps, written as the sync client would.
    let db = indexeddb::open_raw(&b.name("delete-wide")).await.unwrap();
    let tx = db
        .transaction(&["sync", "conflicts"], TransactionMode::ReadWrite)
        .unwrap();
    for s in ["s", "s2"] {
        let sync: JsValue =
            js_sys::JSON::parse(&format!(r#"{{"stream":"{s}","remotes":{{}}}}"#)).unwrap();
        tx.store("sync").unwrap().put(&sync, None).await.unwrap();
        let conflict: JsValue =
            js_sys::JSON::parse(&format!(r#"{{"stream":"{s}","code":"NOT_ENABLED"}}"#)).unwrap();
        tx.store("conflicts")
            .unwrap()
            .add(&conflict, None)
            .await
            .unwrap();
    }
    tx.done().await.unwrap();

    ledger.delete_stream("s").await.unwrap();
    let tx = db
        .transaction(
            &["streams", "events", "meta", "sync", "conflicts"],
            TransactionMode::ReadOnly,
        )
        .unwrap();
    let keys = |store: &str| {
        let store = tx.store(store).unwrap();
        async move {
            store
                .get_all_keys(None, None)
                .await
                .unwrap()
                .iter()
                .map(|k| js_sys::JSON::stringify(k).unwrap().as_string().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(keys("streams").await, [r#""s2""#]);
    assert_eq!(keys("events").await, [r#"["s2",1]"#]);
    assert_eq!(keys("sync").await, [r#""s2""#]);
    let chunks: Vec<String> = keys("meta")
        .await
        .into_iter()
        .filter(|k| k.starts_with(r#""marking"#))
        .collect();
    assert_eq!(
        chunks,
        (0..3)
            .map(|k| format!(r#""marking\u0000s2\u0000{k:08}""#))
            .collect::<Vec<_>>(),
        "s2's three chunks, none of s"
    );
    let left = tx
        .store("conflicts")
        .unwrap()
        .get_all(None, None)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        js_sys::Reflect::get(&left[0], &"stream".into()).unwrap(),
        JsValue::from_str("s2")
    );
    drop(tx);
    db.close();
    // s2 is whole: its marking reads back from its chunks and verifies.
    let again = b.open("delete-wide").await;
    assert_eq!(again.stream("s2").await.unwrap().state[2099], 1);
    again.verify(None).await.unwrap();
    again.close();
    ledger.close();
}

/// A ledger alone posts nothing on its channel; the commits it made then
/// reach a connection that opens later as soon as the two have heard of
/// each other (that one may have read the head before them), and later
/// commits go out as they happen, both ways.
#[wasm_bindgen_test]
async fn commits_made_alone_reach_the_next_connection() {
    use std::cell::RefCell;
    let b = Idb::new();
    let a = b.open("alone").await;
    with_model_stream(&a, "s").await;
    a.fire("s", &petrichain::store::Action::new("take"), suite::TS)
        .await
        .unwrap();
    let c = b.open("alone").await;
    let heard_c = Rc::new(RefCell::new(Vec::new()));
    let hc = heard_c.clone();
    c.subscribe(Some("s"), move |ch| hc.borrow_mut().push(ch.seq));
    let heard_a = Rc::new(RefCell::new(Vec::new()));
    let ha = heard_a.clone();
    a.subscribe(Some("s"), move |ch| ha.borrow_mut().push(ch.seq));
    // c commits at once, perhaps before it heard that a listens.
    c.fire("s", &petrichain::store::Action::new("take"), suite::TS)
        .await
        .unwrap();
    for _ in 0..40 {
        if heard_a.borrow().contains(&2) && heard_c.borrow().contains(&1) {
            break;
        }
        sleep(50).await;
    }
    assert!(
        heard_c.borrow().contains(&1),
        "c heard {:?}",
        heard_c.borrow()
    );
    assert!(
        heard_a.borrow().contains(&2),
        "a heard {:?}",
        heard_a.borrow()
    );
    a.fire("s", &petrichain::store::Action::new("take"), suite::TS)
        .await
        .unwrap();
    for _ in 0..40 {
        if heard_c.borrow().contains(&3) {
            break;
        }
        sleep(50).await;
    }
    assert!(
        heard_c.borrow().contains(&3),
        "c heard {:?}",
        heard_c.borrow()
    );
    a.close();
    c.close();
}

async fn with_model_stream(ledger: &Ledger<IndexedDbStore>, stream: &str) {
    let id = ledger.put_model(&suite::shop(10)).await.unwrap();
    ledger.create_stream(stream, &id).await.unwrap();
}

/// Blocks of the release before (at most 64 events per record) and single
/// events (the release before that) still load, through the core and
/// `hot.js`, by range and limit, verify, and take appends: the records of a
/// batch of 300 regrouped as 1 + 64 + 64 + ... under the ledger.
#[wasm_bindgen_test]
async fn records_of_earlier_block_sizes_still_load() {
    let b = Idb::new();
    let ledger = b.open("old-blocks").await;
    let id = ledger.put_model(&suite::shop(400)).await.unwrap();
    ledger.create_stream("s", &id).await.unwrap();
    let take = petrichain::store::Action::new("take");
    let batch: Vec<_> = (0..300).map(|_| take.clone()).collect();
    let fired = ledger.fire_batch("s", &batch, suite::TS).await.unwrap();
    ledger.close();
    // Regroup: event 1 alone, then blocks of 64 (the last one shorter).
    let db = indexeddb::open_raw(&b.name("old-blocks")).await.unwrap();
    let tx = db
        .transaction(&["events"], TransactionMode::ReadWrite)
        .unwrap();
    let events = tx.store("events").unwrap();
    let range = rexie::KeyRange::bound(&key("s", 0), &key("s", 1e15 as u64), None, None).unwrap();
    events.delete(range.into()).await.unwrap();
    let mut starts = vec![0usize];
    starts.extend((1..fired.len()).step_by(64));
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(fired.len());
        let group = &fired[start..end];
        let record = js_sys::Object::new();
        let set = |k: &str, v: JsValue| js_sys::Reflect::set(&record, &k.into(), &v).unwrap();
        set("stream", "s".into());
        set("seq", (group[0].seq as f64).into());
        set(
            "hash",
            group
                .iter()
                .map(|e| e.hash.as_str())
                .collect::<String>()
                .into(),
        );
        let lines: Vec<String> = group
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        set("json", lines.join("\n").into());
        events.add(&record, None).await.unwrap();
    }
    tx.done().await.unwrap();
    db.close();

    let ledger = b.open("old-blocks").await;
    assert_eq!(ledger.all_events("s").await.unwrap(), fired);
    for (after, limit) in [
        (0, Some(1)),
        (0, Some(2)),
        (1, Some(64)),
        (60, Some(130)),
        (250, None),
    ] {
        let want: Vec<&Event> = fired
            .iter()
            .filter(|e| e.seq > after)
            .take(limit.unwrap_or(u32::MAX) as usize)
            .collect();
        let got = ledger.events("s", after, limit).await.unwrap();
        assert_eq!(
            got.iter().collect::<Vec<_>>(),
            want,
            "after {after} limit {limit:?}"
        );
        let js = ledger
            .store()
            .events_js("s", after, limit, true)
            .await
            .unwrap();
        let seqs: Vec<u64> = js_sys::Array::from(&js)
            .iter()
            .map(|e| {
                js_sys::Reflect::get(&e, &"seq".into())
                    .unwrap()
                    .as_f64()
                    .unwrap() as u64
            })
            .collect();
        let want: Vec<u64> = want.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, want, "hot.js: after {after} limit {limit:?}");
    }
    assert_eq!(
        ledger
            .event_by_hash(&fired[200].hash)
            .await
            .unwrap()
            .as_ref(),
        Some(&fired[200])
    );
    let next = ledger.fire("s", &take, suite::TS).await.unwrap();
    assert_eq!(next.seq, 301);
    assert_eq!(ledger.verify(Some("s")).await.unwrap()[0].events, 301);
    ledger.close();
}

/// The device's nonces come from a pool of `getRandomValues` bytes: across
/// refills (4,096 bytes each) every draw is fresh (no two 16-byte nonces
/// alike, none all zeros: the pool zeroes what it hands out, so a repeat
/// would show), and draws larger than the pool's quarter still work.
#[wasm_bindgen_test]
async fn device_nonces_are_fresh_across_pool_refills() {
    use petrichain::chain::Device;
    let (device, _) = petrichain_web::device::WebCryptoDevice::generate()
        .await
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1_000 {
        let mut nonce = [0u8; 16];
        device.random(&mut nonce).unwrap();
        assert_ne!(nonce, [0u8; 16]);
        assert!(seen.insert(nonce), "a nonce came twice");
    }
    let mut odd = [0u8; 1_000];
    device.random(&mut odd).unwrap();
    let mut big = vec![0u8; 100_000];
    device.random(&mut big).unwrap();
    assert!(odd.iter().any(|b| *b != 0) && big[99_000..].iter().any(|b| *b != 0));
}
