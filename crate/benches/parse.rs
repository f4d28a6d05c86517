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
use std::fmt::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use petrichain::formats;
use quick_xml::events::Event;
use quick_xml::Reader;

/// A PNML 2009 file with `places` places, as many transitions, and a ring of
/// arcs (p_i -> t_i -> p_{i+1}), every node named and positioned, the way
/// editors write them.
fn generate(places: usize) -> String {
    let mut s = String::with_capacity(places * 700);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<pnml xmlns=\"http://www.pnml.org/version-2009/grammar/pnml\">\n");
    s.push_str("<net id=\"big\" type=\"http://www.pnml.org/version-2009/grammar/ptnet\">\n<name><text>generated</text></name>\n<page id=\"page\">\n");
    for i in 0..places {
        let (x, y) = ((i % 100) * 60, (i / 100) * 60);
        let _ = write!(
            s,
            "  <place id=\"p{i}\">\n    <name><text>place {i}</text><graphics><offset x=\"0\" y=\"-10\"/></graphics></name>\n    <graphics><position x=\"{x}.0\" y=\"{y}.0\"/><dimension x=\"20\" y=\"20\"/></graphics>\n    <initialMarking><text>{}</text></initialMarking>\n  </place>\n",
            i % 3
        );
        let _ = write!(
            s,
            "  <transition id=\"t{i}\">\n    <name><text>transition {i}</text></name>\n    <graphics><position x=\"{}.5\" y=\"{y}.0\"/></graphics>\n  </transition>\n",
            x + 30
        );
    }
    for i in 0..places {
        let next = (i + 1) % places;
        let _ = write!(
            s,
            "  <arc id=\"a{i}\" source=\"p{i}\" target=\"t{i}\">\n    <inscription><text>1</text></inscription>\n  </arc>\n  <arc id=\"b{i}\" source=\"t{i}\" target=\"p{next}\">\n    <inscription><text>2</text></inscription>\n    <graphics><position x=\"1\" y=\"2\"/></graphics>\n  </arc>\n"
        );
    }
    s.push_str("</page>\n</net>\n</pnml>\n");
    s
}

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
    let text = generate(10_000);
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
