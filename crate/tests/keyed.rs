//! Keyed places through the ledger, the chain and sync (native, in-memory
//! store and backend): events carry only the keys they change, verify by
//! replay, survive export / import and a cold start, and rebase with their
//! arguments.

use std::rc::Rc;

use petrichain::chain::{hash, verify_events, Event, SoftwareKey};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use petrichain::sync::{conflicts, sync_stream, MemoryBackend, SyncOptions};
use petrichain::Model;

const BANK: &str = include_str!("../../www/examples/bank.json");

fn bank() -> Model {
    import_json(BANK).unwrap().0
}

type L = Ledger<MemoryStore>;

async fn ledger() -> L {
    let l = Ledger::memory();
    let id = l.put_model(&bank()).await.unwrap();
    l.create_stream("bank", &id).await.unwrap();
    l
}

fn open(user: &str) -> Action {
    Action::new("open").arg("user", user)
}

fn transfer(from: &str, to: &str, amount: u64) -> Action {
    Action::new("transfer")
        .arg("from", from)
        .arg("to", to)
        .multiple(amount)
}

#[test]
fn a_transfer_records_its_arguments_and_only_the_keys_it_changes() {
    block_on(async {
        let l = ledger().await;
        let opened = l
            .fire_batch("bank", &[open("alice"), open("bob"), open("carol")], 1)
            .await
            .unwrap();
        assert_eq!(opened[0].args, vec![("user".into(), "alice".into())]);
        assert_eq!(
            opened[0].keys,
            vec![
                ("balance".into(), "alice".into(), 100),
                ("registered".into(), "alice".into(), 1)
            ]
        );
        // The totals move with an opening, and are in `delta`.
        assert_eq!(
            opened[0].delta,
            vec![("balance".into(), 100), ("registered".into(), 1)]
        );
        let e = l
            .fire("bank", &transfer("bob", "alice", 30), 2)
            .await
            .unwrap();
        assert_eq!(
            e.args,
            vec![("from".into(), "bob".into()), ("to".into(), "alice".into())]
        );
        assert_eq!(
            e.keys,
            vec![
                ("balance".into(), "alice".into(), 130),
                ("balance".into(), "bob".into(), 70)
            ]
        );
        assert!(e.delta.is_empty(), "a transfer leaves the totals alone");
        assert_eq!(e.hash, hash::event_hash(&e));
        assert!(hash::canonical_text(&e).contains(r#""args":[["from","bob"],["to","alice"]]"#));

        assert_eq!(l.count("bank", "balance", "alice").await.unwrap(), 130);
        assert_eq!(l.count("bank", "balance", "zed").await.unwrap(), 0);
        let page = l.keys("bank", "balance", Some("alice"), 1).await.unwrap();
        assert_eq!(page.keys, vec![("bob".to_string(), 70)]);
        assert_eq!((page.count, page.total), (3, 300));
        assert_eq!(
            l.count("bank", "nowhere", "x").await.unwrap_err().code(),
            "UNKNOWN_PLACE"
        );

        // Refusals: explained, nothing stored.
        let err = l
            .fire("bank", &transfer("bob", "carol", 71), 3)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NOT_ENABLED");
        assert!(err.to_string().contains("'balance[bob]' has 70"), "{err}");
        let err = l
            .fire("bank", &Action::new("transfer").arg("from", "bob"), 3)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "BAD_ARGUMENT");
        assert!(err.to_string().contains("'to' is missing"), "{err}");
        assert_eq!(l.stream("bank").await.unwrap().seq, 4);

        let verified = l.verify(Some("bank")).await.unwrap();
        assert_eq!(verified[0].events, 4);
        assert_eq!(verified[0].marking, vec![300, 3]);
    });
}

#[test]
fn a_cold_ledger_rebuilds_the_keys_and_exports_import_and_verify() {
    block_on(async {
        let store = MemoryStore::new();
        let key = Rc::new(SoftwareKey::from_seed(&[7; 32]));
        let a = Ledger::new(store.connect(), key.clone());
        let id = a.put_model(&bank()).await.unwrap();
        a.create_stream("bank", &id).await.unwrap();
        a.fire_batch("bank", &[open("u1"), open("u2")], 1)
            .await
            .unwrap();
        a.fire("bank", &transfer("u1", "u2", 99), 2).await.unwrap();

        // Another ledger on the same data has no cached tip: it rebuilds
        // the keys from the stored events and carries on.
        let b = Ledger::new(store.connect(), key);
        assert_eq!(b.count("bank", "balance", "u2").await.unwrap(), 199);
        b.fire("bank", &transfer("u2", "u1", 150), 3).await.unwrap();
        let err = b
            .fire("bank", &transfer("u1", "u2", 152), 4)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("'balance[u1]' has 151"), "{err}");

        let text = b.export_jsonl("bank").await.unwrap();
        let c = Ledger::memory();
        let report = c.import_jsonl(&text).await.unwrap();
        assert_eq!(report.events, 4);
        assert_eq!(c.count("bank", "balance", "u1").await.unwrap(), 151);
        let events = c.all_events("bank").await.unwrap();
        assert_eq!(verify_events(&bank(), "bank", &events).unwrap().events, 4);

        // A key changed in a stored event breaks verification, named.
        let mut forged: Vec<Event> = events.clone();
        forged[2].keys[0].2 += 1;
        forged[2].hash = hash::event_hash(&forged[2]);
        let err = verify_events(&bank(), "bank", &forged).unwrap_err();
        assert_eq!(err.code(), "STATE_MISMATCH", "{err}");
        // Arguments changed: the replay moves other keys.
        let mut forged = events;
        forged[2].args[1].1 = "u1".into();
        forged[2].hash = hash::event_hash(&forged[2]);
        assert_eq!(
            verify_events(&bank(), "bank", &forged).unwrap_err().code(),
            "ACTION_REJECTED"
        );
    });
}

fn opts() -> SyncOptions {
    SyncOptions {
        now: 42,
        ..SyncOptions::default()
    }
}

/// Two replicas of one bank, both synced after four accounts opened.
async fn two_replicas(backend: &MemoryBackend) -> (L, L) {
    let a = ledger().await;
    a.fire_batch(
        "bank",
        &[open("alice"), open("bob"), open("carol"), open("dave")],
        1,
    )
    .await
    .unwrap();
    sync_stream(&a, backend, "bank", &opts(), &|_| {})
        .await
        .unwrap();
    let b = Ledger::memory();
    b.put_model(&bank()).await.unwrap();
    petrichain::sync::sync(&b, backend, None, &opts(), &|_| {})
        .await
        .unwrap();
    assert_eq!(b.count("bank", "balance", "dave").await.unwrap(), 100);
    (a, b)
}

#[test]
fn offline_transfers_from_different_accounts_never_conflict() {
    block_on(async {
        let backend = MemoryBackend::new("mem://bank");
        let (a, b) = two_replicas(&backend).await;
        a.fire("bank", &transfer("alice", "bob", 100), 2)
            .await
            .unwrap();
        b.fire("bank", &transfer("carol", "alice", 100), 3)
            .await
            .unwrap();
        sync_stream(&a, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        let r = sync_stream(&b, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        assert_eq!((r.rebased, r.conflicts, r.pushed), (1, 0, 1));
        sync_stream(&a, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        for l in [&a, &b] {
            assert_eq!(l.count("bank", "balance", "alice").await.unwrap(), 100);
            assert_eq!(l.count("bank", "balance", "bob").await.unwrap(), 200);
            assert_eq!(l.count("bank", "balance", "carol").await.unwrap(), 0);
            assert_eq!(l.verify(None).await.unwrap()[0].events, 6);
        }
        // The same events (a's own batch keeps its signature run; the copy
        // pulled by b came fully signed).
        let hashes = |events: Vec<petrichain::chain::Event>| -> Vec<String> {
            events.into_iter().map(|e| e.hash).collect()
        };
        assert_eq!(
            hashes(a.all_events("bank").await.unwrap()),
            hashes(b.all_events("bank").await.unwrap())
        );
    });
}

#[test]
fn two_spends_from_one_account_conflict_only_when_it_cannot_cover_both() {
    block_on(async {
        let backend = MemoryBackend::new("mem://bank2");
        let (a, b) = two_replicas(&backend).await;
        // 60 + 40 <= 100: both kept.
        a.fire("bank", &transfer("alice", "bob", 60), 2)
            .await
            .unwrap();
        b.fire("bank", &transfer("alice", "carol", 40), 3)
            .await
            .unwrap();
        sync_stream(&a, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        let r = sync_stream(&b, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        assert_eq!((r.rebased, r.conflicts), (1, 0));
        sync_stream(&a, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        assert_eq!(a.count("bank", "balance", "alice").await.unwrap(), 0);

        // bob has 160: 100 + 100 > 160, the second one is a conflict.
        a.fire("bank", &transfer("bob", "dave", 100), 4)
            .await
            .unwrap();
        b.fire("bank", &transfer("bob", "carol", 100), 5)
            .await
            .unwrap();
        sync_stream(&a, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        let r = sync_stream(&b, &backend, "bank", &opts(), &|_| {})
            .await
            .unwrap();
        assert_eq!((r.rebased, r.conflicts), (0, 1));
        let c = &conflicts(&b, "bank").await.unwrap()[0];
        assert_eq!(c.code, "NOT_ENABLED");
        assert!(c.message.contains("balance[bob]"), "{}", c.message);
        let total: u64 = b
            .keys("bank", "balance", None, 100)
            .await
            .unwrap()
            .keys
            .iter()
            .map(|(_, n)| n)
            .sum();
        assert_eq!(total, 400);
        assert_eq!(b.count("bank", "balance", "bob").await.unwrap(), 60);
    });
}

#[test]
fn state_spaces_of_keyed_nets_are_refused_not_wrong() {
    use petrichain::analysis::{explore, find_marking, ExploreLimits, NoClock};
    let model = bank();
    let err = explore(&model, &ExploreLimits::default(), &NoClock).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    let err = find_marking(
        &model,
        &model.initial_marking(),
        &ExploreLimits::default(),
        &NoClock,
    )
    .unwrap_err();
    assert!(err.to_string().contains("keyed places"), "{err}");
}

mod props {
    use super::*;
    use petrichain::chain::TipState;
    use petrichain::engine::KeyedMarking;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Random transfers through the ledger: the refused ones store
        /// nothing, the chain verifies, the total never moves, and the root
        /// the events reached incrementally is the root of the final keys
        /// built from scratch.
        #[test]
        fn random_transfers_chain_verify_and_commit_to_the_final_keys(
            users in 2usize..12,
            moves in proptest::collection::vec((0usize..12, 0usize..12, 1u64..160), 1..40),
        ) {
            block_on(async {
                let l = ledger().await;
                let name = |i: usize| format!("u{i}");
                let opens: Vec<Action> = (0..users).map(|u| open(&name(u))).collect();
                l.fire_batch("bank", &opens, 1).await.unwrap();
                let mut stored = users as u64;
                for (from, to, amount) in moves {
                    let (from, to) = (name(from % users), name(to % users));
                    let has = l.count("bank", "balance", &from).await.unwrap();
                    match l.fire("bank", &transfer(&from, &to, amount), 2).await {
                        Ok(_) => {
                            prop_assert!(from != to && has >= amount);
                            stored += 1;
                        }
                        Err(e) => prop_assert!(from == to || has < amount, "{e}"),
                    }
                    prop_assert_eq!(l.stream("bank").await.unwrap().seq, stored);
                }
                let model = bank();
                let events = l.all_events("bank").await.unwrap();
                let verified = verify_events(&model, "bank", &events).unwrap();
                prop_assert_eq!(verified.marking[0], 100 * users as u64);
                let page = l.keys("bank", "balance", None, 100).await.unwrap();
                let sum: u64 = page.keys.iter().map(|(_, n)| n).sum();
                prop_assert_eq!(sum, 100 * users as u64);
                let mut keyed = KeyedMarking::empty(model.places().len());
                let (b, r) = (model.place_index("balance").unwrap(), model.place_index("registered").unwrap());
                for (k, n) in &page.keys {
                    keyed.set(b, k, *n);
                }
                for u in 0..users {
                    keyed.set(r, &name(u), 1);
                }
                let mut marking = model.initial_marking();
                marking.0[b] = sum;
                marking.0[r] = users as u64;
                let rebuilt = TipState::with_keys(&model, marking, keyed);
                prop_assert_eq!(&rebuilt.root_hex(), &events.last().unwrap().root);
                Ok(())
            })?;
        }
    }
}
