//! Sync rounds resume from the state kept at the last sync point (issue 14)
//! instead of replaying the chain: these check that what they reach is
//! exactly what a replay reaches when the caches go stale (another
//! connection moved the stream, a rebase, a refused pending event dropped).

use std::rc::Rc;

use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use petrichain::sync::{sync_stream, MemoryBackend, SyncOptions, Transport};

const BANK: &str = include_str!("../../www/examples/bank.json");
const S: &str = "bank";

type L = Ledger<MemoryStore>;

async fn bank() -> L {
    let ledger = Ledger::memory();
    let id = ledger
        .put_model(&import_json(BANK).unwrap().0)
        .await
        .unwrap();
    ledger.create_stream(S, &id).await.unwrap();
    ledger
}

fn open(user: &str) -> Action {
    Action::new("open").arg("user", user)
}

fn transfer(from: &str, to: &str, n: u64) -> Action {
    Action::new("transfer")
        .arg("from", from)
        .arg("to", to)
        .multiple(n)
}

async fn run<T: Transport>(ledger: &L, t: &T) -> petrichain::sync::StreamReport {
    sync_stream(ledger, t, S, &SyncOptions::default(), &|_| {})
        .await
        .unwrap()
}

/// Balances of `users` as `ledger` answers them.
async fn balances(ledger: &L, users: &[&str]) -> Vec<u64> {
    let mut out = Vec::new();
    for u in users {
        out.push(ledger.count(S, "balance", u).await.unwrap());
    }
    out
}

/// `ledger` agrees with the backend and with a fresh ledger that replays
/// the backend's chain from scratch.
async fn agrees_with_a_replay<T: Transport>(ledger: &L, t: &T, users: &[&str]) {
    let fresh = Ledger::memory();
    run(&fresh, t).await;
    assert_eq!(
        ledger.all_events(S).await.unwrap(),
        fresh.all_events(S).await.unwrap()
    );
    assert_eq!(
        ledger.stream(S).await.unwrap(),
        fresh.stream(S).await.unwrap()
    );
    assert_eq!(balances(ledger, users).await, balances(&fresh, users).await);
    let verified = ledger.verify(Some(S)).await.unwrap();
    assert_eq!(verified[0].events, fresh.stream(S).await.unwrap().seq);
}

#[test]
fn rounds_on_a_kept_sync_point_reach_what_a_replay_reaches() {
    block_on(async {
        let backend = MemoryBackend::new("mem://resume");
        let users = ["u0", "u1", "u2"];
        let a = bank().await;
        for u in users {
            a.fire(S, &open(u), 1).await.unwrap();
        }
        run(&a, &backend).await;
        // Many rounds, each with a local event on top of the sync point
        // (the sync point kept by the previous round is used).
        for i in 0..20u64 {
            a.fire(S, &transfer("u0", "u1", 1 + i % 3), 2)
                .await
                .unwrap();
            let r = run(&a, &backend).await;
            assert_eq!((r.pushed, r.pending, r.rounds), (1, 0, 1));
        }
        agrees_with_a_replay(&a, &backend, &users).await;

        // Another device moves the remote: a rebases its pending event on
        // it, then keeps going from the new sync point.
        let c = Ledger::memory();
        run(&c, &backend).await;
        c.fire(S, &transfer("u1", "u2", 5), 3).await.unwrap();
        run(&c, &backend).await;
        a.fire(S, &transfer("u2", "u0", 7), 4).await.unwrap();
        let r = run(&a, &backend).await;
        assert_eq!((r.pulled, r.rebased, r.pushed), (1, 1, 1));
        a.fire(S, &transfer("u0", "u2", 1), 5).await.unwrap();
        run(&a, &backend).await;
        agrees_with_a_replay(&a, &backend, &users).await;
        run(&c, &backend).await;
        agrees_with_a_replay(&c, &backend, &users).await;
    });
}

#[test]
fn another_connection_moving_the_stream_makes_the_kept_states_stale_not_wrong() {
    block_on(async {
        let backend = MemoryBackend::new("mem://tabs");
        let users = ["u0", "u1"];
        let a = bank().await;
        // A second tab: the same store and device, its own caches.
        let tab = Ledger::new(a.store().connect(), a.device().clone());
        let c = Ledger::memory();
        for u in users {
            a.fire(S, &open(u), 1).await.unwrap();
        }
        run(&a, &backend).await; // a keeps the sync point at seq 2
        run(&c, &backend).await;
        c.fire(S, &transfer("u0", "u1", 100), 2).await.unwrap();
        run(&c, &backend).await;
        // a's pending transfer of u0's 100 is refused once rebased on c's:
        // the tab syncs, drops it (a conflict) and fires more; a's cached
        // tip and sync point are now behind a chain they never saw.
        a.fire(S, &transfer("u0", "u1", 60), 3).await.unwrap();
        let r = run(&tab, &backend).await;
        assert_eq!((r.pulled, r.conflicts), (1, 1));
        tab.fire(S, &transfer("u1", "u0", 30), 4).await.unwrap();
        run(&tab, &backend).await;
        tab.fire(S, &transfer("u1", "u0", 20), 5).await.unwrap();
        // a fires on the stored head (its tip is stale) and syncs from the
        // backend's recorded sync point, not its own stale one.
        a.fire(S, &transfer("u0", "u1", 10), 6).await.unwrap();
        let r = run(&a, &backend).await;
        assert_eq!((r.pushed, r.pending), (2, 0));
        assert_eq!(balances(&a, &users).await, vec![40, 160]);
        agrees_with_a_replay(&a, &backend, &users).await;
        // And the tab, whose caches a moved in turn.
        tab.fire(S, &transfer("u1", "u0", 1), 7).await.unwrap();
        run(&tab, &backend).await;
        agrees_with_a_replay(&tab, &backend, &users).await;
        assert_eq!(balances(&tab, &users).await, vec![41, 159]);
    });
}

#[test]
fn a_stream_deleted_and_created_again_elsewhere_syncs_from_scratch() {
    block_on(async {
        let users = ["u0", "u1"];
        let a = bank().await;
        let tab = Ledger::new(a.store().connect(), a.device().clone());
        let first = MemoryBackend::new("mem://first");
        for u in users {
            a.fire(S, &open(u), 1).await.unwrap();
        }
        a.fire(S, &transfer("u0", "u1", 9), 1).await.unwrap();
        run(&a, &first).await; // a keeps a sync point at seq 3
                               // The tab replaces the stream: same seqs, other events.
        let model = a.stream(S).await.unwrap().model;
        tab.delete_stream(S).await.unwrap();
        tab.create_stream(S, &model).await.unwrap();
        for u in users {
            tab.fire(S, &open(u), 2).await.unwrap();
        }
        tab.fire(S, &transfer("u1", "u0", 4), 2).await.unwrap();
        let second = MemoryBackend::new("mem://second");
        a.fire(S, &transfer("u0", "u1", 1), 3).await.unwrap();
        let r = run(&a, &second).await;
        assert_eq!(r.pushed, 4);
        assert_eq!(balances(&a, &users).await, vec![103, 97]);
        agrees_with_a_replay(&a, &second, &users).await;
    });
}

#[test]
fn the_tab_sharing_a_device_is_a_ledger_of_its_own() {
    // (Guards the helper above: the second connection sees the first's writes.)
    block_on(async {
        let a = bank().await;
        let tab = Ledger::new(a.store().connect(), Rc::clone(a.device()));
        a.fire(S, &open("x"), 1).await.unwrap();
        assert_eq!(tab.count(S, "balance", "x").await.unwrap(), 100);
    });
}
