//! SQLite backend (embedded, zero set-up): one file, WAL journal.
//!
//! Schema version 2 (table `schema_version` holds it):
//! - `models(id PRIMARY KEY, json)`
//! - `streams(id PRIMARY KEY, model, seq, hash, state)` — the head, with the
//!   whole marking reached (`state`)
//! - `events(stream, seq, v, model, action, multiple, actor, roles, payload,
//!   ts, nonce, prev, delta, root, signer, hash, sig)`: chain format v2
//!   events, primary key `(stream, seq)` (the page index), and an index on
//!   `hash`.
//!
//! A version 1 database (the previous server's, chain format v1 events) is
//! moved aside on start: `streams` and `events` renamed to `streams_v1` and
//! `events_v1` (rows kept), its `events_hash` index dropped (it would keep
//! the name the new index needs), the version 2 tables created, all in the
//! migration's one transaction.
//!
//! Appends run in `BEGIN IMMEDIATE`: SQLite's write lock is taken before the
//! head is read, so two appends (from this process or another one on the
//! same file) can never both build on the same head. Within this process
//! writers also queue on a mutex, so they wait without SQLite's busy polling;
//! across processes the busy timeout makes them wait for the lock.
//! `synchronous=FULL` by default: an acknowledged append survives a power
//! cut. `NORMAL` (`--synchronous normal`) skips the fsync per commit: still
//! atomic and safe against a crash of the server, not of the machine.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior};

use super::rows::{
    self, event_columns, head_columns, internal, seq_bound, EventCells, EventRow, HeadCells,
    HeadRow, Migration,
};
use super::{blocking, AppendTx, Commit, Page, Plan, Storage, StreamRecord};
use crate::config::Synchronous;
use crate::error::ApiError;

pub use super::rows::SCHEMA_VERSION;

/// How long a writer waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 8;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS models (
    id   TEXT PRIMARY KEY NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS streams (
    id    TEXT PRIMARY KEY NOT NULL,
    model TEXT NOT NULL REFERENCES models(id),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    stream   TEXT NOT NULL REFERENCES streams(id),
    seq      INTEGER NOT NULL,
    model    TEXT NOT NULL,
    action   TEXT NOT NULL,
    multiple INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    roles    TEXT NOT NULL,
    payload  TEXT NOT NULL,
    v        INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
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
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_hash ON events (hash);
";

const HEAD: &str = concat!("SELECT ", head_columns!(), " FROM streams WHERE id = ?1");
const STREAMS: &str = concat!(
    "SELECT ",
    head_columns!(),
    " FROM streams WHERE id > ?1 ORDER BY id LIMIT ?2"
);
const INSERT_STREAM: &str = concat!(
    "INSERT INTO streams (",
    head_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5)"
);
const UPDATE_STREAM: &str = "UPDATE streams SET seq = ?2, hash = ?3, state = ?4 WHERE id = ?1";
const HASH_AT: &str = "SELECT hash FROM events WHERE stream = ?1 AND seq = ?2";
const INSERT_EVENT: &str = concat!(
    "INSERT INTO events (",
    event_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
);
const SELECT_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
);

/// Chains in one SQLite file.
pub struct SqliteStorage {
    path: std::path::PathBuf,
    synchronous: Synchronous,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn connect(path: &Path, synchronous: Synchronous) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Switching a new file to WAL takes an exclusive lock without going
    // through the busy handler: two servers starting on one new file (or a
    // server and `verify`) would see SQLITE_BUSY at once. Retry it within
    // the same budget.
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other?,
        }
    }
    conn.pragma_update(None, "synchronous", synchronous.as_str())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// The synchronous calls, one per [`Storage`] method: [`Storage`] runs them
/// off the async workers ([`blocking`]).
impl SqliteStorage {
    /// Opens (creating it, and its directory, on first run) and migrates the
    /// database at `path`, fully synchronous. Refuses a file written by a
    /// newer schema.
    pub fn open(path: &Path) -> Result<SqliteStorage, ApiError> {
        SqliteStorage::open_with(path, Synchronous::Full)
    }

    /// [`SqliteStorage::open`] with a chosen durability.
    pub fn open_with(path: &Path, synchronous: Synchronous) -> Result<SqliteStorage, ApiError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| internal(&format!("creating {}", dir.display()), e))?;
            }
        }
        let mut conn =
            connect(path, synchronous).map_err(|e| internal(&path.display().to_string(), e))?;
        migrate(&mut conn)?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
            synchronous,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
        })
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => connect(&self.path, self.synchronous)?,
        };
        let out = f(&mut conn);
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }

    /// See [`Storage::put_model`].
    pub fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError> {
        let conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let n = conn
            .prepare_cached("INSERT OR IGNORE INTO models (id, json) VALUES (?1, ?2)")?
            .execute(params![id, json])?;
        Ok(n == 1)
    }

    /// See [`Storage::model`].
    pub fn model(&self, id: &str) -> Result<Option<String>, ApiError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT json FROM models WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?)
        })
    }

    /// See [`Storage::head`].
    pub fn head(&self, stream: &str) -> Result<Option<StreamRecord>, ApiError> {
        self.read(|conn| head_of(conn, stream))
    }

    /// See [`Storage::streams`].
    pub fn streams(&self, after: &str, limit: u64) -> Result<Vec<StreamRecord>, ApiError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(STREAMS)?;
            let rows = stmt.query_map(params![after, limit], head_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(row?.decode()?);
            }
            Ok(out)
        })
    }

    /// See [`Storage::page`].
    pub fn page(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
        max_bytes: usize,
    ) -> Result<Option<Page>, ApiError> {
        self.read(|conn| {
            // One read transaction: the head and the events are one snapshot.
            let tx = conn.transaction()?;
            let Some(head) = head_of(&tx, stream)? else {
                return Ok(None);
            };
            let mut fetched = rows::PageRows::new(limit, max_bytes);
            if let Some((after, fetch)) = rows::page_bounds(&head, after, limit)? {
                let mut stmt = tx.prepare_cached(SELECT_EVENTS)?;
                // Rows are read one at a time: stop where the page is full.
                for row in stmt.query_map(params![stream, after, fetch], event_row)? {
                    if !fetched.push(row?) {
                        break;
                    }
                }
            }
            drop(tx);
            fetched.finish(head).map(Some)
        })
    }

    /// See [`Storage::append`].
    pub fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (existed, decided) = {
            let mut view = SqliteTx { tx: &tx, stream };
            let existed = view.head()?.is_some();
            (existed, plan(&mut view)?)
        };
        if let Some(commit) = &decided {
            write_commit(&tx, existed, commit)?;
            tx.commit()?;
        }
        // Without a commit the transaction rolls back when dropped.
        Ok(decided)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), ApiError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")?;
    let version: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .optional()?
        .flatten();
    let archived = match rows::migration(version)? {
        Migration::Current => None,
        Migration::Create => Some(None),
        Migration::AddKeyColumns => {
            tx.execute_batch(rows::ADD_KEY_COLUMNS)?;
            Some(None)
        }
        Migration::ArchiveV1 => {
            let count = |table: &str| -> Result<i64, ApiError> {
                Ok(tx.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
            };
            let counts = (count("streams")?, count("events")?);
            tx.execute_batch("DROP INDEX IF EXISTS events_hash;")?;
            for (table, archive) in rows::V1_ARCHIVE {
                tx.execute_batch(&format!("ALTER TABLE {table} RENAME TO {archive};"))?;
            }
            Some(Some(counts))
        }
    };
    if let Some(counts) = archived {
        tx.execute_batch(SCHEMA)?;
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [SCHEMA_VERSION],
        )?;
        tx.commit()?;
        if let Some((streams, events)) = counts {
            tracing::warn!("{}", rows::archived_v1_message(streams, events));
        }
    } else {
        tx.commit()?;
    }
    Ok(())
}

fn head_row(r: &Row<'_>) -> rusqlite::Result<HeadRow> {
    Ok(HeadRow {
        id: r.get(0)?,
        model: r.get(1)?,
        seq: r.get(2)?,
        hash: r.get(3)?,
        state: r.get(4)?,
    })
}

fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        stream: r.get(0)?,
        seq: r.get(1)?,
        v: r.get(2)?,
        model: r.get(3)?,
        action: r.get(4)?,
        multiple: r.get(5)?,
        actor: r.get(6)?,
        roles: r.get(7)?,
        payload: r.get(8)?,
        ts: r.get(9)?,
        nonce: r.get(10)?,
        prev: r.get(11)?,
        delta: r.get(12)?,
        root: r.get(13)?,
        signer: r.get(14)?,
        hash: r.get(15)?,
        sig: r.get(16)?,
        args: r.get(17)?,
        keys: r.get(18)?,
    })
}

fn head_of(conn: &Connection, stream: &str) -> Result<Option<StreamRecord>, ApiError> {
    let row = conn
        .prepare_cached(HEAD)?
        .query_row([stream], head_row)
        .optional()?;
    row.map(HeadRow::decode).transpose()
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    stream: &'a str,
}

impl AppendTx for SqliteTx<'_> {
    fn head(&mut self) -> Result<Option<StreamRecord>, ApiError> {
        head_of(self.tx, self.stream)
    }

    fn hash_at(&mut self, seq: u64) -> Result<Option<String>, ApiError> {
        let Some(seq) = seq_bound(seq) else {
            return Ok(None);
        };
        Ok(self
            .tx
            .prepare_cached(HASH_AT)?
            .query_row(params![self.stream, seq], |r| r.get(0))
            .optional()?)
    }
}

fn write_commit(
    tx: &rusqlite::Transaction<'_>,
    existed: bool,
    commit: &Commit,
) -> Result<(), ApiError> {
    let h = &commit.record;
    let cells = HeadCells::of(h)?;
    if existed {
        tx.prepare_cached(UPDATE_STREAM)?
            .execute(params![h.id, cells.seq, h.hash, cells.state])?;
    } else {
        tx.prepare_cached(INSERT_STREAM)?.execute(params![
            h.id,
            h.model,
            cells.seq,
            h.hash,
            cells.state
        ])?;
    }
    let mut insert = tx.prepare_cached(INSERT_EVENT)?;
    for e in &commit.events {
        let c = EventCells::of(e)?;
        insert.execute(params![
            e.stream, c.seq, c.v, e.model, e.action, c.multiple, e.actor, c.roles, e.payload, c.ts,
            e.nonce, e.prev, c.delta, e.root, e.signer, e.hash, e.sig, c.args, c.keys,
        ])?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl Storage for SqliteStorage {
    async fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError> {
        blocking(|| SqliteStorage::put_model(self, id, json))
    }

    async fn model(&self, id: &str) -> Result<Option<String>, ApiError> {
        blocking(|| SqliteStorage::model(self, id))
    }

    async fn head(&self, stream: &str) -> Result<Option<StreamRecord>, ApiError> {
        blocking(|| SqliteStorage::head(self, stream))
    }

    async fn streams(&self, after: &str, limit: u64) -> Result<Vec<StreamRecord>, ApiError> {
        blocking(|| SqliteStorage::streams(self, after, limit))
    }

    async fn page(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
        max_bytes: usize,
    ) -> Result<Option<Page>, ApiError> {
        blocking(|| SqliteStorage::page(self, stream, after, limit, max_bytes))
    }

    async fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError> {
        blocking(|| SqliteStorage::append(self, stream, plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrichain::chain::{Event, GENESIS_PREV};

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "petrichain-sqlite-unit-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("nested").join("db.sqlite")
    }

    fn event(seq: u64, prev: &str, hash: &str) -> Event {
        Event {
            v: 2,
            stream: "s".into(),
            seq,
            model: "m".into(),
            action: "t".into(),
            multiple: 1,
            args: Vec::new(),
            actor: "a".into(),
            roles: vec!["r".into()],
            payload: "{\"x\":1}".into(),
            ts: 5,
            nonce: format!("{seq:032x}"),
            prev: prev.into(),
            delta: vec![("p".into(), seq), ("q".into(), u64::from(u32::MAX) + 2)],
            keys: Vec::new(),
            root: "ab".repeat(32),
            signer: "cd".repeat(32),
            hash: hash.into(),
            sig: "ef".repeat(64),
        }
    }

    #[test]
    fn creates_its_directory_and_round_trips_events() {
        let path = temp_db("roundtrip");
        let db = SqliteStorage::open(&path).unwrap();
        assert!(db.put_model("m", "{}").unwrap());
        assert!(!db.put_model("m", "{}").unwrap());
        let mut keyed = event(2, "h1", "h2");
        keyed.args = vec![("from".into(), "alice".into())];
        keyed.keys = vec![("balance".into(), "alice".into(), 3)];
        let events = vec![event(1, GENESIS_PREV, "h1"), keyed];
        let commit = Commit {
            record: StreamRecord {
                id: "s".into(),
                model: "m".into(),
                seq: 2,
                hash: "h2".into(),
                state: vec![2, 2],
                policy: None,
            },
            events: events.clone(),
        };
        let c = commit.clone();
        db.append("s", &mut |tx| {
            assert_eq!(tx.head()?, None);
            Ok(Some(c.clone()))
        })
        .unwrap();
        let page = db.page("s", 0, 1, usize::MAX).unwrap().unwrap();
        assert_eq!(page.events, events[..1]);
        assert!(page.more);
        assert_eq!(page.head, commit.record);
        let page = db.page("s", 1, 10, usize::MAX).unwrap().unwrap();
        assert_eq!((page.events.len(), page.more), (1, false));
        assert!(db.page("nope", 0, 10, usize::MAX).unwrap().is_none());
        drop(db);

        // Reopened: the data is there, the schema is not re-created.
        let db = SqliteStorage::open(&path).unwrap();
        assert_eq!(
            db.streams("", u64::MAX).unwrap(),
            vec![commit.record.clone()]
        );
        db.append("s", &mut |tx| {
            assert_eq!(tx.hash_at(2)?, Some("h2".into()));
            assert_eq!(tx.hash_at(3)?, None);
            Ok(None)
        })
        .unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_version_2_database_gains_the_args_and_keys_columns() {
        let path = temp_db("v2");
        let db = SqliteStorage::open(&path).unwrap();
        db.put_model("m", "{}").unwrap();
        let e = event(1, GENESIS_PREV, "h1");
        let commit = Commit {
            record: StreamRecord {
                id: "s".into(),
                model: "m".into(),
                seq: 1,
                hash: "h1".into(),
                state: vec![1, 1],
                policy: None,
            },
            events: vec![e.clone()],
        };
        db.append("s", &mut |_| Ok(Some(commit.clone()))).unwrap();
        drop(db);
        // Back to what a version 2 server wrote: no args / keys columns.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "ALTER TABLE events DROP COLUMN args; ALTER TABLE events DROP COLUMN keys;
             UPDATE schema_version SET version = 2;",
        )
        .unwrap();
        drop(conn);
        let db = SqliteStorage::open(&path).unwrap();
        let page = db.page("s", 0, 10, usize::MAX).unwrap().unwrap();
        assert_eq!(page.events, vec![e]);
        let version: i64 = db
            .read(|c| Ok(c.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_failed_plan_or_write_stores_nothing() {
        let path = temp_db("atomic");
        let db = SqliteStorage::open(&path).unwrap();
        db.put_model("m", "{}").unwrap();
        let head = StreamRecord {
            id: "s".into(),
            model: "m".into(),
            seq: 2,
            hash: "h2".into(),
            state: vec![],
            policy: None,
        };
        // Two events with the same seq: the second insert fails, the head
        // written before it is rolled back too.
        let dup = Commit {
            record: head.clone(),
            events: vec![event(1, GENESIS_PREV, "h1"), event(1, GENESIS_PREV, "h1")],
        };
        assert!(db.append("s", &mut |_| Ok(Some(dup.clone()))).is_err());
        assert!(db.head("s").unwrap().is_none());
        let err = db
            .append("s", &mut |_| Err(ApiError::BadRequest("no".into())))
            .unwrap_err();
        assert_eq!(err.code(), "BAD_REQUEST");
        assert!(db.streams("", u64::MAX).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let path = temp_db("newer");
        drop(SqliteStorage::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute("INSERT INTO schema_version (version) VALUES (99)", [])
            .unwrap();
        drop(conn);
        let err = SqliteStorage::open(&path).err().unwrap();
        assert!(err.to_string().contains("schema version 99"));
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }
}
