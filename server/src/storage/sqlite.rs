//! SQLite backend (embedded, zero set-up): one file, WAL journal.
//!
//! Schema version 1 (table `schema_version` holds it):
//! - `models(id PRIMARY KEY, json)`
//! - `streams(id PRIMARY KEY, model, seq, hash, state)` — the head
//! - `events(stream, seq, model, action, multiple, actor, roles, payload, ts,
//!   prev, state, hash)`, primary key `(stream, seq)` (the page index), and
//!   an index on `hash`.
//!
//! Appends run in `BEGIN IMMEDIATE`: SQLite's write lock is taken before the
//! head is read, so two appends (from this process or another one on the
//! same file) can never both build on the same head. Within this process
//! writers also queue on a mutex, so they wait without SQLite's busy polling;
//! across processes the busy timeout makes them wait for the lock.
//! `synchronous=FULL`: an acknowledged append survives a power cut.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use petrichain::chain::Event;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::{AppendTx, Commit, Page, Plan, Storage, StreamHead};
use crate::error::ApiError;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

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
    ts       INTEGER NOT NULL,
    prev     TEXT NOT NULL,
    state    TEXT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_hash ON events (hash);
";

const INSERT_EVENT: &str = "INSERT INTO events
    (stream, seq, model, action, multiple, actor, roles, payload, ts, prev, state, hash)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

const SELECT_EVENTS: &str = "SELECT stream, seq, model, action, multiple, actor, roles,
    payload, ts, prev, state, hash FROM events WHERE stream = ?1 AND seq > ?2
    ORDER BY seq LIMIT ?3";

/// Chains in one SQLite file.
pub struct SqliteStorage {
    path: std::path::PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn internal(context: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("{context}: {e}"))
}

fn to_i64(n: u64) -> Result<i64, ApiError> {
    i64::try_from(n).map_err(|_| internal("number out of range", n))
}

fn to_u64(n: i64) -> Result<u64, ApiError> {
    u64::try_from(n).map_err(|_| internal("corrupt record: negative number", n))
}

fn connect(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl SqliteStorage {
    /// Opens (creating it, and its directory, on first run) and migrates the
    /// database at `path`. Refuses a file written by a newer schema.
    pub fn open(path: &Path) -> Result<SqliteStorage, ApiError> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| internal(&format!("creating {}", dir.display()), e))?;
            }
        }
        let mut conn = connect(path).map_err(|e| internal(&path.display().to_string(), e))?;
        migrate(&mut conn)?;
        Ok(SqliteStorage {
            path: path.to_path_buf(),
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
            None => connect(&self.path)?,
        };
        let out = f(&mut conn);
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}

fn migrate(conn: &mut Connection) -> Result<(), ApiError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);")?;
    let version: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .optional()?
        .flatten();
    match version {
        None => {
            tx.execute_batch(SCHEMA)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )?;
        }
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v) => {
            return Err(internal(
                "schema",
                format!("the database has schema version {v}; this server reads {SCHEMA_VERSION}"),
            ))
        }
    }
    tx.commit()?;
    Ok(())
}

fn head_of(conn: &Connection, stream: &str) -> Result<Option<StreamHead>, ApiError> {
    let row = conn
        .prepare_cached("SELECT id, model, seq, hash, state FROM streams WHERE id = ?1")?
        .query_row([stream], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    row.map(head_from_row).transpose()
}

fn head_from_row(
    (id, model, seq, hash, state): (String, String, i64, String, String),
) -> Result<StreamHead, ApiError> {
    Ok(StreamHead {
        state: serde_json::from_str(&state)
            .map_err(|e| internal(&format!("corrupt state of stream '{id}'"), e))?,
        seq: to_u64(seq)?,
        id,
        model,
        hash,
    })
}

type EventRow = (
    String,
    i64,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
);

fn event_from_row(row: EventRow) -> Result<Event, ApiError> {
    let (stream, seq, model, action, multiple, actor, roles, payload, ts, prev, state, hash) = row;
    let corrupt = |e: serde_json::Error| internal(&format!("corrupt event {stream}/{seq}"), e);
    Ok(Event {
        seq: to_u64(seq)?,
        roles: serde_json::from_str(&roles).map_err(corrupt)?,
        state: serde_json::from_str(&state).map_err(corrupt)?,
        multiple: to_u64(multiple)?,
        ts: to_u64(ts)?,
        stream,
        model,
        action,
        actor,
        payload,
        prev,
        hash,
    })
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| internal("serialising", e))
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    stream: &'a str,
}

impl AppendTx for SqliteTx<'_> {
    fn head(&mut self) -> Result<Option<StreamHead>, ApiError> {
        head_of(self.tx, self.stream)
    }

    fn hash_at(&mut self, seq: u64) -> Result<Option<String>, ApiError> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        Ok(self
            .tx
            .prepare_cached("SELECT hash FROM events WHERE stream = ?1 AND seq = ?2")?
            .query_row(params![self.stream, seq], |r| r.get(0))
            .optional()?)
    }
}

fn write_commit(
    tx: &rusqlite::Transaction<'_>,
    existed: bool,
    commit: &Commit,
) -> Result<(), ApiError> {
    let h = &commit.head;
    let state = json_text(&h.state)?;
    if existed {
        tx.prepare_cached("UPDATE streams SET seq = ?2, hash = ?3, state = ?4 WHERE id = ?1")?
            .execute(params![h.id, to_i64(h.seq)?, h.hash, state])?;
    } else {
        tx.prepare_cached(
            "INSERT INTO streams (id, model, seq, hash, state) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![h.id, h.model, to_i64(h.seq)?, h.hash, state])?;
    }
    let mut insert = tx.prepare_cached(INSERT_EVENT)?;
    for e in &commit.events {
        insert.execute(params![
            e.stream,
            to_i64(e.seq)?,
            e.model,
            e.action,
            to_i64(e.multiple)?,
            e.actor,
            json_text(&e.roles)?,
            e.payload,
            to_i64(e.ts)?,
            e.prev,
            json_text(&e.state)?,
            e.hash,
        ])?;
    }
    Ok(())
}

impl Storage for SqliteStorage {
    fn put_model(&self, id: &str, json: &str) -> Result<bool, ApiError> {
        let conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let n = conn
            .prepare_cached("INSERT OR IGNORE INTO models (id, json) VALUES (?1, ?2)")?
            .execute(params![id, json])?;
        Ok(n == 1)
    }

    fn model(&self, id: &str) -> Result<Option<String>, ApiError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached("SELECT json FROM models WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?)
        })
    }

    fn head(&self, stream: &str) -> Result<Option<StreamHead>, ApiError> {
        self.read(|conn| head_of(conn, stream))
    }

    fn streams(&self) -> Result<Vec<StreamHead>, ApiError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT id, model, seq, hash, state FROM streams ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                out.push(head_from_row(row?)?);
            }
            Ok(out)
        })
    }

    fn page(&self, stream: &str, after: u64, limit: u64) -> Result<Option<Page>, ApiError> {
        self.read(|conn| {
            // One read transaction: the head and the events are one snapshot.
            let tx = conn.transaction()?;
            let Some(head) = head_of(&tx, stream)? else {
                return Ok(None);
            };
            let mut events = Vec::new();
            let mut more = false;
            if after < head.seq {
                let after = to_i64(after)?;
                let fetch = to_i64(limit.saturating_add(1))?;
                let mut stmt = tx.prepare_cached(SELECT_EVENTS)?;
                let rows = stmt.query_map(params![stream, after, fetch], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                    ))
                })?;
                for row in rows {
                    let e = event_from_row(row?)?;
                    if events.len() as u64 == limit {
                        more = true;
                        break;
                    }
                    events.push(e);
                }
            }
            drop(tx);
            Ok(Some(Page { head, events, more }))
        })
    }

    fn append(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Option<Commit>, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use petrichain::chain::GENESIS_PREV;

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
            stream: "s".into(),
            seq,
            model: "m".into(),
            action: "t".into(),
            multiple: 1,
            actor: "a".into(),
            roles: vec!["r".into()],
            payload: "{\"x\":1}".into(),
            ts: 5,
            prev: prev.into(),
            state: vec![seq, 2],
            hash: hash.into(),
        }
    }

    #[test]
    fn creates_its_directory_and_round_trips_events() {
        let path = temp_db("roundtrip");
        let db = SqliteStorage::open(&path).unwrap();
        assert!(db.put_model("m", "{}").unwrap());
        assert!(!db.put_model("m", "{}").unwrap());
        let events = vec![event(1, GENESIS_PREV, "h1"), event(2, "h1", "h2")];
        let commit = Commit {
            head: StreamHead {
                id: "s".into(),
                model: "m".into(),
                seq: 2,
                hash: "h2".into(),
                state: vec![2, 2],
            },
            events: events.clone(),
        };
        let c = commit.clone();
        db.append("s", &mut |tx| {
            assert_eq!(tx.head()?, None);
            Ok(Some(c.clone()))
        })
        .unwrap();
        let page = db.page("s", 0, 1).unwrap().unwrap();
        assert_eq!(page.events, events[..1]);
        assert!(page.more);
        assert_eq!(page.head, commit.head);
        let page = db.page("s", 1, 10).unwrap().unwrap();
        assert_eq!((page.events.len(), page.more), (1, false));
        assert!(db.page("nope", 0, 10).unwrap().is_none());
        drop(db);

        // Reopened: the data is there, the schema is not re-created.
        let db = SqliteStorage::open(&path).unwrap();
        assert_eq!(db.streams().unwrap(), vec![commit.head.clone()]);
        db.append("s", &mut |tx| {
            assert_eq!(tx.hash_at(2)?, Some("h2".into()));
            assert_eq!(tx.hash_at(3)?, None);
            Ok(None)
        })
        .unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn a_failed_plan_or_write_stores_nothing() {
        let path = temp_db("atomic");
        let db = SqliteStorage::open(&path).unwrap();
        db.put_model("m", "{}").unwrap();
        let head = StreamHead {
            id: "s".into(),
            model: "m".into(),
            seq: 2,
            hash: "h2".into(),
            state: vec![],
        };
        // Two events with the same seq: the second insert fails, the head
        // written before it is rolled back too.
        let dup = Commit {
            head: head.clone(),
            events: vec![event(1, GENESIS_PREV, "h1"), event(1, GENESIS_PREV, "h1")],
        };
        assert!(db.append("s", &mut |_| Ok(Some(dup.clone()))).is_err());
        assert!(db.head("s").unwrap().is_none());
        let err = db
            .append("s", &mut |_| Err(ApiError::BadRequest("no".into())))
            .unwrap_err();
        assert_eq!(err.code(), "BAD_REQUEST");
        assert!(db.streams().unwrap().is_empty());
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
