//! Keyed places: a transfer among 100,000 accounts next to one among 3, for
//! the firing alone (`Model::fire_keyed_in_place`), the firing with the commitment (`TipState::fire`: engine, key trie,
//! marking tree), the whole append (`Ledger::fire` on the memory store:
//! firing, hashing, signing, storing) and the bytes of the stored event:
//! `cargo bench --bench keyed`. BENCHMARKS.md, "Keyed places". Times are
//! the bench thread's CPU time (see `ThreadTime`).

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main};
use petrichain::chain::TipState;
use petrichain::engine::{KeyChange, KeyedMarking, RoleSet};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger};
use petrichain::Model;

/// Criterion timed by the CPU time of the bench's thread
/// (`CLOCK_THREAD_CPUTIME_ID`), not the wall clock: on the shared 2-core
/// machine the load of other processes otherwise shows in every figure
/// (a descheduled thread's wall clock runs on). Cache misses still count,
/// and caches other processes evicted too.
type Criterion = criterion::Criterion<ThreadTime>;

struct ThreadTime;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(ok, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, started: Duration) -> Duration {
        thread_cpu_time().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

const BANK: &str = include_str!("../../www/examples/bank.json");
const SIZES: [usize; 2] = [3, 100_000];

fn bank() -> Model {
    import_json(BANK).unwrap().0
}

fn user(i: usize) -> String {
    format!("user{i:06}")
}

/// Pairs (from, to) of different accounts, each followed by its reverse,
/// so balances never run out however long the bench runs.
fn pairs(accounts: usize, n: usize) -> Vec<[(String, String); 2]> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as usize
    };
    (0..n)
        .flat_map(|_| {
            let from = next(accounts);
            let to = (from + 1 + next(accounts - 1)) % accounts;
            let there = vec![
                ("from".to_string(), user(from)),
                ("to".to_string(), user(to)),
            ];
            let back = vec![
                ("from".to_string(), user(to)),
                ("to".to_string(), user(from)),
            ];
            [there, back]
        })
        .map(|args| [args[0].clone(), args[1].clone()])
        .collect()
}

/// The state after `accounts` accounts opened with 100 each.
fn opened(model: &Model, accounts: usize) -> TipState {
    let mut keyed = KeyedMarking::empty(model.places().len());
    let (balance, registered) = (
        model.place_index("balance").unwrap(),
        model.place_index("registered").unwrap(),
    );
    for i in 0..accounts {
        keyed.set(balance, &user(i), 100);
        keyed.set(registered, &user(i), 1);
    }
    let mut marking = model.initial_marking();
    marking.0[balance] = 100 * accounts as u64;
    marking.0[registered] = accounts as u64;
    TipState::with_keys(model, marking, keyed)
}

fn engine(c: &mut Criterion) {
    let model = bank();
    let transfer = model.transition_index("transfer").unwrap();
    let mut group = c.benchmark_group("keyed transfer: fire (engine)");
    for accounts in SIZES {
        let state = opened(&model, accounts);
        let (mut marking, mut keyed) = (state.marking().clone(), state.keyed().clone());
        drop(state);
        let args = pairs(accounts, 4096);
        let (mut changes, mut i) = (Vec::new(), 0);
        group.bench_function(format!("{accounts} accounts"), |b| {
            b.iter(|| {
                let a = &args[i % args.len()];
                i += 1;
                model
                    .fire_keyed_in_place(
                        &mut marking,
                        &mut keyed,
                        transfer,
                        1,
                        &RoleSet::All,
                        a,
                        None,
                        &mut changes,
                    )
                    .unwrap();
            })
        });
    }
    group.finish();
}

fn fire(c: &mut Criterion) {
    let model = bank();
    let transfer = model.transition_index("transfer").unwrap();
    let mut group = c.benchmark_group("keyed transfer: fire with the commitment");
    for accounts in SIZES {
        let mut state = opened(&model, accounts);
        let args = pairs(accounts, 4096);
        let (mut delta, mut keys, mut i) = (Vec::new(), Vec::new(), 0);
        group.bench_function(format!("{accounts} accounts"), |b| {
            b.iter(|| {
                let a = &args[i % args.len()];
                i += 1;
                state
                    .fire(
                        &model,
                        transfer,
                        1,
                        &RoleSet::All,
                        a,
                        "",
                        &mut delta,
                        &mut keys,
                    )
                    .unwrap();
            })
        });
    }
    group.finish();
}

/// A copy of `state` with one transfer (`args`) fired on it.
fn fire_on_copy(
    model: &Model,
    transfer: usize,
    state: &TipState,
    args: &[(String, String)],
    (delta, keys): &mut (Vec<(usize, u64)>, Vec<KeyChange>),
) -> TipState {
    let mut copy = state.clone();
    copy.fire(model, transfer, 1, &RoleSet::All, args, "", delta, keys)
        .unwrap();
    copy
}

/// What a server does per append attempt and a sync client per round: a
/// copy of the head's state, one transfer fired on the copy.
fn copy(c: &mut Criterion) {
    let model = bank();
    let transfer = model.transition_index("transfer").unwrap();
    let mut group = c.benchmark_group("keyed state: copy, then fire on the copy");
    group.sample_size(20);
    for accounts in SIZES {
        let state = opened(&model, accounts);
        let args = pairs(accounts, 4096);
        let (mut scratch, mut i) = ((Vec::new(), Vec::new()), 0);
        group.bench_function(format!("{accounts} accounts"), |b| {
            b.iter(|| {
                let a = &args[i % args.len()];
                i += 1;
                fire_on_copy(&model, transfer, &state, a, &mut scratch)
            })
        });
    }
    // The server's accepted append: the copy becomes the head, the old
    // head is dropped; each firing writes to a copy that shares its maps
    // with the head (the overlay, folded into a copy of the base now and
    // then: amortised here).
    for accounts in SIZES {
        let mut head = opened(&model, accounts);
        let args = pairs(accounts, 4096);
        let (mut scratch, mut i) = ((Vec::new(), Vec::new()), 0);
        group.bench_function(format!("{accounts} accounts, the copy kept"), |b| {
            b.iter(|| {
                let a = &args[i % args.len()];
                i += 1;
                head = fire_on_copy(&model, transfer, &head, a, &mut scratch);
            })
        });
    }
    group.finish();
}

fn append(c: &mut Criterion) {
    let model = bank();
    let mut group = c.benchmark_group("keyed transfer: append (fire, hash, sign, store)");
    group.sample_size(30);
    for accounts in SIZES {
        let ledger = Ledger::memory();
        block_on(async {
            let id = ledger.put_model(&model).await.unwrap();
            ledger.create_stream("bank", &id).await.unwrap();
            let opens: Vec<Action> = (0..accounts)
                .map(|i| Action::new("open").arg("user", user(i)))
                .collect();
            for chunk in opens.chunks(5000) {
                ledger.fire_batch("bank", chunk, 1).await.unwrap();
            }
        });
        let args = pairs(accounts, 4096);
        let mut i = 0;
        let action = |a: &[(String, String); 2]| {
            Action::new("transfer")
                .arg(&a[0].0, &a[0].1)
                .arg(&a[1].0, &a[1].1)
        };
        let e = block_on(ledger.fire("bank", &action(&args[0]), 2)).unwrap();
        let bytes = serde_json::to_string(&e).unwrap().len();
        println!(
            "BENCH keyed transfer among {accounts} accounts: stored event {bytes} bytes (JSON)"
        );
        i += 1;
        group.bench_function(format!("{accounts} accounts"), |b| {
            b.iter(|| {
                let a = &args[i % args.len()];
                i += 1;
                block_on(ledger.fire("bank", &action(a), 2)).unwrap();
            })
        });
    }
    group.finish();
}

/// Signs every event that has no `sig` of its own (the device's signature
/// of its hash), as a sync push does before events leave the device: the
/// chain a peer pulls, one signature per event.
fn sign_every_event<S: petrichain::store::Store>(
    ledger: &Ledger<S>,
    events: &mut [petrichain::chain::Event],
) {
    use petrichain::chain::signed_message;
    let at: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].sig.is_empty())
        .collect();
    let messages: Vec<Vec<u8>> = at
        .iter()
        .map(|&i| signed_message(&events[i].hash))
        .collect();
    let sigs = block_on(ledger.device().sign(&messages)).unwrap();
    for (i, sig) in at.into_iter().zip(sigs) {
        events[i].sig = hex::encode(sig);
    }
}

/// Verifying transfers (replay with the recorded `args`, rehash, keys and
/// root compared, signatures checked in batches): 10,000 transfer events
/// among 10,000 opened accounts, the native twin of
/// web/tests/bench_web_keyed.rs, for the two chains a verifier meets: the
/// ledger's own (signature runs: one signature per 1,000 events, checked
/// with `accept_runs`) and a pulled one (every event signed, strict).
fn verify(c: &mut Criterion) {
    use petrichain::chain::Verifier;
    const ACCOUNTS: usize = 10_000;
    let model = bank();
    let ledger = Ledger::memory();
    let runs = block_on(async {
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("bank", &id).await.unwrap();
        let opens: Vec<Action> = (0..ACCOUNTS)
            .map(|i| Action::new("open").arg("user", user(i)))
            .collect();
        for chunk in opens.chunks(1000) {
            ledger.fire_batch("bank", chunk, 1).await.unwrap();
        }
        let transfers: Vec<Action> = pairs(ACCOUNTS, ACCOUNTS / 2)
            .iter()
            .map(|a| {
                Action::new("transfer")
                    .arg(&a[0].0, &a[0].1)
                    .arg(&a[1].0, &a[1].1)
            })
            .collect();
        for chunk in transfers.chunks(1000) {
            ledger.fire_batch("bank", chunk, 2).await.unwrap();
        }
        ledger.all_events("bank").await.unwrap()
    });
    let mut signed = runs.clone();
    sign_every_event(&ledger, &mut signed);
    let mut group = c.benchmark_group("keyed verify");
    group.sample_size(10);
    for (chain, events, accept_runs) in [
        ("signature runs", &runs, true),
        ("every event signed", &signed, false),
    ] {
        let (opens, transfers) = events.split_at(ACCOUNTS);
        group.throughput(criterion::Throughput::Elements(transfers.len() as u64));
        group.bench_function(
            format!(
                "{} transfers among {ACCOUNTS} accounts, {chain}",
                transfers.len()
            ),
            |b| {
                b.iter_batched(
                    || {
                        let v = Verifier::new(&model, "bank");
                        let mut v = if accept_runs { v.accept_runs() } else { v };
                        for e in opens {
                            v.push(e).unwrap();
                        }
                        v.flush().unwrap();
                        v
                    },
                    |mut v| {
                        for e in transfers {
                            v.push(e).unwrap();
                        }
                        v.finish().unwrap()
                    },
                    criterion::BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

/// The parts of a transfer's cost that grow with the keys, each alone: the
/// two key-trie writes of a transfer (`KeyTrie::set`: its path rehashed,
/// O(log keys) SHA-256 blocks), and the map lookups of the engine (three
/// reads, two writes) on a plain std `HashMap` (SipHash-1-3 under a random
/// seed, as the key maps), to tell the cache misses of 100,000 keys from
/// the cost of any structure of ours.
fn parts(c: &mut Criterion) {
    use petrichain::chain::KeyTrie;
    use std::collections::HashMap;
    let mut group = c.benchmark_group("keyed parts");
    for accounts in SIZES {
        let args = pairs(accounts, 4096);
        let mut trie = KeyTrie::from_counts(
            (0..accounts)
                .map(|i| (user(i), 100))
                .collect::<Vec<_>>()
                .iter()
                .map(|(k, n)| (k.as_str(), *n)),
        );
        let mut i = 0u64;
        group.bench_function(format!("key trie, two writes: {accounts} keys"), |b| {
            b.iter(|| {
                let a = &args[i as usize % args.len()];
                i += 1;
                trie.set(&a[0].1, 100 + i % 7);
                trie.set(&a[1].1, 100 + i % 5);
                trie.root()
            })
        });
        let mut map: HashMap<String, u64> = (0..accounts).map(|i| (user(i), 100)).collect();
        let registered: HashMap<String, u64> = (0..accounts).map(|i| (user(i), 1)).collect();
        let mut i = 0usize;
        group.bench_function(
            format!("std HashMap, 3 reads + 2 writes: {accounts} keys"),
            |b| {
                b.iter(|| {
                    let a = &args[i % args.len()];
                    i += 1;
                    let ok = registered.get(a[1].1.as_str()).copied().unwrap_or(0);
                    let from = map.get(a[0].1.as_str()).copied().unwrap_or(0);
                    let to = map.get(a[1].1.as_str()).copied().unwrap_or(0);
                    *map.get_mut(a[0].1.as_str()).unwrap() = from - 1 + ok;
                    *map.get_mut(a[1].1.as_str()).unwrap() = to + 1 - ok;
                })
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion::Criterion::default().with_measurement(ThreadTime);
    targets = engine, fire, copy, append, verify, parts
}
criterion_main!(benches);
