//! One load client: a device of its own (`Ledger::memory()`, its own
//! Ed25519 key) that fires transfers on its local copy of the Bank stream
//! and syncs them with the core's sync client, as the app does: pull and
//! verify what others appended, rebase the pending transfers on the new
//! head (the net refusing one if the balance no longer covers it: a
//! recorded conflict), conditional append of them all as one batch, again
//! on a 409. At most [`Job::pending`] transfers wait for one sync.
//!
//! Bounded: at most [`MAX_SYNC_ATTEMPTS`] syncs per batch (each at most
//! [`SYNC_ROUNDS`] rounds), and nothing starts after the run's deadline.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use petrichain::sync::{sync_stream, SyncEvent, SyncOptions};

use crate::rng::Rng;
use crate::timed::Timed;
use crate::transport::HttpTransport;

/// Syncs tried for one transfer before the client gives up (a failure of
/// the run: the server or the contention is not what the tool can measure).
pub const MAX_SYNC_ATTEMPTS: u32 = 200;
/// Rounds (pull, rebase, push) per sync before it reports contention.
pub const SYNC_ROUNDS: u32 = 4;
/// Longest pause between two syncs of a contended transfer (ms).
const MAX_BACKOFF_MS: u64 = 64;

/// The name of user `i`.
pub fn user(i: u64) -> String {
    format!("u{i}")
}

/// A transfer the server acknowledged: its nonce (kept through rebases)
/// and the hash of the event the server stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acked {
    pub nonce: String,
    pub hash: String,
}

/// What one client did.
#[derive(Debug, Default)]
pub struct Tally {
    pub acked: Vec<Acked>,
    /// Refused by the net on the client's own copy (overdraft): never sent.
    pub refused_local: u64,
    /// Fired locally, refused by the net when rebased on a newer head
    /// (recorded conflicts); their nonces must not be in the chain.
    pub refused_rebase: Vec<String>,
    /// Pending transfers re-fired on a newer head and kept.
    pub rebased: u64,
    /// Conditional appends answered 409.
    pub mismatches: u64,
    /// Syncs that gave up after [`SYNC_ROUNDS`] rounds and were retried.
    pub contended: u64,
    /// Round trips of the appends the server stored.
    pub append_latency: Vec<Duration>,
    /// From firing a transfer locally to its acknowledgement.
    pub transfer_latency: Vec<Duration>,
}

/// What one client is asked to do.
pub struct Job<'a> {
    pub id: usize,
    pub addr: SocketAddr,
    pub stream: &'a str,
    pub transfers: usize,
    pub users: u64,
    pub max_amount: u64,
    pub seed: u64,
    /// Most transfers fired and not yet acknowledged (one sync's batch).
    pub pending: usize,
    pub deadline: Instant,
    /// Set by any client that fails (or by the memory monitor): the
    /// others stop at their next batch.
    pub abort: &'a AtomicBool,
    /// Transfers acknowledged by all clients so far (progress lines).
    pub acked: &'a AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A transfer fired on the client's copy and not yet acknowledged.
struct Pending {
    nonce: String,
    /// When it was fired (the latency runs to its acknowledgement).
    fired: Instant,
}

/// Runs one client to the end of its transfers; `Err` says why it could
/// not (a timeout, an error other than the net's refusal, a remote error).
///
/// An offline-first client does not wait for one transfer's sync before
/// the next: its user goes on transferring while a sync is in flight, and
/// the next sync pushes everything pending as one batch (rebased on the
/// new head first, if the head moved). The client here is one thread that
/// blocks on its HTTP calls, so it models that user as always having the
/// next transfer ready: it fires up to `job.pending` transfers on its
/// copy, then syncs them all, and so on (`--pending 1`: one transfer per
/// sync, as the tool did first).
pub fn run(job: &Job<'_>) -> Result<Tally, String> {
    let who = format!("client {}", job.id);
    let transport = HttpTransport::try_new(job.addr)
        .map(Timed::new)
        .map_err(|e| format!("{who}: cannot connect to {}: {e}", job.addr))?;
    let ledger = Ledger::memory();
    let mut rng = Rng::new(job.seed ^ (job.id as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let mut tally = Tally::default();
    let conflicts: RefCell<Vec<(String, String, String)>> = RefCell::default();
    block_on(async {
        // The Bank stream as registration left it.
        sync(job, &ledger, &transport, &conflicts, &mut rng, &mut tally).await?;
        let mut k = 0;
        while k < job.transfers {
            if job.abort.load(Ordering::Relaxed) {
                return Err(format!(
                    "{who}: stopped (another client failed, or the memory cap)"
                ));
            }
            if Instant::now() >= job.deadline {
                return Err(format!(
                    "{who}: the run's deadline passed after {k} transfers"
                ));
            }
            let before = ledger
                .stream(job.stream)
                .await
                .map_err(|e| e.to_string())?
                .seq;
            let mut pending: Vec<Pending> = Vec::with_capacity(job.pending);
            while pending.len() < job.pending && k < job.transfers {
                let (from, to) = rng.pair(job.users);
                let amount = 1 + rng.below(job.max_amount);
                let action = Action::new("transfer")
                    .arg("from", user(from))
                    .arg("to", user(to))
                    .multiple(amount)
                    .payload(format!("{{\"client\":{},\"n\":{k}}}", job.id));
                let fired = Instant::now();
                k += 1;
                match ledger.fire(job.stream, &action, now_ms()).await {
                    Ok(event) => pending.push(Pending {
                        nonce: event.nonce,
                        fired,
                    }),
                    // Overdraft on this copy: refused, never sent.
                    Err(e) if e.code() == "NOT_ENABLED" => tally.refused_local += 1,
                    Err(e) => return Err(format!("{who}: transfer {k}: {} {e}", e.code())),
                }
            }
            // Pushes the batch, or (all refused) pulls what others did.
            sync(job, &ledger, &transport, &conflicts, &mut rng, &mut tally).await?;
            let refused = conflicts.borrow_mut().drain(..).collect::<Vec<_>>();
            if let Some((_, code, message)) =
                refused.iter().find(|(_, code, _)| code != "NOT_ENABLED")
            {
                return Err(format!(
                    "{who}: a rebase refused a transfer with {code}: {message}"
                ));
            }
            if let Some(other) = refused
                .iter()
                .find(|(n, _, _)| !pending.iter().any(|p| p.nonce == *n))
            {
                return Err(format!(
                    "{who}: a conflict for a transfer not pending: {other:?}"
                ));
            }
            // Acknowledged: find the events the server holds (their seq
            // and hash changed if they were rebased, their nonces did not).
            let tail = ledger
                .events(job.stream, before, None)
                .await
                .map_err(|e| e.to_string())?;
            let hashes: HashMap<&str, &str> = tail
                .iter()
                .map(|e| (e.nonce.as_str(), e.hash.as_str()))
                .collect();
            for p in pending {
                if refused.iter().any(|(n, _, _)| *n == p.nonce) {
                    tally.refused_rebase.push(p.nonce);
                    continue;
                }
                let hash = hashes.get(p.nonce.as_str()).ok_or(format!(
                    "{who}: transfer {} synced but not in the local chain",
                    p.nonce
                ))?;
                tally.acked.push(Acked {
                    hash: hash.to_string(),
                    nonce: p.nonce,
                });
                tally.transfer_latency.push(p.fired.elapsed());
                job.acked.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    })?;
    let stats = transport.stats.into_inner();
    tally.append_latency = stats.appended;
    tally.mismatches = stats.mismatches;
    Ok(tally)
}

/// Syncs until nothing is pending, retrying contention with a short random
/// pause; the net's refusals land in `conflicts` (nonce, code, message).
async fn sync(
    job: &Job<'_>,
    ledger: &Ledger<MemoryStore>,
    transport: &Timed,
    conflicts: &RefCell<Vec<(String, String, String)>>,
    rng: &mut Rng,
    tally: &mut Tally,
) -> Result<(), String> {
    let on_event = |e: &SyncEvent| {
        if let SyncEvent::Conflict { conflict } = e {
            conflicts.borrow_mut().push((
                conflict.event.nonce.clone(),
                conflict.code.clone(),
                conflict.message.clone(),
            ));
        }
    };
    for attempt in 0..MAX_SYNC_ATTEMPTS {
        if job.abort.load(Ordering::Relaxed) {
            return Err(format!(
                "client {}: stopped while syncing (another client failed, or the memory cap)",
                job.id
            ));
        }
        if Instant::now() >= job.deadline {
            return Err(format!(
                "client {}: the run's deadline passed while syncing",
                job.id
            ));
        }
        let options = SyncOptions {
            max_rounds: SYNC_ROUNDS,
            now: now_ms(),
            ..SyncOptions::default()
        };
        match sync_stream(ledger, transport, job.stream, &options, &on_event).await {
            Ok(report) => {
                tally.rebased = tally.rebased.saturating_add(report.rebased);
                if report.pending == 0 {
                    return Ok(());
                }
            }
            Err(e) if e.retryable() => {
                tally.contended = tally.contended.saturating_add(1);
                let cap = (1u64 << attempt.min(6)).min(MAX_BACKOFF_MS);
                std::thread::sleep(Duration::from_millis(1 + rng.below(cap)));
            }
            Err(e) => return Err(format!("client {}: sync failed: {} {e}", job.id, e.code())),
        }
    }
    Err(format!(
        "client {}: still pending after {MAX_SYNC_ATTEMPTS} syncs",
        job.id
    ))
}
