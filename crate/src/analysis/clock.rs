//! Time for the time limits of an exploration, from whoever runs it: the
//! core cannot read a clock the same way natively and in WebAssembly
//! (`std::time::Instant` panics on `wasm32-unknown-unknown`), so the caller
//! passes one in. The web binding passes `Date.now()`.

/// Milliseconds since some fixed moment; only differences are used.
pub trait Clock {
    /// Milliseconds since an arbitrary fixed start.
    fn now_ms(&self) -> u64;
}

/// A clock that never moves: explorations run until their state or memory
/// limit (tests, deterministic runs).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoClock;

impl Clock for NoClock {
    fn now_ms(&self) -> u64 {
        0
    }
}

/// The native monotonic clock (`std::time::Instant`). Not for
/// `wasm32-unknown-unknown`, where `Instant::now` panics: pass a clock that
/// reads `Date.now()` there.
#[derive(Debug, Clone, Copy)]
pub struct StdClock(std::time::Instant);

impl StdClock {
    /// A clock whose zero is now.
    pub fn start() -> StdClock {
        StdClock(std::time::Instant::now())
    }
}

impl Clock for StdClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl<F: Fn() -> u64> Clock for F {
    fn now_ms(&self) -> u64 {
        self()
    }
}
