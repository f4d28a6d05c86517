//! Append throughput of the sync server, side by side with the plain
//! alternative, and SQLite side by side with PostgreSQL, in one run.
//!
//! ```text
//! cargo run --release -p petrichain-server --example load -- --clients 16 --appends 200 --batch 1 --rounds 3
//! # SQLite vs PostgreSQL (the script starts a throwaway PostgreSQL and
//! # passes its URL in PETRICHAIN_TEST_POSTGRES_URL):
//! bash scripts/ci/postgres.sh cargo run --release -p petrichain-server --example load -- --db both
//! ```
//!
//! `--db sqlite` (default) runs sides 1 to 3 below; `--db postgres` side 4;
//! `--db both` sides 1 and 4 (the server on each database, same clients,
//! same events). `--postgres-url URL` (default: `$PETRICHAIN_TEST_POSTGRES_URL`)
//! names a PostgreSQL server where the benchmark may create and drop one
//! database per round.
//!
//! 1. **server**: an in-process `petrichain-server` on 127.0.0.1:0 with a
//!    fresh SQLite file; `--clients` threads, each on its own stream and its
//!    own keep-alive connection, send `--appends` conditional appends of
//!    `--batch` events each (HTTP, JSON, engine verification, one
//!    transaction per append).
//! 2. **raw SQLite, 1 thread**: the same rows, in the same transactions
//!    (head upsert + event inserts, one transaction per append), into a
//!    fresh file with the same schema and pragmas, from one thread taking the
//!    streams round-robin: no HTTP, no JSON, no validation, no lock hand-off.
//! 3. **raw SQLite, N threads**: the same, from `--clients` threads sharing
//!    one connection behind a mutex (what the server's writer does).
//! 4. **server on PostgreSQL**: side 1 with `--db postgres://...` on a fresh
//!    database (up to 16 connections, one `SELECT ... FOR UPDATE` transaction
//!    per append). `--synchronous normal` sets the database's
//!    `synchronous_commit = off` (the counterpart of SQLite's NORMAL: no
//!    flush wait per commit); `full` keeps PostgreSQL's default (`on`).
//!
//! Each round runs the three in a rotating order (fsync latency on a shared
//! disk drifts); the summary gives the median of the rounds.
//!
//! Bounded: at most clients x appends requests, loopback only.

#[path = "../tests/common/client.rs"]
mod client;

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use client::Client;
use petrichain::chain::{
    hash::event_hash, signed_message, Device, Event, MarkingTree, SoftwareKey, FORMAT_VERSION,
    GENESIS_PREV,
};
use petrichain::engine::Marking;
use petrichain::formats::json::import_json;
use petrichain::model::Model;
use petrichain::sync::protocol::{AppendOk, AppendRequest, Head, ModelDoc, PROTOCOL_VERSION};
use petrichain_server::config::{Database, Synchronous};
use petrichain_server::storage::sqlite::SqliteStorage;
use rusqlite::{params, Connection, TransactionBehavior};

const NET: &str = r#"{"name":"counter","places":[{"id":"ticks"},{"id":"budget","initial":1000000000}],
  "transitions":[{"id":"tick"}],
  "arcs":[{"source":"budget","target":"tick"},{"source":"tick","target":"ticks"}]}"#;

struct Options {
    clients: usize,
    appends: usize,
    batch: usize,
    rounds: usize,
    only: Option<usize>,
    synchronous: Synchronous,
    sides: Vec<usize>,
    postgres_url: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        clients: 16,
        appends: 200,
        batch: 1,
        rounds: 3,
        only: None,
        synchronous: Synchronous::Full,
        sides: vec![0, 1, 2],
        postgres_url: std::env::var("PETRICHAIN_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str, max: usize| -> Result<usize, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            match v.parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(format!("{name}: expected 1..={max}")),
            }
        };
        match a.as_str() {
            "--clients" => o.clients = num("--clients", 64)?,
            "--appends" => o.appends = num("--appends", 10_000)?,
            "--batch" => o.batch = num("--batch", 500)?,
            "--rounds" => o.rounds = num("--rounds", 10)?,
            "--synchronous" => {
                o.synchronous = match args.next().as_deref() {
                    Some("full") => Synchronous::Full,
                    Some("normal") => Synchronous::Normal,
                    _ => return Err("--synchronous needs full or normal".into()),
                }
            }
            "--only" => {
                o.only = match args.next().as_deref() {
                    Some("server") => Some(0),
                    Some("raw") => Some(1),
                    Some("raw-threads") => Some(2),
                    Some("server-postgres") => Some(3),
                    _ => {
                        return Err(
                            "--only needs server, raw, raw-threads or server-postgres".into()
                        )
                    }
                }
            }
            "--db" => {
                o.sides = match args.next().as_deref() {
                    Some("sqlite") => vec![0, 1, 2],
                    Some("postgres") => vec![3],
                    Some("both") => vec![0, 3],
                    _ => return Err("--db needs sqlite, postgres or both".into()),
                }
            }
            "--postgres-url" => {
                o.postgres_url = Some(args.next().ok_or("--postgres-url needs a URL")?);
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// The batches one client sends: `appends` x `batch` chained events of
/// chain format v2, each with a random nonce, its delta, the Merkle root of
/// the marking (the tree updated in place) and an Ed25519 signature by the
/// client's own device key.
fn batches(model: &Model, stream: &str, o: &Options, key: &SoftwareKey) -> Vec<Vec<Event>> {
    let t = model.transition_index("tick").unwrap_or(0);
    let mut marking: Marking = model.initial_marking();
    let mut tree = MarkingTree::new(model, &marking);
    let signer = hex::encode(key.public_key());
    let mut prev = GENESIS_PREV.to_string();
    let mut seq = 0u64;
    (0..o.appends)
        .map(|_| {
            (0..o.batch)
                .map(|_| {
                    seq += 1;
                    let before = marking.clone();
                    model
                        .fire_in_place(&mut marking, t, 1, &model.roles(&[]))
                        .expect("tick is enabled");
                    let mut delta = Vec::new();
                    for (i, place) in model.places().iter().enumerate() {
                        if before.0[i] != marking.0[i] {
                            tree.set(i, &place.id, marking.0[i]);
                            delta.push((place.id.clone(), marking.0[i]));
                        }
                    }
                    let mut nonce = [0u8; 16];
                    key.random(&mut nonce).expect("OS random generator");
                    let mut e = Event {
                        v: FORMAT_VERSION,
                        stream: stream.to_string(),
                        seq,
                        model: model.id().to_string(),
                        action: "tick".into(),
                        multiple: 1,
                        args: Vec::new(),
                        actor: "bench".into(),
                        roles: vec![],
                        payload: format!("{{\"n\":{seq}}}"),
                        ts: 1_700_000_000_000 + seq,
                        nonce: hex::encode(nonce),
                        prev: prev.clone(),
                        delta,
                        keys: Vec::new(),
                        root: hex::encode(tree.root()),
                        signer: signer.clone(),
                        hash: String::new(),
                        sig: String::new(),
                    };
                    e.hash = event_hash(&e);
                    e.sig = hex::encode(key.sign_now(&signed_message(&e.hash)));
                    prev = e.hash.clone();
                    e
                })
                .collect()
        })
        .collect()
}

struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

const SIDES: [&str; 4] = [
    "petrichain-server: HTTP + JSON + engine verification + SQLite",
    "raw SQLite, same rows and transactions, 1 thread, no validation",
    "raw SQLite, same rows and transactions, N threads on 1 connection",
    "petrichain-server: HTTP + JSON + engine verification + PostgreSQL",
];

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn report(round: usize, name: &str, run: &Run, o: &Options) -> f64 {
    let appends = (o.clients * o.appends) as f64;
    let secs = run.elapsed.as_secs_f64();
    let mut lat = run.latencies.clone();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "| {round} | {name} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} |",
        appends / secs,
        appends * o.batch as f64 / secs,
        pct(0.5),
        pct(0.99),
        secs
    );
    appends / secs
}

/// A fresh PostgreSQL database for one round, dropped with the value.
struct PgBench {
    admin: String,
    name: String,
    url: String,
}

/// Runs `statements` one by one (DROP / CREATE DATABASE refuse a
/// transaction) on the database at `url`.
fn pg_admin(url: &str, statements: &[String]) -> Result<(), tokio_postgres::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (c, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        for sql in statements {
            c.batch_execute(sql).await?;
        }
        Ok(())
    })
}

impl PgBench {
    fn create(admin: &str, round: usize, synchronous: Synchronous) -> PgBench {
        let name = format!("petrichain_bench_{}_{round}", std::process::id());
        let mut statements = vec![
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ];
        if synchronous == Synchronous::Normal {
            statements.push(format!(
                "ALTER DATABASE {name} SET synchronous_commit = off"
            ));
        }
        pg_admin(admin, &statements).expect("create the bench database");
        let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
        let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
        let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        PgBench {
            admin: admin.to_string(),
            url: format!("{scheme}://{authority}/{name}{query}"),
            name,
        }
    }
}

impl Drop for PgBench {
    fn drop(&mut self) {
        let _ = pg_admin(
            &self.admin,
            &[format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )],
        );
    }
}

fn run_server(model: &Model, all: &[Vec<Vec<Event>>], o: &Options, db: Database) -> Run {
    let config = petrichain_server::Config {
        addr: "127.0.0.1:0".parse().expect("loopback"),
        db,
        synchronous: o.synchronous,
        ..Default::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(petrichain_server::bind(&config))
        .expect("server binds");
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(server.serve(async {
        let _ = stopped.await;
    }));

    let mut c = Client::connect(addr).expect("connects");
    let doc = ModelDoc {
        id: model.id().to_string(),
        json: model.canonical_json(),
    };
    let r = c
        .send_json(
            "PUT",
            &format!("/{PROTOCOL_VERSION}/models/{}", doc.id),
            &doc,
        )
        .expect("put model");
    assert_eq!(r.status, 201, "{}", r.text());

    let barrier = Arc::new(Barrier::new(o.clients + 1));
    let handles: Vec<_> = all
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, batches)| {
            let barrier = barrier.clone();
            let model_id = model.id().to_string();
            std::thread::spawn(move || {
                let mut c = Client::connect(addr).expect("connects");
                let stream = format!("bench-{i}");
                let target = format!("/{PROTOCOL_VERSION}/streams/{stream}/events");
                let mut expected = Head::zero();
                let mut latencies = Vec::with_capacity(batches.len());
                barrier.wait();
                for events in batches {
                    let last = events.last().map(|e| Head {
                        seq: e.seq,
                        hash: e.hash.clone(),
                    });
                    let req = AppendRequest {
                        model: model_id.clone(),
                        expected: expected.clone(),
                        events,
                    };
                    let t = Instant::now();
                    let r = c.send_json("POST", &target, &req).expect("append");
                    latencies.push(t.elapsed());
                    assert_eq!(r.status, 200, "{}", r.text());
                    let ok: AppendOk = r.json().expect("append answer");
                    assert_eq!(Some(&ok.head), last.as_ref());
                    expected = ok.head;
                }
                latencies
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let latencies: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client thread"))
        .collect();
    let elapsed = start.elapsed();
    let _ = stop.send(());
    let _ = runtime.block_on(serving);
    Run { elapsed, latencies }
}

/// A fresh database with the server's schema and pragmas.
fn raw_db(all: &[Vec<Vec<Event>>], o: &Options, dir: &std::path::Path, name: &str) -> Connection {
    let path = dir.join(name);
    // Same schema as the server's (and the model row its foreign key needs).
    drop(SqliteStorage::open(&path).expect("schema"));
    let conn = Connection::open(&path).expect("raw db");
    conn.busy_timeout(Duration::from_secs(10)).expect("pragma");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("pragma");
    conn.pragma_update(None, "synchronous", o.synchronous.as_str())
        .expect("pragma");
    conn.pragma_update(None, "foreign_keys", "ON")
        .expect("pragma");
    conn.execute(
        "INSERT INTO models (id, json) VALUES (?1, '{}')",
        [&all[0][0][0].model],
    )
    .expect("model row");
    conn
}

/// One append without any check: head upsert + event inserts, one
/// transaction.
fn raw_append(conn: &mut Connection, events: &[Event]) {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .expect("begin");
    let last = events.last().expect("non-empty batch");
    // The head keeps the whole marking, as the server's does. Every tick
    // changes both places of the counter net, so the last event's delta is
    // the whole marking, in place order.
    let state: Vec<u64> = last.delta.iter().map(|(_, n)| *n).collect();
    tx.prepare_cached(
        "INSERT INTO streams (id, model, seq, hash, state) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET seq = ?3, hash = ?4, state = ?5",
    )
    .expect("prepare")
    .execute(params![
        last.stream,
        last.model,
        last.seq as i64,
        last.hash,
        serde_json::to_string(&state).unwrap_or_default()
    ])
    .expect("head");
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO events (stream, seq, v, model, action, multiple, actor, roles,
                 payload, ts, nonce, prev, delta, root, signer, hash, sig)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                 ?16, ?17)",
            )
            .expect("prepare");
        for e in events {
            insert
                .execute(params![
                    e.stream,
                    e.seq as i64,
                    i64::from(e.v),
                    e.model,
                    e.action,
                    e.multiple as i64,
                    e.actor,
                    serde_json::to_string(&e.roles).unwrap_or_default(),
                    e.payload,
                    e.ts as i64,
                    e.nonce,
                    e.prev,
                    serde_json::to_string(&e.delta).unwrap_or_default(),
                    e.root,
                    e.signer,
                    e.hash,
                    e.sig,
                ])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

/// The same transactions from one thread, streams taken round-robin: SQLite
/// with no lock hand-off at all, the plain best case.
fn run_raw_serial(
    all: &[Vec<Vec<Event>>],
    o: &Options,
    dir: &std::path::Path,
    round: usize,
) -> Run {
    let mut conn = raw_db(all, o, dir, &format!("raw-serial-{round}.sqlite"));
    let mut latencies = Vec::with_capacity(o.clients * o.appends);
    let start = Instant::now();
    for i in 0..o.appends {
        for client in all {
            let t = Instant::now();
            raw_append(&mut conn, &client[i]);
            latencies.push(t.elapsed());
        }
    }
    Run {
        elapsed: start.elapsed(),
        latencies,
    }
}

/// The same transactions from `clients` threads sharing one connection
/// behind a mutex (what the server's writer does), latency including the wait.
fn run_raw_threads(
    all: &[Vec<Vec<Event>>],
    o: &Options,
    dir: &std::path::Path,
    round: usize,
) -> Run {
    let conn = raw_db(all, o, dir, &format!("raw-threads-{round}.sqlite"));
    let conn = Arc::new(Mutex::new(conn));
    let barrier = Arc::new(Barrier::new(o.clients + 1));
    let handles: Vec<_> = all
        .iter()
        .cloned()
        .map(|batches| {
            let (conn, barrier) = (conn.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut latencies = Vec::with_capacity(batches.len());
                barrier.wait();
                for events in batches {
                    let t = Instant::now();
                    raw_append(&mut conn.lock().unwrap_or_else(|e| e.into_inner()), &events);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let latencies: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("raw thread"))
        .collect();
    Run {
        elapsed: start.elapsed(),
        latencies,
    }
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "error: {e}\nusage: load [--clients N] [--appends N] [--batch N] [--rounds N] [--db sqlite|postgres|both] [--postgres-url URL] [--only server|raw|raw-threads|server-postgres] [--synchronous full|normal]"
            );
            std::process::exit(2);
        }
    };
    let (model, _) = import_json(NET).expect("bench net");
    let all: Vec<Vec<Vec<Event>>> = (0..o.clients)
        .map(|i| {
            let key = SoftwareKey::generate().expect("OS random generator");
            batches(&model, &format!("bench-{i}"), &o, &key)
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("petrichain-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");

    println!(
        "{} clients x {} appends x {} event(s), each client on its own stream, loopback, \
         SQLite WAL synchronous={}, {} interleaved round(s)\n",
        o.clients,
        o.appends,
        o.batch,
        o.synchronous.as_str(),
        o.rounds
    );
    if o.sides.contains(&3) && o.postgres_url.is_none() {
        eprintln!(
            "error: --db postgres/both needs --postgres-url URL or PETRICHAIN_TEST_POSTGRES_URL \
             (bash scripts/ci/postgres.sh COMMAND runs COMMAND with a throwaway PostgreSQL)"
        );
        std::process::exit(2);
    }
    if o.sides.contains(&3) {
        println!(
            "PostgreSQL: synchronous_commit={}, up to {} connections per server\n",
            if o.synchronous == Synchronous::Normal {
                "off"
            } else {
                "on"
            },
            petrichain_server::storage::postgres::DEFAULT_MAX_CONNECTIONS
        );
    }
    println!("| round | | appends/s | events/s | p50 ms | p99 ms | total s |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut rates: [Vec<f64>; 4] = Default::default();
    let sides = o.sides.clone();
    for round in 1..=o.rounds {
        // Rotate which side goes first: the disk's fsync latency drifts with
        // whatever else the machine is doing.
        for k in 0..sides.len() {
            let side = sides[(k + round - 1) % sides.len()];
            if o.only.is_some_and(|only| only != side) {
                continue;
            }
            let run = match side {
                0 => run_server(
                    &model,
                    &all,
                    &o,
                    Database::Sqlite(dir.join(format!("server-{round}.sqlite"))),
                ),
                1 => run_raw_serial(&all, &o, &dir, round),
                2 => run_raw_threads(&all, &o, &dir, round),
                _ => {
                    let admin = o.postgres_url.as_deref().unwrap_or_default();
                    let pg = PgBench::create(admin, round, o.synchronous);
                    let run = run_server(&model, &all, &o, Database::Postgres(pg.url.clone()));
                    drop(pg);
                    run
                }
            };
            rates[side].push(report(round, SIDES[side], &run, &o));
        }
    }
    let [s, r, t, p] = rates.map(|mut v| median(&mut v));
    println!();
    if sides.contains(&1) {
        println!(
            "median appends/s: server {s:.0}, raw SQLite one thread {r:.0}, raw SQLite {} threads {t:.0}; \
             server / raw one thread = {:.2}",
            o.clients,
            s / r
        );
    }
    if sides.contains(&3) {
        println!("median appends/s: server on PostgreSQL {p:.0}");
    }
    if sides.contains(&0) && sides.contains(&3) {
        println!(
            "median appends/s: server on SQLite {s:.0}, server on PostgreSQL {p:.0}; PostgreSQL / SQLite = {:.2}",
            p / s
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
