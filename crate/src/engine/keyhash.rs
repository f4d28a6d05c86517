//! The hasher of the keyed places' maps: SipHash-1-3 under a secret seed.
//!
//! Keys come from remote events, so an unseeded fast hash (FxHash) would let
//! a peer choose keys that all land in one bucket and make every lookup
//! walk them. SipHash under keys the peer does not know is the standard
//! defence (it is std's `RandomState`); std cannot draw its keys on
//! wasm32-unknown-unknown (there `RandomState` is not random), so the seed
//! is ours: in a browser from `crypto.getRandomValues` through
//! [`seed_key_hashing`], which the web crate calls before it makes a
//! ledger; natively from std's `RandomState` (the OS generator).

use std::hash::BuildHasher;
use std::sync::OnceLock;

use siphasher::sip::SipHasher13;

static SEED: OnceLock<(u64, u64)> = OnceLock::new();

/// Sets the secret seed of the keyed places' maps, once, before any map is
/// made; later calls (and calls after the first map) change nothing and
/// return `false`. Natively the seed is drawn from the OS generator
/// without this call; a platform without one (wasm32-unknown-unknown)
/// must call it with 16 random bytes.
pub fn seed_key_hashing(seed: [u8; 16]) -> bool {
    let (a, b) = seed.split_at(8);
    let to_u64 = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap_or([0; 8]));
    SEED.set((to_u64(a), to_u64(b))).is_ok()
}

fn seed() -> (u64, u64) {
    *SEED.get_or_init(|| {
        let state = std::collections::hash_map::RandomState::new();
        (state.hash_one(0x5eed_u64), state.hash_one(0xfeed_u64))
    })
}

/// Builds SipHash-1-3 hashers under the process's secret seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyHashing(u64, u64);

impl Default for KeyHashing {
    fn default() -> Self {
        let (a, b) = seed();
        KeyHashing(a, b)
    }
}

impl BuildHasher for KeyHashing {
    type Hasher = SipHasher13;
    fn build_hasher(&self) -> SipHasher13 {
        SipHasher13::new_with_keys(self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_set_once_and_hashing_follows_it() {
        let a = KeyHashing::default();
        // The seed is fixed by the first map; a later seed changes nothing.
        assert!(!seed_key_hashing([7; 16]));
        assert_eq!(a.hash_one("alice"), KeyHashing::default().hash_one("alice"));
        assert_ne!(a.hash_one("alice"), KeyHashing(1, 2).hash_one("alice"));
    }
}
