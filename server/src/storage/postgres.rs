//! PostgreSQL backend: several server processes may share one database.
//!
//! Schema version 2 (row `id = 1` of `schema_version` holds it):
//! - `models(id PRIMARY KEY, json)`
//! - `streams(id PRIMARY KEY, model REFERENCES models, seq, hash, state)` —
//!   the head, with the whole marking reached (`state`)
//! - `events(stream REFERENCES streams, seq, v, model, action, multiple,
//!   actor, roles, payload, ts, nonce, prev, delta, root, signer, hash, sig)`:
//!   chain format v2 events, primary key `(stream, seq)` (the page index),
//!   and an index on `hash`.
//!
//! A version 1 database (the previous server's, chain format v1 events) is
//! moved aside on start, in the migration's locked transaction: `streams`
//! and `events` renamed to `streams_v1` and `events_v1` (rows kept), their
//! indexes (`streams_pkey`, `events_pkey`, `events_hash`: index names are
//! per schema) renamed to `*_v1_*`, then the version 2 tables created.
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
//! The plan is synchronous and pure: the hashes it asks for (to recognise
//! re-sent events) are read inside the same transaction, a range at a time,
//! and the plan runs again with them.
//!
//! The migration is serialized the same way: `schema_version`'s single row
//! is inserted if missing and then locked with `FOR UPDATE` while the tables
//! are created, so two processes starting at once on an empty database do
//! not race.
//!
//! Connections: `tokio-postgres`, pooled by `deadpool-postgres` (at most
//! `--db-connections` per process), each connection preparing its
//! statements once. A connection the database closed is dropped from the
//! pool and the request runs again on a new one.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use super::rows::{
    self, event_columns, head_columns, internal, seq_bound, EventCells, EventRow, HeadCells,
    HeadRow, Migration,
};
use super::{AppendTx, Commit, Page, Plan, Storage, StreamRecord};
use crate::error::ApiError;

pub use super::rows::SCHEMA_VERSION;

/// Connections one server process opens at most, unless configured.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

/// Attempts of one transaction that keeps losing races (serialization
/// failures, concurrent stream creation) before it answers 500.
const MAX_ATTEMPTS: u32 = 50;

/// How long a request waits for a free connection.
const POOL_TIMEOUT: Duration = Duration::from_secs(30);

/// Stored hashes read at once when the plan asks for one not read yet.
const HASHES_PER_READ: u64 = 1024;

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
    v        BIGINT NOT NULL,
    ts       BIGINT NOT NULL,
    nonce    TEXT NOT NULL,
    prev     TEXT NOT NULL,
    delta    TEXT NOT NULL,
    root     TEXT NOT NULL,
    signer   TEXT NOT NULL,
    hash     TEXT NOT NULL,
    sig      TEXT NOT NULL,
    args     TEXT NOT NULL DEFAULT '[]',
    keys     TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (stream, seq)
);
CREATE INDEX IF NOT EXISTS events_hash ON events (hash);
";

/// Moves a version 1 schema's tables aside ([`rows::V1_ARCHIVE`]); their
/// indexes are renamed too, since PostgreSQL index names are per schema and
/// the version 2 tables need the same ones.
const ARCHIVE_V1: &str = "
ALTER TABLE streams RENAME TO streams_v1;
ALTER TABLE events RENAME TO events_v1;
ALTER INDEX streams_pkey RENAME TO streams_v1_pkey;
ALTER INDEX events_pkey RENAME TO events_v1_pkey;
ALTER INDEX IF EXISTS events_hash RENAME TO events_v1_hash;
";

const HEAD: &str = concat!("SELECT ", head_columns!(), " FROM streams WHERE id = $1");
const HEAD_FOR_UPDATE: &str = concat!(
    "SELECT ",
    head_columns!(),
    " FROM streams WHERE id = $1 FOR UPDATE"
);
const STREAMS: &str = concat!(
    "SELECT ",
    head_columns!(),
    " FROM streams WHERE id > $1 ORDER BY id LIMIT $2"
);
const HASHES: &str = "SELECT seq, hash FROM events WHERE stream = $1 AND seq >= $2 AND seq <= $3";
const MODEL: &str = "SELECT json FROM models WHERE id = $1";
const PUT_MODEL: &str = "INSERT INTO models (id, json) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
const INSERT_STREAM: &str = concat!(
    "INSERT INTO streams (",
    head_columns!(),
    ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING"
);
const UPDATE_STREAM: &str = "UPDATE streams SET seq = $2, hash = $3, state = $4 WHERE id = $1";
/// All the events of one append in one statement (one round trip), as
/// parallel arrays.
const INSERT_EVENTS: &str = concat!(
    "INSERT INTO events (",
    event_columns!(),
    ") SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[],
        $6::BIGINT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::TEXT[], $12::TEXT[],
        $13::TEXT[], $14::TEXT[], $15::TEXT[], $16::TEXT[], $17::TEXT[], $18::TEXT[], $19::TEXT[])"
);
/// The usual append to an existing stream in one round trip: the head
/// update and the event inserts in one statement (the events are joined to
/// the updated row, so a missing row would write nothing and be caught).
const UPDATE_AND_INSERT_EVENTS: &str = concat!(
    "WITH head AS (
        UPDATE streams SET seq = $20, hash = $21, state = $22 WHERE id = $23 RETURNING id
    )
    INSERT INTO events (",
    event_columns!(),
    ") SELECT u.* FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[],
        $6::BIGINT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::TEXT[], $12::TEXT[],
        $13::TEXT[], $14::TEXT[], $15::TEXT[], $16::TEXT[], $17::TEXT[], $18::TEXT[], $19::TEXT[])
        AS u (",
    event_columns!(),
    ") CROSS JOIN head"
);
const SELECT_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3"
);

/// Chains in one PostgreSQL (or CockroachDB) database.
pub struct PostgresStorage {
    pool: Pool,
}

/// Why one attempt of a transaction failed.
enum Fail {
    /// A protocol answer (409, 422, ...): final.
    Api(ApiError),
    /// A database error: retried when it is a lost race or a lost connection.
    Db(tokio_postgres::Error),
    /// Another transaction created the stream first: run again.
    Raced,
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

/// A database error as the API answers it.
fn db_error(e: &tokio_postgres::Error) -> ApiError {
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
/// (`tokio_postgres::Error`'s Display alone says only "db error").
fn describe(e: &tokio_postgres::Error) -> String {
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
fn connection_lost(e: &tokio_postgres::Error) -> bool {
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
fn retryable(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

fn head_row(row: &Row) -> Result<HeadRow, tokio_postgres::Error> {
    Ok(HeadRow {
        id: row.try_get(0)?,
        model: row.try_get(1)?,
        seq: row.try_get(2)?,
        hash: row.try_get(3)?,
        state: row.try_get(4)?,
    })
}

fn event_row(row: &Row) -> Result<EventRow, tokio_postgres::Error> {
    Ok(EventRow {
        stream: row.try_get(0)?,
        seq: row.try_get(1)?,
        v: row.try_get(2)?,
        model: row.try_get(3)?,
        action: row.try_get(4)?,
        multiple: row.try_get(5)?,
        actor: row.try_get(6)?,
        roles: row.try_get(7)?,
        payload: row.try_get(8)?,
        ts: row.try_get(9)?,
        nonce: row.try_get(10)?,
        prev: row.try_get(11)?,
        delta: row.try_get(12)?,
        root: row.try_get(13)?,
        signer: row.try_get(14)?,
        hash: row.try_get(15)?,
        sig: row.try_get(16)?,
        args: row.try_get(17)?,
        keys: row.try_get(18)?,
    })
}

fn head_from(row: Option<Row>) -> Result<Option<StreamRecord>, Fail> {
    match row {
        Some(r) => Ok(Some(head_row(&r)?.decode()?)),
        None => Ok(None),
    }
}

/// The URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The password may hold `/`, `?` or `@` (unescaped, as people type
    // them): the user info runs to the last `@`, wherever the host, path
    // or query seem to start. A `@` in the query makes this hide the host
    // too: more hidden, never less.
    let (authority, tail) = match rest.rfind('@') {
        Some(at) => {
            let (userinfo, host_and_tail) = (&rest[..at], &rest[at + 1..]);
            let userinfo = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => userinfo.to_string(),
            };
            (format!("{userinfo}@"), host_and_tail)
        }
        None => (String::new(), rest),
    };
    // A password given as a query parameter too.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
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
pub fn parse_url(url: &str) -> Result<tokio_postgres::Config, String> {
    // The driver ends the user info at the first `/`, `?` or `#` and would
    // take the rest of such a password for a host, a database, options:
    // refuse it, saying how to write it.
    if let Some((_, rest)) = url.split_once("://") {
        if let Some(at) = rest.rfind('@') {
            if rest[..at].contains(['/', '?', '#', '@']) {
                return Err(format!(
                    "{}: the user name or password holds / ? # or @: write them \
                     percent-encoded (%2F %3F %23 %40)",
                    redact(url)
                ));
            }
        }
    }
    tokio_postgres::Config::from_str(url)
        .map_err(|e| format!("{}: not a PostgreSQL connection URL ({e})", redact(url)))
}

/// The retry policy of one call: what to do after each attempt.
struct Attempts {
    tries: u32,
}

impl Attempts {
    fn new() -> Attempts {
        Attempts { tries: 0 }
    }

    /// Settles one attempt made on `conn`: `Some` is the answer, `None`
    /// means run again (after a short growing pause when it lost a race).
    /// A connection the database closed leaves the pool.
    async fn settle<T>(
        &mut self,
        conn: Object,
        out: Result<T, Fail>,
    ) -> Result<Option<T>, ApiError> {
        self.tries += 1;
        let broken = conn.is_closed() || matches!(&out, Err(Fail::Db(e)) if connection_lost(e));
        if broken {
            drop(Object::take(conn));
        } else {
            drop(conn);
        }
        match out {
            Ok(v) => return Ok(Some(v)),
            Err(Fail::Api(e)) => return Err(e),
            Err(Fail::Raced) => {}
            // A connection the database closed (restart, failover): the
            // next one is new. The append is idempotent, so running it
            // again after an unknown commit outcome answers duplicates.
            Err(Fail::Db(_)) if broken && self.tries < MAX_ATTEMPTS => return Ok(None),
            Err(Fail::Db(e)) if !retryable(&e) || self.tries >= MAX_ATTEMPTS => {
                return Err(db_error(&e))
            }
            Err(Fail::Db(_)) => {}
        }
        if self.tries >= MAX_ATTEMPTS {
            return Err(internal("postgres", "the transaction kept losing races"));
        }
        // Lost a race: let the winner finish first.
        tokio::time::sleep(Duration::from_millis(u64::from(self.tries.min(20)))).await;
        Ok(None)
    }
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user:pw@host:port/db`),
    /// creates or checks the schema, and keeps up to `max_connections`
    /// connections. Refuses a database written by a newer schema.
    pub async fn open(url: &str, max_connections: usize) -> Result<PostgresStorage, ApiError> {
        let config = parse_url(url).map_err(|e| internal("database URL", e))?;
        let (mut client, connection) = config
            .connect(NoTls)
            .await
            .map_err(|e| internal(&format!("connecting to {}", redact(url)), describe(&e)))?;
        let driver = tokio::spawn(connection);
        let migrated = migrate(&mut client).await;
        drop(client);
        let _ = driver.await;
        migrated?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .wait_timeout(Some(POOL_TIMEOUT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| internal("postgres pool", e))?;
        let storage = PostgresStorage { pool };
        // Fail at start, not at the first request, when no connection opens.
        drop(storage.conn().await?);
        Ok(storage)
    }

    async fn conn(&self) -> Result<Object, ApiError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => db_error(&e),
            PoolError::Timeout(_) => internal(
                "postgres",
                format!("no free connection for {} s", POOL_TIMEOUT.as_secs()),
            ),
            e => internal("postgres", e),
        })
    }
}

async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), ApiError> {
    let fail = |e: tokio_postgres::Error| internal("migrating the schema", describe(&e));
    // Two processes creating the table at once can collide in the catalog
    // even with IF NOT EXISTS: the loser sees the table on the next try.
    let mut tries = 0;
    loop {
        tries += 1;
        match client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_version (
                    id      INT PRIMARY KEY CHECK (id = 1),
                    version BIGINT NOT NULL
                );
                INSERT INTO schema_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;",
            )
            .await
        {
            Ok(()) => break,
            Err(e) if tries < 10 => {
                tracing::debug!("schema_version creation raced: {e}");
                tokio::time::sleep(Duration::from_millis(20 * tries)).await;
            }
            Err(e) => return Err(fail(e)),
        }
    }
    let mut tries = 0;
    loop {
        tries += 1;
        match migrate_once(client).await {
            Ok(r) => return r,
            Err(e) if retryable(&e) && tries < 10 => continue,
            Err(e) => return Err(fail(e)),
        }
    }
}

async fn migrate_once(
    client: &mut tokio_postgres::Client,
) -> Result<Result<(), ApiError>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let version: i64 = tx
        .query_one(
            "SELECT version FROM schema_version WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await?
        .try_get(0)?;
    // Version 0: the row was just inserted, there is no schema yet.
    let archived = match rows::migration((version != 0).then_some(version)) {
        Ok(Migration::Current) => {
            tx.commit().await?;
            return Ok(Ok(()));
        }
        Ok(Migration::Create) => None,
        Ok(Migration::AddKeyColumns) => {
            tx.batch_execute(rows::ADD_KEY_COLUMNS).await?;
            None
        }
        Ok(Migration::ArchiveV1) => {
            let streams: i64 = tx
                .query_one("SELECT count(*) FROM streams", &[])
                .await?
                .try_get(0)?;
            let events: i64 = tx
                .query_one("SELECT count(*) FROM events", &[])
                .await?
                .try_get(0)?;
            tx.batch_execute(ARCHIVE_V1).await?;
            Some((streams, events))
        }
        Err(e) => return Ok(Err(e)),
    };
    tx.batch_execute(SCHEMA).await?;
    tx.execute(
        "UPDATE schema_version SET version = $1 WHERE id = 1",
        &[&SCHEMA_VERSION],
    )
    .await?;
    tx.commit().await?;
    if let Some((streams, events)) = archived {
        tracing::warn!("{}", rows::archived_v1_message(streams, events));
    }
    Ok(Ok(()))
}

/// Stored hashes of one stream read so far in an append's transaction.
#[derive(Default)]
struct Hashes {
    read: Vec<RangeInclusive<u64>>,
    by_seq: BTreeMap<u64, String>,
}

impl Hashes {
    /// Reads the hashes from `seq` on (a range at a time).
    async fn read_from(
        &mut self,
        tx: &deadpool_postgres::Transaction<'_>,
        stream: &str,
        seq: u64,
    ) -> Result<(), Fail> {
        let last = seq.saturating_add(HASHES_PER_READ - 1);
        if let Some(from) = seq_bound(seq) {
            let to = seq_bound(last).unwrap_or(i64::MAX);
            let stmt = tx.prepare_cached(HASHES).await?;
            for row in tx.query(&stmt, &[&stream, &from, &to]).await? {
                let seq = rows::from_db(row.try_get(0)?, "seq")?;
                self.by_seq.insert(seq, row.try_get(1)?);
            }
        }
        self.read.push(seq..=last);
        Ok(())
    }
}

/// The append's view of the locked stream.
struct PgTx<'a> {
    head: &'a Option<StreamRecord>,
    hashes: &'a Hashes,
    /// A hash the plan asked for that is not read yet.
    missing: Option<u64>,
}

impl AppendTx for PgTx<'_> {
    fn head(&mut self) -> Result<Option<StreamRecord>, ApiError> {
        Ok(self.head.clone())
    }

    fn hash_at(&mut self, seq: u64) -> Result<Option<String>, ApiError> {
        if self.hashes.read.iter().any(|r| r.contains(&seq)) {
            return Ok(self.hashes.by_seq.get(&seq).cloned());
        }
        self.missing = Some(seq);
        Err(internal(
            "postgres",
            format!("hash at seq {seq} not read yet"),
        ))
    }
}

/// Events as the parallel arrays `INSERT_EVENTS` (and
/// `UPDATE_AND_INSERT_EVENTS`) unnest.
#[derive(Default)]
struct EventColumns<'a> {
    stream: Vec<&'a str>,
    seq: Vec<i64>,
    v: Vec<i64>,
    model: Vec<&'a str>,
    action: Vec<&'a str>,
    multiple: Vec<i64>,
    actor: Vec<&'a str>,
    roles: Vec<String>,
    payload: Vec<&'a str>,
    ts: Vec<i64>,
    nonce: Vec<&'a str>,
    prev: Vec<&'a str>,
    delta: Vec<String>,
    root: Vec<&'a str>,
    signer: Vec<&'a str>,
    hash: Vec<&'a str>,
    sig: Vec<&'a str>,
    args: Vec<String>,
    keys: Vec<String>,
}

impl<'a> EventColumns<'a> {
    fn of(events: &'a [petrichain::chain::Event]) -> Result<EventColumns<'a>, ApiError> {
        let mut c = EventColumns::default();
        for e in events {
            let cells = EventCells::of(e)?;
            c.stream.push(&e.stream);
            c.seq.push(cells.seq);
            c.v.push(cells.v);
            c.model.push(&e.model);
            c.action.push(&e.action);
            c.multiple.push(cells.multiple);
            c.actor.push(&e.actor);
            c.roles.push(cells.roles);
            c.payload.push(&e.payload);
            c.ts.push(cells.ts);
            c.nonce.push(&e.nonce);
            c.prev.push(&e.prev);
            c.delta.push(cells.delta);
            c.root.push(&e.root);
            c.signer.push(&e.signer);
            c.hash.push(&e.hash);
            c.sig.push(&e.sig);
            c.args.push(cells.args);
            c.keys.push(cells.keys);
        }
        Ok(c)
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 19] {
        [
            &self.stream,
            &self.seq,
            &self.v,
            &self.model,
            &self.action,
            &self.multiple,
            &self.actor,
            &self.roles,
            &self.payload,
            &self.ts,
            &self.nonce,
            &self.prev,
            &self.delta,
            &self.root,
            &self.signer,
            &self.hash,
            &self.sig,
            &self.args,
            &self.keys,
        ]
    }
}

async fn append_once(
    conn: &mut Object,
    stream: &str,
    plan: &mut Plan<'_>,
) -> Result<Option<Commit>, Fail> {
    let tx = conn.transaction().await?;
    let locked = tx.prepare_cached(HEAD_FOR_UPDATE).await?;
    let head = head_from(tx.query_opt(&locked, &[&stream]).await?)?;
    let existed = head.is_some();
    let mut hashes = Hashes::default();
    let decided = loop {
        let mut view = PgTx {
            head: &head,
            hashes: &hashes,
            missing: None,
        };
        let decided = plan(&mut view);
        match (decided, view.missing) {
            (_, Some(seq)) => hashes.read_from(&tx, stream, seq).await?,
            (Ok(d), None) => break d,
            (Err(e), None) => return Err(Fail::Api(e)),
        }
    };
    let Some(commit) = decided else {
        // Nothing to write: the transaction rolls back when dropped.
        return Ok(None);
    };
    let h = &commit.record;
    let cells = HeadCells::of(h)?;
    let n = commit.events.len();
    let written = if existed && n > 0 {
        let cols = EventColumns::of(&commit.events)?;
        let mut params: Vec<&(dyn ToSql + Sync)> = cols.params().to_vec();
        params.extend_from_slice(&[&cells.seq, &h.hash, &cells.state, &h.id]);
        let stmt = tx.prepare_cached(UPDATE_AND_INSERT_EVENTS).await?;
        tx.execute(&stmt, &params).await?
    } else {
        if existed {
            let stmt = tx.prepare_cached(UPDATE_STREAM).await?;
            tx.execute(&stmt, &[&h.id, &cells.seq, &h.hash, &cells.state])
                .await?;
        } else {
            let stmt = tx.prepare_cached(INSERT_STREAM).await?;
            let params: [&(dyn ToSql + Sync); 5] =
                [&h.id, &h.model, &cells.seq, &h.hash, &cells.state];
            if tx.execute(&stmt, &params).await? == 0 {
                // Created by another transaction since our SELECT: start
                // again and lock its row this time.
                return Err(Fail::Raced);
            }
        }
        if n > 0 {
            let cols = EventColumns::of(&commit.events)?;
            let stmt = tx.prepare_cached(INSERT_EVENTS).await?;
            tx.execute(&stmt, &cols.params()).await?
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
    tx.commit().await?;
    Ok(Some(commit))
}

async fn put_model_once(c: &Object, id: &str, json: &str) -> Result<bool, Fail> {
    let stmt = c.prepare_cached(PUT_MODEL).await?;
    Ok(c.execute(&stmt, &[&id, &json]).await? == 1)
}

async fn model_once(c: &Object, id: &str) -> Result<Option<String>, Fail> {
    let stmt = c.prepare_cached(MODEL).await?;
    Ok(c.query_opt(&stmt, &[&id])
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

async fn head_once(c: &Object, stream: &str) -> Result<Option<StreamRecord>, Fail> {
    let stmt = c.prepare_cached(HEAD).await?;
    head_from(c.query_opt(&stmt, &[&stream]).await?)
}

async fn streams_once(c: &Object, after: &str, limit: i64) -> Result<Vec<StreamRecord>, Fail> {
    let stmt = c.prepare_cached(STREAMS).await?;
    let mut out = Vec::new();
    for row in c.query(&stmt, &[&after, &limit]).await? {
        out.push(head_row(&row)?.decode()?);
    }
    Ok(out)
}

async fn page_once(
    c: &mut Object,
    stream: &str,
    after: u64,
    limit: u64,
    max_bytes: usize,
) -> Result<Option<Page>, Fail> {
    // One snapshot for the head and the events.
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let stmt = tx.prepare_cached(HEAD).await?;
    let Some(head) = head_from(tx.query_opt(&stmt, &[&stream]).await?)? else {
        return Ok(None);
    };
    let mut fetched = rows::PageRows::new(limit, max_bytes);
    if let Some((after, fetch)) = rows::page_bounds(&head, after, limit)? {
        let stmt = tx.prepare_cached(SELECT_EVENTS).await?;
        let params: [&(dyn ToSql + Sync); 3] = [&stream, &after, &fetch];
        // Rows stream in (the client's channel holds one message at a
        // time); dropping the stream where the page is full stops reading.
        let rows = tx.query_raw(&stmt, params).await?;
        let mut rows = std::pin::pin!(rows);
        while let Some(row) = futures_util::StreamExt::next(&mut rows).await {
            if !fetched.push(event_row(&row?)?) {
                break;
            }
        }
    }
    tx.commit().await?;
    Ok(Some(fetched.finish(head)?))
}

/// One call with its retries: `$once` runs on a pooled connection `$c`
/// until [`Attempts::settle`] has the answer.
macro_rules! retrying {
    ($self:ident, |$c:ident| $once:expr) => {{
        let mut attempts = Attempts::new();
        loop {
            #[allow(unused_mut)]
            let mut $c = $self.conn().await?;
            let out = $once.await;
            if let Some(v) = attempts.settle($c, out).await? {
                break Ok(v);
            }
        }
    }};
}

#[async_trait::async_trait]
impl Storage for PostgresStorage {
    async fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError> {
        retrying!(self, |c| put_model_once(&c, id, json))
    }

    async fn model(&self, id: &str) -> Result<Option<String>, ApiError> {
        retrying!(self, |c| model_once(&c, id))
    }

    async fn head(&self, stream: &str) -> Result<Option<StreamRecord>, ApiError> {
        retrying!(self, |c| head_once(&c, stream))
    }

    async fn streams(&self, after: &str, limit: u64) -> Result<Vec<StreamRecord>, ApiError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        retrying!(self, |c| streams_once(&c, after, limit))
    }

    async fn page(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
        max_bytes: usize,
    ) -> Result<Option<Page>, ApiError> {
        retrying!(self, |c| page_once(&mut c, stream, after, limit, max_bytes))
    }

    async fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError> {
        retrying!(self, |c| append_once(&mut c, stream, plan))
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
        // Passwords with the URL's own delimiters, unescaped or escaped.
        for (url, password) in [
            ("postgres://app:se/cret@db:5432/chains", "se/cret"),
            ("postgres://app:se?cret@db:5432/chains", "se?cret"),
            ("postgres://app:p@ss@db:5432/chains", "p@ss"),
            (
                "postgres://app:a/b?c@d@db/chains?sslmode=disable",
                "a/b?c@d",
            ),
            ("postgres://app:%2Fs%3Fx@db/chains", "%2Fs%3Fx"),
            ("postgresql://db/chains?password=se/cr?et", "se/cr?et"),
            ("postgres://db/chains?user=app&PASSWORD=hunter2", "hunter2"),
        ] {
            let shown = redact(url);
            assert!(!shown.contains(password), "{url} -> {shown}");
            assert!(shown.contains("***"), "{url} -> {shown}");
        }
        assert_eq!(
            redact("postgres://app:se/cret@db:5432/chains"),
            "postgres://app:***@db:5432/chains"
        );
        for url in [
            "postgres://app:se/cret@db:notaport/chains",
            "postgres://app:se?cret@db:5432/chains",
            "postgres://app:se@cret@db:5432/chains",
        ] {
            let e = parse_url(url).unwrap_err();
            assert!(
                !e.contains("se/cret") && !e.contains("se?cret") && !e.contains("se@cret"),
                "{e}"
            );
            assert!(e.contains("percent-encoded"), "{e}");
        }
        assert!(parse_url("postgres://app:%2Fs%3Fx%40@127.0.0.1:5432/db").is_ok());
        assert!(!parse_url("postgres://u:pw@h:notaport/db")
            .unwrap_err()
            .contains("pw"));
        assert!(parse_url("postgres://u:pw@127.0.0.1:5432/db").is_ok());
    }
}
