//! One firing on the compiled net, as the explorer needs it: for an actor
//! holding every role, multiple 1, with [`OMEGA`] ("as many as wanted", the
//! coverability graph's ω) as a count. On ω-free markings it computes
//! exactly what [`Model::fire_in_place`](crate::Model::fire_in_place)
//! computes (a test checks this on random nets), without building errors.

use crate::model::{CompiledTransition, Guard, MAX_TOKENS};

/// ω: unboundedly many tokens. No real count reaches it (counts stop at
/// 2^53 - 1).
pub(crate) const OMEGA: u64 = u64::MAX;

/// Whether `t` may fire once in `m` (roles ignored).
#[inline]
pub(crate) fn enabled(t: &CompiledTransition, m: &[u64]) -> bool {
    for guard in t.guards.iter() {
        match *guard {
            Guard::Below { place, n } if m[place as usize] >= n => return false,
            Guard::AtLeast { place, n } if m[place as usize] < n => return false,
            _ => {}
        }
    }
    for e in t.effects.iter() {
        let has = m[e.place as usize];
        if has == OMEGA {
            if e.reset && e.produce > e.limit {
                return false;
            }
            continue;
        }
        if has < e.consume {
            return false;
        }
        let kept = if e.reset { 0 } else { has - e.consume };
        // Both terms are at most 2^53 - 1: no u64 overflow.
        let after = kept + e.produce;
        if after > MAX_TOKENS || after > e.limit {
            return false;
        }
    }
    true
}

/// Writes the marking after firing `t` (which [`enabled`] accepted) into `out`.
#[inline]
pub(crate) fn fire_into(t: &CompiledTransition, m: &[u64], out: &mut [u64]) {
    out.copy_from_slice(m);
    for e in t.effects.iter() {
        let slot = &mut out[e.place as usize];
        if e.reset {
            *slot = e.produce;
        } else if *slot != OMEGA {
            *slot = *slot - e.consume + e.produce;
        }
    }
}
