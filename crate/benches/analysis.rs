//! Analysis: invariants of a 500-place / 500-transition net (the contest's
//! Philosophers-PT-000100, and a 500-place ring), and state-space
//! exploration of Philosophers-PT-000013 (1,594,323 states, 1-safe) in
//! states per second, with the memory per state printed once.
//! Run: cargo bench -p petrichain --bench analysis
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use petrichain::analysis::{explore, p_invariants, t_invariants, ExploreLimits, NoClock};

#[path = "analysis_nets.rs"]
mod nets;

fn invariants(c: &mut Criterion) {
    let mut group = c.benchmark_group("invariants");
    let phil = nets::philosophers(100);
    let ring = nets::ring(500, 3);
    assert_eq!(p_invariants(&phil).unwrap().invariants.len(), 200);
    assert_eq!(t_invariants(&phil).unwrap().invariants.len(), 200);
    group.bench_function("philosophers100 (500x500)/P", |b| {
        b.iter(|| black_box(p_invariants(&phil).unwrap()))
    });
    group.bench_function("philosophers100 (500x500)/T", |b| {
        b.iter(|| black_box(t_invariants(&phil).unwrap()))
    });
    group.bench_function("ring500 (500x500)/P", |b| {
        b.iter(|| black_box(p_invariants(&ring).unwrap()))
    });
    group.finish();
}

fn state_space(c: &mut Criterion) {
    let mut group = c.benchmark_group("explore");
    let model = nets::philosophers(13);
    let limits = ExploreLimits {
        max_states: 2_000_000,
        ..Default::default()
    };
    let space = explore(&model, &limits, &NoClock).unwrap();
    assert!(space.complete);
    assert_eq!(space.states, 1_594_323);
    println!(
        "philosophers13: {} states, {} firings, {} bytes per state, {} bytes held",
        space.states, space.edges, space.bytes_per_state, space.memory_bytes
    );
    group.throughput(Throughput::Elements(space.states));
    group.sample_size(10);
    group.bench_function("philosophers13 (1,594,323 states)", |b| {
        b.iter(|| black_box(explore(&model, &limits, &NoClock).unwrap()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = invariants, state_space
}
criterion_main!(benches);
