//! Faults on the scale-out path (issue 17), against a real PostgreSQL
//! (scripts/ci/postgres.sh starts one and says how to restart it): two
//! server processes on one database under load from racing clients, the
//! servers SIGKILLed and restarted again and again, and PostgreSQL itself
//! restarted (`pg_ctl restart -m immediate`: a crash of the database)
//! in the middle. Afterwards: every event a server acknowledged with 200 is
//! stored at its seq (0 lost), every stream is one chain that verifies
//! (0 forks), and `petrichain-server verify` agrees. Skipped (with a note)
//! without PostgreSQL.

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use petrichain::chain::verify_events;
use petrichain::engine::Marking;
use petrichain::sync::protocol::{AppendOk, EventPage, Head};

/// How to run `pg_ctl` on the test cluster, from scripts/ci/postgres.sh.
fn pg_ctl() -> Option<String> {
    let bin = std::env::var("PETRICHAIN_TEST_PG_BIN").ok()?;
    let data = std::env::var("PETRICHAIN_TEST_PG_DATA").ok()?;
    let runas = std::env::var("PETRICHAIN_TEST_PG_RUNAS").unwrap_or_default();
    Some(format!("{runas} {bin}/pg_ctl -D {data}"))
}

fn sh(command: &str) {
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The (seq, hash) of every acknowledged event of one client.
type Acked = Vec<(u64, String)>;

/// The servers' current addresses, replaced as they are restarted.
type Addrs = Arc<Mutex<Vec<SocketAddr>>>;

/// Appends `count` acknowledged ticks to `stream` through whichever server
/// is up, surviving refused connections, resets, 5xx and lost answers:
/// after any of them it pulls the stream again before building on it (an
/// event whose answer was lost may have been stored). Returns the (seq,
/// hash) of every event acknowledged with 200, and how many attempts met a
/// fault (no connection, no answer, a 5xx).
fn push_through_faults(
    addrs: Addrs,
    client_id: u8,
    stream: &str,
    count: usize,
    deadline: Instant,
) -> (Acked, usize) {
    let m = model();
    let key = petrichain::chain::SoftwareKey::from_seed(&[client_id; 32]);
    let (mut seq, mut hash) = (0u64, Head::zero().hash);
    let mut state: Marking = m.initial_marking();
    let mut acked = Vec::new();
    let mut stale = false;
    let mut attempt = 0u64;
    let mut faults = 0usize;
    while acked.len() < count {
        assert!(
            Instant::now() < deadline,
            "client {client_id}: {} of {count} acknowledged before the deadline",
            acked.len()
        );
        attempt += 1;
        let addr = {
            let list = addrs.lock().unwrap();
            list[(attempt as usize + client_id as usize) % list.len()]
        };
        let Ok(mut c) = common::client::Client::connect(addr) else {
            faults += 1;
            std::thread::sleep(Duration::from_millis(30));
            continue;
        };
        if stale {
            // Catch up from what is stored (our own lost-answer events too).
            let mut caught = true;
            loop {
                let page = c
                    .get(&v2(&format!(
                        "/streams/{stream}/events?after={seq}&limit=1000"
                    )))
                    .ok()
                    .filter(|r| r.status == 200 || r.status == 404);
                let Some(page) = page else {
                    caught = false;
                    break;
                };
                if page.status == 404 {
                    break;
                }
                let page: EventPage = page.json().unwrap();
                for e in &page.events {
                    petrichain::store::apply_delta(&m, &mut state, e);
                }
                if let Some(last) = page.events.last() {
                    (seq, hash) = (last.seq, last.hash.clone());
                }
                if !page.more {
                    break;
                }
            }
            if !caught {
                faults += 1;
                std::thread::sleep(Duration::from_millis(30));
                continue;
            }
            stale = false;
        }
        let expected = Head {
            seq,
            hash: hash.clone(),
        };
        let mut next = state.clone();
        let e = next_event(
            &m,
            stream,
            &key,
            &expected,
            &mut next,
            "tick",
            &format!("client-{client_id}"),
            &format!("{{\"client\":{client_id},\"attempt\":{attempt}}}"),
            attempt,
        );
        let answer = c.send_json(
            "POST",
            &v2(&format!("/streams/{stream}/events")),
            &request(&m, expected, std::slice::from_ref(&e)),
        );
        match answer {
            Ok(r) if r.status == 200 => {
                let ok: AppendOk = r.json().unwrap();
                assert_eq!(ok.head, head_of(&e), "client {client_id}");
                acked.push((e.seq, e.hash.clone()));
                (seq, hash, state) = (e.seq, e.hash, next);
            }
            Ok(r) if r.status == 409 => stale = true,
            Ok(r) if r.status >= 500 => {
                faults += 1;
                stale = true;
            }
            Ok(r) => panic!("client {client_id}: unexpected {}: {}", r.status, r.text()),
            Err(_) => {
                faults += 1;
                stale = true;
                std::thread::sleep(Duration::from_millis(30));
            }
        }
    }
    (acked, faults)
}

#[test]
fn postgres_kills_of_servers_and_database_lose_no_acknowledged_event() {
    let Some(b) = Backend::postgres("faults") else {
        return;
    };
    let Some(pg_ctl) = pg_ctl() else {
        panic!("PETRICHAIN_TEST_PG_BIN / PETRICHAIN_TEST_PG_DATA not set: run through scripts/ci/postgres.sh");
    };
    const CLIENTS: u8 = 6;
    const APPENDS: usize = 25;
    let mut servers = vec![b.start(&[]), b.start(&[])];
    let m = model();
    assert_eq!(put_model(&mut servers[0].client(), &m).status, 201);
    let addrs: Addrs = Arc::new(Mutex::new(servers.iter().map(|s| s.addr).collect()));
    let deadline = Instant::now() + Duration::from_secs(120);
    // Half the clients race on one stream, the others have their own.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let addrs = addrs.clone();
            let stream = if i < CLIENTS / 2 {
                "shared".to_string()
            } else {
                format!("own-{i}")
            };
            std::thread::spawn(move || {
                let acked = push_through_faults(addrs, i + 1, &stream, APPENDS, deadline);
                (stream, acked)
            })
        })
        .collect();
    // The faults: six SIGKILLs of a server (restarted on the same database)
    // and, after the third, a crash and restart of PostgreSQL itself.
    let (mut kills, mut db_restarts) = (0, 0);
    for round in 0..6 {
        std::thread::sleep(Duration::from_millis(400));
        let i = round % 2;
        drop(std::mem::replace(&mut servers[i], b.start(&[])));
        kills += 1;
        addrs.lock().unwrap()[i] = servers[i].addr;
        if round == 2 {
            sh(&format!(
                "{pg_ctl} -m immediate -w -t 60 restart >/dev/null"
            ));
            db_restarts += 1;
        }
    }
    let results: Vec<(String, (Acked, usize))> =
        clients.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!((kills, db_restarts), (6, 1));
    let faults: usize = results.iter().map(|(_, (_, f))| f).sum();
    assert!(
        faults > 0,
        "the clients met no fault: the test tested nothing"
    );
    let results: Vec<(String, Acked)> = results.into_iter().map(|(s, (a, _))| (s, a)).collect();

    let mut c = servers[0].client();
    let mut total = 0;
    for stream in std::iter::once("shared".to_string())
        .chain((CLIENTS / 2..CLIENTS).map(|i| format!("own-{i}")))
    {
        let (head, events) = pull_all(&mut c, &stream);
        // One chain that replays through the net: no fork.
        let verified = verify_events(&m, &stream, &events).unwrap();
        assert_eq!(head.hash, verified.head);
        for (s, acked) in &results {
            if s != &stream {
                continue;
            }
            for (seq, hash) in acked {
                let stored = &events[usize::try_from(*seq).unwrap() - 1];
                assert_eq!(
                    &stored.hash, hash,
                    "{stream}: acknowledged event {seq} lost"
                );
                total += 1;
            }
        }
    }
    assert_eq!(total, usize::from(CLIENTS) * APPENDS);
    drop(servers);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_petrichain-server"))
        .args(["verify", "--db", &b.db])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    eprintln!(
        "after {kills} server kills and {db_restarts} database crash ({faults} failed attempts): {report}"
    );
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A cluster of the replication test: its data directory and port.
struct Cluster {
    data: String,
    port: u16,
}

impl Cluster {
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

/// Streaming replication (issue 17): a primary and a hot standby started by
/// the test on loopback, `synchronous_standby_names = '*'` and
/// `synchronous_commit = on`, so a commit (and so a 200) waits until the
/// standby has flushed it. Clients append through a server on the
/// primary; the primary is killed (`-m immediate`) under load, the standby
/// promoted, a server started on it; the clients go on through it. Every
/// event acknowledged before and after the failover is on the promoted
/// standby.
#[test]
fn postgres_failover_to_a_synchronous_standby_loses_no_acknowledged_event() {
    if postgres_url().is_none() {
        return;
    }
    let (Ok(bin), Ok(tmp)) = (
        std::env::var("PETRICHAIN_TEST_PG_BIN"),
        std::env::var("PETRICHAIN_TEST_PG_TMP"),
    ) else {
        panic!("PETRICHAIN_TEST_PG_BIN / PETRICHAIN_TEST_PG_TMP not set: run through scripts/ci/postgres.sh");
    };
    let runas = std::env::var("PETRICHAIN_TEST_PG_RUNAS").unwrap_or_default();
    let run = |tool: &str, args: &str| sh(&format!("{runas} {bin}/{tool} {args}"));
    let primary = Cluster {
        data: format!("{tmp}/repl-primary"),
        port: free_port(),
    };
    let standby = Cluster {
        data: format!("{tmp}/repl-standby"),
        port: free_port(),
    };
    // Stops both clusters however the test ends.
    struct Stop(Vec<String>);
    impl Drop for Stop {
        fn drop(&mut self) {
            for c in &self.0 {
                let _ = std::process::Command::new("sh").args(["-c", c]).output();
            }
        }
    }
    let _stop = Stop(
        [&primary, &standby]
            .iter()
            .map(|c| format!("{runas} {bin}/pg_ctl -D {} -m immediate stop", c.data))
            .collect(),
    );
    run(
        "initdb",
        &format!(
            "-D {} -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null",
            primary.data
        ),
    );
    let common_opts = format!("-c listen_addresses=127.0.0.1 -k {tmp} -c max_connections=100");
    run(
        "pg_ctl",
        &format!(
            "-D {} -l {}.log -w -t 60 -o \"{common_opts} -p {} -c wal_level=replica \
             -c max_wal_senders=4 -c synchronous_standby_names='*' -c synchronous_commit=on\" \
             start >/dev/null",
            primary.data, primary.data, primary.port
        ),
    );
    run(
        "pg_basebackup",
        &format!(
            "-h 127.0.0.1 -p {} -U postgres -D {} -R -X stream",
            primary.port, standby.data
        ),
    );
    run(
        "pg_ctl",
        &format!(
            "-D {} -l {}.log -w -t 60 -o \"{common_opts} -p {} -c hot_standby=on\" start >/dev/null",
            standby.data, standby.data, standby.port
        ),
    );
    // The standby is attached and synchronous before anything is written.
    let started = Instant::now();
    loop {
        let state: Option<String> = pg_connect(&primary.url())
            .ok()
            .and_then(|c| wait(c.query_opt("SELECT sync_state FROM pg_stat_replication", &[])).ok())
            .flatten()
            .map(|row| row.get(0));
        if state.as_deref() == Some("sync") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the standby never became synchronous ({state:?})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let home = TempDir::new("failover");
    let server = Server::start_at(&primary.url(), &home.0, &[]);
    let m = model();
    assert_eq!(put_model(&mut server.client(), &m).status, 201);
    let addrs: Addrs = Arc::new(Mutex::new(vec![server.addr]));
    let deadline = Instant::now() + Duration::from_secs(120);
    const CLIENTS: u8 = 4;
    const APPENDS: usize = 30;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let addrs = addrs.clone();
            let stream = if i < 2 {
                "shared".to_string()
            } else {
                format!("own-{i}")
            };
            std::thread::spawn(move || {
                let (acked, faults) = push_through_faults(addrs, i + 1, &stream, APPENDS, deadline);
                (stream, acked, faults)
            })
        })
        .collect();
    // Under load: the primary dies, the standby is promoted, the server is
    // pointed at it (a new process on the standby's URL).
    std::thread::sleep(Duration::from_millis(700));
    run(
        "pg_ctl",
        &format!("-D {} -m immediate -w stop >/dev/null", primary.data),
    );
    run(
        "pg_ctl",
        &format!("-D {} -w -t 60 promote >/dev/null", standby.data),
    );
    drop(server);
    let server = Server::start_at(&standby.url(), &home.0, &[]);
    addrs.lock().unwrap()[0] = server.addr;
    let results: Vec<_> = clients.into_iter().map(|h| h.join().unwrap()).collect();
    let faults: usize = results.iter().map(|(_, _, f)| f).sum();
    assert!(
        faults > 0,
        "the clients met no fault: the failover happened after the load"
    );

    let mut c = server.client();
    let mut total = 0;
    for (stream, acked, _) in &results {
        let (head, events) = pull_all(&mut c, stream);
        let verified = verify_events(&m, stream, &events).unwrap();
        assert_eq!(head.hash, verified.head);
        for (seq, hash) in acked {
            let stored = &events[usize::try_from(*seq).unwrap() - 1];
            assert_eq!(
                &stored.hash, hash,
                "{stream}: acknowledged event {seq} lost in the failover"
            );
            total += 1;
        }
    }
    assert_eq!(total, usize::from(CLIENTS) * APPENDS);
    drop(server);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_petrichain-server"))
        .args(["verify", "--db", &standby.url()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    eprintln!("failover to the promoted standby ({faults} failed attempts): {report}");
}
