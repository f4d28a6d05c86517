//! Shared by the integration tests: a real server process on 127.0.0.1:0,
//! temporary directories, the two storage backends (a SQLite file, a fresh
//! PostgreSQL database), a test net and real event chains built with the
//! core crate's ledger.
//!
//! PostgreSQL tests read the server's URL from `PETRICHAIN_TEST_POSTGRES_URL`
//! (a superuser: each test creates and drops its own database). Without it
//! they print that they are skipped and pass, unless
//! `PETRICHAIN_TEST_POSTGRES_REQUIRED=1` (set by scripts/ci/postgres.sh),
//! which turns a missing URL into a failure.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::rc::Rc;

use petrichain::chain::{
    hash::event_hash, signed_message, Device, Event, MarkingTree, SoftwareKey, FORMAT_VERSION,
};
use petrichain::engine::Marking;
use petrichain::formats::json::import_json;
use petrichain::model::Model;
use petrichain::store::{block_on, Action, Ledger, MemoryStore};
use petrichain::sync::protocol::{AppendRequest, ErrorBody, EventPage, Head, ModelDoc};
use petrichain::FireOptions;
pub mod client;
pub mod transport;

pub use client::{Client, Response};

/// `/v2` (the protocol version) followed by `path`.
pub fn v2(path: &str) -> String {
    format!("/{}{path}", petrichain::sync::protocol::PROTOCOL_VERSION)
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "petrichain-server-test-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The env var naming the PostgreSQL server the tests use.
pub const POSTGRES_URL_VAR: &str = "PETRICHAIN_TEST_POSTGRES_URL";
/// Set to 1: a missing [`POSTGRES_URL_VAR`] fails the PostgreSQL tests.
pub const POSTGRES_REQUIRED_VAR: &str = "PETRICHAIN_TEST_POSTGRES_REQUIRED";

/// The test PostgreSQL server's URL; `None` (after saying so) when the
/// tests are to be skipped. Panics when they are required.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var(POSTGRES_REQUIRED_VAR).is_ok_and(|v| v == "1") {
                panic!(
                    "{POSTGRES_REQUIRED_VAR}=1 but {POSTGRES_URL_VAR} is not set: \
                     no PostgreSQL server to test against (scripts/ci/postgres.sh starts one)"
                );
            }
            // Straight to stderr (not eprintln!, which the test harness
            // captures), once per test binary.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: the postgres::* tests pass without running: {POSTGRES_URL_VAR} \
                     is not set (bash scripts/ci/postgres.sh runs them against a real PostgreSQL)"
                );
            });
            None
        }
    }
}

/// `url` with its database name replaced by `dbname`.
pub fn with_dbname(url: &str, dbname: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    format!("{scheme}://{authority}/{dbname}{query}")
}

/// The one runtime the tests' async calls run on (the storage trait,
/// PostgreSQL administration): connections spawned on it outlive each call.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("test runtime")
    })
}

/// Runs `f` to completion on [`runtime`] (from any test thread).
pub fn wait<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// A connection to the PostgreSQL database at `url`, driven on [`runtime`].
pub fn pg_connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    wait(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    })
}

/// Runs `sql` (one or more statements) on the database at `url`.
pub fn pg_batch(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let c = pg_connect(url)?;
    wait(c.batch_execute(sql))
}

/// The single row `sql` answers on the database at `url`.
pub fn pg_query_one(url: &str, sql: &str) -> tokio_postgres::Row {
    let c = pg_connect(url).unwrap();
    wait(c.query_one(sql, &[])).unwrap()
}

/// A PostgreSQL database of its own, dropped (connections and all) when
/// dropped.
pub struct PgDatabase {
    admin: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create(admin: &str, name: &str) -> PgDatabase {
        static N: AtomicU64 = AtomicU64::new(0);
        let mut db = format!(
            "pc_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            name.to_ascii_lowercase()
        );
        db.truncate(63);
        let c = pg_connect(admin)
            .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"));
        wait(c.batch_execute(&format!("CREATE DATABASE \"{db}\"")))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {db}: {e}"));
        PgDatabase {
            admin: admin.to_string(),
            url: with_dbname(admin, &db),
            name: db,
        }
    }

    /// Runs `sql` in this database (test set-up and tampering).
    pub fn execute(&self, sql: &str) {
        pg_batch(&self.url, sql).unwrap();
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = pg_batch(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// Where a test's server keeps its data: a SQLite file in a temporary
/// directory, or a fresh PostgreSQL database (logs still go to the
/// directory).
pub struct Backend {
    pub dir: TempDir,
    /// The `--db` argument.
    pub db: String,
    pub pg: Option<PgDatabase>,
}

impl Backend {
    pub fn sqlite(name: &str) -> Backend {
        let dir = TempDir::new(name);
        // Nested: the server creates missing directories itself.
        let db = dir
            .path("nested/dir/petrichain.sqlite")
            .to_string_lossy()
            .into_owned();
        Backend { dir, db, pg: None }
    }

    /// `None` when PostgreSQL tests are skipped (see [`postgres_url`]).
    pub fn postgres(name: &str) -> Option<Backend> {
        let admin = postgres_url()?;
        let pg = PgDatabase::create(&admin, name);
        Some(Backend {
            dir: TempDir::new(name),
            db: pg.url.clone(),
            pg: Some(pg),
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// A server on this backend.
    pub fn start(&self, extra: &[&str]) -> Server {
        Server::start_at(&self.db, &self.dir.0, extra)
    }
}

/// Generates, for each named `fn(&Backend)`, a test in module `sqlite` and
/// one in module `postgres` (filter with `cargo test postgres`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::Backend::sqlite(stringify!($name)));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(backend) = super::Backend::postgres(stringify!($name)) {
                        super::$name(&backend);
                    }
                }
            )*
        }
    };
}

/// A running `petrichain-server` process, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Server {
    /// Starts the binary with `--addr 127.0.0.1:0 --db db` and `extra`
    /// options, and waits for its "listening on" line.
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        // Next to the db, or in its nearest existing ancestor (the server
        // creates missing directories itself; tests check that).
        let mut home = db.parent().unwrap_or(Path::new("."));
        while !home.is_dir() {
            home = home.parent().unwrap_or(Path::new("."));
        }
        Server::start_at(&db.to_string_lossy(), home, extra)
    }

    /// Starts the binary with `--db db` (a path or URL), its log in `home`.
    pub fn start_at(db: &str, home: &Path, extra: &[&str]) -> Server {
        let log = home.join(format!(
            "server-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut child = Command::new(env!("CARGO_BIN_EXE_petrichain-server"))
            .args(["--addr", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).expect("log file")))
            .spawn()
            .expect("server starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let Some(url) = line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            panic!(
                "unexpected first line {line:?}; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let addr: SocketAddr = url.parse().unwrap();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0);
        Server { child, addr, log }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's peak resident memory so far (`VmHWM`, Linux), bytes.
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        kb.checked_mul(1024)
    }

    pub fn client(&self) -> Client {
        Client::connect(self.addr).unwrap()
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        // The shell's builtin kill: no dependency on a kill binary.
        let ok = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test net: `spend` moves cash to spent (10 cash), `audit` needs the
/// auditor role and a spent token (read through a loop), `tick` always
/// fires and counts.
pub const NET: &str = r#"{
  "name": "till",
  "places": [{"id": "cash", "initial": 10}, {"id": "spent"}, {"id": "ticks"}],
  "transitions": [{"id": "spend"}, {"id": "audit", "roles": ["auditor"]}, {"id": "tick"}],
  "arcs": [
    {"source": "cash", "target": "spend"}, {"source": "spend", "target": "spent"},
    {"source": "spent", "target": "audit"}, {"source": "audit", "target": "spent"},
    {"source": "tick", "target": "ticks"}
  ]
}"#;

pub fn model() -> Model {
    import_json(NET).unwrap().0
}

pub fn model_doc(model: &Model) -> ModelDoc {
    ModelDoc {
        id: model.id().to_string(),
        json: model.canonical_json(),
    }
}

/// The seed of the key the test chains are signed with ([`chain`]), so
/// that tests can re-sign an event they changed ([`resign`]).
pub const DEVICE_SEED: [u8; 32] = [7; 32];

/// The key of [`DEVICE_SEED`].
pub fn device_key() -> SoftwareKey {
    SoftwareKey::from_seed(&DEVICE_SEED)
}

/// Another device's key (the forger's).
pub fn other_key() -> SoftwareKey {
    SoftwareKey::from_seed(&[9; 32])
}

/// `key`'s signature of `hash` (hex), as an event's `sig`.
pub fn sign_hex(key: &SoftwareKey, hash: &str) -> String {
    hex::encode(key.sign_now(&signed_message(hash)))
}

/// Events of `stream` built by a memory ledger with the [`device_key`],
/// firing `actions` in order.
pub fn chain(model: &Model, stream: &str, actions: &[Action]) -> Vec<Event> {
    block_on(async {
        let ledger = Ledger::new(MemoryStore::new(), Rc::new(device_key()));
        let id = ledger.put_model(model).await.unwrap();
        ledger.create_stream(stream, &id).await.unwrap();
        for (i, a) in actions.iter().enumerate() {
            ledger
                .fire(stream, a, 1_700_000_000_000 + i as u64)
                .await
                .unwrap();
        }
        ledger.all_events(stream).await.unwrap()
    })
}

pub fn spends(n: usize) -> Vec<Action> {
    (0..n)
        .map(|i| {
            Action::new("spend")
                .actor("alice")
                .payload(format!("{{\"n\":{i}}}"))
        })
        .collect()
}

pub fn ticks(n: usize) -> Vec<Action> {
    (0..n).map(|_| Action::new("tick")).collect()
}

/// The event with its hash recomputed after a change (its `sig` now
/// signs another hash).
pub fn rehash(mut e: Event) -> Event {
    e.hash = event_hash(&e);
    e
}

/// The event rehashed and signed again by `key`, named as its signer: a
/// change that only a check of the content (not of the signature) can see.
pub fn resign(mut e: Event, key: &SoftwareKey) -> Event {
    e.signer = hex::encode(key.public_key());
    e = rehash(e);
    e.sig = sign_hex(key, &e.hash);
    e
}

/// The next event after `head`, where the net is in `marking` (moved to
/// the marking after it): `action` fired once by `actor` with `payload`,
/// signed by `key`, a fresh random nonce. Built from the public pieces of
/// the format (docs/chain-format.md), the way another implementation would.
#[allow(clippy::too_many_arguments)]
pub fn next_event(
    model: &Model,
    stream: &str,
    key: &SoftwareKey,
    head: &Head,
    marking: &mut Marking,
    action: &str,
    actor: &str,
    payload: &str,
    ts: u64,
) -> Event {
    let after = model
        .fire(marking, action, &FireOptions::default())
        .expect("the action is enabled");
    let delta = model
        .places()
        .iter()
        .enumerate()
        .filter(|&(i, _)| after.0[i] != marking.0[i])
        .map(|(i, p)| (p.id.clone(), after.0[i]))
        .collect();
    let mut nonce = [0u8; 16];
    key.random(&mut nonce).unwrap();
    let e = Event {
        v: FORMAT_VERSION,
        stream: stream.into(),
        seq: head.seq + 1,
        model: model.id().into(),
        action: action.into(),
        multiple: 1,
        args: Vec::new(),
        actor: actor.into(),
        roles: vec![],
        payload: payload.into(),
        ts,
        nonce: hex::encode(nonce),
        prev: head.hash.clone(),
        delta,
        keys: Vec::new(),
        root: hex::encode(MarkingTree::new(model, &after).root()),
        signer: String::new(),
        hash: String::new(),
        sig: String::new(),
    };
    *marking = after;
    resign(e, key)
}

pub fn head_of(e: &Event) -> Head {
    Head {
        seq: e.seq,
        hash: e.hash.clone(),
    }
}

pub fn request(model: &Model, expected: Head, events: &[Event]) -> AppendRequest {
    AppendRequest {
        model: model.id().to_string(),
        expected,
        events: events.to_vec(),
    }
}

pub fn put_model(c: &mut Client, model: &Model) -> Response {
    c.send_json(
        "PUT",
        &v2(&format!("/models/{}", model.id())),
        &model_doc(model),
    )
    .unwrap()
}

pub fn append(c: &mut Client, stream: &str, req: &AppendRequest) -> Response {
    c.send_json("POST", &v2(&format!("/streams/{stream}/events")), req)
        .unwrap()
}

pub fn error(r: &Response) -> ErrorBody {
    let body: ErrorBody = r.json().unwrap();
    assert!(!body.message.is_empty(), "error without a message");
    body
}

/// Every event of a stream, following `more`.
pub fn pull_all(c: &mut Client, stream: &str) -> (Head, Vec<Event>) {
    let mut events: Vec<Event> = Vec::new();
    loop {
        let after = events.last().map_or(0, |e| e.seq);
        let r = c
            .get(&v2(&format!(
                "/streams/{stream}/events?after={after}&limit=1000"
            )))
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let page: EventPage = r.json().unwrap();
        events.extend(page.events);
        if !page.more {
            return (page.head, events);
        }
    }
}

/// The schema the previous server (schema version 1, chain format v1
/// events with the whole marking in `state`) created, exactly as it did,
/// SQLite and PostgreSQL.
pub const V1_SQLITE_SCHEMA: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (1);
CREATE TABLE models (id TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
CREATE TABLE streams (
    id TEXT PRIMARY KEY NOT NULL, model TEXT NOT NULL REFERENCES models(id),
    seq INTEGER NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL
);
CREATE TABLE events (
    stream TEXT NOT NULL REFERENCES streams(id), seq INTEGER NOT NULL, model TEXT NOT NULL,
    action TEXT NOT NULL, multiple INTEGER NOT NULL, actor TEXT NOT NULL, roles TEXT NOT NULL,
    payload TEXT NOT NULL, ts INTEGER NOT NULL, prev TEXT NOT NULL, state TEXT NOT NULL,
    hash TEXT NOT NULL, PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE INDEX events_hash ON events (hash);
";

/// See [`V1_SQLITE_SCHEMA`].
pub const V1_POSTGRES_SCHEMA: &str = "
CREATE TABLE schema_version (id INT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
INSERT INTO schema_version (id, version) VALUES (1, 1);
CREATE TABLE models (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE streams (
    id TEXT PRIMARY KEY, model TEXT NOT NULL REFERENCES models (id),
    seq BIGINT NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL
);
CREATE TABLE events (
    stream TEXT NOT NULL REFERENCES streams (id), seq BIGINT NOT NULL, model TEXT NOT NULL,
    action TEXT NOT NULL, multiple BIGINT NOT NULL, actor TEXT NOT NULL, roles TEXT NOT NULL,
    payload TEXT NOT NULL, ts BIGINT NOT NULL, prev TEXT NOT NULL, state TEXT NOT NULL,
    hash TEXT NOT NULL, PRIMARY KEY (stream, seq)
);
CREATE INDEX events_hash ON events (hash);
";

/// The v1 stream [`write_v1_database`] holds, with 2 events.
pub const V1_STREAM: &str = "legacy";

/// Writes a database as the previous server left it: the v1 schema, the
/// test model, stream [`V1_STREAM`] with two v1 events (with `state`), and
/// an empty stream `legacy-empty`.
pub fn write_v1_database(b: &Backend) {
    let m = model();
    let (h1, h2) = ("1".repeat(64), "2".repeat(64));
    let zero = Head::zero().hash;
    let rows = format!(
        "INSERT INTO models (id, json) VALUES ('{id}', '{json}');
         INSERT INTO streams (id, model, seq, hash, state) VALUES
             ('{V1_STREAM}', '{id}', 2, '{h2}', '[8,2,0]'),
             ('legacy-empty', '{id}', 0, '{zero}', '[10,0,0]');
         INSERT INTO events (stream, seq, model, action, multiple, actor, roles, payload, ts,
                             prev, state, hash) VALUES
             ('{V1_STREAM}', 1, '{id}', 'spend', 1, 'alice', '[]', 'null', 1, '{zero}',
              '[9,1,0]', '{h1}'),
             ('{V1_STREAM}', 2, '{id}', 'spend', 1, 'alice', '[]', 'null', 2, '{h1}',
              '[8,2,0]', '{h2}');",
        id = m.id(),
        json = m.canonical_json().replace('\'', "''"),
    );
    match &b.pg {
        Some(pg) => pg.execute(&format!("{V1_POSTGRES_SCHEMA}{rows}")),
        None => {
            let path = std::path::Path::new(&b.db);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch(&format!("BEGIN; {V1_SQLITE_SCHEMA}{rows} COMMIT;"))
                .unwrap();
        }
    }
}

/// `SELECT count(*) FROM table` on the backend's database, read directly.
pub fn count_rows(b: &Backend, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    match &b.pg {
        Some(pg) => pg_query_one(&pg.url, &sql).get(0),
        None => rusqlite::Connection::open(&b.db)
            .unwrap()
            .query_row(&sql, [], |r| r.get(0))
            .unwrap(),
    }
}

/// The schema version the backend's database records.
pub fn schema_version(b: &Backend) -> i64 {
    let sql = "SELECT max(version) FROM schema_version";
    match &b.pg {
        Some(pg) => pg_query_one(&pg.url, sql).get(0),
        None => rusqlite::Connection::open(&b.db)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap(),
    }
}
