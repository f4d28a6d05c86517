//! The shared behavioural suite (tests/suite) against the in-memory store.

mod suite;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use petrichain::chain::{Event, SoftwareKey};
use petrichain::store::{block_on, Ledger, MemoryStore};
use suite::Backend;

/// Ledgers by name, each with its device key; opening one again is a new
/// connection to the same data, signing with the same key.
#[derive(Default)]
struct Memory(RefCell<HashMap<String, (MemoryStore, Rc<SoftwareKey>)>>);

impl Memory {
    fn entry(&self, name: &str) -> (MemoryStore, Rc<SoftwareKey>) {
        let mut all = self.0.borrow_mut();
        let (store, key) = all.entry(name.to_string()).or_insert_with(|| {
            (
                MemoryStore::new(),
                Rc::new(SoftwareKey::generate().unwrap()),
            )
        });
        (store.connect(), key.clone())
    }

    fn root(&self, name: &str) -> MemoryStore {
        self.entry(name).0
    }
}

impl Backend for Memory {
    type S = MemoryStore;
    async fn open(&self, name: &str) -> Ledger<MemoryStore> {
        let (store, key) = self.entry(name);
        Ledger::new(store, key)
    }
    async fn tamper(
        &self,
        name: &str,
        stream: &str,
        seq: u64,
        edit: &dyn Fn(&mut serde_json::Value),
    ) -> bool {
        let (store, key) = self.entry(name);
        let ledger = Ledger::new(store.connect(), key);
        let e = ledger
            .events(stream, seq - 1, Some(1))
            .await
            .unwrap()
            .remove(0);
        let mut v = serde_json::to_value(&e).unwrap();
        edit(&mut v);
        match serde_json::from_value::<Event>(v) {
            Ok(e) => {
                store.overwrite_event(e);
                true
            }
            // Memory records are typed: they cannot hold an ill-typed field.
            Err(_) => false,
        }
    }
    async fn put_raw(&self, name: &str, event: &Event) {
        self.root(name).overwrite_event(event.clone());
    }
    async fn settle(&self) {}
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            block_on(suite::$name(&Memory::default()));
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

#[test]
fn two_connections_racing_never_fork() {
    block_on(suite::two_connections_racing_never_fork(
        &Memory::default(),
        20,
        25,
    ));
}

/// A batch's events record each action's own `ts`, the batch's otherwise;
/// a `ts` beyond 2^53-1 is refused before anything is stored.
#[test]
fn fire_batch_honours_each_actions_ts() {
    use petrichain::store::Action;
    block_on(async {
        let (model, _) = petrichain::formats::json::import_json(
            r#"{"places":[{"id":"p","initial":5}],"transitions":[{"id":"t"}],
                "arcs":[{"source":"p","target":"t"}]}"#,
        )
        .unwrap();
        let ledger = Ledger::memory();
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("s", &id).await.unwrap();
        let batch = [
            Action::new("t").ts(5),
            Action::new("t"),
            Action::new("t").ts(7),
        ];
        let events = ledger.fire_batch("s", &batch, 100).await.unwrap();
        assert_eq!(events.iter().map(|e| e.ts).collect::<Vec<_>>(), [5, 100, 7]);
        let err = ledger
            .fire_batch("s", &[Action::new("t").ts(1 << 53)], 1)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert_eq!(ledger.verify(Some("s")).await.unwrap()[0].events, 3);
    });
}
