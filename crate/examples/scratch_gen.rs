use std::fmt::Write;
include!("/tmp/fmtscratch/gen.rs");
fn main() {
    std::fs::write("/tmp/fmtscratch/big.pnml", generate(10_000)).unwrap();
}
