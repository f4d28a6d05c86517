//! Firing throughput: the compiled sparse engine on tic-tac-toe and on a
//! 10,000-place ring, side by side with a dense incidence-matrix engine.
//! Run: cargo bench -p petrichain --bench fire
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

#[path = "workloads.rs"]
mod workloads;
use workloads::{Dense, Game, Ring};

fn fire(c: &mut Criterion) {
    let mut group = c.benchmark_group("fire");
    group.throughput(Throughput::Elements(600));
    let game = Game::tictactoe();
    group.bench_function("tictactoe/sparse (100 games)", |b| {
        b.iter(|| black_box(game.play(100)))
    });
    // The dense engine is compared on the rings below, where both engines
    // run exactly the same firing sequence.

    group.throughput(Throughput::Elements(1000));
    for n in [30, 10_000] {
        let mut ring = Ring::new(n);
        group.bench_function(format!("ring{n}/sparse"), |b| {
            b.iter(|| black_box(ring.walk(1000)))
        });
        let mut dense = Dense::from_model(&ring.model);
        let iterations = if n > 1000 { 10 } else { 1000 };
        group.throughput(Throughput::Elements(iterations as u64));
        group.bench_function(format!("ring{n}/dense"), |b| {
            b.iter(|| black_box(dense.walk(iterations)))
        });
        group.throughput(Throughput::Elements(1000));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = fire
}
criterion_main!(benches);
