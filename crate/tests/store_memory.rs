//! The shared behavioural suite (tests/suite) against the in-memory store.

mod suite;

use std::cell::RefCell;
use std::collections::HashMap;

use petrichain::chain::Event;
use petrichain::store::{block_on, Ledger, MemoryStore};
use suite::Backend;

/// Ledgers by name; opening one again is a new connection to the same data.
#[derive(Default)]
struct Memory(RefCell<HashMap<String, MemoryStore>>);

impl Memory {
    fn root(&self, name: &str) -> MemoryStore {
        self.0
            .borrow_mut()
            .entry(name.to_string())
            .or_default()
            .connect()
    }
}

impl Backend for Memory {
    type S = MemoryStore;
    async fn open(&self, name: &str) -> Ledger<MemoryStore> {
        Ledger::new(self.root(name))
    }
    async fn tamper(
        &self,
        name: &str,
        stream: &str,
        seq: u64,
        edit: &dyn Fn(&mut serde_json::Value),
    ) -> bool {
        let store = self.root(name);
        let ledger = Ledger::new(store.connect());
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
    export_and_import_round_trip_and_refuse_tampering,
    payloads_survive_byte_for_byte,
    subscribers_hear_of_changes_from_every_connection,
);

#[test]
fn two_connections_racing_never_fork() {
    block_on(suite::two_connections_racing_never_fork(
        &Memory::default(),
        20,
        25,
    ));
}
