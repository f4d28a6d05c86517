//! Key records of keyed places, on every store: they follow every commit
//! (appends, deletes, a sync's pull and rebase), and a connection that
//! holds no tip reads `count`, `keys`, `top` and the tip itself from them,
//! agreeing with a replay of the events.

use petrichain::chain::Verifier;
use petrichain::formats::json::import_json;
use petrichain::store::{Action, Ledger, Store, SyncStore};
use petrichain::sync::{sync_stream, MemoryBackend, SyncOptions};
use petrichain::Model;

use super::{Backend, TS};

pub fn bank() -> Model {
    import_json(include_str!("../../../www/examples/bank.json"))
        .unwrap()
        .0
}

pub fn open(user: &str) -> Action {
    Action::new("open").arg("user", user)
}

pub fn transfer(from: &str, to: &str, amount: u64) -> Action {
    Action::new("transfer")
        .arg("from", from)
        .arg("to", to)
        .multiple(amount)
}

/// The balances a replay of every stored event reaches, in key order.
async fn replayed<S: Store>(ledger: &Ledger<S>, stream: &str) -> Vec<(String, u64)> {
    let model = bank();
    // A ledger's own chain: its batches are signature runs.
    let mut v = Verifier::new(&model, stream).accept_runs();
    for e in ledger.all_events(stream).await.unwrap() {
        v.push(&e).unwrap();
    }
    v.flush().unwrap();
    let p = model.place_index("balance").unwrap();
    v.state()
        .keyed()
        .iter(p)
        .map(|(k, n)| (k.to_string(), n))
        .collect()
}

/// `count`, `keys` (paged, with a prefix), `top` and the stored records of
/// `ledger` agree with a replay of its events.
async fn agrees_with_a_replay<S: Store>(ledger: &Ledger<S>, stream: &str) {
    let expected = replayed(ledger, stream).await;
    let total: u64 = expected.iter().map(|(_, n)| n).sum();
    for (key, n) in &expected {
        assert_eq!(
            ledger.count(stream, "balance", key).await.unwrap(),
            *n,
            "{key}"
        );
    }
    assert_eq!(ledger.count(stream, "balance", "nobody").await.unwrap(), 0);
    // Paged two at a time.
    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger
            .keys(stream, "balance", after.as_deref(), 2)
            .await
            .unwrap();
        assert_eq!((page.count, page.total), (expected.len() as u64, total));
        if page.keys.is_empty() {
            break;
        }
        after = page.keys.last().map(|(k, _)| k.clone());
        listed.extend(page.keys);
    }
    assert_eq!(listed, expected);
    let prefixed: Vec<_> = expected
        .iter()
        .filter(|(k, _)| k.starts_with("u1"))
        .cloned()
        .collect();
    let found = ledger
        .find_keys(stream, "balance", "u1", None, 100)
        .await
        .unwrap();
    assert_eq!(found.keys, prefixed);
    let mut ranked = expected.clone();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(3);
    let top = ledger.top(stream, "balance", 3).await.unwrap();
    assert_eq!(top.keys, ranked);
    assert_eq!((top.count, top.total), (expected.len() as u64, total));
    if let Some(stored) = ledger.store().stream_keys(stream).await.unwrap() {
        assert_eq!(stored.head, ledger.stream(stream).await.unwrap());
        let balances: Vec<(String, u64)> = stored
            .keys
            .into_iter()
            .filter(|(p, _, _)| p == "balance")
            .map(|(_, k, n)| (k, n))
            .collect();
        assert_eq!(balances, expected);
    }
}

pub async fn key_records_follow_every_commit<B: Backend>(b: &B) {
    let ledger = b.open("keys").await;
    let id = ledger.put_model(&bank()).await.unwrap();
    ledger.create_stream("bank", &id).await.unwrap();
    let users: Vec<String> = ["u1", "u10", "u11", "u2", "u3", "alice"]
        .iter()
        .map(|u| u.to_string())
        .collect();
    let opens: Vec<Action> = users.iter().map(|u| open(u)).collect();
    ledger.fire_batch("bank", &opens, TS).await.unwrap();
    ledger
        .fire_batch(
            "bank",
            &[
                transfer("u1", "u2", 30),
                transfer("u3", "u10", 100),
                transfer("alice", "u11", 5),
            ],
            TS,
        )
        .await
        .unwrap();
    agrees_with_a_replay(&ledger, "bank").await;
    // u3 holds nothing: its record is gone.
    let top = ledger.top("bank", "balance", 1000).await.unwrap();
    assert_eq!(top.keys.len(), 5);
    assert_eq!(top.keys[0], ("u10".to_string(), 200));

    // A connection holding no tip reads the records; its appends build
    // its tip from them.
    let other = b.open("keys").await;
    agrees_with_a_replay(&other, "bank").await;
    other
        .fire("bank", &transfer("u10", "u3", 50), TS)
        .await
        .unwrap();
    assert_eq!(other.count("bank", "balance", "u3").await.unwrap(), 50);
    assert_eq!(other.verify(Some("bank")).await.unwrap()[0].events, 10);
    let again = b.open("keys").await;
    agrees_with_a_replay(&again, "bank").await;

    // Refusals and errors.
    let err = again.top("bank", "registered-not", 3).await.unwrap_err();
    assert_eq!(err.code(), "UNKNOWN_PLACE");
    assert_eq!(
        again
            .count("nowhere", "balance", "u1")
            .await
            .unwrap_err()
            .code(),
        "UNKNOWN_STREAM"
    );

    // Deleted, then created again: no key survives.
    again.delete_stream("bank").await.unwrap();
    assert_eq!(
        again
            .store()
            .stream_keys("bank")
            .await
            .map(|_| ())
            .unwrap_err()
            .code(),
        "UNKNOWN_STREAM"
    );
    again.create_stream("bank", &id).await.unwrap();
    let fresh = b.open("keys").await;
    assert_eq!(fresh.count("bank", "balance", "u10").await.unwrap(), 0);
    assert_eq!(fresh.top("bank", "balance", 10).await.unwrap().count, 0);
    for l in [ledger, other, again, fresh] {
        l.close();
    }
}

pub async fn a_pull_and_a_rebase_keep_the_key_records_in_step<B: Backend>(b: &B)
where
    B::S: SyncStore,
{
    let backend = MemoryBackend::new("mem://keys");
    let opts = SyncOptions {
        now: 42,
        ..SyncOptions::default()
    };
    let a = b.open("keys-a").await;
    let id = a.put_model(&bank()).await.unwrap();
    a.create_stream("bank", &id).await.unwrap();
    let opens: Vec<Action> = ["u1", "u2", "u3", "u4", "u5"]
        .iter()
        .map(|u| open(u))
        .collect();
    a.fire_batch("bank", &opens, TS).await.unwrap();
    a.fire("bank", &transfer("u1", "u2", 40), TS).await.unwrap();
    sync_stream(&a, &backend, "bank", &opts, &|_| {})
        .await
        .unwrap();

    // A pull into an empty ledger.
    let bee = b.open("keys-b").await;
    bee.put_model(&bank()).await.unwrap();
    sync_stream(&bee, &backend, "bank", &opts, &|_| {})
        .await
        .unwrap();
    agrees_with_a_replay(&b.open("keys-b").await, "bank").await;

    // Offline on both sides: a's spend of u3 is pushed first; b's spends
    // of u3 (refused on top of a's: a conflict; u5, which only it paid,
    // back to 100) and of u4 (rebased) replace b's tail.
    a.fire("bank", &transfer("u3", "u1", 80), TS).await.unwrap();
    sync_stream(&a, &backend, "bank", &opts, &|_| {})
        .await
        .unwrap();
    bee.fire_batch(
        "bank",
        &[transfer("u3", "u5", 50), transfer("u4", "u1", 10)],
        TS,
    )
    .await
    .unwrap();
    bee.fire("bank", &transfer("u4", "u2", 90), TS)
        .await
        .unwrap();
    let report = sync_stream(&bee, &backend, "bank", &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let cold = b.open("keys-b").await;
    agrees_with_a_replay(&cold, "bank").await;
    assert_eq!(cold.count("bank", "balance", "u3").await.unwrap(), 20);
    assert_eq!(cold.count("bank", "balance", "u4").await.unwrap(), 0);
    assert_eq!(cold.count("bank", "balance", "u5").await.unwrap(), 100);
    agrees_with_a_replay(&bee, "bank").await;
    // And the other side pulls the rebased events.
    sync_stream(&a, &backend, "bank", &opts, &|_| {})
        .await
        .unwrap();
    agrees_with_a_replay(&b.open("keys-a").await, "bank").await;
    for l in [a, bee, cold] {
        l.close();
    }
}
