//! Hashing and verification throughput, next to plain SHA-256 of the same
//! bytes: `cargo bench --bench chain`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use petrichain::chain::{hash, verify_events, Event};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger};
use sha2::{Digest, Sha256};

const N: usize = 10_000;

/// A 10,000-event stream of a small net (two places moving tokens back and forth).
fn stream() -> (petrichain::Model, Vec<Event>) {
    let (model, _) = import_json(
        r#"{"places":[{"id":"a","initial":1},{"id":"b"}],"transitions":[{"id":"go"},{"id":"back"}],
        "arcs":[{"source":"a","target":"go"},{"source":"go","target":"b"},{"source":"b","target":"back"},{"source":"back","target":"a"}]}"#,
    )
    .unwrap();
    let events = block_on(async {
        let ledger = Ledger::memory();
        let id = ledger.put_model(&model).await.unwrap();
        ledger.create_stream("s", &id).await.unwrap();
        let actions: Vec<Action> = (0..N)
            .map(|i| {
                Action::new(if i % 2 == 0 { "go" } else { "back" })
                    .actor("bench")
                    .payload(format!(r#"{{"i":{i},"note":"typical small payload"}}"#))
            })
            .collect();
        for chunk in actions.chunks(1000) {
            ledger
                .fire_batch("s", chunk, 1_700_000_000_000)
                .await
                .unwrap();
        }
        ledger.all_events("s").await.unwrap()
    });
    (model, events)
}

fn benches(c: &mut Criterion) {
    let (model, events) = stream();
    let encoded: Vec<Vec<u8>> = events
        .iter()
        .map(|e| {
            let mut b = Vec::new();
            hash::encode(e, &mut b);
            b
        })
        .collect();
    let mut g = c.benchmark_group("chain");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("plain sha256 of the encoded bytes (10k events)", |b| {
        b.iter(|| {
            for bytes in &encoded {
                black_box(Sha256::digest(bytes));
            }
        })
    });
    g.bench_function("encode + sha256 (10k events)", |b| {
        let mut buf = Vec::with_capacity(512);
        b.iter(|| {
            for e in &events {
                black_box(hash::digest_with(e, &mut buf));
            }
        })
    });
    g.bench_function("verify by replay (10k events)", |b| {
        b.iter(|| black_box(verify_events(&model, "s", &events).unwrap()))
    });
    g.bench_function(
        "append to memory ledger, batches of 100 (10k events)",
        |b| {
            let actions: Vec<Action> = (0..N)
                .map(|i| Action::new(if i % 2 == 0 { "go" } else { "back" }).payload("{}"))
                .collect();
            b.iter(|| {
                block_on(async {
                    let ledger = Ledger::memory();
                    let id = ledger.put_model(&model).await.unwrap();
                    ledger.create_stream("s", &id).await.unwrap();
                    for chunk in actions.chunks(100) {
                        ledger.fire_batch("s", chunk, 0).await.unwrap();
                    }
                })
            })
        },
    );
    g.finish();
}

criterion_group! {
    name = chain;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(chain);
