//! A small seeded generator (SplitMix64) for the users and amounts of the
//! transfers: reproducible from `--seed`, no cryptographic claim (the
//! device keys and nonces come from the OS generator, as in any client).

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0; the modulo bias is negligible for the
    /// sizes capped by the options).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Two different indices in `0..n` (`n` >= 2).
    pub fn pair(&mut self, n: u64) -> (u64, u64) {
        let a = self.below(n);
        let b = (a + 1 + self.below(n.saturating_sub(1).max(1))) % n.max(1);
        (a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_differ_and_stay_in_range() {
        let mut r = Rng::new(3);
        for n in [2u64, 3, 10, 10_000] {
            for _ in 0..1000 {
                let (a, b) = r.pair(n);
                assert!(a < n && b < n && a != b, "{a} {b} {n}");
            }
        }
        assert_eq!(Rng::new(9).next_u64(), Rng::new(9).next_u64());
    }
}
