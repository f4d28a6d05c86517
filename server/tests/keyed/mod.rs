//! Keyed places (issue 14) through the real server: a Bank net's chain
//! pushed in parts (each resumes from the keyed state of the stored head,
//! cached or, after a restart, rebuilt) and pulled back verifying; a forged
//! key count refused with its seq; two devices transferring from
//! different accounts on the same head, both kept after a rebase. Run on
//! both backends by `sync_server.rs` (which includes this module).

use crate::common::*;
use petrichain::chain::verify_events;
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, SyncStore};
use petrichain::sync::protocol::Head;
use petrichain::sync::{sync_stream, SyncOptions};

fn bank() -> petrichain::model::Model {
    import_json(include_str!("../../../www/examples/bank.json"))
        .unwrap()
        .0
}

pub fn keyed_round_trip_and_forged_key_count(b: &Backend) {
    let server = b.start(&[]);
    let mut c = server.client();
    let m = bank();
    assert_eq!(put_model(&mut c, &m).status, 201);
    let all_events = chain(
        &m,
        "bank",
        &[
            Action::new("open").arg("user", "alice"),
            Action::new("open").arg("user", "bob"),
            Action::new("transfer")
                .arg("from", "alice")
                .arg("to", "bob"),
            Action::new("transfer")
                .arg("from", "bob")
                .arg("to", "alice"),
            Action::new("transfer")
                .arg("from", "alice")
                .arg("to", "bob"),
        ],
    );
    let events = all_events[..4].to_vec();
    assert!(events
        .iter()
        .all(|e| !e.keys.is_empty() && !e.args.is_empty()));
    let r = append(&mut c, "bank", &request(&m, Head::zero(), &events[..2]));
    assert_eq!(r.status, 200, "{}", r.text());
    // A forged key count on the next event: refused with its seq.
    let mut forged = events[2].clone();
    forged.keys[0].2 += 1;
    let forged = rehash(forged);
    let r = append(&mut c, "bank", &request(&m, head_of(&events[1]), &[forged]));
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(r.status, 422, "{body}");
    assert_eq!(body["code"], "INVALID_EVENT");
    assert_eq!(body["seq"], 3);
    // The honest rest, resumed from the keyed state of the stored head.
    let r = append(
        &mut c,
        "bank",
        &request(&m, head_of(&events[1]), &events[2..]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (head, all) = pull_all(&mut c, "bank");
    assert_eq!(all, events, "args and keys come back exactly as sent");
    assert_eq!(head, head_of(&events[3]));
    assert_eq!(verify_events(&m, "bank", &all).unwrap().events, 4);
    // A request naming the keyed model for a stream of another model (and
    // the other way round) is the client's mistake: 400, the streams are
    // still served.
    let plain = model();
    assert_eq!(put_model(&mut c, &plain).status, 201);
    let order = chain(&plain, "order", &spends(1));
    let r = append(&mut c, "order", &request(&plain, Head::zero(), &order));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = append(
        &mut c,
        "order",
        &request(&m, head_of(&order[0]), &all_events[4..]),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = append(
        &mut c,
        "bank",
        &request(&plain, head_of(&events[3]), &order),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    for s in ["order", "bank"] {
        let r = c.get(&format!("/v2/streams/{s}/events")).unwrap();
        assert_eq!(r.status, 200, "{s}: {}", r.text());
    }
    drop(c);
    drop(server);
    // A restarted server (empty cache) rebuilds the keyed state to append.
    let server = b.start(&[]);
    let mut c = server.client();
    // A forged count is refused there too (the rebuilt state is exact).
    let mut forged = all_events[4].clone();
    forged.keys[0].2 = forged.keys[0].2.saturating_sub(1);
    let forged = rehash(forged);
    let r = append(&mut c, "bank", &request(&m, head_of(&events[3]), &[forged]));
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!((r.status, body["seq"].as_u64()), (422, Some(5)), "{body}");
    let r = append(
        &mut c,
        "bank",
        &request(&m, head_of(&events[3]), &all_events[4..]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let (head, all) = pull_all(&mut c, "bank");
    assert_eq!((head, &all), (head_of(&all_events[4]), &all_events));
    assert_eq!(verify_events(&m, "bank", &all).unwrap().events, 5);
}

/// Two devices, offline on the same head, transfer from different
/// accounts: the second push is rebased onto the first and both are kept,
/// no conflict (the keys they change are disjoint).
pub fn two_devices_transferring_from_different_accounts_never_conflict(b: &Backend) {
    let server = b.start(&[]);
    let m = bank();
    let stream = "bank-2";
    let options = SyncOptions {
        now: 42,
        ..SyncOptions::default()
    };
    block_on(async {
        let (ta, tb) = (
            transport::HttpTransport::new(server.addr),
            transport::HttpTransport::new(server.addr),
        );
        let run = |ledger, t| sync_stream(ledger, t, stream, &options, &|_| {});
        let a = Ledger::memory();
        let id = a.put_model(&m).await.unwrap();
        a.create_stream(stream, &id).await.unwrap();
        for (i, user) in ["alice", "bob", "carol"].iter().enumerate() {
            let open = Action::new("open").arg("user", *user);
            a.fire(stream, &open, 1 + i as u64).await.unwrap();
        }
        run(&a, &ta).await.unwrap();
        let b = Ledger::memory();
        run(&b, &tb).await.unwrap();
        assert_eq!(b.stream(stream).await.unwrap().seq, 3);

        let pay = |from: &str| Action::new("transfer").arg("from", from).arg("to", "bob");
        a.fire(stream, &pay("alice"), 100).await.unwrap();
        b.fire(stream, &pay("carol"), 100).await.unwrap();
        let r = run(&a, &ta).await.unwrap();
        assert_eq!((r.pushed, r.rebased), (1, 0), "{r:?}");
        let r = run(&b, &tb).await.unwrap();
        assert_eq!((r.rebased, r.conflicts, r.pushed), (1, 0, 1), "{r:?}");
        run(&a, &ta).await.unwrap();
        let chain_a = a.all_events(stream).await.unwrap();
        assert_eq!(chain_a.len(), 5);
        assert_eq!(chain_a, b.all_events(stream).await.unwrap());
        for ledger in [&a, &b] {
            assert!(ledger.store().conflicts(stream).await.unwrap().is_empty());
        }
    });
    let (head, events) = pull_all(&mut server.client(), stream);
    assert_eq!(head.seq, 5);
    let verified = verify_events(&m, stream, &events).unwrap();
    assert_eq!(verified.events, 5);
}

/// Two devices, offline on the same head (alice, bob and carol opened with
/// 100 each), spend from the SAME account: alice pays bob `first` on device
/// A, carol `second` on device B; A syncs first, then B. Returns both
/// ledgers (synced again) and B's sync report.
fn two_spends_from_alice(
    b: &Backend,
    stream: &str,
    first: u64,
    second: u64,
) -> (
    Ledger<petrichain::store::MemoryStore>,
    Ledger<petrichain::store::MemoryStore>,
    petrichain::sync::StreamReport,
    Server,
) {
    let server = b.start(&[]);
    let m = bank();
    let options = SyncOptions {
        now: 42,
        ..SyncOptions::default()
    };
    let (a, dev_b, report) = block_on(async {
        let (ta, tb) = (
            transport::HttpTransport::new(server.addr),
            transport::HttpTransport::new(server.addr),
        );
        let run = |ledger, t| sync_stream(ledger, t, stream, &options, &|_| {});
        let a = Ledger::memory();
        let id = a.put_model(&m).await.unwrap();
        a.create_stream(stream, &id).await.unwrap();
        for (i, user) in ["alice", "bob", "carol"].iter().enumerate() {
            let open = Action::new("open").arg("user", *user);
            a.fire(stream, &open, 1 + i as u64).await.unwrap();
        }
        run(&a, &ta).await.unwrap();
        let dev_b = Ledger::memory();
        run(&dev_b, &tb).await.unwrap();
        assert_eq!(dev_b.count(stream, "balance", "alice").await.unwrap(), 100);

        let pay = |to: &str, n| {
            Action::new("transfer")
                .arg("from", "alice")
                .arg("to", to)
                .multiple(n)
        };
        // Each spend fits the balance each device sees.
        a.fire(stream, &pay("bob", first), 100).await.unwrap();
        dev_b
            .fire(stream, &pay("carol", second), 101)
            .await
            .unwrap();
        let r = run(&a, &ta).await.unwrap();
        assert_eq!((r.pushed, r.rebased, r.conflicts), (1, 0, 0), "{r:?}");
        let report = run(&dev_b, &tb).await.unwrap();
        run(&a, &ta).await.unwrap();
        (a, dev_b, report)
    });
    (a, dev_b, report, server)
}

/// The balances of alice, bob and carol on `ledger`.
fn balances(ledger: &Ledger<petrichain::store::MemoryStore>, stream: &str) -> [u64; 3] {
    block_on(async {
        let mut out = [0; 3];
        for (i, user) in ["alice", "bob", "carol"].iter().enumerate() {
            out[i] = ledger.count(stream, "balance", user).await.unwrap();
        }
        out
    })
}

/// (a) Both spends fit alice's balance together (30 + 50 <= 100): the
/// second is rebased onto the first and both land, no conflict, the total
/// is kept.
pub fn two_spends_from_one_account_that_fit_both_land(b: &Backend) {
    let stream = "bank-fit";
    let (a, dev_b, report, server) = two_spends_from_alice(b, stream, 30, 50);
    assert_eq!(
        (report.rebased, report.conflicts, report.pushed),
        (1, 0, 1),
        "{report:?}"
    );
    for ledger in [&a, &dev_b] {
        assert_eq!(balances(ledger, stream), [20, 130, 150]);
        assert!(block_on(ledger.store().conflicts(stream))
            .unwrap()
            .is_empty());
    }
    let chain_a = block_on(a.all_events(stream)).unwrap();
    assert_eq!(chain_a, block_on(dev_b.all_events(stream)).unwrap());
    let (head, events) = pull_all(&mut server.client(), stream);
    assert_eq!((head.seq, &events), (5, &chain_a));
    assert_eq!(verify_events(&bank(), stream, &events).unwrap().events, 5);
}

/// (b) Together they exceed it (70 + 50 > 100): the first spend stands;
/// the second device gets a recorded conflict naming `balance[alice]`
/// (`NOT_ENABLED`, has 30, needs 50) with its transfer kept in it, and
/// nothing else is lost: both ledgers and the server hold the same 4
/// events, the total is kept.
pub fn two_spends_from_one_account_that_exceed_it_conflict(b: &Backend) {
    let stream = "bank-over";
    let (a, dev_b, report, server) = two_spends_from_alice(b, stream, 70, 50);
    assert_eq!(
        (report.rebased, report.conflicts, report.pushed),
        (0, 1, 0),
        "{report:?}"
    );
    for ledger in [&a, &dev_b] {
        assert_eq!(balances(ledger, stream), [30, 170, 100]);
    }
    assert!(block_on(a.store().conflicts(stream)).unwrap().is_empty());
    let conflicts = block_on(dev_b.store().conflicts(stream)).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let c = &conflicts[0];
    assert_eq!(c.code, "NOT_ENABLED");
    assert!(c.message.contains("balance[alice]"), "{}", c.message);
    let reason: serde_json::Value = serde_json::from_str(&c.reason).unwrap();
    assert_eq!(
        (&reason["place"], &reason["has"], &reason["needs"]),
        (
            &serde_json::json!("balance[alice]"),
            &serde_json::json!(30),
            &serde_json::json!(50)
        ),
        "{reason}"
    );
    // The refused transfer is kept in the conflict, as it was fired.
    assert_eq!(c.event.action, "transfer");
    assert_eq!(c.event.multiple, 50);
    assert_eq!(
        c.event.args,
        vec![
            ("from".to_string(), "alice".to_string()),
            ("to".to_string(), "carol".to_string())
        ]
    );
    assert_eq!(c.remote.seq, 4);
    let chain_a = block_on(a.all_events(stream)).unwrap();
    assert_eq!(chain_a, block_on(dev_b.all_events(stream)).unwrap());
    let (head, events) = pull_all(&mut server.client(), stream);
    assert_eq!((head.seq, &events), (4, &chain_a));
    assert_eq!(events[3].signer, a.device_key(), "the first spend stands");
    assert_eq!(verify_events(&bank(), stream, &events).unwrap().events, 4);
}
