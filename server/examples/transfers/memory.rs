//! The run's memory bound and its progress lines.
//!
//! Each client holds a whole copy of the chain (a `Ledger::memory()`: the
//! events, the key records, the states at its tip and sync point), so the
//! tool's memory grows as clients x (users + transfers). Two guards keep it
//! within `--max-memory` MB (default [`DEFAULT_MAX_MEMORY_MB`]) by design:
//! a run whose least possible size ([`estimate_bytes`]) is over the cap
//! is refused before it starts, and a [`Monitor`] thread reads the
//! process's resident size twice a second and stops the clients (the run
//! fails, saying so) when it passes the cap. The peak (`VmHWM`) is printed
//! with the figures; BENCHMARKS.md has them (5.6 GB at the size).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The default cap (MB): the tool shares its machine with other work.
pub const DEFAULT_MAX_MEMORY_MB: u64 = 6_144;

/// The least a client holds per event of its copy of the chain: the
/// event's fields (~1.2 KB of strings: hashes, signature, key, nonce)
/// and its hash index. Measured, a client holds more (its key records,
/// its states, the allocator's slack: 5.6 GB for 100 clients at the
/// issue's size, ~2.3 KB per client-event), so this only refuses runs
/// that cannot fit; the monitor enforces the cap.
pub const BYTES_PER_CLIENT_EVENT: u64 = 1_500;

/// The least the clients' copies hold at the end of the run: every
/// client has every event (the users' openings and every transfer).
pub fn estimate_bytes(clients: usize, users: usize, transfers: usize) -> u64 {
    let events = (users as u64).saturating_add(transfers as u64);
    (clients as u64)
        .saturating_mul(events)
        .saturating_mul(BYTES_PER_CLIENT_EVENT)
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`); `None`
/// where there is no such file (not Linux).
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}

/// Watches the resident size while the clients run.
pub struct Monitor {
    cap: u64,
    /// Transfers acknowledged so far (the clients add to it).
    pub acked: AtomicU64,
    stop: AtomicBool,
    over: Mutex<Option<String>>,
}

impl Monitor {
    pub fn new(cap_mb: u64) -> Monitor {
        Monitor {
            cap: cap_mb.saturating_mul(1024 * 1024),
            acked: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            over: Mutex::new(None),
        }
    }

    /// Runs until [`Monitor::finish`]: sets `abort` if the resident size
    /// passes the cap, and prints a progress line every `every`.
    pub fn watch(&self, abort: &AtomicBool, total: usize, every: Duration) {
        let start = Instant::now();
        let mut next = every;
        while !self.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(500));
            let rss = status_bytes("VmRSS").unwrap_or(0);
            if rss > self.cap {
                let mut over = self.over.lock().unwrap_or_else(|e| e.into_inner());
                over.get_or_insert(format!(
                    "the tool's memory passed --max-memory: {} MB resident, cap {} MB \
                     (each client holds the whole chain: lower -c, -u or -t)",
                    rss >> 20,
                    self.cap >> 20
                ));
                abort.store(true, Ordering::Relaxed);
            }
            if start.elapsed() >= next {
                next += every;
                eprintln!(
                    "  [{:>5.0} s] acknowledged {} of {total} asked, resident {} MB",
                    start.elapsed().as_secs_f64(),
                    self.acked.load(Ordering::Relaxed),
                    rss >> 20
                );
            }
        }
    }

    /// Stops [`Monitor::watch`].
    pub fn finish(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Why the run was stopped, if the cap was passed.
    pub fn over(&self) -> Option<String> {
        self.over.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_grows_with_clients_and_events_and_saturates() {
        assert_eq!(estimate_bytes(1, 0, 1), BYTES_PER_CLIENT_EVENT);
        assert_eq!(
            estimate_bytes(100, 10_000, 20_000),
            100 * 30_000 * BYTES_PER_CLIENT_EVENT
        );
        assert_eq!(estimate_bytes(usize::MAX, usize::MAX, usize::MAX), u64::MAX);
    }

    #[test]
    fn the_resident_size_is_read_on_linux() {
        if std::path::Path::new("/proc/self/status").exists() {
            let rss = status_bytes("VmRSS").unwrap();
            assert!(rss > 0 && status_bytes("VmHWM").unwrap() >= rss);
        }
        assert_eq!(status_bytes("NoSuchField"), None);
    }

    #[test]
    fn passing_the_cap_stops_the_clients_with_a_reason() {
        if !std::path::Path::new("/proc/self/status").exists() {
            return; // no resident size to read: the cap cannot be checked
        }
        let monitor = Monitor::new(0);
        let abort = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| monitor.watch(&abort, 1, Duration::from_secs(3600)));
            while !abort.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
            monitor.finish();
        });
        assert!(monitor.over().unwrap().contains("--max-memory"));
    }
}
