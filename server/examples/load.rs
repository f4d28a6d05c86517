//! Append throughput of the sync server, side by side with the plain
//! alternative, in one run.
//!
//! ```text
//! cargo run --release -p petrichain-server --example load -- --clients 16 --appends 200 --batch 1
//! ```
//!
//! 1. **server**: an in-process `petrichain-server` on 127.0.0.1:0 with a
//!    fresh SQLite file; `--clients` threads, each on its own stream and its
//!    own keep-alive connection, send `--appends` conditional appends of
//!    `--batch` events each (HTTP, JSON, engine verification, one
//!    transaction per append).
//! 2. **raw SQLite**: the same rows inserted into a fresh file with the
//!    same schema and pragmas, by as many threads sharing one connection
//!    (as the server's writer does), one transaction per append, with no
//!    HTTP, no JSON parsing and no validation.
//!
//! Bounded: at most clients x appends requests, loopback only.

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use petrichain::chain::{hash::event_hash, Event, GENESIS_PREV};
use petrichain::engine::Marking;
use petrichain::formats::json::import_json;
use petrichain::model::Model;
use petrichain::sync::protocol::{AppendOk, AppendRequest, Head, ModelDoc};
use petrichain_server::client::Client;
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
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        clients: 16,
        appends: 200,
        batch: 1,
        rounds: 3,
        only: None,
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
            "--only" => {
                o.only = match args.next().as_deref() {
                    Some("server") => Some(0),
                    Some("raw") => Some(1),
                    _ => return Err("--only needs server or raw".into()),
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// The batches one client sends: `appends` x `batch` chained events.
fn batches(model: &Model, stream: &str, o: &Options) -> Vec<Vec<Event>> {
    let t = model.transition_index("tick").unwrap_or(0);
    let mut marking: Marking = model.initial_marking();
    let mut prev = GENESIS_PREV.to_string();
    let mut seq = 0u64;
    (0..o.appends)
        .map(|_| {
            (0..o.batch)
                .map(|_| {
                    seq += 1;
                    model
                        .fire_in_place(&mut marking, t, 1, &model.roles(&[]))
                        .expect("tick is enabled");
                    let mut e = Event {
                        stream: stream.to_string(),
                        seq,
                        model: model.id().to_string(),
                        action: "tick".into(),
                        multiple: 1,
                        actor: "bench".into(),
                        roles: vec![],
                        payload: format!("{{\"n\":{seq}}}"),
                        ts: 1_700_000_000_000 + seq,
                        prev: prev.clone(),
                        state: marking.0.clone(),
                        hash: String::new(),
                    };
                    e.hash = event_hash(&e);
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

const SERVER: &str = "petrichain-server (HTTP + JSON + verify + SQLite)";
const RAW: &str = "raw SQLite inserts, same rows, no validation";

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

fn run_server(
    model: &Model,
    all: &[Vec<Vec<Event>>],
    o: &Options,
    dir: &std::path::Path,
    round: usize,
) -> Run {
    let config = petrichain_server::Config {
        addr: "127.0.0.1:0".parse().expect("loopback"),
        db: dir.join(format!("server-{round}.sqlite")),
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
        .send_json("PUT", &format!("/v1/models/{}", doc.id), &doc)
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
                let target = format!("/v1/streams/{stream}/events");
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

fn run_raw(all: &[Vec<Vec<Event>>], o: &Options, dir: &std::path::Path, round: usize) -> Run {
    let path = dir.join(format!("raw-{round}.sqlite"));
    // Same schema as the server's (and the model row its foreign key needs).
    drop(SqliteStorage::open(&path).expect("schema"));
    let conn = Connection::open(&path).expect("raw db");
    conn.busy_timeout(Duration::from_secs(10)).expect("pragma");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("pragma");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("pragma");
    conn.pragma_update(None, "foreign_keys", "ON")
        .expect("pragma");
    conn.execute(
        "INSERT INTO models (id, json) VALUES (?1, '{}')",
        [&all[0][0][0].model],
    )
    .expect("model row");
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
                    let mut c = conn.lock().unwrap_or_else(|e| e.into_inner());
                    let tx = c
                        .transaction_with_behavior(TransactionBehavior::Immediate)
                        .expect("begin");
                    let last = events.last().expect("non-empty batch");
                    tx.execute(
                        "INSERT INTO streams (id, model, seq, hash, state) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (id) DO UPDATE SET seq = ?3, hash = ?4, state = ?5",
                        params![
                            last.stream,
                            last.model,
                            last.seq as i64,
                            last.hash,
                            serde_json::to_string(&last.state).unwrap_or_default()
                        ],
                    )
                    .expect("head");
                    {
                        let mut insert = tx
                            .prepare_cached(
                                "INSERT INTO events (stream, seq, model, action, multiple, actor, roles,
                                 payload, ts, prev, state, hash)
                                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                            )
                            .expect("prepare");
                        for e in &events {
                            insert
                                .execute(params![
                                    e.stream,
                                    e.seq as i64,
                                    e.model,
                                    e.action,
                                    e.multiple as i64,
                                    e.actor,
                                    serde_json::to_string(&e.roles).unwrap_or_default(),
                                    e.payload,
                                    e.ts as i64,
                                    e.prev,
                                    serde_json::to_string(&e.state).unwrap_or_default(),
                                    e.hash,
                                ])
                                .expect("insert");
                        }
                    }
                    tx.commit().expect("commit");
                    drop(c);
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
                "error: {e}\nusage: load [--clients N] [--appends N] [--batch N] [--rounds N] [--only server|raw]"
            );
            std::process::exit(2);
        }
    };
    let (model, _) = import_json(NET).expect("bench net");
    let all: Vec<Vec<Vec<Event>>> = (0..o.clients)
        .map(|i| batches(&model, &format!("bench-{i}"), &o))
        .collect();
    let dir = std::env::temp_dir().join(format!("petrichain-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");

    println!(
        "{} clients x {} appends x {} event(s), each client on its own stream, loopback, \
         SQLite WAL synchronous=FULL, {} interleaved round(s)\n",
        o.clients, o.appends, o.batch, o.rounds
    );
    println!("| round | | appends/s | events/s | p50 ms | p99 ms | total s |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let (mut server_rates, mut raw_rates) = (Vec::new(), Vec::new());
    for round in 1..=o.rounds {
        // Alternate which side goes first: the disk's fsync latency drifts
        // with whatever else the machine is doing.
        for side in if round % 2 == 1 { [0, 1] } else { [1, 0] } {
            if o.only.is_some_and(|only| only != side) {
                continue;
            }
            if side == 0 {
                let run = run_server(&model, &all, &o, &dir, round);
                server_rates.push(report(round, SERVER, &run, &o));
            } else {
                let run = run_raw(&all, &o, &dir, round);
                raw_rates.push(report(round, RAW, &run, &o));
            }
        }
    }
    let (s, r) = (median(&mut server_rates), median(&mut raw_rates));
    println!(
        "\nmedian appends/s: server {s:.0}, raw SQLite {r:.0}; server / raw = {:.2}",
        s / r
    );
    let _ = std::fs::remove_dir_all(&dir);
}
