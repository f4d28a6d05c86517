//! A seeded, mutation-based fuzz driver that runs on stable Rust inside
//! `cargo test` (issue 17: fuzzing in CI, bounded). libFuzzer (`cargo
//! fuzz`, fuzz/) needs a nightly toolchain for its coverage
//! instrumentation; this driver needs none: it takes seed inputs, applies
//! one to four random mutations to one of them (bit flips, interesting
//! bytes, dictionary tokens, deleted, repeated or truncated ranges, splices
//! of two seeds) and hands the result to the target's check, a fixed
//! number of times from a fixed seed, so a CI run is the same every time.
//! It is not coverage-guided; docs/formats.md ("Fuzzing") says what the
//! longer runs covered.
//!
//! `FUZZ_ITERATIONS=N` runs N inputs instead of the CI count and
//! `FUZZ_SEED=S` starts the generator elsewhere (longer runs). A failing
//! input is written to `target/fuzz-failures/` and named in the panic.
#![allow(dead_code)] // each test binary uses part of it

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

/// xorshift64*: small, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// In `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the parsers under test.
const INTERESTING: &[u8] = b"\0\x7f\xff\"\\{}[]<>/=&;:,.-+0129eE \n\r\t\xc3\xa9";

/// `seed` with one to four mutations.
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[&[u8]]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if !dict.is_empty() => {
                let token = dict[rng.below(dict.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                data.drain(start..end);
            }
            4 if len > 0 => {
                // Repeat a range (up to 8 times): long lists, deep nesting.
                let start = rng.below(len);
                let end = (start + 1 + rng.below(32)).min(len);
                let piece = data[start..end].to_vec();
                for _ in 0..1 + rng.below(8) {
                    data.splice(end..end, piece.iter().copied());
                }
            }
            5 if len > 0 => data.truncate(rng.below(len)),
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() && len > 0 {
                    let at = rng.below(len);
                    let from = rng.below(other.len());
                    data.truncate(at);
                    data.extend_from_slice(&other[from..]);
                }
            }
            7 if len > 0 => {
                // A digit run changed: counts, seqs, limits.
                let i = rng.below(len);
                if data[i].is_ascii_digit() {
                    let digits = b"0123456789";
                    for _ in 0..1 + rng.below(20) {
                        data.insert(i, digits[rng.below(10)]);
                    }
                }
            }
            _ => {
                let at = rng.below(len + 1);
                data.insert(at, INTERESTING[rng.below(INTERESTING.len())]);
            }
        }
    }
    data
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Runs `check` on every seed, then on `ci_iterations` mutated inputs
/// (`FUZZ_ITERATIONS` overrides), from generator seed `seed`
/// (`FUZZ_SEED` overrides). A panic in `check` fails the test with the
/// input saved. Returns how many inputs ran.
pub fn run(
    name: &str,
    seeds: &[Vec<u8>],
    dict: &[&[u8]],
    ci_iterations: u64,
    seed: u64,
    mut check: impl FnMut(&[u8]),
) -> u64 {
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let iterations = env_u64("FUZZ_ITERATIONS").unwrap_or(ci_iterations);
    let seed = env_u64("FUZZ_SEED").unwrap_or(seed);
    let mut rng = Rng::new(seed);
    let mut ran = 0u64;
    let mut one = |input: &[u8], label: String| {
        if catch_unwind(AssertUnwindSafe(|| check(input))).is_err() {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-failures");
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("{name}-{label}.bin"));
            let _ = std::fs::write(&path, input);
            panic!(
                "{name}: input {label} (FUZZ_SEED={seed}) failed; saved to {}",
                path.display()
            );
        }
    };
    for (i, s) in seeds.iter().enumerate() {
        one(s, format!("seed{i}"));
        ran += 1;
    }
    for i in 0..iterations {
        let input = mutate(&mut rng, seeds, dict);
        one(&input, format!("{i}"));
        ran += 1;
    }
    eprintln!("{name}: {ran} inputs (FUZZ_SEED={seed})");
    ran
}
