//! The transfer service of the lineage as a load tool (issue 14): C
//! concurrent clients issue T transfers between U registered users of one
//! Bank stream (www/examples/bank.json) through the reference server, then
//! the tool checks what the server holds.
//!
//! ```text
//! cargo run --release -p petrichain-server --example transfers -- -c 100 -t 20000 -u 10000
//! # on PostgreSQL (the script starts a throwaway server and passes its URL
//! # in PETRICHAIN_TEST_POSTGRES_URL), or on both one after the other:
//! bash scripts/ci/postgres.sh cargo run --release -p petrichain-server --example transfers -- --db postgres
//! ```
//!
//! 1. An in-process `petrichain-server` on 127.0.0.1:0 (loopback only: the
//!    address is not an option, and a bound address that is not loopback
//!    stops the run) on a fresh database: a new SQLite file, or a new
//!    PostgreSQL database created and dropped at `--postgres-url` (default
//!    `$PETRICHAIN_TEST_POSTGRES_URL`).
//! 2. A registrar device opens U accounts `u0..u{U-1}` (each `open` puts
//!    100 tokens on `balance[user]`) and syncs them.
//! 3. C client threads, each a `Ledger::memory()` with its own device key,
//!    fire their share of the T transfers (random users `from != to`,
//!    random amount 1..=`--max-amount`), up to `--pending` (default 50) at
//!    a time, and sync each batch with the core's sync client (pull +
//!    verify, rebase on a newer head, one conditional append for the
//!    batch, again on 409). A transfer the balance cannot cover is refused
//!    by the net, on the client's copy or at the rebase (a recorded
//!    conflict): counted, not an error.
//! 4. Checks, each a non-zero exit with the reason on failure: the chain,
//!    read page by page through the server's API, verifies with the core's
//!    `Verifier`; the sum of all balances (and the head's total) equals the
//!    sum of the opening balances; every acknowledged transfer (by nonce)
//!    is in the chain exactly once, with the acknowledged hash, and nothing
//!    else is; no refused transfer is; after the server stopped, the
//!    storage replays clean with `petrichain-server verify`'s
//!    `verify_all`.
//!
//! Prints acknowledged transfers/s, 409s, rebases, refusals and the p50 /
//! p95 latencies of the appends and of whole transfers.
//!
//! Bounded: C <= 256, T <= 1,000,000, U <= 100,000 (options.rs); each
//! transfer at most 200 syncs of at most 4 rounds (bank_client.rs); the
//! whole run `--timeout` seconds (default 1800, at most 7200), after which
//! the clients stop and a watchdog ends the process 60 s later.

#[path = "../../tests/common/client.rs"]
mod client;
#[path = "../../tests/common/transport.rs"]
#[allow(dead_code)] // `new` is for the tests; the tool uses `try_new`
mod transport;

mod bank_client;
mod check;
mod memory;
mod options;
mod pg;
mod rng;
mod timed;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use petrichain::formats::json::import_json;
use petrichain::model::Model;
use petrichain::store::{block_on, Action, Ledger};
use petrichain::sync::{sync_stream, SyncOptions};
use petrichain_server::config::{Database, Synchronous};

use bank_client::{Job, Tally};
use options::{Db, Options};

pub use client::{Client, Response};

/// `/v2` (the protocol version) followed by `path` (for transport.rs).
pub fn v2(path: &str) -> String {
    format!("/{}{path}", petrichain::sync::protocol::PROTOCOL_VERSION)
}

/// The stream the clients share.
const STREAM: &str = "bank";

fn main() -> ExitCode {
    let env = std::env::var("PETRICHAIN_TEST_POSTGRES_URL").ok();
    let o = match options::parse(std::env::args().skip(1), env) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}");
            }
            eprintln!("{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    let deadline = Instant::now() + Duration::from_secs(o.timeout_secs);
    // The clients stop at the deadline; this ends a run stuck elsewhere.
    let limit = o.timeout_secs + 60;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(limit));
        eprintln!("FAILED: the run did not end within {limit} s (--timeout plus 60 s)");
        std::process::exit(1);
    });
    let dbs = match o.db {
        Db::Sqlite => vec![Db::Sqlite],
        Db::Postgres => vec![Db::Postgres],
        Db::Both => vec![Db::Sqlite, Db::Postgres],
    };
    println!(
        "{} clients, {} transfers, {} users (100 tokens each), amounts 1..={}, seed {}, synchronous {}, at most {} pending per client",
        o.clients,
        o.transfers,
        o.users,
        o.max_amount,
        o.seed,
        o.synchronous.as_str(),
        o.pending
    );
    for db in dbs {
        let name = if db == Db::Sqlite {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        match run(&o, db, deadline) {
            Ok(s) => s.print(name),
            Err(e) => {
                eprintln!("FAILED on {name}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}

/// What one run measured (all checks passed).
struct Summary {
    registration: Duration,
    elapsed: Duration,
    tally: Tally,
    chain_events: u64,
    balance_sum: u128,
}

/// The process's peak resident size so far, for the figures.
fn peak_memory() -> String {
    memory::status_bytes("VmHWM").map_or("unknown (no /proc)".into(), |b| format!("{} MB", b >> 20))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

impl Summary {
    fn print(&self, db: &str) {
        let t = &self.tally;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut append = t.append_latency.clone();
        append.sort();
        let mut whole = t.transfer_latency.clone();
        whole.sort();
        println!("\n{db}: all checks passed");
        println!(
            "  registration: {:.2} s; transfers: {:.2} s",
            self.registration.as_secs_f64(),
            secs
        );
        println!(
            "  acknowledged {} ({:.0} transfers/s); refused for overdraft {} ({} on the client's copy, {} at rebase)",
            t.acked.len(),
            t.acked.len() as f64 / secs,
            t.refused_local + t.refused_rebase.len() as u64,
            t.refused_local,
            t.refused_rebase.len()
        );
        println!(
            "  409 head mismatches {}, transfers rebased {}, contended syncs retried {}",
            t.mismatches, t.rebased, t.contended
        );
        println!(
            "  append latency p50 {:.2} ms, p95 {:.2} ms ({} appends); transfer (fire to acknowledged) p50 {:.2} ms, p95 {:.2} ms",
            percentile(&append, 0.5),
            percentile(&append, 0.95),
            append.len(),
            percentile(&whole, 0.5),
            percentile(&whole, 0.95)
        );
        println!(
            "  chain: {} events, verified (core Verifier and petrichain-server verify); sum of balances {}",
            self.chain_events, self.balance_sum
        );
        println!(
            "  peak resident memory of the tool (server and clients) so far: {}",
            peak_memory()
        );
    }
}

/// One whole run on a fresh database of kind `db`.
fn run(o: &Options, db: Db, deadline: Instant) -> Result<Summary, String> {
    let (model, _) = import_json(include_str!("../../../www/examples/bank.json"))
        .map_err(|e| format!("the Bank model: {e}"))?;
    let dir = std::env::temp_dir().join(format!("petrichain-transfers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let fresh_pg = match db {
        Db::Sqlite => None,
        _ => Some(pg::FreshDb::create(
            o.postgres_url.as_deref().unwrap_or_default(),
            o.synchronous == Synchronous::Normal,
        )?),
    };
    let database = match &fresh_pg {
        None => Database::Sqlite(dir.join("bank.sqlite")),
        Some(pg) => Database::Postgres(pg.url.clone()),
    };
    let result = serve_and_drive(o, &model, database, deadline);
    let _ = std::fs::remove_dir_all(&dir);
    drop(fresh_pg);
    result
}

fn serve_and_drive(
    o: &Options,
    model: &Model,
    db: Database,
    deadline: Instant,
) -> Result<Summary, String> {
    let config = petrichain_server::Config {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        db,
        synchronous: o.synchronous,
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let server = runtime
        .block_on(petrichain_server::bind(&config))
        .map_err(|e| format!("the server does not start: {e}"))?;
    let addr = server.local_addr();
    if !addr.ip().is_loopback() {
        return Err(format!("the server bound {addr}, not a loopback address"));
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(server.serve(async {
        let _ = stopped.await;
    }));
    let driven = drive(o, model, addr, deadline);
    let _ = stop.send(());
    match runtime.block_on(serving) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("the server failed: {e}")),
        Err(e) => return Err(format!("the server task failed: {e}")),
    }
    let summary = driven?;
    // The storage itself, as `petrichain-server verify` reads it.
    let report = runtime.block_on(async {
        let storage = petrichain_server::storage::open(&config)
            .await
            .map_err(|e| format!("cannot reopen the database: {e}"))?;
        petrichain_server::verify::verify_all(storage.as_ref())
            .await
            .map_err(|e| format!("petrichain-server verify: {e}"))
    })?;
    if report.bad().next().is_some() || report.events() != summary.chain_events {
        return Err(format!(
            "petrichain-server verify disagrees ({} events expected):\n{report}",
            summary.chain_events
        ));
    }
    Ok(summary)
}

/// Registration, the clients, the checks (the server running).
fn drive(
    o: &Options,
    model: &Model,
    addr: SocketAddr,
    deadline: Instant,
) -> Result<Summary, String> {
    let users = o.users as u64;
    let start = Instant::now();
    register(model, addr, users)?;
    let registration = start.elapsed();

    let abort = AtomicBool::new(false);
    let monitor = memory::Monitor::new(o.max_memory_mb);
    let barrier = std::sync::Barrier::new(o.clients + 1);
    let (results, elapsed) = std::thread::scope(|scope| {
        let watching = scope.spawn(|| monitor.watch(&abort, o.transfers, Duration::from_secs(30)));
        let handles: Vec<_> = (0..o.clients)
            .map(|id| {
                let job = Job {
                    id,
                    addr,
                    stream: STREAM,
                    // The remainder goes to the first clients.
                    transfers: o.transfers / o.clients + usize::from(id < o.transfers % o.clients),
                    users,
                    max_amount: o.max_amount,
                    seed: o.seed,
                    pending: o.pending,
                    deadline,
                    abort: &abort,
                    acked: &monitor.acked,
                };
                let barrier = &barrier;
                let abort = &abort;
                std::thread::Builder::new()
                    .name(format!("client-{id}"))
                    .spawn_scoped(scope, move || {
                        barrier.wait();
                        let r = bank_client::run(&job);
                        if r.is_err() {
                            abort.store(true, Ordering::Relaxed);
                        }
                        r
                    })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let results: Vec<Result<Tally, String>> = handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|_| Err("a client thread panicked".into())),
                Err(e) => Err(format!("cannot start a client thread: {e}")),
            })
            .collect();
        let elapsed = start.elapsed();
        monitor.finish();
        let _ = watching.join();
        (results, elapsed)
    });
    if let Some(over) = monitor.over() {
        return Err(over);
    }
    let mut tally = Tally::default();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(t) => merge(&mut tally, t),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        // The failure first, then the clients it stopped.
        errors.sort_by_key(|e| e.contains(": stopped"));
        errors.truncate(5);
        return Err(errors.join("\n"));
    }

    let mut c = Client::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let max_events = users + o.transfers as u64;
    let scan = check::scan(model, STREAM, check::pages(&mut c, STREAM, max_events))?;
    let violations = check::violations(&scan, users, &tally.acked, &tally.refused_rebase);
    if !violations.is_empty() {
        let n = violations.len();
        let mut shown = violations;
        shown.truncate(20);
        return Err(format!("{n} violation(s):\n  {}", shown.join("\n  ")));
    }
    Ok(Summary {
        registration,
        elapsed,
        chain_events: scan.events,
        balance_sum: scan.balance_sum,
        tally,
    })
}

fn merge(all: &mut Tally, t: Tally) {
    all.acked.extend(t.acked);
    all.refused_local += t.refused_local;
    all.refused_rebase.extend(t.refused_rebase);
    all.rebased += t.rebased;
    all.mismatches += t.mismatches;
    all.contended += t.contended;
    all.append_latency.extend(t.append_latency);
    all.transfer_latency.extend(t.transfer_latency);
}

/// Opens `users` accounts from one registrar device and syncs them.
fn register(model: &Model, addr: SocketAddr, users: u64) -> Result<(), String> {
    let transport = transport::HttpTransport::try_new(addr)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    block_on(async {
        let ledger = Ledger::memory();
        let id = ledger.put_model(model).await.map_err(|e| e.to_string())?;
        ledger
            .create_stream(STREAM, &id)
            .await
            .map_err(|e| e.to_string())?;
        let opens: Vec<Action> = (0..users)
            .map(|i| Action::new("open").arg("user", bank_client::user(i)))
            .collect();
        for chunk in opens.chunks(1000) {
            ledger
                .fire_batch(STREAM, chunk, 1_700_000_000_000)
                .await
                .map_err(|e| format!("registration: {} {e}", e.code()))?;
        }
        let report = sync_stream(
            &ledger,
            &transport,
            STREAM,
            &SyncOptions::default(),
            &|_| {},
        )
        .await
        .map_err(|e| format!("registration sync: {} {e}", e.code()))?;
        if report.pending != 0 || report.pushed != users {
            return Err(format!("registration: {report:?}"));
        }
        Ok(())
    })
}
