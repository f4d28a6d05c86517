use std::time::Instant;
fn main() {
    let text = std::fs::read_to_string("/tmp/fmtscratch/big.pnml").unwrap();
    let mut best = std::time::Duration::MAX;
    for _ in 0..15 {
        let t = Instant::now();
        let _ = petrichain::formats::import(text.as_bytes()).unwrap();
        best = best.min(t.elapsed());
    }
    let mut scan = std::time::Duration::MAX;
    for _ in 0..15 {
        let t = Instant::now();
        let mut r = quick_xml::Reader::from_str(&text);
        loop {
            if let quick_xml::events::Event::Eof = r.read_event().unwrap() {
                break;
            }
        }
        scan = scan.min(t.elapsed());
    }
    println!(
        "best import {:?} = {:.0} MB/s; scan {:?} = {:.0} MB/s",
        best,
        text.len() as f64 / best.as_secs_f64() / 1e6,
        scan,
        text.len() as f64 / scan.as_secs_f64() / 1e6
    );
}
