//! In-browser firing benchmark (wasm in headless Chromium): the same
//! workloads as benches/fire.rs. Not part of `npm test`; run by
//! `npm run bench` (scripts/bench.sh), which prints the figures.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

#[path = "../../crate/benches/workloads.rs"]
mod workloads;
use workloads::{Dense, Game, Ring};

wasm_bindgen_test_configure!(run_in_browser);

/// Runs `f` (which returns firings done) for about `millis`, best of 5 rounds.
fn rate(millis: f64, mut f: impl FnMut() -> u64) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..5 {
        let start = js_sys::Date::now();
        let mut fired = 0u64;
        while js_sys::Date::now() - start < millis {
            fired += f();
        }
        best = best.max(fired as f64 / ((js_sys::Date::now() - start) / 1000.0));
    }
    best
}

#[wasm_bindgen_test]
fn bench_fire_in_wasm() {
    let game = Game::tictactoe();
    let tictactoe = rate(300.0, || game.play(1000));
    let mut ring30 = Ring::new(30);
    let small = rate(300.0, || ring30.walk(10_000));
    let mut ring10k = Ring::new(10_000);
    let large = rate(300.0, || ring10k.walk(10_000));
    let mut dense10k = Dense::from_model(&ring10k.model);
    let dense = rate(300.0, || dense10k.walk(10));
    console_log!(
        "BENCH wasm fire tictactoe: {:.1} M fires/s",
        tictactoe / 1e6
    );
    console_log!(
        "BENCH wasm fire ring30 sparse: {:.1} M fires/s",
        small / 1e6
    );
    console_log!(
        "BENCH wasm fire ring10000 sparse: {:.1} M fires/s",
        large / 1e6
    );
    console_log!(
        "BENCH wasm fire ring10000 dense (plain alternative): {:.3} M fires/s",
        dense / 1e6
    );
    assert!(tictactoe > 0.0 && large > 0.0, "the workloads ran");
}
