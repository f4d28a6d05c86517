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
//! `xml_many_attributes/N`: a PNML net whose one place carries N distinct
//! attributes, imported end to end. The time per attribute must stay flat as
//! N grows (the duplicate-attribute check is linear); the plain alternative in
//! the same group is a bare quick-xml event scan through quick-xml's own
//! checked attribute iterator (`with_checks(true)`: linear too since 0.42, a
//! hash pre-filter past 32 attributes, but on qualified names, so `p:id` and
//! `id` would pass it) that builds nothing.
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

/// A small net whose place `p` carries `n` distinct attributes.
fn many_attributes(n: usize) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(n * 16 + 300);
    s.push_str("<pnml><net id=\"n\" type=\"http://www.pnml.org/version-2009/grammar/ptnet\"><page id=\"g\"><place id=\"p\"");
    for i in 0..n {
        let _ = write!(s, " a{i}=\"{i}\"");
    }
    s.push_str("/></page></net></pnml>");
    s
}

/// quick-xml's own duplicate check: every attribute through the checked iterator.
fn scan_checked_attributes(text: &str) -> usize {
    let mut reader = Reader::from_str(text);
    let mut attributes = 0;
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let mut it = e.attributes();
                it.with_checks(true);
                for a in it {
                    a.unwrap();
                    attributes += 1;
                }
            }
            Event::Eof => return attributes,
            _ => {}
        }
    }
}

fn many_attributes_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("xml_many_attributes");
    group.sample_size(10);
    for n in [10_000, 20_000, 40_000, 100_000, 200_000] {
        let text = many_attributes(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("petrichain import/{n}"), |b| {
            let (model, _) = formats::import(text.as_bytes()).unwrap();
            assert_eq!(model.places().len(), 1);
            b.iter(|| formats::import(std::hint::black_box(text.as_bytes())).unwrap())
        });
        if n <= 40_000 {
            group.bench_function(format!("quick-xml checked attributes/{n}"), |b| {
                b.iter(|| scan_checked_attributes(std::hint::black_box(&text)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, parse, many_attributes_bench);
criterion_main!(benches);
