//! The importers' limits hold in bounded memory (issue 17): a JSON model
//! past the model's element limits is refused while it is read, before a
//! tree of the whole file exists, and XML with more nodes than
//! `ImportLimits::max_xml_nodes` stops at the cap. Peak heap is measured by
//! a counting allocator (this test binary's own).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use petrichain::formats::{import, import_with, ImportError, ImportLimits};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time (the test harness runs tests in threads).
static SERIAL: Mutex<()> = Mutex::new(());

/// Peak heap above what was in use before, while `f` runs on `input`.
fn peak_during<T>(input: &[u8], f: impl FnOnce(&[u8]) -> T) -> (T, usize) {
    let before = NOW.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f(input);
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(before))
}

const MB: usize = 1 << 20;

#[test]
fn a_json_model_with_too_many_arcs_is_refused_while_it_is_read() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // 1,000,001 arcs (the model limit is 1,000,000), 29 MB; a syntax error
    // at the very end, which a parse of the whole file would report first.
    let arc = r#"{"source":"p","target":"t"},"#;
    let mut text = String::with_capacity(arc.len() * 1_000_002 + 100);
    text.push_str(r#"{"places":[{"id":"p"}],"transitions":[{"id":"t"}],"arcs":["#);
    for _ in 0..1_000_001 {
        text.push_str(arc);
    }
    text.push_str("oops");
    let (result, peak) = peak_during(text.as_bytes(), import);
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::TooManyNodes {
                limit: 1_000_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "TOO_LARGE");
    assert!(
        err.to_string().contains(
            "more than 1000000 arcs (the model limit); the rest of the input was not read"
        ),
        "{err}"
    );
    // A tree of the whole file took about 25 bytes per byte of input
    // (2.6 GB for 56 MiB); the million arcs read as the model's own type
    // take a few bytes per byte.
    eprintln!(
        "peak heap {} MB for {} MB of JSON",
        peak / MB,
        text.len() / MB
    );
    assert!(
        peak < 8 * text.len(),
        "peak heap {} MB for {} MB of JSON",
        peak / MB,
        text.len() / MB
    );
}

#[test]
fn fifty_six_mib_of_angle_brackets_fail_fast_in_little_memory() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // In wasm this trapped (`RuntimeError: unreachable`): the XML arenas
    // reserved one element per `<`, 2.4 GB, beyond 32-bit memory.
    let text = vec![b'<'; 56 * MB];
    let (result, peak) = peak_during(&text, import);
    let err = result.unwrap_err();
    assert_eq!(err.code(), "TRUNCATED", "{err}");
    eprintln!("peak heap {} MB for 56 MiB of <", peak / MB);
    assert!(peak < 64 * MB, "peak heap {} MB", peak / MB);
}

#[test]
fn xml_stops_at_the_node_cap() {
    let limits = ImportLimits {
        max_xml_nodes: 1000,
        ..ImportLimits::default()
    };
    // 999 nodes: the root, 499 elements with one attribute each.
    let ok = format!("<pnml>{}</pnml>", "<a b=\"1\"/>".repeat(499));
    // Parsed to the end: refused by the PNML reader (no <net>), not the cap.
    let err = import_with(ok.as_bytes(), &limits).unwrap_err();
    assert!(!matches!(err, ImportError::TooManyNodes { .. }), "{err:?}");
    let over = format!("<pnml>{}</pnml>", "<a b=\"1\"/>".repeat(500));
    let err = import_with(over.as_bytes(), &limits).unwrap_err();
    assert!(
        matches!(err, ImportError::TooManyNodes { limit: 1000, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "TOO_LARGE");
    assert!(
        err.to_string()
            .contains("more than 1000 XML elements and attributes"),
        "{err}"
    );
}
