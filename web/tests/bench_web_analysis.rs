//! In-browser analysis benchmark (wasm in headless Chromium): the workloads
//! of crate/benches/analysis.rs. Not part of `npm test`; run by `npm run
//! bench` (scripts/bench.sh), which prints the figures.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

use petrichain::analysis::{explore, p_invariants, t_invariants, ExploreLimits};

#[path = "../../crate/benches/analysis_nets.rs"]
mod nets;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> u64 {
    js_sys::Date::now() as u64
}

#[wasm_bindgen_test]
fn bench_analysis_in_wasm() {
    let phil100 = nets::philosophers(100);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = js_sys::Date::now();
        let p = p_invariants(&phil100).unwrap();
        let t = t_invariants(&phil100).unwrap();
        assert_eq!((p.invariants.len(), t.invariants.len()), (200, 200));
        best = best.min(js_sys::Date::now() - start);
    }
    console_log!(
        "BENCH wasm analysis invariants (P and T) of philosophers100 (500x500): {best:.1} ms"
    );

    let model = nets::philosophers(12);
    let limits = ExploreLimits {
        max_states: 1_000_000,
        ..Default::default()
    };
    let mut rate = 0.0f64;
    let mut last = None;
    for _ in 0..3 {
        let start = js_sys::Date::now();
        let space = explore(&model, &limits, &now).unwrap();
        let secs = (js_sys::Date::now() - start) / 1000.0;
        rate = rate.max(space.states as f64 / secs);
        last = Some(space);
    }
    let space = last.unwrap();
    assert!(space.complete);
    assert_eq!(space.states, 531_441);
    console_log!(
        "BENCH wasm analysis explore philosophers12 ({} states): {:.2} M states/s, {} bytes per state, {} bytes held",
        space.states,
        rate / 1e6,
        space.bytes_per_state,
        space.memory_bytes
    );
}
