//! In-browser import benchmark (wasm in headless Chromium): the same generated
//! 10,000-place PNML as benches/parse.rs, `formats::import` end to end, side by
//! side with a bare quick-xml event scan of the same bytes. Run by
//! `npm run bench -- wasm`.
#![cfg(target_arch = "wasm32")]

use quick_xml::events::Event;
use quick_xml::Reader;
use wasm_bindgen_test::*;

#[path = "../../crate/benches/pnml_gen.rs"]
mod pnml_gen;

wasm_bindgen_test_configure!(run_in_browser);

/// The plain alternative, as in benches/parse.rs: every XML event read, nothing built.
fn scan(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut reader = Reader::from_str(text);
    let mut elements = 0;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(_) | Event::Empty(_) => elements += 1,
            Event::Eof => return elements,
            _ => {}
        }
    }
}

/// Best MB/s over `rounds` runs of `f` on `bytes`.
fn best_mb_per_s(bytes: &[u8], rounds: usize, mut f: impl FnMut(&[u8]) -> usize) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..rounds {
        let start = js_sys::Date::now();
        assert!(f(bytes) > 0);
        let secs = ((js_sys::Date::now() - start) / 1000.0).max(1e-3);
        best = best.max(bytes.len() as f64 / 1e6 / secs);
    }
    best
}

#[wasm_bindgen_test]
fn bench_import_in_wasm() {
    let text = pnml_gen::generate(10_000);
    let bytes = text.as_bytes();
    let import = best_mb_per_s(bytes, 5, |b| {
        let (model, _) = petrichain::formats::import(b).expect("generated PNML imports");
        model.places().len()
    });
    let plain = best_mb_per_s(bytes, 5, scan);
    console_log!(
        "BENCH wasm import of a generated 10,000-place PNML ({:.1} MB): {import:.1} MB/s; quick-xml event scan (plain alternative): {plain:.1} MB/s",
        bytes.len() as f64 / 1e6
    );
}
