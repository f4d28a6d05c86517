//! Key records against the replay they replace (native, memory store): a
//! ledger over a store that keeps no key records (the `Store` trait's
//! defaults: the tip rebuilt from the events, `top` worked out from it)
//! answers `count`, `keys`, `find_keys` and `top` exactly as a cold
//! connection reading the memory store's records does, for random runs of
//! openings and transfers. And records that disagree with the head are
//! `CORRUPT_RECORD` naming the place.

use std::rc::Rc;

use petrichain::chain::{ChainError, Event, SoftwareKey};
use petrichain::formats::json::import_json;
use petrichain::store::{
    block_on, Action, Commit, Ledger, MemoryStore, ModelRecord, Plan, Store, StreamRecord,
};
use proptest::prelude::*;

const BANK: &str = include_str!("../../www/examples/bank.json");

/// A memory store that keeps no key records (every key method is the
/// trait's default, `None`).
struct NoKeys(MemoryStore);

impl Store for NoKeys {
    async fn put_model(&self, record: &ModelRecord) -> Result<(), ChainError> {
        self.0.put_model(record).await
    }
    async fn model(&self, id: &str) -> Result<Option<ModelRecord>, ChainError> {
        self.0.model(id).await
    }
    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, ChainError> {
        self.0.stream(id).await
    }
    async fn streams(&self) -> Result<Vec<StreamRecord>, ChainError> {
        self.0.streams().await
    }
    async fn events(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, ChainError> {
        self.0.events(stream, after, limit).await
    }
    async fn event_by_hash(&self, hash: &str) -> Result<Option<Event>, ChainError> {
        self.0.event_by_hash(hash).await
    }
    async fn commit(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Commit, ChainError> {
        self.0.commit(stream, plan).await
    }
    async fn delete_stream(&self, id: &str) -> Result<bool, ChainError> {
        self.0.delete_stream(id).await
    }
    fn close(&self) {
        self.0.close()
    }
}

fn key() -> Rc<SoftwareKey> {
    Rc::new(SoftwareKey::from_seed(&[7; 32]))
}

/// Users are "u0".."u11": prefixes ("u1" matches u1, u10, u11) and ties.
fn user(i: u8) -> String {
    format!("u{}", i % 12)
}

#[derive(Debug, Clone)]
enum Op {
    Open(u8),
    Transfer(u8, u8, u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..12).prop_map(Op::Open),
        (0u8..12, 0u8..12, 1u64..120).prop_map(|(a, b, n)| Op::Transfer(a, b, n)),
    ]
}

fn action(op: &Op) -> Action {
    match op {
        Op::Open(u) => Action::new("open").arg("user", user(*u)),
        Op::Transfer(a, b, n) => Action::new("transfer")
            .arg("from", user(*a))
            .arg("to", user(*b))
            .multiple(*n),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn records_answer_as_the_replay_does(ops in proptest::collection::vec(op(), 1..60)) {
        block_on(async {
            let (model, _) = import_json(BANK).unwrap();
            let memory = MemoryStore::new();
            let with = Ledger::new(memory.connect(), key());
            let without = Ledger::new(NoKeys(MemoryStore::new()), key());
            let id = with.put_model(&model).await.unwrap();
            without.put_model(&model).await.unwrap();
            with.create_stream("bank", &id).await.unwrap();
            without.create_stream("bank", &id).await.unwrap();
            for op in &ops {
                // Refusals change nothing on either side.
                let a = with.fire("bank", &action(op), 1).await.map(|e| e.keys);
                let b = without.fire("bank", &action(op), 1).await.map(|e| e.keys);
                prop_assert_eq!(a.map_err(|e| e.code()), b.map_err(|e| e.code()));
            }
            // Cold connections: one reads records, the other replays.
            let cold = Ledger::new(memory.connect(), key());
            let replay = Ledger::new(NoKeys(without.store().0.connect()), key());
            for u in 0..13u8 {
                let k = user(u);
                prop_assert_eq!(
                    cold.count("bank", "balance", &k).await.unwrap(),
                    replay.count("bank", "balance", &k).await.unwrap()
                );
            }
            for prefix in ["", "u1", "u", "x"] {
                for after in [None, Some("u1"), Some("u10"), Some("a"), Some("z")] {
                    for limit in [1, 3, 100] {
                        prop_assert_eq!(
                            cold.find_keys("bank", "balance", prefix, after, limit).await.unwrap(),
                            replay.find_keys("bank", "balance", prefix, after, limit).await.unwrap()
                        );
                    }
                }
            }
            for place in ["balance", "registered"] {
                for limit in [0, 1, 5, 20] {
                    prop_assert_eq!(
                        cold.top("bank", place, limit).await.unwrap(),
                        replay.top("bank", place, limit).await.unwrap()
                    );
                }
            }
            // And an append on top of a tip rebuilt from records chains
            // what the replayed one chains.
            let e = cold.fire("bank", &Action::new("open").arg("user", "new"), 2).await.unwrap();
            let f = replay.fire("bank", &Action::new("open").arg("user", "new"), 2).await.unwrap();
            prop_assert_eq!((e.keys, e.root), (f.keys, f.root));
            Ok(())
        })?;
    }
}

#[test]
fn records_that_disagree_with_the_head_or_the_root_are_corrupt() {
    block_on(async {
        let (model, _) = import_json(BANK).unwrap();
        let memory = MemoryStore::new();
        let l = Ledger::new(memory.connect(), key());
        let id = l.put_model(&model).await.unwrap();
        l.create_stream("bank", &id).await.unwrap();
        let opens = [
            Action::new("open").arg("user", "alice"),
            Action::new("open").arg("user", "bob"),
        ];
        l.fire_batch("bank", &opens, 1).await.unwrap();
        let carol = Action::new("open").arg("user", "carol");

        // A record edited by hand: the place's keys no longer sum to the
        // head's total.
        memory.overwrite_key("bank", "balance", "alice", 90);
        let cold = Ledger::new(memory.connect(), key());
        let err = cold.fire("bank", &carol, 2).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD");
        let text = err.to_string();
        assert!(
            text.contains("bank/balance") && text.contains("190"),
            "{text}"
        );

        // The same sum, other counts: the signed root tells.
        memory.overwrite_key("bank", "balance", "bob", 110);
        let cold = Ledger::new(memory.connect(), key());
        let err = cold.fire("bank", &carol, 2).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD");
        assert!(err.to_string().contains("root"), "{err}");
        // Nothing was appended.
        assert_eq!(cold.stream("bank").await.unwrap().seq, 2);

        // A record of a place that is not keyed.
        memory.overwrite_key("bank", "alice", "bob", 100);
        memory.overwrite_key("bank", "balance", "alice", 100);
        memory.overwrite_key("bank", "balance", "bob", 100);
        let cold = Ledger::new(memory.connect(), key());
        let err = cold.fire("bank", &carol, 2).await.unwrap_err();
        assert_eq!(err.code(), "CORRUPT_RECORD");
        // Put right, the stream goes on.
        memory.overwrite_key("bank", "alice", "bob", 0);
        let cold = Ledger::new(memory.connect(), key());
        assert_eq!(cold.fire("bank", &carol, 2).await.unwrap().seq, 3);
        assert_eq!(cold.verify(None).await.unwrap()[0].events, 3);
    });
}
