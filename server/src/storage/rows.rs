//! The row layer both backends share: the schema version and its check
//! (with the move of a version 1 database aside), the column lists, how a
//! head and an event become cells and come back from rows, paging, and the
//! integer conversions between the protocol's `u64` and the databases'
//! signed 64-bit `INTEGER` / `BIGINT`.
//!
//! The conversion rule, in one place: a number that comes **from a
//! request** and does not fit a column is the client's fault
//! (`400 BAD_REQUEST`, nothing is written, [`to_db`]); a number **read
//! back** from the database that is not a valid `u64` means the stored data
//! is corrupt (`500 INTERNAL`, [`from_db`]). A lookup bound above the
//! column's range matches no row ([`seq_bound`]) and is not an error.

use petrichain::chain::Event;
use petrichain::store::StreamRecord;

use super::Page;
use crate::error::ApiError;

/// The schema version this build writes and reads (both backends): 3,
/// events of chain format v2 (docs/chain-format.md) with their `args` and
/// `keys` (keyed places, issue 14).
pub const SCHEMA_VERSION: i64 = 3;

/// The schema version before `args` and `keys` were stored: its `events`
/// table gains the two columns ([`Migration::AddKeyColumns`]); every event
/// it holds has neither (keyed models were refused), so `'[]'` is exact.
pub const SCHEMA_V2: i64 = 2;

/// The statements that bring a version 2 `events` table to version 3
/// (the same SQL on SQLite and PostgreSQL).
pub const ADD_KEY_COLUMNS: &str = "
ALTER TABLE events ADD COLUMN args TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN keys TEXT NOT NULL DEFAULT '[]';
";

/// The schema version of the previous server (chain format v1 events, with
/// the whole marking in each): found at start, its tables are moved aside
/// ([`Migration::ArchiveV1`]).
pub const SCHEMA_V1: i64 = 1;

/// The tables a version 1 database is moved to, kept as they were:
/// `(table, archived name)`. `models` stays where it is (a model is the
/// same net in both formats, its id the SHA-256 of its canonical JSON).
pub const V1_ARCHIVE: [(&str, &str); 2] = [("streams", "streams_v1"), ("events", "events_v1")];

/// The columns of `streams` (a head), in the order every head query
/// selects them.
macro_rules! head_columns {
    () => {
        "id, model, seq, hash, state"
    };
}

/// The columns of `events`, in the order every event query inserts and
/// selects them.
macro_rules! event_columns {
    () => {
        "stream, seq, v, model, action, multiple, actor, roles, payload, ts, nonce, prev, delta, root, signer, hash, sig, args, keys"
    };
}
pub(crate) use {event_columns, head_columns};

/// The columns of `streams`, in the order every head query selects them.
pub const HEAD_COLUMNS: &str = head_columns!();

/// The columns of `events`, in the order every event query inserts and
/// selects them.
pub const EVENT_COLUMNS: &str = event_columns!();

/// An internal failure with its context (the detail goes to the log).
pub fn internal(context: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(format!("{context}: {e}"))
}

/// A number from a request (a seq, `multiple`, `ts`) as a column value;
/// above `i64::MAX` it cannot be stored: `400 BAD_REQUEST`.
pub fn to_db(n: u64, what: &str) -> Result<i64, ApiError> {
    i64::try_from(n)
        .map_err(|_| ApiError::BadRequest(format!("{what} {n} is out of the storable range")))
}

/// A number read from the database; a negative one is corrupt data:
/// `500 INTERNAL`.
pub fn from_db(n: i64, what: &str) -> Result<u64, ApiError> {
    u64::try_from(n).map_err(|_| internal(&format!("corrupt record: negative {what}"), n))
}

/// A seq used as a lookup bound: `None` above the column's range (no
/// stored row can have it).
pub fn seq_bound(n: u64) -> Option<i64> {
    i64::try_from(n).ok()
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| internal("serialising", e))
}

/// A `streams` row as read, in [`HEAD_COLUMNS`] order.
pub struct HeadRow {
    /// `id`.
    pub id: String,
    /// `model`.
    pub model: String,
    /// `seq`.
    pub seq: i64,
    /// `hash`.
    pub hash: String,
    /// `state`, a JSON array.
    pub state: String,
}

impl HeadRow {
    /// The head it stores.
    pub fn decode(self) -> Result<StreamRecord, ApiError> {
        let HeadRow {
            id,
            model,
            seq,
            hash,
            state,
        } = self;
        Ok(StreamRecord {
            state: serde_json::from_str(&state)
                .map_err(|e| internal(&format!("corrupt state of stream '{id}'"), e))?,
            seq: from_db(seq, "seq")?,
            id,
            model,
            hash,
            policy: None,
        })
    }
}

/// The cells of a head that are not stored as they are.
pub struct HeadCells {
    /// `seq`.
    pub seq: i64,
    /// `state` as JSON text.
    pub state: String,
}

impl HeadCells {
    /// Encodes `head` (its numbers come from a request: see [`to_db`]).
    pub fn of(head: &StreamRecord) -> Result<HeadCells, ApiError> {
        Ok(HeadCells {
            seq: to_db(head.seq, "seq")?,
            state: json_text(&head.state)?,
        })
    }
}

/// An `events` row as read, in [`EVENT_COLUMNS`] order.
pub struct EventRow {
    /// `stream`.
    pub stream: String,
    /// `seq`.
    pub seq: i64,
    /// `v`, the chain format version.
    pub v: i64,
    /// `model`.
    pub model: String,
    /// `action`.
    pub action: String,
    /// `multiple`.
    pub multiple: i64,
    /// `actor`.
    pub actor: String,
    /// `roles`, a JSON array.
    pub roles: String,
    /// `payload`, the event's exact JSON text.
    pub payload: String,
    /// `ts`.
    pub ts: i64,
    /// `nonce`.
    pub nonce: String,
    /// `prev`.
    pub prev: String,
    /// `delta`, a JSON array of `[place, count]` pairs.
    pub delta: String,
    /// `root`.
    pub root: String,
    /// `signer`.
    pub signer: String,
    /// `hash`.
    pub hash: String,
    /// `sig`.
    pub sig: String,
    /// `args`, a JSON array of `[param, value]` pairs.
    pub args: String,
    /// `keys`, a JSON array of `[place, key, count]` triples.
    pub keys: String,
}

impl EventRow {
    /// The event it stores.
    pub fn decode(self) -> Result<Event, ApiError> {
        let EventRow {
            stream,
            seq,
            v,
            model,
            action,
            multiple,
            actor,
            roles,
            payload,
            ts,
            nonce,
            prev,
            delta,
            root,
            signer,
            hash,
            sig,
            args,
            keys,
        } = self;
        let corrupt = |e: serde_json::Error| internal(&format!("corrupt event {stream}/{seq}"), e);
        Ok(Event {
            v: u8::try_from(v)
                .map_err(|_| internal(&format!("corrupt event {stream}/{seq}: version"), v))?,
            args: serde_json::from_str(&args).map_err(corrupt)?,
            roles: serde_json::from_str(&roles).map_err(corrupt)?,
            delta: serde_json::from_str(&delta).map_err(corrupt)?,
            keys: serde_json::from_str(&keys).map_err(corrupt)?,
            seq: from_db(seq, "seq")?,
            multiple: from_db(multiple, "multiple")?,
            ts: from_db(ts, "ts")?,
            stream,
            model,
            action,
            actor,
            payload,
            nonce,
            prev,
            root,
            signer,
            hash,
            sig,
        })
    }
}

/// The cells of an event that are not stored as they are; the text
/// columns are the event's own fields.
pub struct EventCells {
    /// `seq`.
    pub seq: i64,
    /// `v`.
    pub v: i64,
    /// `multiple`.
    pub multiple: i64,
    /// `ts`.
    pub ts: i64,
    /// `roles` as JSON text.
    pub roles: String,
    /// `delta` as JSON text.
    pub delta: String,
    /// `args` as JSON text.
    pub args: String,
    /// `keys` as JSON text.
    pub keys: String,
}

impl EventCells {
    /// Encodes `e` (its numbers come from a request: see [`to_db`]).
    pub fn of(e: &Event) -> Result<EventCells, ApiError> {
        Ok(EventCells {
            seq: to_db(e.seq, "seq")?,
            v: i64::from(e.v),
            multiple: to_db(e.multiple, "multiple")?,
            ts: to_db(e.ts, "ts")?,
            roles: json_text(&e.roles)?,
            delta: json_text(&e.delta)?,
            args: json_text(&e.args)?,
            keys: json_text(&e.keys)?,
        })
    }
}

/// What a pull reads after the head: `None` when no event follows `after`,
/// else the `seq >` bound and how many rows to fetch (one more than
/// `limit`: whether it comes back says if more follow).
pub fn page_bounds(
    head: &StreamRecord,
    after: u64,
    limit: u64,
) -> Result<Option<(i64, i64)>, ApiError> {
    if after >= head.seq {
        return Ok(None);
    }
    // after < head.seq, which was stored: in range.
    let after = to_db(after, "after")?;
    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    Ok(Some((after, fetch)))
}

/// Rows of a pull as they are read, bounded by count and by bytes: push
/// rows until [`PageRows::push`] says stop. The first row is always kept
/// (one event is bounded by the body limit it was pushed under), so a
/// page always makes progress; after it, a row that would take the page
/// past `max_bytes` ends it, as does the row after `limit`. Either way the
/// page says `more`.
pub struct PageRows {
    rows: Vec<EventRow>,
    limit: usize,
    max_bytes: usize,
    bytes: usize,
    more: bool,
}

/// Bytes counted for an event beyond its text columns (numbers, JSON
/// punctuation, field names: an upper bound of what the page's JSON adds).
const EVENT_OVERHEAD_BYTES: usize = 256;

impl PageRows {
    /// At most `limit` events and, past the first, `max_bytes`.
    pub fn new(limit: u64, max_bytes: usize) -> PageRows {
        PageRows {
            rows: Vec::new(),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            max_bytes,
            bytes: 0,
            more: false,
        }
    }

    /// Takes the next row; `false`: the page is full, read no more.
    pub fn push(&mut self, row: EventRow) -> bool {
        if self.rows.len() >= self.limit {
            self.more = true;
            return false;
        }
        let size = row_bytes(&row);
        let total = self.bytes.saturating_add(size);
        if !self.rows.is_empty() && total > self.max_bytes {
            self.more = true;
            return false;
        }
        self.bytes = total;
        self.rows.push(row);
        true
    }

    /// The page.
    pub fn finish(self, head: StreamRecord) -> Result<Page, ApiError> {
        let events = self
            .rows
            .into_iter()
            .map(EventRow::decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            head,
            events,
            more: self.more,
        })
    }
}

/// The bytes an event row holds (its text columns) plus a fixed overhead.
fn row_bytes(row: &EventRow) -> usize {
    [
        &row.stream,
        &row.model,
        &row.action,
        &row.actor,
        &row.roles,
        &row.payload,
        &row.nonce,
        &row.prev,
        &row.delta,
        &row.root,
        &row.signer,
        &row.hash,
        &row.sig,
        &row.args,
        &row.keys,
    ]
    .iter()
    .fold(EVENT_OVERHEAD_BYTES, |n, s| n.saturating_add(s.len()))
}

/// What opening a database must do, from the version it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migration {
    /// An empty database: create the tables, record [`SCHEMA_VERSION`].
    Create,
    /// Already at [`SCHEMA_VERSION`]: nothing.
    Current,
    /// Written by the previous server ([`SCHEMA_V1`], chain format v1): move
    /// its tables aside ([`V1_ARCHIVE`], kept, not deleted), then create the
    /// tables as for [`Migration::Create`]. The v1 events are never served
    /// as v2 ones; clients push their upgraded (re-signed) chains again.
    ArchiveV1,
    /// Written before `args` and `keys` were stored ([`SCHEMA_V2`]): add
    /// the two columns ([`ADD_KEY_COLUMNS`]), keeping every row.
    AddKeyColumns,
}

/// Decides the migration from the stored version (`None`: no schema yet);
/// a newer schema is refused.
pub fn migration(found: Option<i64>) -> Result<Migration, ApiError> {
    match found {
        None => Ok(Migration::Create),
        Some(SCHEMA_VERSION) => Ok(Migration::Current),
        Some(SCHEMA_V1) => Ok(Migration::ArchiveV1),
        Some(SCHEMA_V2) => Ok(Migration::AddKeyColumns),
        Some(v) => Err(internal(
            "schema",
            format!("the database has schema version {v}; this server reads {SCHEMA_VERSION}"),
        )),
    }
}

/// The one line logged when a version 1 database was moved aside, with
/// how many streams and events it held.
pub fn archived_v1_message(streams: i64, events: i64) -> String {
    format!(
        "schema migration: this database held chain format v1 data; archived {streams} v1 \
         stream(s) ({events} event(s)) to tables streams_v1 / events_v1 (kept, not served); \
         the server now stores chain format v2: clients re-push their upgraded chains"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64) -> StreamRecord {
        StreamRecord {
            id: "s".into(),
            model: "m".into(),
            seq,
            hash: "h".into(),
            state: vec![1, u64::MAX],
            policy: None,
        }
    }

    fn row(seq: i64) -> EventRow {
        EventRow {
            stream: "s".into(),
            seq,
            v: 2,
            model: "m".into(),
            action: "t".into(),
            multiple: 1,
            actor: "a".into(),
            roles: "[\"r\"]".into(),
            payload: "{}".into(),
            ts: 5,
            nonce: "n".into(),
            prev: "p".into(),
            delta: "[[\"q\",3]]".into(),
            root: "r".into(),
            signer: "k".into(),
            hash: "h".into(),
            sig: "s".into(),
            args: "[[\"from\",\"alice\"]]".into(),
            keys: "[[\"balance\",\"alice\",7]]".into(),
        }
    }

    #[test]
    fn request_numbers_out_of_range_are_the_clients_fault() {
        assert_eq!(to_db(7, "seq").unwrap(), 7);
        assert_eq!(to_db(i64::MAX as u64, "ts").unwrap(), i64::MAX);
        let e = to_db(u64::MAX, "ts").unwrap_err();
        assert_eq!(e.code(), "BAD_REQUEST");
        assert!(e.to_string().contains("ts"), "{e}");
        let mut big = record(1);
        big.seq = 1 << 63;
        assert_eq!(HeadCells::of(&big).err().unwrap().code(), "BAD_REQUEST");
    }

    #[test]
    fn stored_numbers_out_of_range_are_internal() {
        assert_eq!(from_db(0, "seq").unwrap(), 0);
        assert_eq!(from_db(-1, "seq").unwrap_err().code(), "INTERNAL");
        let mut r = row(1);
        r.ts = -5;
        assert_eq!(r.decode().unwrap_err().code(), "INTERNAL");
        assert_eq!(row(-1).decode().unwrap_err().code(), "INTERNAL");
        let mut r = row(1);
        r.roles = "not json".into();
        assert_eq!(r.decode().unwrap_err().code(), "INTERNAL");
        let mut r = row(1);
        r.delta = "[3]".into();
        assert_eq!(r.decode().unwrap_err().code(), "INTERNAL");
        let mut r = row(1);
        r.keys = "[[\"balance\",\"alice\",-1]]".into();
        assert_eq!(r.decode().unwrap_err().code(), "INTERNAL");
        let mut r = row(1);
        r.args = "{}".into();
        assert_eq!(r.decode().unwrap_err().code(), "INTERNAL");
        let mut r = row(1);
        r.v = 300;
        assert_eq!(r.decode().unwrap_err().code(), "INTERNAL");
        let bad_head = HeadRow {
            id: "s".into(),
            model: "m".into(),
            seq: -3,
            hash: "h".into(),
            state: "[]".into(),
        };
        assert_eq!(bad_head.decode().unwrap_err().code(), "INTERNAL");
        assert_eq!(seq_bound(u64::MAX), None);
        assert_eq!(seq_bound(3), Some(3));
    }

    #[test]
    fn cells_and_rows_round_trip() {
        let head = record(4);
        let cells = HeadCells::of(&head).unwrap();
        let back = HeadRow {
            id: head.id.clone(),
            model: head.model.clone(),
            seq: cells.seq,
            hash: head.hash.clone(),
            state: cells.state,
        }
        .decode()
        .unwrap();
        assert_eq!(back, head);
        let e = row(2).decode().unwrap();
        assert_eq!(e.delta, vec![("q".to_string(), 3)]);
        assert_eq!((e.v, e.sig.as_str(), e.signer.as_str()), (2, "s", "k"));
        let c = EventCells::of(&e).unwrap();
        assert_eq!((c.seq, c.v, c.multiple, c.ts), (2, 2, 1, 5));
        assert_eq!(
            (c.roles.as_str(), c.delta.as_str()),
            ("[\"r\"]", "[[\"q\",3]]")
        );
        assert_eq!(e.args, vec![("from".to_string(), "alice".to_string())]);
        assert_eq!(
            e.keys,
            vec![("balance".to_string(), "alice".to_string(), 7)]
        );
        assert_eq!(
            (c.args.as_str(), c.keys.as_str()),
            ("[[\"from\",\"alice\"]]", "[[\"balance\",\"alice\",7]]")
        );
    }

    #[test]
    fn pages_fetch_one_more_to_know_if_more_follow() {
        let head = record(3);
        assert_eq!(page_bounds(&head, 3, 10).unwrap(), None);
        assert_eq!(page_bounds(&head, u64::MAX, 10).unwrap(), None);
        assert_eq!(page_bounds(&head, 1, 2).unwrap(), Some((1, 3)));
        assert_eq!(
            page_bounds(&head, 0, u64::MAX).unwrap(),
            Some((0, i64::MAX))
        );
        let page = |rows: Vec<EventRow>, limit: u64, max_bytes: usize| {
            let mut p = PageRows::new(limit, max_bytes);
            let mut read = 0;
            for r in rows {
                read += 1;
                if !p.push(r) {
                    break;
                }
            }
            (read, p.finish(head.clone()).unwrap())
        };
        let (_, p) = page(vec![row(2), row(3)], 1, usize::MAX);
        assert_eq!((p.events.len(), p.more), (1, true));
        let (_, p) = page(vec![row(2), row(3)], 2, usize::MAX);
        assert_eq!((p.events.len(), p.more), (2, false));
        // By bytes: the first row always, then only what fits; reading stops.
        let one = row_bytes(&row(2));
        let (read, p) = page(vec![row(2), row(3), row(4)], 10, 1);
        assert_eq!((read, p.events.len(), p.more), (2, 1, true));
        let (read, p) = page(vec![row(2), row(3), row(4)], 10, 2 * one);
        assert_eq!((read, p.events.len(), p.more), (3, 2, true));
        let (_, p) = page(vec![row(2), row(3)], 10, 2 * one);
        assert_eq!((p.events.len(), p.more), (2, false));
    }

    #[test]
    fn migrations_refuse_a_newer_schema() {
        assert_eq!(migration(None).unwrap(), Migration::Create);
        assert_eq!(migration(Some(3)).unwrap(), Migration::Current);
        assert_eq!(migration(Some(2)).unwrap(), Migration::AddKeyColumns);
        assert_eq!(migration(Some(1)).unwrap(), Migration::ArchiveV1);
        let line = archived_v1_message(3, 40);
        assert!(
            line.contains("archived 3 v1 stream(s) (40 event(s))"),
            "{line}"
        );
        assert!(line.contains("re-push"), "{line}");
        let e = migration(Some(99)).unwrap_err();
        assert!(e.to_string().contains("schema version 99"));
    }

    #[test]
    fn column_lists_match_the_row_types() {
        assert_eq!(HEAD_COLUMNS.split(", ").count(), 5);
        assert_eq!(EVENT_COLUMNS.split(", ").count(), 19);
    }
}
