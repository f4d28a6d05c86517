//! Hashing and verification throughput, next to plain SHA-256 of the same
//! bytes; signature checks in batches next to one at a time; appends on a
//! 10,000-place net next to a 3-place one (time and bytes per event):
//! `cargo bench --bench chain`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use petrichain::chain::{hash, signed_message, verify_events, Event};
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

    // Signatures alone: the batch the verifier uses against one strict
    // check per event (what a verifier without batching pays).
    let mut g = c.benchmark_group("signatures");
    g.throughput(Throughput::Elements(N as u64));
    let key = ed25519_dalek::VerifyingKey::from_bytes(
        &<[u8; 32]>::try_from(hex::decode(&events[0].signer).unwrap()).unwrap(),
    )
    .unwrap();
    let messages: Vec<Vec<u8>> = events.iter().map(|e| signed_message(&e.hash)).collect();
    let sigs: Vec<ed25519_dalek::Signature> = events
        .iter()
        .map(|e| {
            ed25519_dalek::Signature::from_bytes(
                &<[u8; 64]>::try_from(hex::decode(&e.sig).unwrap()).unwrap(),
            )
        })
        .collect();
    g.bench_function("verify_strict one at a time (10k)", |b| {
        b.iter(|| {
            for (m, s) in messages.iter().zip(&sigs) {
                key.verify_strict(m, s).unwrap();
            }
        })
    });
    g.bench_function("verify_batch, batches of 2048 (10k)", |b| {
        let keys = vec![key; 2048];
        b.iter(|| {
            for (m, s) in messages.chunks(2048).zip(sigs.chunks(2048)) {
                let m: Vec<&[u8]> = m.iter().map(Vec::as_slice).collect();
                ed25519_dalek::verify_batch(&m, s, &keys[..s.len()]).unwrap();
            }
        })
    });
    g.finish();

    // Appends where the net is large but each firing touches two places:
    // O(change), so per event the wide net costs about what the narrow one does.
    let mut g = c.benchmark_group("append by net size");
    g.throughput(Throughput::Elements(1000));
    for places in [3usize, 10_000] {
        let model = wide_net(places);
        let actions: Vec<Action> = (0..1000)
            .map(|i| Action::new(if i % 2 == 0 { "go" } else { "back" }).payload("{}"))
            .collect();
        // One ledger per net, set up once (building the tree of a new
        // stream is O(places), once); each iteration appends 1,000 more.
        let ledger = Ledger::memory();
        let bytes = block_on(async {
            let id = ledger.put_model(&model).await.unwrap();
            ledger.create_stream("s", &id).await.unwrap();
            let e = ledger.fire_batch("s", &actions[..2], 0).await.unwrap();
            serde_json::to_string(&e[0]).unwrap().len()
        });
        println!("append by net size: {places} places, {bytes} bytes per stored event (JSON)");
        g.bench_function(
            format!("{places} places, batches of 100 (1k events)"),
            |b| {
                b.iter(|| {
                    block_on(async {
                        for chunk in actions.chunks(100) {
                            ledger.fire_batch("s", chunk, 0).await.unwrap();
                        }
                    })
                })
            },
        );
    }
    g.finish();
}

/// A net of `places` places where `go` and `back` move one token between
/// the first two; the rest only sit in the marking.
fn wide_net(places: usize) -> petrichain::Model {
    let list: Vec<String> = (0..places)
        .map(|i| format!(r#"{{"id":"p{i:05}","initial":{}}}"#, u64::from(i == 0)))
        .collect();
    import_json(&format!(
        r#"{{"places":[{}],"transitions":[{{"id":"go"}},{{"id":"back"}}],
        "arcs":[{{"source":"p00000","target":"go"}},{{"source":"go","target":"p00001"}},
                {{"source":"p00001","target":"back"}},{{"source":"back","target":"p00000"}}]}}"#,
        list.join(",")
    ))
    .unwrap()
    .0
}

criterion_group! {
    name = chain;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(chain);
