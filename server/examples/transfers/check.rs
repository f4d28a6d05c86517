//! The checks after a run: the server's chain, read page by page through
//! its API and replayed with the core's `Verifier` (links, hashes,
//! signatures, the net allowing every firing, key counts, commitments),
//! then compared with what the clients were told.

use std::collections::HashMap;

use petrichain::chain::{Event, Verifier};
use petrichain::model::Model;
use petrichain::sync::protocol::EventPage;

use crate::bank_client::Acked;
use crate::client::Client;
use crate::transport::percent_encode;

/// Tokens each `open` puts on the new user's balance (the Bank net's
/// `open -> balance[user]` weight).
pub const OPENING_BALANCE: u64 = 100;

/// What the replay of the server's chain found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub events: u64,
    pub opens: u64,
    pub transfers: u64,
    /// Each transfer's nonce: how many events carry it, and the last hash.
    pub nonces: HashMap<String, (u64, String)>,
    /// Sum over the keys of `balance` at the head.
    pub balance_sum: u128,
    /// The head marking's total of `balance` (kept beside the keys).
    pub balance_total: u64,
    /// Keys of `registered` at the head, and the sum of their counts.
    pub registered_keys: u64,
    pub registered_sum: u128,
}

/// Replays `pages` (each a page of the stream in order) and collects the
/// facts the checks compare. Any verification failure is an error naming
/// the event's seq.
pub fn scan<I>(model: &Model, stream: &str, pages: I) -> Result<Scan, String>
where
    I: IntoIterator<Item = Result<Vec<Event>, String>>,
{
    let (Some(balance), Some(registered)) = (
        model.place_index("balance"),
        model.place_index("registered"),
    ) else {
        return Err("the model is not the Bank net (no balance / registered place)".into());
    };
    let mut v = Verifier::new(model, stream);
    let mut s = Scan::default();
    for page in pages {
        for e in page? {
            v.push(&e)
                .map_err(|err| format!("the chain does not verify at seq {}: {err}", e.seq))?;
            s.events += 1;
            match e.action.as_str() {
                "open" => s.opens += 1,
                "transfer" => {
                    s.transfers += 1;
                    let entry = s.nonces.entry(e.nonce.clone()).or_default();
                    entry.0 += 1;
                    entry.1 = e.hash.clone();
                }
                other => return Err(format!("seq {}: unexpected action {other}", e.seq)),
            }
        }
    }
    v.flush()
        .map_err(|err| format!("the chain's signatures do not verify: {err}"))?;
    let state = v.state();
    s.balance_sum = state
        .keyed()
        .iter(balance)
        .map(|(_, n)| u128::from(n))
        .sum();
    s.balance_total = state.marking().0[balance];
    s.registered_keys = state.keyed().iter(registered).count() as u64;
    s.registered_sum = state
        .keyed()
        .iter(registered)
        .map(|(_, n)| u128::from(n))
        .sum();
    v.finish()
        .map_err(|err| format!("the chain does not verify: {err}"))?;
    Ok(s)
}

/// Every way the scan disagrees with the users registered and what the
/// clients were told; empty when the run is sound.
pub fn violations(scan: &Scan, users: u64, acked: &[Acked], refused: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let expected = u128::from(users) * u128::from(OPENING_BALANCE);
    if scan.balance_sum != expected {
        out.push(format!(
            "sum of all balances is {}, the opening balances sum to {expected}",
            scan.balance_sum
        ));
    }
    if u128::from(scan.balance_total) != expected {
        out.push(format!(
            "the head's balance total is {}, the opening balances sum to {expected}",
            scan.balance_total
        ));
    }
    if scan.opens != users
        || scan.registered_keys != users
        || scan.registered_sum != u128::from(users)
    {
        out.push(format!(
            "{users} users registered, the chain has {} opens and {} registered keys (sum {})",
            scan.opens, scan.registered_keys, scan.registered_sum
        ));
    }
    for a in acked {
        match scan.nonces.get(&a.nonce) {
            None => out.push(format!(
                "acknowledged transfer {} ({}) is not in the chain",
                a.nonce, a.hash
            )),
            Some((n, _)) if *n != 1 => out.push(format!(
                "acknowledged transfer {} is in the chain {n} times",
                a.nonce
            )),
            Some((_, hash)) if *hash != a.hash => out.push(format!(
                "acknowledged transfer {} was stored as {hash}, acknowledged as {}",
                a.nonce, a.hash
            )),
            Some(_) => {}
        }
    }
    if scan.transfers != acked.len() as u64 {
        out.push(format!(
            "the chain holds {} transfers, {} were acknowledged",
            scan.transfers,
            acked.len()
        ));
    }
    for nonce in refused {
        if scan.nonces.contains_key(nonce) {
            out.push(format!("refused transfer {nonce} is in the chain"));
        }
    }
    out
}

/// The stream's pages as the server serves them (`GET .../events`,
/// 1000 a page), stopping after `max_events` (a chain longer than anything
/// the run sent is an error, not an endless read).
pub fn pages<'a>(
    client: &'a mut Client,
    stream: &'a str,
    max_events: u64,
) -> impl Iterator<Item = Result<Vec<Event>, String>> + 'a {
    let mut after = 0u64;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let path = format!(
            "/{}/streams/{}/events?after={after}&limit=1000",
            petrichain::sync::protocol::PROTOCOL_VERSION,
            percent_encode(stream)
        );
        let page = client
            .get(&path)
            .map_err(|e| format!("GET {path}: {e}"))
            .and_then(|r| {
                if r.status != 200 {
                    return Err(format!("GET {path}: {} {}", r.status, r.text()));
                }
                r.json::<EventPage>()
                    .map_err(|e| format!("GET {path}: {e}"))
            });
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                done = true;
                return Some(Err(e));
            }
        };
        after = after.saturating_add(page.events.len() as u64);
        done = !page.more || page.events.is_empty();
        if after > max_events {
            done = true;
            return Some(Err(format!(
                "the chain is longer than the {max_events} events the run could have appended"
            )));
        }
        Some(Ok(page.events))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrichain::formats::json::import_json;
    use petrichain::store::{block_on, Action, Ledger};

    fn bank() -> Model {
        import_json(include_str!("../../../www/examples/bank.json"))
            .unwrap()
            .0
    }

    /// Three users, two transfers, one refused (overdraft) before it was
    /// recorded: a real chain, built with the core's ledger.
    fn chain(m: &Model) -> (Vec<Event>, Vec<Acked>) {
        block_on(async {
            let l = Ledger::memory();
            let id = l.put_model(m).await.unwrap();
            l.create_stream("bank", &id).await.unwrap();
            for u in ["u0", "u1", "u2"] {
                l.fire("bank", &Action::new("open").arg("user", u), 1)
                    .await
                    .unwrap();
            }
            let pay = |from: &str, to: &str, n| {
                Action::new("transfer")
                    .arg("from", from)
                    .arg("to", to)
                    .multiple(n)
            };
            let mut acked = Vec::new();
            for (f, t, n) in [("u0", "u1", 60), ("u1", "u2", 150)] {
                let e = l.fire("bank", &pay(f, t, n), 2).await.unwrap();
                acked.push(Acked {
                    nonce: e.nonce,
                    hash: e.hash,
                });
            }
            let refused = l.fire("bank", &pay("u0", "u2", 41), 3).await.unwrap_err();
            assert_eq!(refused.code(), "NOT_ENABLED");
            (l.all_events("bank").await.unwrap(), acked)
        })
    }

    fn scan_of(m: &Model, events: &[Event]) -> Result<Scan, String> {
        // Two pages, as the server would send them.
        let (a, b) = events.split_at(2);
        scan(m, "bank", [Ok(a.to_vec()), Ok(b.to_vec())])
    }

    #[test]
    fn a_sound_run_has_no_violation() {
        let m = bank();
        let (events, acked) = chain(&m);
        let s = scan_of(&m, &events).unwrap();
        assert_eq!((s.events, s.opens, s.transfers), (5, 3, 2));
        assert_eq!((s.balance_sum, s.balance_total), (300, 300));
        assert_eq!(
            violations(&s, 3, &acked, &["not-sent".into()]),
            Vec::<String>::new()
        );
    }

    /// The sum check is what fails a run whose balances do not add up (a
    /// corrupted balance in the scan: the replay itself refuses a chain
    /// that creates tokens, see the next test).
    #[test]
    fn a_wrong_sum_is_a_violation() {
        let m = bank();
        let (events, acked) = chain(&m);
        let mut s = scan_of(&m, &events).unwrap();
        s.balance_sum += 1;
        let v = violations(&s, 3, &acked, &[]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].starts_with("sum of all balances is 301"), "{v:?}");
        let mut s = scan_of(&m, &events).unwrap();
        s.balance_total -= 1;
        assert!(violations(&s, 3, &acked, &[])[0].contains("balance total is 299"));
        // Fewer users registered than claimed: the sum is short too.
        let s = scan_of(&m, &events).unwrap();
        assert_eq!(violations(&s, 4, &acked, &[]).len(), 3);
    }

    #[test]
    fn lost_doubled_unacknowledged_or_refused_transfers_are_violations() {
        let m = bank();
        let (events, acked) = chain(&m);
        let s = scan_of(&m, &events).unwrap();
        // One acknowledgement the chain lacks.
        let mut more = acked.clone();
        more.push(Acked {
            nonce: "ab".repeat(16),
            hash: "cd".repeat(32),
        });
        let v = violations(&s, 3, &more, &[]);
        assert!(v.iter().any(|x| x.contains("is not in the chain")), "{v:?}");
        // A transfer in the chain nobody was told about.
        let v = violations(&s, 3, &acked[..1], &[]);
        assert!(
            v.iter()
                .any(|x| x.contains("2 transfers, 1 were acknowledged")),
            "{v:?}"
        );
        // A refused transfer that is in the chain.
        let v = violations(&s, 3, &acked, &[acked[0].nonce.clone()]);
        assert!(v.iter().any(|x| x.contains("refused transfer")), "{v:?}");
        // Acknowledged under another hash.
        let mut other = acked.clone();
        other[1].hash = "00".repeat(32);
        assert!(violations(&s, 3, &other, &[])[0].contains("was stored as"));
        // A nonce twice.
        let mut twice = s.clone();
        twice.nonces.get_mut(&acked[0].nonce).unwrap().0 = 2;
        assert!(violations(&twice, 3, &acked, &[])[0].contains("2 times"));
    }

    #[test]
    fn a_chain_that_does_not_verify_is_an_error() {
        let m = bank();
        let (mut events, _) = chain(&m);
        // A transfer that claims more for its receiver than it took.
        events[3].keys.iter_mut().for_each(|k| k.2 += 1);
        let e = scan_of(&m, &events).unwrap_err();
        assert!(e.contains("does not verify at seq 4"), "{e}");
        let (events, _) = chain(&m);
        let e = scan(
            &m,
            "bank",
            [Ok(events[..1].to_vec()), Ok(events[2..].to_vec())],
        )
        .unwrap_err();
        assert!(e.contains("seq 3"), "a gap: {e}");
        assert!(scan(&m, "bank", [Err("GET: 500".to_string())]).is_err());
    }
}
