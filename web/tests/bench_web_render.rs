//! In-browser rendering benchmark (wasm in headless Chromium), the same nets
//! as benches/render.rs. Run by `npm run bench -- wasm`.
#![cfg(target_arch = "wasm32")]

use petrichain::render::{layout, layout_routed, needs_layout, render_svg, RenderOptions};
use wasm_bindgen_test::*;

#[path = "../../crate/benches/nets.rs"]
mod nets;

wasm_bindgen_test_configure!(run_in_browser);

/// Median milliseconds of `runs` calls of `f` after 3 warm-up calls.
fn median_ms(runs: usize, mut f: impl FnMut() -> usize) -> f64 {
    let now = || js_sys::Date::now();
    let mut sink = 0;
    for _ in 0..3 {
        sink += f();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            // Date.now() has 1 ms resolution: time 10 calls per sample.
            let start = now();
            for _ in 0..10 {
                sink += f();
            }
            (now() - start) / 10.0
        })
        .collect();
    assert!(sink > 0);
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

#[wasm_bindgen_test]
fn bench_render_in_wasm() {
    let model = nets::generated(1000, true);
    let marking = model.initial_marking();
    let options = RenderOptions::new();
    let render = median_ms(15, || render_svg(&model, &marking, &options).len());
    let unplaced = nets::generated(200, false);
    let layered = median_ms(15, || layout(&unplaced).len());
    console_log!("BENCH wasm render 1000-node net: {render:.2} ms (median)");
    console_log!("BENCH wasm layout 200-node net without positions: {layered:.2} ms (median)");
}

/// Issue 15's targets: layout of a 2,000-node net without positions
/// <= 200 ms, render of it <= 20 ms (the drawing of the laid-out net;
/// with the layout included too, for the whole cost of opening it).
#[wasm_bindgen_test]
fn bench_layout_2000_in_wasm() {
    let unplaced = nets::generated(2000, false);
    assert!(needs_layout(&unplaced));
    let marking = unplaced.initial_marking();
    let options = RenderOptions::new();
    let layered = median_ms(5, || layout_routed(&unplaced).positions.len());
    let placed = nets::laid_out(&unplaced);
    assert!(!needs_layout(&placed));
    let render = median_ms(9, || render_svg(&placed, &marking, &options).len());
    let whole = median_ms(5, || render_svg(&unplaced, &marking, &options).len());
    console_log!("BENCH wasm layout 2000-node net without positions: {layered:.2} ms (median)");
    console_log!("BENCH wasm render 2000-node net, laid out: {render:.2} ms (median)");
    console_log!("BENCH wasm render 2000-node net without positions (layout included): {whole:.2} ms (median)");
}
