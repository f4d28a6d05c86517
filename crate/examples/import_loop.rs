//! Imports the benchmark's generated 10,000-place PNML file N times (or scans
//! it with a bare quick-xml event loop with `scan`), for measuring CPU time
//! with `perf stat` on a shared machine where wall-clock figures are noisy:
//!
//! ```sh
//! cargo build --release --example import_loop
//! perf stat -e task-clock target/release/examples/import_loop 21
//! perf stat -e task-clock target/release/examples/import_loop 1
//! ```
//! (CPU time of 21 runs minus 1 run, divided by 20, is one import.) With
//! `json`, the same net as its canonical JSON (2,983,288 bytes) through
//! `formats::import` instead.
#[path = "../benches/pnml_gen.rs"]
mod pnml_gen;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mode = args.next();
    let scan = mode.as_deref() == Some("scan");
    let mut text = pnml_gen::generate(10_000);
    if mode.as_deref() == Some("json") {
        text = petrichain::formats::import(text.as_bytes())
            .unwrap()
            .0
            .canonical_json();
    }
    for _ in 0..n {
        if scan {
            let mut reader = quick_xml::Reader::from_str(&text);
            while !matches!(
                reader.read_event(),
                Ok(quick_xml::events::Event::Eof) | Err(_)
            ) {}
        } else {
            let (model, _) = petrichain::formats::import(text.as_bytes()).unwrap();
            assert_eq!(model.places().len(), 10_000);
        }
    }
    eprintln!("{} bytes x {n}", text.len());
}
