//! Parse throughput of a generated 10,000-place PNML file.
//!
//! Compared side by side in one run:
//! - `petrichain import`: `formats::import` end to end (format detection, XML
//!   tree with DTD / depth / entity checks, PNML reading, reference
//!   resolution, model validation, normalisation, compilation and the
//!   SHA-256 model id);
//! - `quick-xml event scan`: the plain alternative, a bare quick-xml event
//!   loop over the same bytes that builds nothing.
//!
//! Run: `cargo bench -p petrichain --bench parse`
#[path = "pnml_gen.rs"]
mod pnml_gen;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use petrichain::formats;
use quick_xml::events::Event;
use quick_xml::Reader;

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

fn parse(c: &mut Criterion) {
    let text = pnml_gen::generate(10_000);
    let bytes = text.as_bytes();
    let (model, warnings) = formats::import(bytes).unwrap();
    assert_eq!(model.places().len(), 10_000);
    assert!(warnings.is_empty());

    let mut group = c.benchmark_group("pnml_10k_places");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(20);
    group.bench_function("petrichain import", |b| {
        b.iter(|| formats::import(std::hint::black_box(bytes)).unwrap())
    });
    group.bench_function("quick-xml event scan", |b| {
        b.iter(|| scan(std::hint::black_box(bytes)))
    });
    group.finish();
    println!(
        "input: {} bytes, {} places, {} transitions, {} arcs",
        bytes.len(),
        model.places().len(),
        model.transitions().len(),
        model.arcs().len()
    );
}

criterion_group!(benches, parse);
criterion_main!(benches);
