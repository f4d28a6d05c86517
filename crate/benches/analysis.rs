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

    // The plain alternative, same run: a HashMap of Vec<u64> markings and the
    // engine's own fire, breadth first, on a smaller instance of the net.
    let small = nets::philosophers(11);
    let states = explore(&small, &limits, &NoClock).unwrap().states;
    assert_eq!(states, 177_147);
    group.throughput(Throughput::Elements(states));
    group.bench_function("philosophers11 (177,147 states)/petrichain", |b| {
        b.iter(|| black_box(explore(&small, &limits, &NoClock).unwrap()))
    });
    group.bench_function(
        "philosophers11 (177,147 states)/plain HashMap<Vec<u64>>",
        |b| b.iter(|| black_box(plain_bfs(&small))),
    );
    group.finish();
}

/// Breadth-first search with a std HashMap of whole markings (the plain
/// alternative): returns the state count.
fn plain_bfs(model: &petrichain::Model) -> usize {
    use std::collections::{HashMap, VecDeque};
    let all = model.roles(&["*"]);
    let mut seen: HashMap<Vec<u64>, u32> = HashMap::new();
    let mut queue = VecDeque::new();
    let m0 = model.initial_marking();
    seen.insert(m0.0.clone(), 0);
    queue.push_back(m0);
    while let Some(m) = queue.pop_front() {
        for t in 0..model.transitions().len() {
            let mut next = m.clone();
            if model.fire_in_place(&mut next, t, 1, &all).is_ok() && !seen.contains_key(&next.0) {
                let n = seen.len() as u32;
                seen.insert(next.0.clone(), n);
                queue.push_back(next);
            }
        }
    }
    seen.len()
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = invariants, state_space
}
criterion_main!(benches);
