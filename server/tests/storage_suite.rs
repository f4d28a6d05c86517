//! One suite for every storage backend, on the `Storage` trait itself: the
//! same tests run on a SQLite file (`sqlite::NAME`) and on a fresh
//! PostgreSQL database (`postgres::NAME`, see common/mod.rs for how the
//! server is found). Two storage instances on one database stand for two
//! server processes.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use common::*;
use petrichain::chain::{Event, GENESIS_PREV};
use petrichain_server::config::{Config, Database};
use petrichain_server::storage::{self, Commit, Page, Plan, Storage, StreamRecord};
use petrichain_server::ApiError;

/// The storage under test, called synchronously: each call runs on the
/// tests' runtime ([`wait`]).
#[derive(Clone)]
struct Db(Arc<dyn Storage>);

impl Db {
    fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError> {
        wait(self.0.put_model(id, json))
    }
    fn model(&self, id: &str) -> Result<Option<String>, ApiError> {
        wait(self.0.model(id))
    }
    fn head(&self, stream: &str) -> Result<Option<StreamRecord>, ApiError> {
        wait(self.0.head(stream))
    }
    fn streams(&self) -> Result<Vec<StreamRecord>, ApiError> {
        wait(self.0.streams("", u64::MAX))
    }
    fn streams_after(&self, after: &str, limit: u64) -> Result<Vec<StreamRecord>, ApiError> {
        wait(self.0.streams(after, limit))
    }
    fn page(&self, stream: &str, after: u64, limit: u64) -> Result<Option<Page>, ApiError> {
        wait(self.0.page(stream, after, limit, usize::MAX))
    }
    fn page_bytes(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
        max_bytes: usize,
    ) -> Result<Option<Page>, ApiError> {
        wait(self.0.page(stream, after, limit, max_bytes))
    }
    fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError> {
        wait(self.0.append(stream, plan))
    }
}

fn open(b: &Backend) -> Db {
    let config = Config {
        db: if b.is_postgres() {
            Database::Postgres(b.db.clone())
        } else {
            Database::Sqlite(b.db.clone().into())
        },
        ..Config::default()
    };
    Db(wait(storage::open(&config)).unwrap_or_else(|e| panic!("opening {}: {e}", config.db)))
}

fn event(stream: &str, seq: u64, prev: &str, hash: &str) -> Event {
    Event {
        v: 2,
        stream: stream.into(),
        seq,
        model: "m".into(),
        action: "t".into(),
        multiple: 1,
        args: Vec::new(),
        actor: "a".into(),
        roles: vec!["r".into()],
        payload: "{\"x\":1,\"text\":\"é ✓ \\u0001\"}".into(),
        ts: 5,
        nonce: format!("{seq:032x}"),
        prev: prev.into(),
        delta: vec![("p".into(), seq), ("q".into(), u64::from(u32::MAX) + 7)],
        keys: Vec::new(),
        root: format!("{seq:064x}"),
        signer: "cd".repeat(32),
        hash: hash.into(),
        sig: "ef".repeat(64),
    }
}

fn head(stream: &str, seq: u64, hash: &str) -> StreamRecord {
    StreamRecord {
        id: stream.into(),
        model: "m".into(),
        seq,
        hash: hash.into(),
        state: vec![seq, 2],
        policy: None,
    }
}

fn round_trip_and_reopen(b: &Backend) {
    let db = open(b);
    assert!(db.put_model("m", "{\"json\":1}").unwrap());
    assert!(!db.put_model("m", "{\"json\":1}").unwrap(), "idempotent");
    assert_eq!(db.model("m").unwrap().as_deref(), Some("{\"json\":1}"));
    assert_eq!(db.model("nope").unwrap(), None);

    let events = vec![event("s", 1, GENESIS_PREV, "h1"), event("s", 2, "h1", "h2")];
    let commit = Commit {
        record: head("s", 2, "h2"),
        events: events.clone(),
    };
    let c = commit.clone();
    let written = db
        .append("s", &mut |tx| {
            assert_eq!(tx.head()?, None);
            assert_eq!(tx.hash_at(1)?, None);
            Ok(Some(c.clone()))
        })
        .unwrap();
    assert_eq!(written, Some(commit.clone()));
    assert_eq!(db.head("s").unwrap(), Some(commit.record.clone()));
    assert_eq!(db.head("nope").unwrap(), None);

    let page = db.page("s", 0, 1).unwrap().unwrap();
    assert_eq!(page.events, events[..1], "events come back exactly");
    assert!(page.more);
    assert_eq!(page.head, commit.record);
    let page = db.page("s", 1, 10).unwrap().unwrap();
    assert_eq!((page.events.len(), page.more), (1, false));
    let page = db.page("s", 2, 10).unwrap().unwrap();
    assert_eq!((page.events.len(), page.more), (0, false));
    let page = db.page("s", u64::MAX, 10).unwrap().unwrap();
    assert!(page.events.is_empty());
    assert!(db.page("nope", 0, 10).unwrap().is_none());

    // An empty stream: a head without events.
    db.append("empty", &mut |_| {
        Ok(Some(Commit {
            record: head("empty", 0, &"0".repeat(64)),
            events: vec![],
        }))
    })
    .unwrap();
    drop(db);

    // Reopened: the data is there, the schema is not created again.
    let db = open(b);
    let ids: Vec<String> = db.streams().unwrap().into_iter().map(|h| h.id).collect();
    assert_eq!(ids, ["empty", "s"], "sorted by id");
    let ids = |after: &str, limit: u64| -> Vec<String> {
        let heads = db.streams_after(after, limit).unwrap();
        heads.into_iter().map(|h| h.id).collect()
    };
    assert_eq!(ids("", 1), ["empty"], "a page");
    assert_eq!(ids("empty", 1), ["s"], "after an id");
    assert_eq!(ids("e", 10), ["empty", "s"], "after a prefix");
    assert!(ids("s", 10).is_empty());
    db.append("s", &mut |tx| {
        assert_eq!(tx.head()?, Some(commit.record.clone()));
        assert_eq!(tx.hash_at(2)?, Some("h2".into()));
        assert_eq!(tx.hash_at(3)?, None);
        assert_eq!(tx.hash_at(u64::MAX)?, None);
        Ok(None)
    })
    .unwrap();
    // Appending on top of the stored head.
    let more = Commit {
        record: head("s", 3, "h3"),
        events: vec![event("s", 3, "h2", "h3")],
    };
    db.append("s", &mut |_| Ok(Some(more.clone()))).unwrap();
    let page = db.page("s", 0, 100).unwrap().unwrap();
    assert_eq!(page.events.len(), 3);
    assert_eq!(page.head, more.record);
}

fn a_failed_plan_or_write_stores_nothing(b: &Backend) {
    let db = open(b);
    db.put_model("m", "{}").unwrap();
    // Two events with the same seq: the second insert fails, the head
    // written before it is rolled back too.
    let dup = Commit {
        record: head("s", 2, "h2"),
        events: vec![
            event("s", 1, GENESIS_PREV, "h1"),
            event("s", 1, GENESIS_PREV, "h1"),
        ],
    };
    let err = db.append("s", &mut |_| Ok(Some(dup.clone()))).unwrap_err();
    assert_eq!(err.code(), "INTERNAL");
    assert!(db.head("s").unwrap().is_none());
    let err = db
        .append("s", &mut |_| Err(ApiError::BadRequest("no".into())))
        .unwrap_err();
    assert_eq!(err.code(), "BAD_REQUEST");
    // A stream whose model is not stored: refused by the foreign key.
    let orphan = Commit {
        record: StreamRecord {
            model: "unknown".into(),
            ..head("o", 0, "z")
        },
        events: vec![],
    };
    assert!(db.append("o", &mut |_| Ok(Some(orphan.clone()))).is_err());
    assert!(db.streams().unwrap().is_empty());

    // After a refused batch on an existing stream, the head is unchanged.
    let one = Commit {
        record: head("s", 1, "h1"),
        events: vec![event("s", 1, GENESIS_PREV, "h1")],
    };
    db.append("s", &mut |_| Ok(Some(one.clone()))).unwrap();
    let clash = Commit {
        record: head("s", 2, "h2"),
        events: vec![event("s", 2, "h1", "h2"), event("s", 1, "x", "y")],
    };
    assert!(db.append("s", &mut |_| Ok(Some(clash.clone()))).is_err());
    assert_eq!(db.head("s").unwrap(), Some(one.record.clone()));
    assert_eq!(db.page("s", 0, 10).unwrap().unwrap().events, one.events);
}

/// A number from a request that no column can hold (a `ts` above
/// `i64::MAX`) is the client's fault on both backends: `400 BAD_REQUEST`,
/// nothing stored.
fn an_unstorable_number_from_a_request_is_a_bad_request(b: &Backend) {
    let db = open(b);
    db.put_model("m", "{}").unwrap();
    let mut e = event("s", 1, GENESIS_PREV, "h1");
    e.ts = u64::MAX;
    let commit = Commit {
        record: head("s", 1, "h1"),
        events: vec![e],
    };
    let err = db
        .append("s", &mut |_| Ok(Some(commit.clone())))
        .unwrap_err();
    assert_eq!(err.code(), "BAD_REQUEST", "{err}");
    assert!(db.head("s").unwrap().is_none());
    // The head's own seq too.
    let big = Commit {
        record: head("s", 1 << 63, "h1"),
        events: vec![],
    };
    let err = db.append("s", &mut |_| Ok(Some(big.clone()))).unwrap_err();
    assert_eq!(err.code(), "BAD_REQUEST", "{err}");
    assert!(db.streams().unwrap().is_empty());
}

/// Inside the append's transaction every stored hash can be read, beyond
/// what one read of a backend fetches at once (PostgreSQL reads 1024).
fn every_stored_hash_is_readable_in_the_transaction(b: &Backend) {
    const N: u64 = 1100;
    let db = open(b);
    db.put_model("m", "{}").unwrap();
    let mut prev = GENESIS_PREV.to_string();
    let events: Vec<Event> = (1..=N)
        .map(|seq| {
            let e = event("s", seq, &prev, &format!("h{seq}"));
            prev = e.hash.clone();
            e
        })
        .collect();
    let commit = Commit {
        record: head("s", N, &prev),
        events,
    };
    db.append("s", &mut |_| Ok(Some(commit.clone()))).unwrap();
    db.append("s", &mut |tx| {
        for seq in 1..=N {
            assert_eq!(tx.hash_at(seq)?, Some(format!("h{seq}")), "seq {seq}");
        }
        assert_eq!(tx.hash_at(N + 1)?, None);
        assert_eq!(tx.hash_at(0)?, None);
        Ok(None)
    })
    .unwrap();
}

fn refuses_a_newer_schema(b: &Backend) {
    drop(open(b));
    match &b.pg {
        Some(pg) => pg.execute("UPDATE schema_version SET version = 99"),
        None => {
            let conn = rusqlite::Connection::open(&b.db).unwrap();
            conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])
                .unwrap();
        }
    }
    let config = Config {
        db: Database::parse(&b.db).unwrap(),
        ..Config::default()
    };
    let err = wait(storage::open(&config)).err().expect("refused");
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

/// Events carry `args` and `keys` (keyed places) back exactly; a database
/// of schema version 2 (no such columns) gains them on open, its rows
/// kept, read back with neither.
fn args_and_keys_round_trip_and_a_version_2_database_gains_them(b: &Backend) {
    let db = open(b);
    db.put_model("m", "{}").unwrap();
    let plain = event("s", 1, GENESIS_PREV, "h1");
    let mut keyed = event("s", 2, "h1", "h2");
    keyed.args = vec![("from".into(), "alice".into()), ("to".into(), "bob".into())];
    keyed.keys = vec![
        ("balance".into(), "alice".into(), 70),
        ("balance".into(), "bob".into(), u64::from(u32::MAX) + 1),
    ];
    let commit = Commit {
        record: head("s", 2, "h2"),
        events: vec![plain.clone(), keyed.clone()],
    };
    db.append("s", &mut |_| Ok(Some(commit.clone()))).unwrap();
    assert_eq!(db.page("s", 0, 10).unwrap().unwrap().events, commit.events);
    drop(db);

    // Back to what a version 2 server wrote: only unkeyed events, no
    // args / keys columns.
    let downgrade = "DELETE FROM events WHERE seq = 2; \
        UPDATE streams SET seq = 1, hash = 'h1'; \
        ALTER TABLE events DROP COLUMN args; ALTER TABLE events DROP COLUMN keys; \
        UPDATE schema_version SET version = 2;";
    match &b.pg {
        Some(pg) => pg.execute(downgrade),
        None => rusqlite::Connection::open(&b.db)
            .unwrap()
            .execute_batch(downgrade)
            .unwrap(),
    }
    assert_eq!(schema_version(b), 2);
    let db = open(b);
    assert_eq!(schema_version(b), 3);
    assert_eq!(db.page("s", 0, 10).unwrap().unwrap().events, vec![plain]);
    let commit = Commit {
        record: head("s", 2, "h2"),
        events: vec![keyed.clone()],
    };
    db.append("s", &mut |_| Ok(Some(commit.clone()))).unwrap();
    assert_eq!(db.page("s", 1, 10).unwrap().unwrap().events, vec![keyed]);
}

/// A database the previous server (schema 1, chain format v1) wrote: on
/// open its streams and events are moved to `streams_v1` / `events_v1`
/// (rows kept), none of them is served, the model stays, the stream ids
/// are free for the upgraded chains, and a second open changes nothing.
fn a_v1_database_is_moved_aside_and_not_served(b: &Backend) {
    write_v1_database(b);
    let db = open(b);
    assert_eq!(schema_version(b), 3);
    assert!(db.streams().unwrap().is_empty(), "no v1 stream is served");
    assert_eq!(db.head(V1_STREAM).unwrap(), None);
    assert!(db.page(V1_STREAM, 0, 10).unwrap().is_none());
    assert_eq!(count_rows(b, "streams_v1"), 2);
    assert_eq!(count_rows(b, "events_v1"), 2);
    let m = model();
    assert_eq!(
        db.model(m.id()).unwrap(),
        Some(m.canonical_json()),
        "models are kept"
    );

    // The upgraded chain is pushed under the same id, into the new tables.
    let commit = Commit {
        record: StreamRecord {
            model: m.id().into(),
            ..head(V1_STREAM, 1, "h1")
        },
        events: vec![Event {
            model: m.id().into(),
            ..event(V1_STREAM, 1, GENESIS_PREV, "h1")
        }],
    };
    db.append(V1_STREAM, &mut |tx| {
        assert_eq!(tx.head()?, None);
        assert_eq!(tx.hash_at(1)?, None, "v1 hashes are not seen");
        Ok(Some(commit.clone()))
    })
    .unwrap();
    assert_eq!(
        db.page(V1_STREAM, 0, 10).unwrap().unwrap().events,
        commit.events
    );
    drop(db);

    // Opened again: the current version now, nothing moved twice.
    let db = open(b);
    assert_eq!(db.streams().unwrap(), vec![commit.record.clone()]);
    assert_eq!(count_rows(b, "streams_v1"), 2);
    assert_eq!(count_rows(b, "events_v1"), 2);
    assert_eq!(count_rows(b, "events"), 1);
}

/// Writers on two storage instances (two "processes") append to the same
/// streams at once, each building on the head it reads inside the
/// transaction; the streams are created by whoever comes first. Every
/// acknowledged append must be stored, in one unbroken chain.
fn concurrent_appends_from_two_instances_never_fork(b: &Backend) {
    const THREADS: usize = 8;
    const APPENDS: usize = 15;
    const STREAMS: [&str; 2] = ["race-a", "race-b"];
    // Opened at the same time on an empty database: the migrations race too.
    let (one, two) = std::thread::scope(|s| {
        let one = s.spawn(|| open(b));
        let two = s.spawn(|| open(b));
        (one.join().unwrap(), two.join().unwrap())
    });
    one.put_model("m", "{}").unwrap();
    assert!(!two.put_model("m", "{}").unwrap());

    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let db = if t % 2 == 0 { one.clone() } else { two.clone() };
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut acked = Vec::new();
                for k in 0..APPENDS {
                    let stream = STREAMS[(t + k) % 2];
                    let hash = format!("t{t}-k{k}");
                    let written = db
                        .append(stream, &mut |tx| {
                            let (seq, prev) = match tx.head()? {
                                Some(h) => (h.seq, h.hash),
                                None => (0, GENESIS_PREV.to_string()),
                            };
                            if seq > 0 {
                                // The stored head really is the last event.
                                assert_eq!(tx.hash_at(seq)?, Some(prev.clone()));
                            }
                            Ok(Some(Commit {
                                record: head(stream, seq + 1, &hash),
                                events: vec![event(stream, seq + 1, &prev, &hash)],
                            }))
                        })
                        .unwrap_or_else(|e| panic!("writer {t}: {e}"));
                    assert!(written.is_some());
                    acked.push((stream, hash));
                }
                acked
            })
        })
        .collect();
    let acked: Vec<(&str, String)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();

    let mut total = 0;
    for stream in STREAMS {
        let page = one.page(stream, 0, 10_000).unwrap().unwrap();
        let events = page.events;
        let mut prev = GENESIS_PREV.to_string();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1, "{stream}: seq gap");
            assert_eq!(e.prev, prev, "{stream}: fork at seq {}", e.seq);
            prev = e.hash.clone();
        }
        assert_eq!(page.head.seq, events.len() as u64);
        assert_eq!(page.head.hash, prev);
        let stored: HashSet<&str> = events.iter().map(|e| e.hash.as_str()).collect();
        for (s, h) in &acked {
            if *s == stream {
                assert!(
                    stored.contains(h.as_str()),
                    "{stream}: acknowledged {h} lost"
                );
            }
        }
        // The other instance sees the same chain.
        assert_eq!(two.page(stream, 0, 10_000).unwrap().unwrap().events, events);
        total += events.len();
    }
    assert_eq!(total, THREADS * APPENDS, "no extra, none lost");
}

/// Issue 17: 100 events of 1 MiB, four pulls at once, took 1.3 GB. A page
/// is bounded by bytes as well as count; the first event always comes.
fn pages_are_bounded_by_bytes(b: &Backend) {
    let db = open(b);
    db.put_model("m", "{}").unwrap();
    let big = "x".repeat(10_000);
    let mut events = Vec::new();
    let mut prev = GENESIS_PREV.to_string();
    for seq in 1..=10u64 {
        let mut e = event("s", seq, &prev, &format!("h{seq}"));
        e.payload = format!("\"{big}\"");
        prev = e.hash.clone();
        events.push(e);
    }
    let commit = Commit {
        record: head("s", 10, "h10"),
        events: events.clone(),
    };
    db.append("s", &mut |_| Ok(Some(commit.clone()))).unwrap();
    // About three events' worth of bytes: three events, more follow.
    let page = db.page_bytes("s", 0, 100, 35_000).unwrap().unwrap();
    assert_eq!(page.events, events[..3]);
    assert!(page.more);
    let page = db.page_bytes("s", 3, 100, 35_000).unwrap().unwrap();
    assert_eq!(page.events, events[3..6]);
    // Less than one event: still one, so a pull always makes progress.
    let page = db.page_bytes("s", 9, 100, 10).unwrap().unwrap();
    assert_eq!((page.events.len(), page.more), (1, false));
    let page = db.page_bytes("s", 0, 100, 10).unwrap().unwrap();
    assert_eq!((page.events.len(), page.more), (1, true));
    // The count still caps.
    let page = db.page_bytes("s", 0, 2, usize::MAX).unwrap().unwrap();
    assert_eq!((page.events.len(), page.more), (2, true));
    let page = db.page_bytes("s", 0, 100, usize::MAX).unwrap().unwrap();
    assert_eq!((page.events, page.more), (events, false));
}

on_both_backends!(
    pages_are_bounded_by_bytes,
    round_trip_and_reopen,
    a_failed_plan_or_write_stores_nothing,
    an_unstorable_number_from_a_request_is_a_bad_request,
    every_stored_hash_is_readable_in_the_transaction,
    refuses_a_newer_schema,
    a_v1_database_is_moved_aside_and_not_served,
    args_and_keys_round_trip_and_a_version_2_database_gains_them,
    concurrent_appends_from_two_instances_never_fork,
);

/// CockroachDB runs every transaction SERIALIZABLE and expects the client
/// to retry on SQLSTATE 40001; PostgreSQL behaves the same with
/// `default_transaction_isolation = serializable`. The racing writers (and
/// the two racing migrations) must still all succeed, with no fork.
#[test]
fn postgres_serializable_like_cockroachdb_retries_and_never_forks() {
    let Some(b) = Backend::postgres("serializable") else {
        return;
    };
    let pg = b.pg.as_ref().unwrap();
    pg.execute(&format!(
        "ALTER DATABASE \"{}\" SET default_transaction_isolation TO 'serializable'",
        pg.name
    ));
    concurrent_appends_from_two_instances_never_fork(&b);
    let isolation: String = pg_query_one(&pg.url, "SHOW default_transaction_isolation").get(0);
    assert_eq!(isolation, "serializable");
    let rollbacks: i64 = pg_query_one(
        &pg.url,
        "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()",
    )
    .get(0);
    eprintln!("serializable: {rollbacks} transactions rolled back and retried");
}

#[test]
fn postgres_tests_are_required_when_asked() {
    // What scripts/ci/postgres.sh relies on: with the "required" flag and
    // no URL, a PostgreSQL test fails instead of skipping.
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "postgres::round_trip_and_reopen",
            "--test-threads=1",
        ])
        .env_remove(POSTGRES_URL_VAR)
        .env(POSTGRES_REQUIRED_VAR, "1")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a required PostgreSQL test passed without a server"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(POSTGRES_REQUIRED_VAR));
}
