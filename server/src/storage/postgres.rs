//! PostgreSQL backend: several server processes may share one database.
//!
//! Schema version 1 (row `id = 1` of `schema_version` holds it):
//! - `models(id PRIMARY KEY, json)`
//! - `streams(id PRIMARY KEY, model REFERENCES models, seq, hash, state)` —
//!   the head
//! - `events(stream REFERENCES streams, seq, model, action, multiple, actor,
//!   roles, payload, ts, prev, state, hash)`, primary key `(stream, seq)` (the
//!   page index), and an index on `hash`.
//!
//! The SQL is plain enough for CockroachDB too: no advisory locks, no
//! LISTEN/NOTIFY, no `LOCK TABLE`. An append is one transaction:
//! `SELECT ... FOR UPDATE` on the stream's head row, the backend-independent
//! plan ([`crate::append`]) reading through that locked view, then the head
//! update and the event inserts. A second appender on the same stream (from
//! any process) waits on the row lock and then reads the new head, so two
//! appends can never build on the same head. A stream that does not exist
//! yet has no row to lock: its creating insert is `ON CONFLICT DO NOTHING`,
//! and when another transaction created it first the attempt rolls back and
//! runs again, now locking that row. Serialization failures (SQLSTATE 40001,
//! what CockroachDB's SERIALIZABLE transactions raise) and deadlocks (40P01)
//! are retried the same way, a bounded number of times.
//!
//! The migration is serialized the same way: `schema_version`'s single row
//! is inserted if missing and then locked with `FOR UPDATE` while the tables
//! are created, so two processes starting at once on an empty database do
//! not race.
//!
//! The `postgres` crate is synchronous and drives each connection with its
//! own small runtime: every call here must come from a blocking context
//! (the HTTP layer uses `spawn_blocking`), and connections are closed on a
//! plain thread when the storage is dropped.

use std::str::FromStr;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use petrichain::chain::Event;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Row, Statement};

use super::{AppendTx, Commit, Page, Plan, Storage, StreamHead};
use crate::error::ApiError;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

/// Connections one server process opens at most, unless configured.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

/// Attempts of one transaction that keeps losing races (serialization
/// failures, concurrent stream creation) before it answers 500.
const MAX_ATTEMPTS: u32 = 50;

/// How long a request waits for a free connection.
const POOL_TIMEOUT: Duration = Duration::from_secs(30);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS models (
    id   TEXT PRIMARY KEY,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS streams (
    id    TEXT PRIMARY KEY,
    model TEXT NOT NULL REFERENCES models (id),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    stream   TEXT NOT NULL REFERENCES streams (id),
    seq      BIGINT NOT NULL,
    model    TEXT NOT NULL,
    action   TEXT NOT NULL,
    multiple BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    roles    TEXT NOT NULL,
    payload  TEXT NOT NULL,
    ts       BIGINT NOT NULL,
    prev     TEXT NOT NULL,
    state    TEXT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
);
CREATE INDEX IF NOT EXISTS events_hash ON events (hash);
";

const HEAD: &str = "SELECT id, model, seq, hash, state FROM streams WHERE id = $1";
const HEAD_FOR_UPDATE: &str =
    "SELECT id, model, seq, hash, state FROM streams WHERE id = $1 FOR UPDATE";
const STREAMS: &str = "SELECT id, model, seq, hash, state FROM streams ORDER BY id";
const HASH_AT: &str = "SELECT hash FROM events WHERE stream = $1 AND seq = $2";
const MODEL: &str = "SELECT json FROM models WHERE id = $1";
const PUT_MODEL: &str = "INSERT INTO models (id, json) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
const INSERT_STREAM: &str = "INSERT INTO streams (id, model, seq, hash, state)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING";
const UPDATE_STREAM: &str = "UPDATE streams SET seq = $2, hash = $3, state = $4 WHERE id = $1";
/// All the events of one append in one statement (one round trip), as
/// parallel arrays.
const INSERT_EVENTS: &str = "INSERT INTO events
    (stream, seq, model, action, multiple, actor, roles, payload, ts, prev, state, hash)
    SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[],
        $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BIGINT[], $10::TEXT[], $11::TEXT[], $12::TEXT[])";
/// The usual append to an existing stream in one round trip: the head
/// update and the event inserts in one statement (the events are joined to
/// the updated row, so a missing row would write nothing and be caught).
const UPDATE_AND_INSERT_EVENTS: &str = "WITH head AS (
        UPDATE streams SET seq = $13, hash = $14, state = $15 WHERE id = $16 RETURNING id
    )
    INSERT INTO events
    (stream, seq, model, action, multiple, actor, roles, payload, ts, prev, state, hash)
    SELECT u.* FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[],
        $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::BIGINT[], $10::TEXT[], $11::TEXT[], $12::TEXT[])
        AS u (stream, seq, model, action, multiple, actor, roles, payload, ts, prev, state, hash)
        CROSS JOIN head";
const SELECT_EVENTS: &str = "SELECT stream, seq, model, action, multiple, actor, roles,
    payload, ts, prev, state, hash FROM events WHERE stream = $1 AND seq > $2
    ORDER BY seq LIMIT $3";

/// A connection with its prepared statements.
struct Conn {
    client: Client,
    head: Statement,
    head_for_update: Statement,
    streams: Statement,
    hash_at: Statement,
    model: Statement,
    put_model: Statement,
    insert_stream: Statement,
    update_stream: Statement,
    insert_events: Statement,
    update_and_insert_events: Statement,
    select_events: Statement,
}

impl Conn {
    fn open(config: &postgres::Config) -> Result<Conn, postgres::Error> {
        let mut client = config.connect(NoTls)?;
        let mut p = |sql: &str| client.prepare(sql);
        Ok(Conn {
            head: p(HEAD)?,
            head_for_update: p(HEAD_FOR_UPDATE)?,
            streams: p(STREAMS)?,
            hash_at: p(HASH_AT)?,
            model: p(MODEL)?,
            put_model: p(PUT_MODEL)?,
            insert_stream: p(INSERT_STREAM)?,
            update_stream: p(UPDATE_STREAM)?,
            insert_events: p(INSERT_EVENTS)?,
            update_and_insert_events: p(UPDATE_AND_INSERT_EVENTS)?,
            select_events: p(SELECT_EVENTS)?,
            client,
        })
    }
}

struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

/// Chains in one PostgreSQL (or CockroachDB) database.
pub struct PostgresStorage {
    config: postgres::Config,
    max_connections: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
}

/// Why one attempt of a transaction failed.
enum Fail {
    /// A protocol answer (409, 422, ...): final.
    Api(ApiError),
    /// A database error: retried when it is a lost race.
    Db(postgres::Error),
    /// Another transaction created the stream first: run again.
    Raced,
}

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

fn internal(context: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("{context}: {e}"))
}

/// A database error as the API answers it.
fn db_error(e: &postgres::Error) -> ApiError {
    match e.code() {
        // Text PostgreSQL cannot store (a NUL character in an id or field).
        Some(c)
            if *c == SqlState::CHARACTER_NOT_IN_REPERTOIRE
                || *c == SqlState::UNTRANSLATABLE_CHARACTER =>
        {
            ApiError::BadRequest(
                "a text field holds a character the database cannot store (NUL)".into(),
            )
        }
        _ => internal("postgres", describe(e)),
    }
}

/// The error with the server's message and SQLSTATE when it has them
/// (`postgres::Error`'s Display alone says only "db error").
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => {
            // "error connecting to server" alone: add the causes.
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                text = format!("{text}: {c}");
                cause = c.source();
            }
            text
        }
    }
}

/// Whether the error ends the connection: the server is shutting it down
/// (57P01-57P03, what `pg_terminate_backend`, a restart or a failover send)
/// or the link failed (class 08). `is_closed` may not say so yet.
fn connection_lost(e: &postgres::Error) -> bool {
    match e.code() {
        Some(c) => {
            *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || c.code().starts_with("08")
        }
        None => e.is_closed(),
    }
}

/// Whether running the transaction again may succeed.
fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

fn to_i64(n: u64) -> Result<i64, ApiError> {
    i64::try_from(n).map_err(|_| ApiError::BadRequest(format!("number {n} is out of range")))
}

fn to_u64(n: i64) -> Result<u64, ApiError> {
    u64::try_from(n).map_err(|_| internal("corrupt record: negative number", n))
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| internal("serialising", e))
}

fn head_from_row(row: &Row) -> Result<StreamHead, Fail> {
    let id: String = row.try_get(0)?;
    let state: String = row.try_get(4)?;
    Ok(StreamHead {
        state: serde_json::from_str(&state)
            .map_err(|e| internal(&format!("corrupt state of stream '{id}'"), e))?,
        model: row.try_get(1)?,
        seq: to_u64(row.try_get(2)?)?,
        hash: row.try_get(3)?,
        id,
    })
}

fn event_from_row(row: &Row) -> Result<Event, Fail> {
    let stream: String = row.try_get(0)?;
    let seq: i64 = row.try_get(1)?;
    let corrupt = |e: serde_json::Error| internal(&format!("corrupt event {stream}/{seq}"), e);
    let roles: String = row.try_get(6)?;
    let state: String = row.try_get(10)?;
    Ok(Event {
        roles: serde_json::from_str(&roles).map_err(corrupt)?,
        state: serde_json::from_str(&state).map_err(corrupt)?,
        seq: to_u64(seq)?,
        model: row.try_get(2)?,
        action: row.try_get(3)?,
        multiple: to_u64(row.try_get(4)?)?,
        actor: row.try_get(5)?,
        payload: row.try_get(7)?,
        ts: to_u64(row.try_get(8)?)?,
        prev: row.try_get(9)?,
        hash: row.try_get(11)?,
        stream,
    })
}

/// The URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    // A password given as a query parameter too.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Parses a `postgres://` / `postgresql://` URL (or key=value string); the
/// error never repeats the password.
pub fn parse_url(url: &str) -> Result<postgres::Config, String> {
    postgres::Config::from_str(url)
        .map_err(|e| format!("{}: not a PostgreSQL connection URL ({e})", redact(url)))
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user:pw@host:port/db`),
    /// creates or checks the schema, and keeps up to `max_connections`
    /// connections. Refuses a database written by a newer schema.
    pub fn open(url: &str, max_connections: usize) -> Result<PostgresStorage, ApiError> {
        let config = parse_url(url).map_err(|e| internal("database URL", e))?;
        let mut client = config
            .connect(NoTls)
            .map_err(|e| internal(&format!("connecting to {}", redact(url)), describe(&e)))?;
        let migrated = migrate(&mut client);
        // Closed here, in the caller's blocking context.
        drop(client);
        migrated?;
        let first = Conn::open(&config).map_err(|e| db_error(&e))?;
        Ok(PostgresStorage {
            config,
            max_connections: max_connections.max(1),
            pool: Mutex::new(Pool {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
        })
    }

    fn take(&self) -> Result<Conn, ApiError> {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(c) = pool.idle.pop() {
                return Ok(c);
            }
            if pool.open < self.max_connections {
                pool.open += 1;
                drop(pool);
                return Conn::open(&self.config).map_err(|e| {
                    let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
                    pool.open -= 1;
                    self.freed.notify_one();
                    db_error(&e)
                });
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(pool, POOL_TIMEOUT)
                .unwrap_or_else(|e| e.into_inner());
            pool = next;
            if timeout.timed_out() && pool.idle.is_empty() && pool.open >= self.max_connections {
                return Err(internal("postgres", "no free connection for 30 s"));
            }
        }
    }

    /// Returns `conn` to the pool, or forgets it when `broken`.
    fn give_back(&self, conn: Conn, broken: bool) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if broken {
            pool.open -= 1;
            drop(pool);
            drop(conn);
        } else {
            pool.idle.push(conn);
            drop(pool);
        }
        self.freed.notify_one();
    }

    /// Runs `attempt` on a pooled connection, again (bounded, with a short
    /// growing pause) when it lost a race or its connection broke.
    fn run<T>(&self, mut attempt: impl FnMut(&mut Conn) -> Result<T, Fail>) -> Result<T, ApiError> {
        let mut tries = 0u32;
        loop {
            tries += 1;
            let mut conn = self.take()?;
            let out = attempt(&mut conn);
            let broken =
                conn.client.is_closed() || matches!(&out, Err(Fail::Db(e)) if connection_lost(e));
            self.give_back(conn, broken);
            match out {
                Ok(v) => return Ok(v),
                Err(Fail::Api(e)) => return Err(e),
                Err(Fail::Raced) => {}
                // A connection the database closed (restart, failover): the
                // next one is new. The append is idempotent, so running it
                // again after an unknown commit outcome answers duplicates.
                Err(Fail::Db(_)) if broken && tries < MAX_ATTEMPTS => continue,
                Err(Fail::Db(e)) if !retryable(&e) || tries >= MAX_ATTEMPTS => {
                    return Err(db_error(&e))
                }
                Err(Fail::Db(_)) => {}
            }
            if tries >= MAX_ATTEMPTS {
                return Err(internal("postgres", "the transaction kept losing races"));
            }
            // Lost a race: let the winner finish first.
            std::thread::sleep(Duration::from_millis(u64::from(tries.min(20))));
        }
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        let pool = self.pool.get_mut().unwrap_or_else(|e| e.into_inner());
        let idle = std::mem::take(&mut pool.idle);
        if idle.is_empty() {
            return;
        }
        // A postgres::Client closes by blocking on its own runtime, which
        // panics inside an async task: close them on a plain thread.
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}

fn migrate(client: &mut Client) -> Result<(), ApiError> {
    let fail = |e: postgres::Error| internal("migrating the schema", describe(&e));
    // Two processes creating the table at once can collide in the catalog
    // even with IF NOT EXISTS: the loser sees the table on the next try.
    let mut tries = 0;
    loop {
        tries += 1;
        match client.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                id      INT PRIMARY KEY CHECK (id = 1),
                version BIGINT NOT NULL
            );
            INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;",
        ) {
            Ok(()) => break,
            Err(e) if tries < 10 => {
                tracing::debug!("schema_version creation raced: {e}");
                std::thread::sleep(Duration::from_millis(20 * tries));
            }
            Err(e) => return Err(fail(e)),
        }
    }
    let mut tries = 0;
    loop {
        tries += 1;
        let result = (|| -> Result<Result<(), ApiError>, postgres::Error> {
            let mut tx = client.transaction()?;
            let version: i64 = tx
                .query_one(
                    "SELECT version FROM schema_version WHERE id = 1 FOR UPDATE",
                    &[],
                )?
                .try_get(0)?;
            match version {
                0 => {
                    tx.batch_execute(SCHEMA)?;
                    tx.execute(
                        "UPDATE schema_version SET version = $1 WHERE id = 1",
                        &[&SCHEMA_VERSION],
                    )?;
                }
                v if v == SCHEMA_VERSION => {}
                v => {
                    return Ok(Err(internal(
                        "schema",
                        format!(
                        "the database has schema version {v}; this server reads {SCHEMA_VERSION}"
                    ),
                    )))
                }
            }
            tx.commit()?;
            Ok(Ok(()))
        })();
        match result {
            Ok(r) => return r,
            Err(e) if retryable(&e) && tries < 10 => continue,
            Err(e) => return Err(fail(e)),
        }
    }
}

/// The append's view of the locked stream.
struct PgTx<'a, 'c> {
    tx: &'a mut postgres::Transaction<'c>,
    hash_at: &'a Statement,
    stream: &'a str,
    head: Option<StreamHead>,
    /// A database error the plan saw (kept to retry on a lost race).
    failure: Option<postgres::Error>,
}

impl AppendTx for PgTx<'_, '_> {
    fn head(&mut self) -> Result<Option<StreamHead>, ApiError> {
        Ok(self.head.clone())
    }

    fn hash_at(&mut self, seq: u64) -> Result<Option<String>, ApiError> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let row = self
            .tx
            .query_opt(self.hash_at, &[&self.stream, &seq])
            .and_then(|r| r.map(|r| r.try_get::<_, String>(0)).transpose());
        row.map_err(|e| {
            let answer = db_error(&e);
            self.failure = Some(e);
            answer
        })
    }
}

/// Events as the parallel arrays `INSERT_EVENTS` (and
/// `UPDATE_AND_INSERT_EVENTS`) unnest.
#[derive(Default)]
struct EventColumns<'a> {
    stream: Vec<&'a str>,
    seq: Vec<i64>,
    model: Vec<&'a str>,
    action: Vec<&'a str>,
    multiple: Vec<i64>,
    actor: Vec<&'a str>,
    roles: Vec<String>,
    payload: Vec<&'a str>,
    ts: Vec<i64>,
    prev: Vec<&'a str>,
    state: Vec<String>,
    hash: Vec<&'a str>,
}

impl<'a> EventColumns<'a> {
    fn of(events: &'a [Event]) -> Result<EventColumns<'a>, ApiError> {
        let mut c = EventColumns::default();
        for e in events {
            c.stream.push(&e.stream);
            c.seq.push(to_i64(e.seq)?);
            c.model.push(&e.model);
            c.action.push(&e.action);
            c.multiple.push(to_i64(e.multiple)?);
            c.actor.push(&e.actor);
            c.roles.push(json_text(&e.roles)?);
            c.payload.push(&e.payload);
            c.ts.push(to_i64(e.ts)?);
            c.prev.push(&e.prev);
            c.state.push(json_text(&e.state)?);
            c.hash.push(&e.hash);
        }
        Ok(c)
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 12] {
        [
            &self.stream,
            &self.seq,
            &self.model,
            &self.action,
            &self.multiple,
            &self.actor,
            &self.roles,
            &self.payload,
            &self.ts,
            &self.prev,
            &self.state,
            &self.hash,
        ]
    }
}

fn append_once(conn: &mut Conn, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, Fail> {
    let Conn {
        client,
        head_for_update,
        hash_at,
        insert_stream,
        update_stream,
        insert_events,
        update_and_insert_events,
        ..
    } = conn;
    let mut tx = client.transaction()?;
    let head = tx
        .query_opt(&*head_for_update, &[&stream])?
        .map(|r| head_from_row(&r))
        .transpose()?;
    let existed = head.is_some();
    let (decided, failure) = {
        let mut view = PgTx {
            tx: &mut tx,
            hash_at,
            stream,
            head,
            failure: None,
        };
        (plan(&mut view), view.failure)
    };
    let decided = match (decided, failure) {
        (Ok(d), _) => d,
        (Err(_), Some(e)) => return Err(Fail::Db(e)),
        (Err(e), None) => return Err(Fail::Api(e)),
    };
    let Some(commit) = decided else {
        // Nothing to write: the transaction rolls back when dropped.
        return Ok(None);
    };
    let h = &commit.head;
    let (seq, state) = (to_i64(h.seq)?, json_text(&h.state)?);
    let n = commit.events.len();
    let written = if existed && n > 0 {
        let cols = EventColumns::of(&commit.events)?;
        let mut params: Vec<&(dyn ToSql + Sync)> = cols.params().to_vec();
        params.extend_from_slice(&[&seq, &h.hash, &state, &h.id]);
        tx.execute(&*update_and_insert_events, &params)?
    } else {
        if existed {
            tx.execute(&*update_stream, &[&h.id, &seq, &h.hash, &state])?;
        } else if tx.execute(&*insert_stream, &[&h.id, &h.model, &seq, &h.hash, &state])? == 0 {
            // Created by another transaction since our SELECT: start again
            // and lock its row this time.
            return Err(Fail::Raced);
        }
        if n > 0 {
            let cols = EventColumns::of(&commit.events)?;
            tx.execute(&*insert_events, &cols.params())?
        } else {
            0
        }
    };
    if written != n as u64 {
        return Err(Fail::Api(internal(
            "postgres",
            format!("{written} of {n} events written"),
        )));
    }
    tx.commit()?;
    Ok(Some(commit))
}

impl Storage for PostgresStorage {
    fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError> {
        self.run(|c| Ok(c.client.execute(&c.put_model, &[&id, &json])? == 1))
    }

    fn model(&self, id: &str) -> Result<Option<String>, ApiError> {
        self.run(|c| {
            Ok(c.client
                .query_opt(&c.model, &[&id])?
                .map(|r| r.try_get(0))
                .transpose()?)
        })
    }

    fn head(&self, stream: &str) -> Result<Option<StreamHead>, ApiError> {
        self.run(|c| {
            c.client
                .query_opt(&c.head, &[&stream])?
                .map(|r| head_from_row(&r))
                .transpose()
        })
    }

    fn streams(&self) -> Result<Vec<StreamHead>, ApiError> {
        self.run(|c| {
            c.client
                .query(&c.streams, &[])?
                .iter()
                .map(head_from_row)
                .collect()
        })
    }

    fn page(&self, stream: &str, after: u64, limit: u64) -> Result<Option<Page>, ApiError> {
        let from = i64::try_from(after).unwrap_or(i64::MAX);
        let fetch = to_i64(limit.saturating_add(1))?;
        self.run(|c| {
            // One snapshot for the head and the events.
            let mut tx = c
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let Some(head) = tx
                .query_opt(&c.head, &[&stream])?
                .map(|r| head_from_row(&r))
                .transpose()?
            else {
                return Ok(None);
            };
            let mut events = Vec::new();
            let mut more = false;
            if after < head.seq {
                for row in tx.query(&c.select_events, &[&stream, &from, &fetch])? {
                    if events.len() as u64 == limit {
                        more = true;
                        break;
                    }
                    events.push(event_from_row(&row)?);
                }
            }
            tx.commit()?;
            Ok(Some(Page { head, events, more }))
        })
    }

    fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError> {
        self.run(|conn| append_once(conn, stream, plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db.example:5432/chains?sslmode=disable"),
            "postgres://app:***@db.example:5432/chains?sslmode=disable"
        );
        assert_eq!(
            redact("postgres://app@localhost/chains"),
            "postgres://app@localhost/chains"
        );
        assert_eq!(redact("postgresql://h/db"), "postgresql://h/db");
        assert_eq!(
            redact("postgres://h/db?sslmode=disable&password=pw&user=u"),
            "postgres://h/db?sslmode=disable&password=***&user=u"
        );
        assert_eq!(redact("postgres://u:pw@h"), "postgres://u:***@h");
        assert!(!parse_url("postgres://u:pw@h:notaport/db")
            .unwrap_err()
            .contains("pw"));
        assert!(parse_url("postgres://u:pw@127.0.0.1:5432/db").is_ok());
    }
}
