//! The IndexedDB store, through rexie.
//!
//! Layout of database `petrichain-<ledger name>`, schema version
//! [`SCHEMA_VERSION`] (docs/storage.md):
//!
//! | store       | key                  | value                                   |
//! |-------------|----------------------|-----------------------------------------|
//! | `models`    | `id`                 | `{id, json}` (canonical JSON)           |
//! | `streams`   | `id`                 | `{id, model, seq, hash, state, policy}` (head; `state`: the marking as JSON text; `policy`: owner, grants and names as JSON text, absent in heads of earlier releases), or past 1,024 places `{id, model, seq, hash, places, policy}` with the marking in chunks in `meta` |
//! | `events`    | `[stream, seq]`      | a block of a commit's consecutive events: `{stream, seq, hash, json}`, `seq` the first's, `hash` their hashes end to end, `json` their lines joined by `"\n"` (at most 256 events, 262,144 characters past the first line, `hot::records`; earlier releases wrote up to 64, and one alone); index `hash` |
//! | `sync`      | `stream`             | `{stream, remotes: {backend: {seq, hash}}}` (sync client) |
//! | `conflicts` | auto-increment       | a [`Conflict`]; index `stream` |
//! | `meta`      | `id`                 | `{id: "device", privateKey, publicKey, public}` (the device key pair, `CryptoKey`s); `{id: "format", version: 2}`; `{id: "keys", version: 1}`; `{id: "marking\0<stream>\0<k>", counts}` (chunk k of a long marking, 1,024 counts as JSON text) |
//! | `keys`      | `[stream, place, k]` | `{stream, place, k, key, count, rank}`: one key of a keyed place (`idb_keys`); index `top` |
//!
//! Schema version 2 added `meta` (the device key, chain format version 2).
//! A database written by the previous release (schema 1: events of chain
//! format version 1, with `state` and no signature) is upgraded when it is
//! first opened by this code: see [`IndexedDbStore::upgrade_v1`]. Schema
//! version 3 added `keys`; a version 2 database gets its key records filled
//! from its events after the open ([`IndexedDbStore::fill_keys`]).
//!
//! [`Store::commit`] is ONE readwrite transaction over `streams` and
//! `events`: it reads the head, runs the synchronous plan (engine + SHA-256,
//! no await), adds the events and puts the head; in one round trip when the
//! connection knows the head (the plan runs on it first, the writes go out
//! with the read, and a different stored head aborts: see
//! [`IndexedDbStore::commit`]). The only awaits inside are
//! IndexedDB requests, so the transaction stays alive, and the browser
//! serialises it against every other readwrite transaction on those stores,
//! from this tab or another: a stream cannot fork. Any failing request aborts
//! the whole transaction.
//!
//! An event record keeps the key fields and the hashes as properties (for the
//! key and the index) and each event as its JSON line in `json` (the same
//! text as an export line): one string crosses between wasm and JS per
//! record instead of a dozen properties per event, and the payload's exact
//! text is kept by construction. Records hold blocks of events because
//! IndexedDB's cost is per record (docs/storage.md, "Why blocks"). A record
//! whose lines disagree with its key or hashes, or that starts inside the
//! one before, is corrupt (`record_events`).
//!
//! Other tabs hear of commits through a `BroadcastChannel` named like the
//! database, once one of them has been heard from (`Peers`).
//!
//! `Stream.events()` reads through a second, plain IndexedDB connection
//! (`hot.js`, [`IndexedDbStore::events_js`]): the stored lines go to JS as
//! they are and are parsed once there.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use rexie::{Index, KeyRange, ObjectStore, Rexie, Transaction, TransactionMode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use petrichain::chain::{v1, Device, Event};
use petrichain::store::{
    check_sync_commit, ChainError, Change, ChangeSink, Commit, Conflict, KeyQuery, KeysPage,
    ModelRecord, Plan, Store, StoredKeys, StreamRecord, SyncCommit, SyncPlan, SyncRecord,
    SyncStore,
};
use petrichain::MAX_TOKENS;

use crate::device::WebCryptoDevice;
use crate::hot::OnHead;

/// Version of the database layout. Raising it runs the upgrade in
/// `schema`: rexie creates the stores and indexes a database lacks, so a
/// new version adds stores without touching the data already there.
/// Version 2 added `meta`; the data of a version 1 database is upgraded
/// after the open ([`IndexedDbStore::upgrade_v1`]: signing is async, so it
/// cannot run in the `versionchange` transaction). Version 3 added `keys`,
/// the key records of keyed places (`idb_keys`), filled from the events of
/// an older database after the open ([`IndexedDbStore::fill_keys`]).
pub const SCHEMA_VERSION: u32 = 3;

/// Key of the device key pair's record in `meta`.
const DEVICE_ID: &str = "device";
/// Key of the chain format record in `meta`: `{id, version: 2}` once every
/// stream is version 2.
const FORMAT_ID: &str = "format";
/// Key of the key records' marker in `meta`: `{id, version: 1}` once every
/// stream's key records are complete ([`IndexedDbStore::fill_keys`]).
const KEYS_ID: &str = "keys";

/// The IndexedDB database name for a ledger name.
pub fn database_name(ledger: &str) -> String {
    format!("petrichain-{ledger}")
}

fn schema(ledger: &str) -> rexie::RexieBuilder {
    Rexie::builder(&database_name(ledger))
        .version(SCHEMA_VERSION)
        .add_object_store(ObjectStore::new("models").key_path("id"))
        .add_object_store(ObjectStore::new("streams").key_path("id"))
        .add_object_store(
            ObjectStore::new("events")
                .key_path_array(["stream", "seq"])
                .add_index(Index::new("hash", "hash")),
        )
        .add_object_store(ObjectStore::new("sync").key_path("stream"))
        .add_object_store(
            ObjectStore::new("conflicts")
                .auto_increment(true)
                .add_index(Index::new("stream", "stream")),
        )
        .add_object_store(ObjectStore::new("meta").key_path("id"))
        .add_object_store(crate::idb_keys::object_store())
}

/// Opens the raw database of a ledger (same schema) for tools and tests that
/// must reach under the ledger, e.g. to simulate tampering.
pub async fn open_raw(ledger: &str) -> Result<Rexie, ChainError> {
    schema(ledger).build().await.map_err(storage)
}

/// Deletes a ledger's database (waits until every connection is closed).
pub async fn delete(ledger: &str) -> Result<(), ChainError> {
    Rexie::delete(&database_name(ledger)).await.map_err(storage)
}

/// What a connection knows of the other connections of its ledger (other
/// tabs): commits are announced on the channel only once one of them has
/// been heard from (it said [`HELLO`] when its ledger started listening, or
/// [`HERE`] in answer to ours, or announced a change). Until then a commit's [`Change`] is held
/// (the latest per stream, so at most one per stream), and sent as soon as
/// another connection is heard from: it may have read that stream's head
/// before the commit. Without another tab, a commit costs no message.
#[derive(Default)]
struct Peers {
    heard: Cell<bool>,
    held: RefCell<std::collections::HashMap<String, Change>>,
}

impl Peers {
    fn hold(&self, change: &Change) {
        let mut held = self.held.borrow_mut();
        match held.get_mut(&change.stream) {
            Some(c) => {
                c.seq = change.seq;
                c.hash.clone_from(&change.hash);
                c.added = c.added.saturating_add(change.added);
            }
            None => {
                held.insert(change.stream.clone(), change.clone());
            }
        }
    }
}

/// The IndexedDB records of a commit's events, kept until the append that
/// made them turns them into its result.
struct Committed {
    /// The events' hashes end to end: which events these are.
    hashes: String,
    records: js_sys::Array,
    /// The records' events as the JS API gives them, when already parsed.
    events: Option<JsValue>,
}

/// Sent on the channel by a connection that opens.
const HELLO: &str = "hello";
/// The answer of the connections already open.
const HERE: &str = "here";

fn signal(kind: &str) -> JsValue {
    let object = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&object, &"petrichain".into(), &kind.into());
    object.into()
}

fn is_signal(data: &JsValue, kind: &str) -> bool {
    data.is_object()
        && js_sys::Reflect::get(data, &"petrichain".into())
            .ok()
            .and_then(|v| v.as_string())
            .is_some_and(|v| v == kind)
}

/// The `message` listener of the change channel.
type OnMessage = Closure<dyn FnMut(web_sys::MessageEvent)>;

/// A connection to one ledger's IndexedDB database.
pub struct IndexedDbStore {
    /// The main connection; `None` once closed (by [`Store::close`], or by
    /// an upgrade opened elsewhere: `on_version_change`).
    db: Rc<RefCell<Option<Rexie>>>,
    /// Closes `db` when the second connection hears that a newer schema is
    /// being opened elsewhere (rexie exposes no `versionchange` event): the
    /// upgrade then goes ahead instead of waiting for this tab, and this
    /// connection's calls fail with `CLOSED`.
    on_version_change: Closure<dyn FnMut()>,
    /// Database name, for the second connection of [`IndexedDbStore::events_js`].
    name: String,
    /// That connection (plain IndexedDB, `hot.js`), opened on the first load.
    raw: RefCell<Option<JsValue>>,
    /// The records of the last commit, for [`IndexedDbStore::committed_js`].
    committed: RefCell<Option<Committed>>,
    /// A transaction of [`IndexedDbStore::begin_commit`] for the next commit.
    begun: RefCell<Option<JsValue>>,
    heads: HeadCache,
    /// The head record the last one-round-trip commit wrote, as the JS
    /// value it passed (the next such commit's `expected` if its cached head
    /// is still that record).
    /// (Boxed: a head record is large next to the store's other fields.)
    head_js: RefCell<Option<Box<(StreamRecord, JsValue)>>>,
    channel: Option<web_sys::BroadcastChannel>,
    on_message: RefCell<Option<OnMessage>>,
    peers: Rc<Peers>,
    persisted: Rc<Cell<bool>>,
    /// Whether the key records are complete (after [`IndexedDbStore::fill_keys`]):
    /// only then are they read instead of replaying the events.
    keys_ready: Cell<bool>,
    paths: CommitCounters,
}

/// Begun transactions in a row found no longer active after which
/// [`IndexedDbStore::begin_commit`] begins none on this connection.
pub const LATE_IN_A_ROW: u32 = 3;

/// How this connection's commits ran ([`IndexedDbStore::commit_paths`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CommitPaths {
    /// Committed in one round trip, on the head this connection knew.
    pub one_trip: u64,
    /// One-round-trip attempts that wrote on the transaction that
    /// [`IndexedDbStore::begin_commit`] began before the append was chained.
    pub begun_early: u64,
    /// Attempts that found that transaction no longer active (its task had
    /// ended: the append waited on something other than promise
    /// reactions, e.g. a signature settled in a later task, as browsers
    /// other than Chromium do) and wrote on a new one.
    pub begun_late: u64,
    /// Tried in one round trip, found another head stored, done the slow way.
    pub fell_back: u64,
    /// Done the slow way from the start (no head known, a refusal on the
    /// known head, or keyed places whose records need reads first).
    pub slow: u64,
}

/// [`CommitPaths`] as counters.
#[derive(Default)]
struct CommitCounters {
    one_trip: Cell<u64>,
    begun_early: Cell<u64>,
    begun_late: Cell<u64>,
    /// `begun_late` attempts in a row (reset by a `begun_early` one).
    late_in_a_row: Cell<u32>,
    fell_back: Cell<u64>,
    slow: Cell<u64>,
}

fn bump(c: &Cell<u64>) {
    c.set(c.get().saturating_add(1));
}

impl IndexedDbStore {
    /// Opens (creating or upgrading) the database of ledger `name`, and asks
    /// the browser to keep it (`navigator.storage.persist()`). The request is
    /// not awaited (some browsers ask the user, which can take forever);
    /// [`IndexedDbStore::persisted`] reports the answer once it came.
    pub async fn open(name: &str) -> Result<Self, ChainError> {
        petrichain::chain::check_id("ledger name", name, false)?;
        let db = schema(name).build().await.map_err(storage)?;
        let channel = web_sys::BroadcastChannel::new(&database_name(name)).ok();
        let persisted = Rc::new(Cell::new(false));
        let answer = persisted.clone();
        wasm_bindgen_futures::spawn_local(async move { answer.set(ask_persistence().await) });
        let db = Rc::new(RefCell::new(Some(db)));
        let main = Rc::downgrade(&db);
        let on_version_change = Closure::<dyn FnMut()>::new(move || {
            if let Some(db) = main.upgrade().and_then(|db| db.borrow_mut().take()) {
                db.close();
            }
        });
        Ok(IndexedDbStore {
            db,
            on_version_change,
            name: database_name(name),
            raw: RefCell::new(None),
            committed: RefCell::new(None),
            begun: RefCell::new(None),
            heads: HeadCache::default(),
            head_js: RefCell::default(),
            channel,
            on_message: RefCell::new(None),
            peers: Rc::default(),
            persisted,
            keys_ready: Cell::new(false),
            paths: CommitCounters::default(),
        })
    }

    /// Begins the transaction of the next commit of `stream`, before the
    /// append is chained and signed (`beginOnHead` of `hot.js`): the
    /// browser takes its locks and reads the head meanwhile, off the
    /// append's critical path. The commit writes on it only if it comes in
    /// the same task (the transaction is still active) and takes the
    /// one-round-trip path; else the transaction ends having only read.
    /// Nothing to begin without a known head or an open second connection
    /// (the commit goes the slow way then anyway), nor once
    /// [`LATE_IN_A_ROW`] begun transactions in a row were no longer active
    /// when their commit came: in this browser the append does not stay in
    /// one task, and an unused transaction would only delay the commit's
    /// own.
    pub fn begin_commit(&self, stream: &str) {
        if self.paths.late_in_a_row.get() >= LATE_IN_A_ROW {
            return;
        }
        let meta = match self.heads.borrow().get(stream) {
            // The marking chunks are in `meta` (they may also be written
            // when the marking grows past CHUNK: then a new transaction).
            Some(head) => head.state.len() > CHUNK,
            None => return,
        };
        if let Some(raw) = self.raw.borrow().as_ref() {
            *self.begun.borrow_mut() = Some(crate::hot::begin_on_head(raw, stream, meta));
        }
    }

    /// Drops the transaction of [`IndexedDbStore::begin_commit`] (its append
    /// was refused before committing): it ends having only read.
    pub fn forget_begun(&self) {
        self.begun.borrow_mut().take();
    }

    /// Counts what `commitOnHead` did with `begun` (of [`IndexedDbStore::begin_commit`]).
    fn count_begun(&self, begun: &JsValue) {
        if begun.is_undefined() {
            return;
        }
        let used = js_sys::Reflect::get(begun, &"used".into()).ok();
        match used.and_then(|u| u.as_f64()) {
            Some(1.0) => {
                bump(&self.paths.begun_early);
                self.paths.late_in_a_row.set(0);
            }
            Some(-1.0) => {
                bump(&self.paths.begun_late);
                let late = &self.paths.late_in_a_row;
                late.set(late.get().saturating_add(1));
            }
            _ => {}
        }
    }

    /// How this connection's commits ran so far: in one round trip, or the
    /// slow way (read the head, then write).
    pub fn commit_paths(&self) -> CommitPaths {
        CommitPaths {
            one_trip: self.paths.one_trip.get(),
            begun_early: self.paths.begun_early.get(),
            begun_late: self.paths.begun_late.get(),
            fell_back: self.paths.fell_back.get(),
            slow: self.paths.slow.get(),
        }
    }

    /// Whether the browser has granted persistent storage (false until it
    /// answered).
    pub fn persisted(&self) -> bool {
        self.persisted.get()
    }

    fn transaction(
        &self,
        stores: &[&str],
        mode: TransactionMode,
    ) -> Result<Transaction, ChainError> {
        let db = self.db.borrow();
        let db = db.as_ref().ok_or(ChainError::Closed)?;
        db.transaction(stores, mode).map_err(storage)
    }
}

async fn ask_persistence() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let storage = window.navigator().storage();
    let Ok(promise) = storage.persist() else {
        return false;
    };
    matches!(
        wasm_bindgen_futures::JsFuture::from(promise).await,
        Ok(v) if v.as_bool() == Some(true)
    )
}

/// Maps a rexie error to ours; the browser's quota error gets its own code.
pub(crate) fn storage(e: rexie::Error) -> ChainError {
    let message = match &e {
        rexie::Error::IdbError(inner) => inner.to_string(),
        other => other.to_string(),
    };
    if message.contains("QuotaExceeded") {
        ChainError::QuotaExceeded { message }
    } else {
        ChainError::Storage { message }
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, ChainError> {
    crate::js::to_json(value).map_err(|e| ChainError::Storage {
        message: format!("cannot convert a record for IndexedDB: {e}"),
    })
}

fn from_js<T: DeserializeOwned>(store: &str, key: &str, value: JsValue) -> Result<T, ChainError> {
    crate::js::from_json(&value).map_err(|message| ChainError::CorruptRecord {
        store: store.into(),
        key: key.into(),
        message,
    })
}

/// Markings longer than this are kept in chunks of this many counts, outside
/// the head record (in `meta`, ids [`chunk_id`]), and a commit rewrites only
/// the chunks its events changed: on a net of 10,000 places an append then
/// writes about one 1,024-count chunk instead of the whole marking (the
/// measurement is in BENCHMARKS.md, "Chain format v2"). Shorter markings stay
/// in the head record as its `state` (one JSON text).
const CHUNK: usize = 1024;

/// The `meta` id of chunk `k` of `stream`'s marking.
fn chunk_id(stream: &str, k: usize) -> String {
    format!("marking\u{0}{stream}\u{0}{k:08}")
}

/// The last head this connection read or wrote per stream, with its
/// marking: a commit on top of it need not read the marking's chunks again.
/// Used only while the stored head still has the same seq and hash (the
/// hash fixes the chain, so the marking too).
pub type HeadCache = RefCell<std::collections::HashMap<String, StreamRecord>>;

/// The IndexedDB record of a stream head: `{id, model, seq, hash, state}`
/// with `state` (the whole marking) as its JSON text, or, past [`CHUNK`]
/// places, `{id, model, seq, hash, places}` and the marking in chunks.
fn head_to_js(record: &StreamRecord) -> Result<JsValue, ChainError> {
    let (state, places) = if record.state.len() > CHUNK {
        (None, Some(record.state.len() as f64))
    } else {
        (Some(json_text(&record.state)?), None)
    };
    // The stream's grants and names, so that a reopened ledger resumes
    // without replaying the chain (JSON text, like `state`).
    let policy = (record.policy.as_ref())
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| ChainError::Storage {
            message: format!("cannot encode a head's policy: {e}"),
        })?;
    // Built in JS in one call (`hot.js`): a `Reflect.set` per field made
    // each field name cross too.
    Ok(crate::hot::head_record(
        &record.id,
        &record.model,
        record.seq as f64,
        &record.hash,
        state,
        places,
        policy,
    ))
}

fn json_text(counts: &[u64]) -> Result<String, ChainError> {
    serde_json::to_string(counts).map_err(|e| ChainError::Storage {
        message: format!("cannot encode a head: {e}"),
    })
}

/// Writes `record` (head and, for a long marking, the chunks that differ
/// from `before`, the marking the stored head had in chunks; all of them if
/// `None`, e.g. when the stored head kept its marking inline).
async fn write_head(
    tx: &Transaction,
    record: &StreamRecord,
    before: Option<&[u64]>,
) -> Result<(), ChainError> {
    let streams = tx.store("streams").map_err(storage)?;
    streams
        .put(&head_to_js(record)?, None)
        .await
        .map_err(storage)?;
    if record.state.len() <= CHUNK {
        return Ok(());
    }
    let meta = tx.store("meta").map_err(storage)?;
    for object in chunk_records(record, before)? {
        meta.put(&object, None).await.map_err(storage)?;
    }
    Ok(())
}

/// The `meta` records of the chunks of `record`'s marking that differ from
/// `before` (all of them if `None`); none for a marking kept inline.
fn chunk_records(
    record: &StreamRecord,
    before: Option<&[u64]>,
) -> Result<Vec<JsValue>, ChainError> {
    let mut out = Vec::new();
    if record.state.len() <= CHUNK {
        return Ok(out);
    }
    for (k, chunk) in record.state.chunks(CHUNK).enumerate() {
        let old = before
            .filter(|b| b.len() == record.state.len())
            .map(|b| &b[k * CHUNK..k * CHUNK + chunk.len()]);
        if old == Some(chunk) {
            continue;
        }
        let object = js_sys::Object::new();
        set(&object, "id", &chunk_id(&record.id, k).into())?;
        set(&object, "counts", &json_text(chunk)?.into())?;
        out.push(object.into());
    }
    Ok(out)
}

/// Reads the head of `stream` in `tx` (over `streams` and `meta`), its
/// marking from `cache` when the cached head is the stored one.
async fn read_head(
    tx: &Transaction,
    stream: &str,
    cache: Option<&HeadCache>,
) -> Result<Option<StreamRecord>, ChainError> {
    Ok(read_head_kept(tx, stream, cache).await?.map(|(h, _)| h))
}

/// [`read_head`], and whether the stored record keeps its marking in
/// chunks (only then may a commit rewrite just the chunks that changed: a
/// wide head written inline by an earlier build has no chunks yet).
async fn read_head_kept(
    tx: &Transaction,
    stream: &str,
    cache: Option<&HeadCache>,
) -> Result<Option<(StreamRecord, bool)>, ChainError> {
    let streams = tx.store("streams").map_err(storage)?;
    let value = streams
        .get(JsValue::from_str(stream))
        .await
        .map_err(storage)?;
    match value.filter(|v| !v.is_undefined()) {
        None => Ok(None),
        Some(v) => {
            let in_chunks = js_sys::Reflect::get(&v, &"places".into())
                .map(|p| p.as_f64().is_some())
                .unwrap_or(false);
            let head = head_with_marking(tx, stream, v, cache).await?;
            if let (Some(c), false) = (cache, in_chunks) {
                // The head a commit of this connection expects next
                // ([`IndexedDbStore::commit`]'s one-round-trip path).
                c.borrow_mut().insert(head.id.clone(), head.clone());
            }
            Ok(Some((head, in_chunks)))
        }
    }
}

/// The marking of a stored head to diff a new one against: only when it is
/// kept in chunks.
fn chunked(head: &Option<(StreamRecord, bool)>) -> Option<&[u64]> {
    head.as_ref()
        .filter(|(_, in_chunks)| *in_chunks)
        .map(|(h, _)| h.state.as_slice())
}

/// A stored head record as a [`StreamRecord`], reading its chunks if its
/// marking is kept in chunks.
async fn head_with_marking(
    tx: &Transaction,
    key: &str,
    value: JsValue,
    cache: Option<&HeadCache>,
) -> Result<StreamRecord, ChainError> {
    let places = js_sys::Reflect::get(&value, &"places".into()).unwrap_or(JsValue::UNDEFINED);
    let Some(places) = places.as_f64() else {
        return head_from_js(key, value);
    };
    let corrupt = |message: String| ChainError::CorruptRecord {
        store: "streams".into(),
        key: key.into(),
        message,
    };
    if places.fract() != 0.0 || places < 0.0 || places > MAX_TOKENS as f64 {
        return Err(corrupt("places is not a whole number".into()));
    }
    let mut record = head_fields(key, &value)?;
    let places = places as usize;
    if let Some(hit) = cache.and_then(|c| {
        c.borrow()
            .get(&record.id)
            .filter(|c| c.seq == record.seq && c.hash == record.hash && c.state.len() == places)
            .map(|c| c.state.clone())
    }) {
        record.state = hit;
        return Ok(record);
    }
    let meta = tx.store("meta").map_err(storage)?;
    let mut state = Vec::with_capacity(places);
    for k in 0..places.div_ceil(CHUNK) {
        let id = chunk_id(&record.id, k);
        let chunk = meta
            .get(JsValue::from_str(&id))
            .await
            .map_err(storage)?
            .filter(|v| !v.is_undefined())
            .and_then(|v| js_sys::Reflect::get(&v, &"counts".into()).ok())
            .and_then(|t| t.as_string())
            .ok_or_else(|| corrupt(format!("chunk {k} of the marking is missing")))?;
        let counts: Vec<u64> =
            serde_json::from_str(&chunk).map_err(|e| corrupt(format!("marking chunk {k}: {e}")))?;
        state.extend(counts);
    }
    if state.len() != places {
        return Err(corrupt(format!(
            "the marking chunks hold {} counts, the head says {places}",
            state.len()
        )));
    }
    record.state = state;
    if let Some(c) = cache {
        c.borrow_mut().insert(record.id.clone(), record.clone());
    }
    Ok(record)
}

/// The id, model, seq and hash of a head record (its `state` left empty).
fn head_fields(key: &str, value: &JsValue) -> Result<StreamRecord, ChainError> {
    let corrupt = |message: String| ChainError::CorruptRecord {
        store: "streams".into(),
        key: key.into(),
        message,
    };
    let field = |k: &str| js_sys::Reflect::get(value, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let string = |k: &str| {
        field(k)
            .as_string()
            .ok_or_else(|| corrupt(format!("{k} is not a string")))
    };
    let seq = field("seq")
        .as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= MAX_TOKENS as f64)
        .ok_or_else(|| corrupt("seq is not a whole number".into()))?;
    // Absent in heads written before grants existed: rebuilt by the ledger.
    let policy = match field("policy").as_string() {
        Some(text) => {
            Some(serde_json::from_str(&text).map_err(|e| corrupt(format!("policy: {e}")))?)
        }
        None => None,
    };
    Ok(StreamRecord {
        id: string("id")?,
        model: string("model")?,
        seq: seq as u64,
        hash: string("hash")?,
        state: Vec::new(),
        policy,
    })
}

/// A stream head record: `state` as JSON text, or (written by the previous
/// release) as an array.
fn head_from_js(key: &str, value: JsValue) -> Result<StreamRecord, ChainError> {
    let state = js_sys::Reflect::get(&value, &"state".into()).unwrap_or(JsValue::UNDEFINED);
    let Some(text) = state.as_string() else {
        return from_js("streams", key, value);
    };
    let mut record = head_fields(key, &value)?;
    record.state = serde_json::from_str(&text).map_err(|e| ChainError::CorruptRecord {
        store: "streams".into(),
        key: key.into(),
        message: format!("state: {e}"),
    })?;
    Ok(record)
}

fn event_key(stream: &str, seq: u64) -> JsValue {
    js_sys::Array::of2(&JsValue::from_str(stream), &JsValue::from_f64(seq as f64)).into()
}

/// The IndexedDB record of an event: `{stream, seq, hash, json}`.
pub fn event_record(event: &Event) -> Result<JsValue, ChainError> {
    let json = serde_json::to_string(event).map_err(|e| ChainError::Storage {
        message: format!("cannot encode event: {e}"),
    })?;
    let record = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&record, &k.into(), v);
    set("stream", &JsValue::from_str(&event.stream))
        .and_then(|_| set("seq", &JsValue::from_f64(event.seq as f64)))
        .and_then(|_| set("hash", &JsValue::from_str(&event.hash)))
        .and_then(|_| set("json", &JsValue::from_str(&json)))
        .map_err(|_| ChainError::Storage {
            message: "cannot build an event record".into(),
        })?;
    Ok(record.into())
}

/// The events of one stored record (a block: [`crate::hot::records`]),
/// naming it by its key when it is unreadable. Checked: the record is of
/// `stream`, starts at `next` or later when given (the seq after the record
/// before: records do not overlap; a gap is for `verify` to report), holds one hash per line, and each line is an
/// event whose stream, seq and hash agree with the record.
fn record_events(
    stream: &str,
    value: &JsValue,
    next: Option<u64>,
) -> Result<Vec<Event>, ChainError> {
    record_lines(stream, value, next, None)
}

/// Event `seq` of one stored record, if the record holds it: only its line
/// is parsed (a block holds up to 256), with the checks of
/// [`record_events`] on the record and that line.
fn record_event(stream: &str, value: &JsValue, seq: u64) -> Result<Option<Event>, ChainError> {
    // A record without a whole seq: `record_lines` says it is corrupt.
    let at = match record_seq(value) {
        Some(first) if first > seq => return Ok(None),
        Some(first) => usize::try_from(seq - first).unwrap_or(usize::MAX),
        None => usize::MAX,
    };
    Ok(record_lines(stream, value, None, Some(at))?.pop())
}

/// [`record_events`], or with `only` the event at that place in the
/// record alone (none if the record holds fewer).
fn record_lines(
    stream: &str,
    value: &JsValue,
    next: Option<u64>,
    only: Option<usize>,
) -> Result<Vec<Event>, ChainError> {
    let get = |k: &str| js_sys::Reflect::get(value, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let seq = get("seq").as_f64();
    let corrupt = |message: String| ChainError::CorruptRecord {
        store: "events".into(),
        key: format!("[{stream}, {}]", seq.map_or("?".into(), |s| s.to_string())),
        message,
    };
    let first = seq
        .filter(|s| s.fract() == 0.0 && *s >= 1.0 && *s <= MAX_TOKENS as f64)
        .ok_or_else(|| corrupt("seq is not a whole number".into()))? as u64;
    if next.is_some_and(|n| first < n) {
        return Err(corrupt(format!(
            "the record starts at seq {first}, inside the one before (up to {})",
            next.unwrap_or(0).saturating_sub(1)
        )));
    }
    let json = get("json")
        .as_string()
        .ok_or_else(|| corrupt("no json text".into()))?;
    let hashes = get("hash").as_string().unwrap_or_default();
    let lines: Vec<&str> = json.split('\n').collect();
    if hashes.len() != lines.len() * 64 {
        return Err(corrupt("its hashes do not fit its lines".into()));
    }
    let mut out = Vec::with_capacity(if only.is_some() { 1 } else { lines.len() });
    for (i, line) in lines.iter().enumerate() {
        if only.is_some_and(|k| k != i) {
            continue;
        }
        let event: Event = serde_json::from_str(line).map_err(|e| corrupt(e.to_string()))?;
        if event.stream != stream
            || Some(event.seq) != first.checked_add(i as u64)
            || hashes.get(i * 64..i * 64 + 64) != Some(event.hash.as_str())
        {
            return Err(corrupt(
                "the record's key or hash disagrees with its event".into(),
            ));
        }
        out.push(event);
    }
    Ok(out)
}

/// `record` (a block, already checked by [`record_events`]) cut to its
/// first `n` events: their lines and hashes as stored.
fn truncated(record: &JsValue, n: usize) -> Result<JsValue, ChainError> {
    let get = |k: &str| {
        js_sys::Reflect::get(record, &k.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let (json, hashes) = (get("json"), get("hash"));
    let lines: Vec<&str> = json.split('\n').take(n).collect();
    let cut = js_sys::Object::new();
    set(
        &cut,
        "stream",
        &js_sys::Reflect::get(record, &"stream".into()).unwrap_or(JsValue::UNDEFINED),
    )?;
    set(
        &cut,
        "seq",
        &js_sys::Reflect::get(record, &"seq".into()).unwrap_or(JsValue::UNDEFINED),
    )?;
    set(
        &cut,
        "hash",
        &hashes.get(..lines.len() * 64).unwrap_or_default().into(),
    )?;
    set(&cut, "json", &lines.join("\n").into())?;
    Ok(cut.into())
}

/// Records read per request when [`Store::event_by_hash`] reads them all.
const HASH_SCAN_PAGE: u32 = 256;

/// The seq of a record's key (its first event's).
fn record_seq(record: &JsValue) -> Option<u64> {
    js_sys::Reflect::get(record, &"seq".into())
        .ok()
        .and_then(|s| s.as_f64())
        .filter(|s| s.fract() == 0.0 && *s >= 0.0 && *s <= MAX_TOKENS as f64)
        .map(|s| s as u64)
}

/// The record of `store` holding event `seq` of `stream` or, if none does,
/// the last one before it: the last record whose key is at most
/// `[stream, seq]` (a record holds consecutive events from its key's seq).
async fn holder(
    store: &rexie::Store,
    stream: &str,
    seq: u64,
) -> Result<Option<JsValue>, ChainError> {
    let range = KeyRange::bound(
        &event_key(stream, 0),
        &event_key(stream, seq),
        Some(false),
        Some(false),
    )
    .map_err(|e| storage(e.into()))?;
    let found = store
        .scan(Some(range), Some(1), None, Some(rexie::Direction::Prev))
        .await
        .map_err(storage)?;
    Ok(found.into_iter().next().map(|(_, v)| v))
}

/// Event `seq` of `stream` in `store`, if stored.
async fn event_at(
    store: &rexie::Store,
    stream: &str,
    seq: u64,
) -> Result<Option<Event>, ChainError> {
    let Some(record) = holder(store, stream, seq).await? else {
        return Ok(None);
    };
    record_event(stream, &record, seq)
}

async fn finish(tx: Transaction) -> Result<(), ChainError> {
    match tx.done().await {
        Ok(result) if result.is_committed() => Ok(()),
        // rexie does not expose the transaction's `error`; an abort with no
        // failed request is the browser's own (e.g. quota at commit time).
        Ok(_) => Err(ChainError::Storage {
            message: "the browser aborted the transaction (for example: storage quota exceeded); nothing was written".into(),
        }),
        Err(e) => Err(storage(e)),
    }
}

/// Ends a readwrite transaction by its body's result: commit (and wait for
/// it) on success, abort on error so that nothing of it is written (already
/// aborted if a request failed; aborting again is harmless).
async fn settle<T>(tx: Transaction, result: Result<T, ChainError>) -> Result<T, ChainError> {
    match result {
        Ok(value) => {
            finish(tx).await?;
            Ok(value)
        }
        Err(e) => {
            let _ = tx.abort().await;
            Err(e)
        }
    }
}

impl Store for IndexedDbStore {
    async fn put_model(&self, record: &ModelRecord) -> Result<(), ChainError> {
        let tx = self.transaction(&["models"], TransactionMode::ReadWrite)?;
        let store = tx.store("models").map_err(storage)?;
        store.put(&to_js(record)?, None).await.map_err(storage)?;
        finish(tx).await
    }

    async fn model(&self, id: &str) -> Result<Option<ModelRecord>, ChainError> {
        let tx = self.transaction(&["models"], TransactionMode::ReadOnly)?;
        let store = tx.store("models").map_err(storage)?;
        let value = store.get(JsValue::from_str(id)).await.map_err(storage)?;
        value
            .filter(|v| !v.is_undefined())
            .map(|v| from_js("models", id, v))
            .transpose()
    }

    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, ChainError> {
        let tx = self.transaction(&["streams", "meta"], TransactionMode::ReadOnly)?;
        read_head(&tx, id, Some(&self.heads)).await
    }

    async fn streams(&self) -> Result<Vec<StreamRecord>, ChainError> {
        let tx = self.transaction(&["streams", "meta"], TransactionMode::ReadOnly)?;
        let store = tx.store("streams").map_err(storage)?;
        let values = store.get_all(None, None).await.map_err(storage)?;
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            out.push(head_with_marking(&tx, "?", v, Some(&self.heads)).await?);
        }
        Ok(out)
    }

    async fn events(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, ChainError> {
        if after >= MAX_TOKENS {
            return Ok(Vec::new());
        }
        let tx = self.transaction(&["events"], TransactionMode::ReadOnly)?;
        let store = tx.store("events").map_err(storage)?;
        // The record holding event after + 1 may start before it.
        let mut from = after.saturating_add(1);
        if after > 0 {
            if let Some(record) = holder(&store, stream, from).await? {
                from = record_seq(&record).unwrap_or(from);
            }
        }
        let mut out = Vec::new();
        let mut next = from;
        // Without a limit, one getAll. With one, pages of records that
        // double from 2 (a record holds one event or up to a block's, so
        // `limit` records could be `limit` blocks: far more than asked),
        // never more records than events still wanted (each holds one or
        // more), the first page counting the record that may hold none
        // past `after`.
        let mut page = limit.map(|l| l.saturating_add(u32::from(from <= after)).min(2));
        let mut lower = (from, false);
        loop {
            let range = KeyRange::bound(
                &event_key(stream, lower.0),
                &event_key(stream, MAX_TOKENS),
                Some(lower.1),
                Some(false),
            )
            .map_err(|e| storage(e.into()))?;
            let values = store.get_all(Some(range), page).await.map_err(storage)?;
            let full = page.is_some_and(|p| values.len() == p as usize);
            for v in &values {
                let events = record_events(stream, v, Some(next))?;
                let first = record_seq(v).unwrap_or(next);
                next = first.saturating_add(events.len() as u64);
                lower = (first, true);
                out.extend(events.into_iter().filter(|e| e.seq > after));
                if let Some(l) = limit {
                    if out.len() >= l as usize {
                        out.truncate(l as usize);
                        return Ok(out);
                    }
                }
            }
            match (limit, page) {
                (Some(l), Some(p)) if full => {
                    let wanted = l.saturating_sub(out.len() as u32).max(1);
                    page = Some(p.saturating_mul(2).min(wanted));
                }
                _ => return Ok(out),
            }
        }
    }

    /// Through the `hash` index for an event stored alone; an event inside
    /// a block (a record of several, indexed by all their hashes end to
    /// end) is found by reading every record, 256 at a time.
    async fn event_by_hash(&self, hash: &str) -> Result<Option<Event>, ChainError> {
        if hash.len() != 64 {
            return Ok(None);
        }
        let tx = self.transaction(&["events"], TransactionMode::ReadOnly)?;
        let store = tx.store("events").map_err(storage)?;
        let index = store.index("hash").map_err(storage)?;
        let stream_of = |v: &JsValue| {
            js_sys::Reflect::get(v, &"stream".into())
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default()
        };
        let found = |v: &JsValue| -> Result<Option<Event>, ChainError> {
            let hashes = js_sys::Reflect::get(v, &"hash".into())
                .ok()
                .and_then(|h| h.as_string())
                .unwrap_or_default();
            let at = (0..hashes.len() / 64).find(|i| hashes.get(i * 64..i * 64 + 64) == Some(hash));
            match at {
                None => Ok(None),
                Some(i) => {
                    let seq = record_seq(v).and_then(|s| s.checked_add(i as u64));
                    match seq {
                        Some(seq) => record_event(&stream_of(v), v, seq),
                        None => Ok(None),
                    }
                }
            }
        };
        if let Some(v) = index
            .get(JsValue::from_str(hash))
            .await
            .map_err(storage)?
            .filter(|v| !v.is_undefined())
        {
            return found(&v);
        }
        let mut after: Option<JsValue> = None;
        loop {
            let range = match &after {
                None => None,
                Some(key) => {
                    Some(KeyRange::lower_bound(key, Some(true)).map_err(|e| storage(e.into()))?)
                }
            };
            let page = store
                .get_all(range, Some(HASH_SCAN_PAGE))
                .await
                .map_err(storage)?;
            let full = page.len() == HASH_SCAN_PAGE as usize;
            for v in page {
                if let Some(e) = found(&v)? {
                    return Ok(Some(e));
                }
                let seq = record_seq(&v).ok_or_else(|| ChainError::CorruptRecord {
                    store: "events".into(),
                    key: format!("[{}, ?]", stream_of(&v)),
                    message: "seq is not a whole number".into(),
                })?;
                after = Some(event_key(&stream_of(&v), seq));
            }
            if !full {
                return Ok(None);
            }
        }
    }

    /// One round trip when this connection knows the head (it wrote or
    /// read it last, [`HeadCache`]): `plan` runs on that head first, and
    /// `hot.js`'s `commitOnHead` writes its result in the transaction that
    /// reads the stored head, committing only if that is exactly the head
    /// the plan ran on. Otherwise (another tab appended, or the events
    /// change keyed places, whose records need reads first) the slow way:
    /// one transaction that reads the head, runs the plan, then writes.
    /// There the first result is reused if the stored head is on the same
    /// chain (same model, seq and hash), else `plan` runs again on it (the
    /// contract of [`Store::commit`] allows both).
    async fn commit(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Commit, ChainError> {
        let begun = self.begun.borrow_mut().take();
        let cached = self.heads.borrow().get(stream).cloned();
        let Some(cached) = cached else {
            bump(&self.paths.slow);
            return self.commit_slow(stream, plan, None).await;
        };
        let Ok(first) = plan(Some(&cached)) else {
            // Refused on the head this connection knew: ask the stored one.
            bump(&self.paths.slow);
            return self.commit_slow(stream, plan, None).await;
        };
        check_plan(stream, &first)?;
        let records = crate::hot::records(&first.events)?;
        // The one-round-trip path needs the second connection; if it cannot
        // be opened (an upgrade elsewhere blocks it), the slow way reports.
        let raw = match self.raw_connection().await {
            Err(ChainError::Closed) => return Err(ChainError::Closed),
            raw => raw.ok(),
        };
        if let (Some(raw), true) = (raw, first.events.iter().all(|e| e.keys.is_empty())) {
            let before = (cached.state.len() > CHUNK).then_some(cached.state.as_slice());
            let chunks: js_sys::Array = chunk_records(&first.record, before)?.into_iter().collect();
            let head = head_to_js(&first.record)?;
            // The head this connection wrote last is already a JS value.
            let written = (self.head_js.borrow().as_ref())
                .filter(|w| w.0 == cached)
                .map(|w| w.1.clone());
            let expected = match written {
                Some(js) => js,
                None => head_to_js(&cached)?,
            };
            let begun = begun.unwrap_or(JsValue::UNDEFINED);
            let done =
                crate::hot::commit_on_head(&raw, &expected, &records, &head, &chunks, &begun);
            let done = done.await;
            self.count_begun(&begun);
            if let OnHead::Committed(events) = done? {
                bump(&self.paths.one_trip);
                *self.head_js.borrow_mut() = Some(Box::new((first.record.clone(), head)));
                self.committed_now(&first, records, events);
                return Ok(first);
            }
            bump(&self.paths.fell_back);
        } else {
            bump(&self.paths.slow);
        }
        self.commit_slow(stream, plan, Some((cached, first, records)))
            .await
    }

    async fn delete_stream(&self, id: &str) -> Result<bool, ChainError> {
        let tx = self.transaction(
            &[
                "streams",
                "events",
                "sync",
                "conflicts",
                "meta",
                crate::idb_keys::STORE,
            ],
            TransactionMode::ReadWrite,
        )?;
        let result = delete_in(&tx, id).await;
        let existed = settle(tx, result).await?;
        self.heads.borrow_mut().remove(id);
        Ok(existed)
    }

    async fn stream_keys(&self, stream: &str) -> Result<Option<StoredKeys>, ChainError> {
        if !self.keys_ready.get() {
            return Ok(None);
        }
        // One snapshot: the head, its event's root and the records.
        let tx = self.transaction(
            &["streams", "meta", "events", crate::idb_keys::STORE],
            TransactionMode::ReadOnly,
        )?;
        let head = read_head(&tx, stream, Some(&self.heads))
            .await?
            .ok_or_else(|| ChainError::UnknownStream {
                stream: stream.into(),
            })?;
        let root = if head.seq == 0 {
            None
        } else {
            let events = tx.store("events").map_err(storage)?;
            event_at(&events, stream, head.seq).await?.map(|e| e.root)
        };
        let keys = crate::idb_keys::all(&tx, stream).await?;
        Ok(Some(StoredKeys { head, keys, root }))
    }

    async fn key_count(
        &self,
        stream: &str,
        place: &str,
        key: &str,
    ) -> Result<Option<u64>, ChainError> {
        if !self.keys_ready.get() {
            return Ok(None);
        }
        let tx = self.transaction(&[crate::idb_keys::STORE], TransactionMode::ReadOnly)?;
        crate::idb_keys::count(&tx, stream, place, key)
            .await
            .map(Some)
    }

    async fn key_page(
        &self,
        stream: &str,
        query: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        self.read_keys(stream, query, false).await
    }

    async fn key_top(
        &self,
        stream: &str,
        query: &KeyQuery<'_>,
    ) -> Result<Option<KeysPage>, ChainError> {
        self.read_keys(stream, query, true).await
    }

    fn broadcast(&self, change: &Change) {
        let Some(channel) = &self.channel else {
            return;
        };
        if self.peers.heard.get() {
            if let Ok(message) = to_js(change) {
                let _ = channel.post_message(&message);
            }
        } else {
            self.peers.hold(change);
        }
    }

    fn on_remote_change(&self, sink: ChangeSink) {
        let Some(channel) = &self.channel else {
            return;
        };
        let (peers, reply) = (self.peers.clone(), channel.clone());
        let closure =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
                let data = m.data();
                peers.heard.set(true);
                let hello = is_signal(&data, HELLO);
                if hello {
                    let _ = reply.post_message(&signal(HERE));
                }
                // The commits made while no one was heard from: the other
                // connection may have read those heads before them.
                for change in peers.held.take().into_values() {
                    if let Ok(message) = to_js(&change) {
                        let _ = reply.post_message(&message);
                    }
                }
                if !hello && !is_signal(&data, HERE) {
                    if let Ok(change) = crate::js::from_json::<Change>(&data) {
                        sink(&change);
                    }
                }
            });
        channel.set_onmessage(Some(closure.as_ref().unchecked_ref()));
        *self.on_message.borrow_mut() = Some(closure);
        // Tells the connections already open that one more listens (only
        // now: their answers must find the handler installed).
        let _ = channel.post_message(&signal(HELLO));
    }

    fn close(&self) {
        self.release();
    }
}

impl IndexedDbStore {
    /// A page (`top`: the top list) of a keyed place's key records with the
    /// head's total, in one readonly transaction (one snapshot).
    async fn read_keys(
        &self,
        stream: &str,
        query: &KeyQuery<'_>,
        top: bool,
    ) -> Result<Option<KeysPage>, ChainError> {
        if !self.keys_ready.get() {
            return Ok(None);
        }
        let tx = self.transaction(
            &["streams", "meta", crate::idb_keys::STORE],
            TransactionMode::ReadOnly,
        )?;
        let head = read_head(&tx, stream, Some(&self.heads))
            .await?
            .ok_or_else(|| ChainError::UnknownStream {
                stream: stream.into(),
            })?;
        let (keys, count) = if top {
            crate::idb_keys::top(&tx, stream, query).await?
        } else {
            crate::idb_keys::page(&tx, stream, query).await?
        };
        Ok(Some(KeysPage {
            keys,
            count,
            total: head.state.get(query.index).copied().unwrap_or(0),
        }))
    }

    /// Completes the key records of a database written before schema
    /// version 3 (which kept none), once: for each stream, the keys its
    /// events' `keys` end at, read in pages of 1,000 events, then
    /// written in ONE readwrite transaction (in batches of requests) that
    /// first checks the head is still the one the events ended at (another
    /// tab may append meanwhile: then it reads again, at most
    /// 16 times) and replaces whatever records the stream
    /// had. Then `meta` says so (`{id: "keys", version: 1}`) and later opens
    /// skip this. Until then, or if a stream's events cannot be read (that
    /// stream is named in the report; the next open tries again), this
    /// connection reads no key records and the ledger replays events as
    /// before.
    pub async fn fill_keys(&self) -> Result<FillReport, ChainError> {
        let done = version(self.meta(KEYS_ID).await?.as_ref());
        self.fill_keys_from(done).await
    }

    /// [`IndexedDbStore::fill_keys`], given the `keys` marker's version.
    async fn fill_keys_from(&self, done: Option<f64>) -> Result<FillReport, ChainError> {
        let mut report = FillReport::default();
        if done == Some(1.0) {
            self.keys_ready.set(true);
            return Ok(report);
        }
        for head in self.streams().await? {
            if head.seq == 0 {
                continue;
            }
            match self.fill_stream(&head.id).await {
                Ok(true) => report.filled.push(head.id.clone()),
                Ok(false) => {}
                Err(e) => report.failed.push((head.id.clone(), e)),
            }
        }
        if report.failed.is_empty() {
            self.put_version(KEYS_ID, 1.0).await?;
            self.keys_ready.set(true);
        }
        Ok(report)
    }

    /// Fills the key records of one stream; `Ok(false)` if its events
    /// change no keys (nothing written).
    async fn fill_stream(&self, stream: &str) -> Result<bool, ChainError> {
        for _ in 0..FILL_ATTEMPTS {
            let mut counts: std::collections::BTreeMap<(String, String), u64> =
                std::collections::BTreeMap::new();
            let mut end = (0, petrichain::chain::GENESIS_PREV.to_string());
            loop {
                let page = self.events(stream, end.0, Some(FILL_PAGE)).await?;
                for e in &page {
                    for (place, key, n) in &e.keys {
                        counts.insert((place.clone(), key.clone()), *n);
                    }
                    end = (e.seq, e.hash.clone());
                }
                if page.len() < FILL_PAGE as usize {
                    break;
                }
            }
            let changes: std::collections::BTreeMap<(&str, &str), u64> = counts
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|((p, k), n)| ((p.as_str(), k.as_str()), *n))
                .collect();
            let tx = self.transaction(
                &["streams", "meta", crate::idb_keys::STORE],
                TransactionMode::ReadWrite,
            )?;
            let result = async {
                let head = read_head(&tx, stream, None).await?;
                match head {
                    // Deleted meanwhile: nothing to fill.
                    None => Ok(Some(false)),
                    Some(h) if h.seq == end.0 && h.hash == end.1 => {
                        crate::idb_keys::replace_stream(&tx, stream, &changes).await?;
                        Ok(Some(!changes.is_empty()))
                    }
                    // It moved: read again.
                    Some(_) => Ok(None),
                }
            }
            .await;
            if let Some(filled) = settle(tx, result).await? {
                return Ok(filled);
            }
        }
        Err(ChainError::Storage {
            message: format!(
                "stream '{stream}' kept changing under {FILL_ATTEMPTS} attempts to fill its key records"
            ),
        })
    }

    /// Uninstalls the channel's handler before its closure is dropped (a
    /// message to a dropped closure throws `closure invoked recursively or
    /// after being dropped` in the page), closes the channel and the
    /// database connection. Idempotent.
    fn release(&self) {
        if let Some(channel) = &self.channel {
            channel.set_onmessage(None);
            channel.close();
        }
        self.on_message.borrow_mut().take();
        if let Some(db) = self.db.borrow_mut().take() {
            db.close();
        }
        if let Some(raw) = self.raw.borrow_mut().take() {
            crate::hot::close_raw(&raw);
        }
    }

    /// `events` (just committed by this connection) as the JS API gives
    /// them, from the records the commit stored: their JSON lines, parsed
    /// once in JS (`hot.js`), instead of encoding the events again. `None`
    /// when the last commit was not of exactly these events (another commit
    /// came in between): the caller encodes them itself then. The records
    /// are handed out once.
    pub fn committed_js(&self, events: &[Event]) -> Option<Result<JsValue, ChainError>> {
        let mut kept = self.committed.borrow_mut();
        let same = kept.as_ref().is_some_and(|c| {
            c.hashes.len() == events.len() * 64
                && events
                    .iter()
                    .enumerate()
                    .all(|(i, e)| c.hashes.get(i * 64..i * 64 + 64) == Some(e.hash.as_str()))
        });
        if !same {
            return None;
        }
        let kept = kept.take()?;
        Some(match kept.events {
            Some(events) => Ok(events),
            None => crate::hot::events_from_records(&kept.records),
        })
    }

    /// The events of `stream` with seq > `after`, at most `limit`, straight
    /// as the JS API's values (payloads as values, or as their stored text
    /// with `text`): each stored line crosses once and is parsed once, in
    /// JS (`hot.js`), in one transaction that also checks the stream
    /// exists (`UNKNOWN_STREAM`). The line's stream, seq and hash must
    /// agree with its record (else `CORRUPT_RECORD`); everything else about
    /// an event is checked by `verify()`, which reads through
    /// [`Store::events`]. What the core reads (sync, verify, export) never
    /// takes this path.
    pub async fn events_js(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
        text: bool,
    ) -> Result<JsValue, ChainError> {
        if self.db.borrow().is_none() {
            return Err(ChainError::Closed);
        }
        if after >= MAX_TOKENS {
            // The stream must still exist.
            return match self.stream(stream).await? {
                Some(_) => Ok(js_sys::Array::new().into()),
                None => Err(ChainError::UnknownStream {
                    stream: stream.into(),
                }),
            };
        }
        let raw = self.raw_connection().await?;
        crate::hot::events(&raw, stream, after, limit, text).await
    }
}

impl IndexedDbStore {
    /// [`Store::commit`] the slow way: one readwrite transaction reads the
    /// head, runs `plan` (or reuses `first`, a result of `plan` with its
    /// records, when the stored head is on the chain of `first`'s head), then
    /// writes.
    async fn commit_slow(
        &self,
        stream: &str,
        plan: &mut Plan<'_>,
        first: Option<(StreamRecord, Commit, js_sys::Array)>,
    ) -> Result<Commit, ChainError> {
        let tx = self.transaction(
            &["streams", "events", "meta", crate::idb_keys::STORE],
            TransactionMode::ReadWrite,
        )?;
        let mut first = first;
        let result = commit_in(&tx, stream, &self.heads, &mut |current| {
            let same = matches!((current, &first), (Some(c), Some((on, _, _)))
                if c.model == on.model && c.seq == on.seq && c.hash == on.hash);
            match first.take() {
                Some((_, commit, records)) if same => Ok((commit, Some(records))),
                _ => plan(current).map(|c| (c, None)),
            }
        })
        .await;
        let (commit, records) = settle(tx, result).await?;
        self.committed_now(&commit, records, None);
        Ok(commit)
    }

    /// After a commit: its head is the one the next commit expects, and its
    /// records make the append's result ([`IndexedDbStore::committed_js`]).
    fn committed_now(&self, commit: &Commit, records: js_sys::Array, events: Option<JsValue>) {
        self.heads
            .borrow_mut()
            .insert(commit.record.id.clone(), commit.record.clone());
        *self.committed.borrow_mut() = Some(Committed {
            hashes: commit.events.iter().map(|e| e.hash.as_str()).collect(),
            records,
            events,
        });
    }

    /// The second, plain connection of `hot.js` (opened on first use).
    async fn raw_connection(&self) -> Result<JsValue, ChainError> {
        if let Some(raw) = self.raw.borrow().clone() {
            return Ok(raw);
        }
        let raw =
            crate::hot::open(&self.name, self.on_version_change.as_ref().unchecked_ref()).await?;
        if self.db.borrow().is_none() {
            // Closed while it opened.
            crate::hot::close_raw(&raw);
            return Err(ChainError::Closed);
        }
        let mut kept = self.raw.borrow_mut();
        if let Some(first) = kept.as_ref() {
            // Another call opened one meanwhile: keep that one.
            crate::hot::close_raw(&raw);
            Ok(first.clone())
        } else {
            *kept = Some(raw.clone());
            Ok(raw)
        }
    }
}

/// What a plan may return: a head and events of its own stream.
fn check_plan(stream: &str, commit: &Commit) -> Result<(), ChainError> {
    if commit.record.id != stream || commit.events.iter().any(|e| e.stream != stream) {
        return Err(ChainError::Storage {
            message: "plan wrote outside its stream".into(),
        });
    }
    Ok(())
}

/// A ledger freed without `close()` (`free()`, or garbage-collected through
/// wasm-bindgen's `FinalizationRegistry`) drops its store: release the
/// channel and the connection then too.
impl Drop for IndexedDbStore {
    fn drop(&mut self) {
        self.release();
    }
}

/// A plan of [`commit_in`]: the commit and, if it has them already, its records.
type PlanWithRecords<'a> =
    dyn FnMut(Option<&StreamRecord>) -> Result<(Commit, Option<js_sys::Array>), ChainError> + 'a;

/// The body of the slow commit transaction: read head, plan, write.
async fn commit_in(
    tx: &Transaction,
    stream: &str,
    heads: &HeadCache,
    plan: &mut PlanWithRecords<'_>,
) -> Result<(Commit, js_sys::Array), ChainError> {
    let events = tx.store("events").map_err(storage)?;
    let kept = read_head_kept(tx, stream, Some(heads)).await?;
    let head = kept.as_ref().map(|(h, _)| h.clone());
    // Synchronous: the engine and SHA-256 run here, inside the transaction.
    let (commit, records) = plan(head.as_ref())?;
    check_plan(stream, &commit)?;
    // `add` refuses a record at a key already stored, but a block covers
    // the seqs after its key too: nothing may be stored past the head where
    // a block goes. One event's record covers only its key (as in hot.js).
    let at = head.as_ref().map_or(0, |h| h.seq);
    if commit.events.len() > 1 && at < MAX_TOKENS {
        let past = KeyRange::bound(
            &event_key(stream, at),
            &event_key(stream, MAX_TOKENS),
            Some(true),
            Some(false),
        )
        .map_err(|e| storage(e.into()))?;
        if events.count(Some(past)).await.map_err(storage)? > 0 {
            return Err(ChainError::Storage {
                message: format!("stream '{stream}' has events stored past its head {at}"),
            });
        }
    }
    let records = match records {
        Some(records) => {
            events
                .add_all(records.iter().map(|v| (v, None)))
                .await
                .map_err(storage)?;
            records
        }
        None => add_events(&events, &commit.events).await?,
    };
    if kept.is_none() {
        // A new stream starts with no keys.
        crate::idb_keys::remove_stream(tx, stream).await?;
    }
    crate::idb_keys::write_events(tx, stream, &commit.events).await?;
    write_head(tx, &commit.record, chunked(&kept)).await?;
    Ok((commit, records))
}

/// The body of [`Store::delete_stream`]'s transaction: the head, the events,
/// the marking's chunks, the sync record and the conflicts of `stream`.
async fn delete_in(tx: &Transaction, stream: &str) -> Result<bool, ChainError> {
    let key = JsValue::from_str(stream);
    let streams = tx.store("streams").map_err(storage)?;
    let found = streams.get(key.clone()).await.map_err(storage)?;
    if found.filter(|v| !v.is_undefined()).is_none() {
        return Ok(false);
    }
    streams.delete(key.clone()).await.map_err(storage)?;
    let range = |lower: &JsValue, upper: &JsValue, upper_open: bool| {
        KeyRange::bound(lower, upper, Some(false), Some(upper_open)).map_err(|e| storage(e.into()))
    };
    let events = tx.store("events").map_err(storage)?;
    let all = range(&event_key(stream, 0), &event_key(stream, MAX_TOKENS), false)?;
    events.delete(all.into()).await.map_err(storage)?;
    // Chunk ids are "marking\0<stream>\0<k>": all of them sort below "marking\0<stream>\u{1}".
    let meta = tx.store("meta").map_err(storage)?;
    let chunks = range(
        &JsValue::from_str(&format!("marking\u{0}{stream}\u{0}")),
        &JsValue::from_str(&format!("marking\u{0}{stream}\u{1}")),
        true,
    )?;
    meta.delete(chunks.into()).await.map_err(storage)?;
    tx.store("sync")
        .map_err(storage)?
        .delete(key.clone())
        .await
        .map_err(storage)?;
    let conflicts = tx.store("conflicts").map_err(storage)?;
    let mine = KeyRange::only(&key).map_err(|e| storage(e.into()))?;
    let keys = conflicts
        .index("stream")
        .map_err(storage)?
        .get_all_keys(Some(mine), None)
        .await
        .map_err(storage)?;
    for k in keys {
        conflicts.delete(k).await.map_err(storage)?;
    }
    crate::idb_keys::remove_stream(tx, stream).await?;
    Ok(true)
}

/// Adds `new` to the events store as [`event_record`]s, inside the caller's
/// transaction, and returns the records. `add` (not `put`): an existing
/// [stream, seq] fails the request and aborts the transaction instead of
/// overwriting.
async fn add_events(events: &rexie::Store, new: &[Event]) -> Result<js_sys::Array, ChainError> {
    let records = crate::hot::records(new)?;
    events
        .add_all(records.iter().map(|v| (v, None)))
        .await
        .map_err(storage)?;
    Ok(records)
}

impl SyncStore for IndexedDbStore {
    async fn sync_record(&self, stream: &str) -> Result<Option<SyncRecord>, ChainError> {
        let tx = self.transaction(&["sync"], TransactionMode::ReadOnly)?;
        let store = tx.store("sync").map_err(storage)?;
        let value = store
            .get(JsValue::from_str(stream))
            .await
            .map_err(storage)?;
        value
            .filter(|v| !v.is_undefined())
            .map(|v| from_js("sync", stream, v))
            .transpose()
    }

    async fn conflicts(&self, stream: &str) -> Result<Vec<Conflict>, ChainError> {
        let tx = self.transaction(&["conflicts"], TransactionMode::ReadOnly)?;
        let index = tx
            .store("conflicts")
            .and_then(|s| s.index("stream"))
            .map_err(storage)?;
        let range = KeyRange::only(&JsValue::from_str(stream)).map_err(|e| storage(e.into()))?;
        let values = index.get_all(Some(range), None).await.map_err(storage)?;
        values
            .into_iter()
            .map(|v| from_js("conflicts", stream, v))
            .collect()
    }

    async fn clear_conflicts(&self, stream: &str) -> Result<u64, ChainError> {
        let tx = self.transaction(&["conflicts"], TransactionMode::ReadWrite)?;
        let result = async {
            let store = tx.store("conflicts").map_err(storage)?;
            let index = store.index("stream").map_err(storage)?;
            let range =
                KeyRange::only(&JsValue::from_str(stream)).map_err(|e| storage(e.into()))?;
            let keys = index
                .get_all_keys(Some(range), None)
                .await
                .map_err(storage)?;
            for key in &keys {
                store.delete(key.clone()).await.map_err(storage)?;
            }
            Ok::<u64, ChainError>(keys.len() as u64)
        }
        .await;
        settle(tx, result).await
    }

    async fn discard_conflict(&self, stream: &str, event_hash: &str) -> Result<u64, ChainError> {
        let tx = self.transaction(&["conflicts"], TransactionMode::ReadWrite)?;
        let result = async {
            let store = tx.store("conflicts").map_err(storage)?;
            let index = store.index("stream").map_err(storage)?;
            let range =
                KeyRange::only(&JsValue::from_str(stream)).map_err(|e| storage(e.into()))?;
            let keys = index
                .get_all_keys(Some(range.clone()), None)
                .await
                .map_err(storage)?;
            let values = index.get_all(Some(range), None).await.map_err(storage)?;
            let mut gone = 0;
            // Same index, same range, same transaction: keys and values pair up.
            for (key, value) in keys.iter().zip(values) {
                let conflict: Conflict = from_js("conflicts", stream, value)?;
                if conflict.event.hash == event_hash {
                    store.delete(key.clone()).await.map_err(storage)?;
                    gone += 1;
                }
            }
            Ok::<u64, ChainError>(gone)
        }
        .await;
        settle(tx, result).await
    }

    async fn commit_sync(
        &self,
        stream: &str,
        plan: &mut SyncPlan<'_>,
    ) -> Result<SyncCommit, ChainError> {
        let tx = self.transaction(
            &[
                "streams",
                "events",
                "sync",
                "conflicts",
                "meta",
                crate::idb_keys::STORE,
            ],
            TransactionMode::ReadWrite,
        )?;
        let result = commit_sync_in(&tx, stream, plan, &self.heads).await;
        let commit = settle(tx, result).await?;
        self.heads
            .borrow_mut()
            .insert(stream.to_string(), commit.record.clone());
        Ok(commit)
    }
}

/// The body of the sync transaction: read head and sync record, plan, then
/// delete the replaced tail, add the new events, put head and sync record,
/// add conflicts. Only IndexedDB requests are awaited.
async fn commit_sync_in(
    tx: &Transaction,
    stream: &str,
    plan: &mut SyncPlan<'_>,
    heads: &HeadCache,
) -> Result<SyncCommit, ChainError> {
    let events = tx.store("events").map_err(storage)?;
    let sync = tx.store("sync").map_err(storage)?;
    let conflicts = tx.store("conflicts").map_err(storage)?;
    let key = JsValue::from_str(stream);
    let kept = read_head_kept(tx, stream, Some(heads)).await?;
    let head = kept.as_ref().map(|(h, _)| h.clone());
    let record: Option<SyncRecord> = sync
        .get(key)
        .await
        .map_err(storage)?
        .filter(|v| !v.is_undefined())
        .map(|v| from_js("sync", stream, v))
        .transpose()?;
    let commit = plan(head.as_ref(), record.as_ref())?;
    check_sync_commit(stream, &commit)?;
    if commit.keep < MAX_TOKENS {
        // A block across the cut keeps its events up to `keep`.
        let across = match holder(&events, stream, commit.keep).await? {
            Some(record) => {
                let first = record_seq(&record).unwrap_or(0);
                let n = record_events(stream, &record, None)?.len() as u64;
                let kept = commit.keep.saturating_sub(first).saturating_add(1);
                (first.saturating_add(n) > commit.keep.saturating_add(1))
                    .then(|| truncated(&record, kept as usize))
                    .transpose()?
            }
            None => None,
        };
        let range = KeyRange::bound(
            &event_key(stream, commit.keep),
            &event_key(stream, MAX_TOKENS),
            Some(true),
            Some(false),
        )
        .map_err(|e| storage(e.into()))?;
        events.delete(range.into()).await.map_err(storage)?;
        if let Some(record) = across {
            events.put(&record, None).await.map_err(storage)?;
        }
    }
    add_events(&events, &commit.events).await?;
    if kept.is_none() {
        crate::idb_keys::remove_stream(tx, stream).await?;
    }
    // The replaced tail's keys at the new head, then the new events' keys.
    crate::idb_keys::write_counts(tx, stream, &commit.restored).await?;
    crate::idb_keys::write_events(tx, stream, &commit.events).await?;
    write_head(tx, &commit.record, chunked(&kept)).await?;
    sync.put(&to_js(&commit.sync)?, None)
        .await
        .map_err(storage)?;
    for c in &commit.conflicts {
        conflicts.add(&to_js(c)?, None).await.map_err(storage)?;
    }
    Ok(commit)
}

/// Opens the IndexedDB ledger `name`: the store ([`IndexedDbStore::open`]),
/// its device key ([`IndexedDbStore::device`]), and the upgrade of data
/// written by the previous release ([`IndexedDbStore::upgrade_v1`]). Hand
/// both to [`Ledger::new`](petrichain::store::Ledger::new).
pub async fn open_with_device(name: &str) -> Result<(IndexedDbStore, WebCryptoDevice), ChainError> {
    let store = IndexedDbStore::open(name).await?;
    // The device key and the two one-time markers in one transaction: as
    // three transactions one after the other they were most of a cold open
    // (BENCHMARKS.md, "Cold open: what petrichain's open does"). A marker
    // read early is safe to act on: another tab finishing the same step
    // meanwhile makes this one redo checks that find nothing to do.
    let [device, format, keys] = store.metas([DEVICE_ID, FORMAT_ID, KEYS_ID]).await?;
    let device = store.device_from(device).await?;
    store
        .upgrade_v1_from(version(format.as_ref()), &device)
        .await?;
    store.fill_keys_from(version(keys.as_ref())).await?;
    Ok((store, device))
}

/// The `version` of a one-time step's record in `meta` (`{id, version}`).
fn version(record: Option<&JsValue>) -> Option<f64> {
    record
        .and_then(|v| js_sys::Reflect::get(v, &"version".into()).ok())
        .and_then(|v| v.as_f64())
}

/// Events read per request while filling key records ([`IndexedDbStore::fill_keys`]).
const FILL_PAGE: u32 = 1_000;
/// Fills of one stream tried before giving up when other tabs keep appending.
const FILL_ATTEMPTS: u32 = 16;

/// What [`IndexedDbStore::fill_keys`] did.
#[derive(Debug, Default)]
pub struct FillReport {
    /// Streams whose key records were written from their events.
    pub filled: Vec<String>,
    /// Streams whose events could not be read, with why: no key records
    /// are read until a later open fills them.
    pub failed: Vec<(String, ChainError)>,
}

/// What [`IndexedDbStore::upgrade_v1`] did.
#[derive(Debug, Default)]
pub struct UpgradeReport {
    /// Streams re-chained from version 1 to version 2.
    pub upgraded: Vec<String>,
    /// Version 1 streams left as they were, with why (their chain did not
    /// verify under the version 1 rules, or it changed meanwhile): reading
    /// them reports `CORRUPT_RECORD`; the next open tries again.
    pub failed: Vec<(String, ChainError)>,
}

fn set(object: &js_sys::Object, key: &str, value: &JsValue) -> Result<(), ChainError> {
    js_sys::Reflect::set(object, &key.into(), value)
        .map(|_| ())
        .map_err(|_| ChainError::Storage {
            message: format!("cannot build a record ({key})"),
        })
}

/// The `json` text of an event record.
fn record_json(stream: &str, value: &JsValue) -> Result<String, ChainError> {
    js_sys::Reflect::get(value, &"json".into())
        .ok()
        .and_then(|j| j.as_string())
        .ok_or_else(|| ChainError::CorruptRecord {
            store: "events".into(),
            key: format!("[{stream}, ?]"),
            message: "no json text".into(),
        })
}

impl IndexedDbStore {
    async fn meta(&self, id: &str) -> Result<Option<JsValue>, ChainError> {
        let [value] = self.metas([id]).await?;
        Ok(value)
    }

    /// Records of `meta`, in one readonly transaction whose requests are
    /// all issued at once.
    async fn metas<const N: usize>(
        &self,
        ids: [&str; N],
    ) -> Result<[Option<JsValue>; N], ChainError> {
        let tx = self.transaction(&["meta"], TransactionMode::ReadOnly)?;
        let store = tx.store("meta").map_err(storage)?;
        let values = futures_util::future::try_join_all(
            ids.iter().map(|id| store.get(JsValue::from_str(id))),
        )
        .await
        .map_err(storage)?;
        let mut values = values.into_iter().map(|v| v.filter(|v| !v.is_undefined()));
        Ok(std::array::from_fn(|_| values.next().flatten()))
    }

    /// Records in `meta` that a one-time step (an upgrade, a fill) is done:
    /// `{id, version}`.
    async fn put_version(&self, id: &str, version: f64) -> Result<(), ChainError> {
        let record = js_sys::Object::new();
        set(&record, "id", &id.into())?;
        set(&record, "version", &JsValue::from_f64(version))?;
        let tx = self.transaction(&["meta"], TransactionMode::ReadWrite)?;
        let store = tx.store("meta").map_err(storage)?;
        store.put(&record.into(), None).await.map_err(storage)?;
        finish(tx).await
    }

    /// The ledger's device key: the non-extractable Ed25519 key pair kept in
    /// `meta`, made (and kept) on the first open. When two tabs make one at
    /// once, the first stored wins and both use it.
    pub async fn device(&self) -> Result<WebCryptoDevice, ChainError> {
        self.device_from(self.meta(DEVICE_ID).await?).await
    }

    /// [`IndexedDbStore::device`], given the `meta` record already read.
    async fn device_from(&self, stored: Option<JsValue>) -> Result<WebCryptoDevice, ChainError> {
        if let Some(record) = stored {
            return WebCryptoDevice::from_pair(&record).await;
        }
        let (device, pair) = WebCryptoDevice::generate().await?;
        let record = js_sys::Object::new();
        set(&record, "id", &DEVICE_ID.into())?;
        set(&record, "privateKey", &pair.get_private_key())?;
        set(&record, "publicKey", &pair.get_public_key())?;
        set(
            &record,
            "public",
            &hex::encode(device.public_key()).as_str().into(),
        )?;
        let tx = self.transaction(&["meta"], TransactionMode::ReadWrite)?;
        let store = tx.store("meta").map_err(storage)?;
        // `add`: if another connection stored its key first, this fails.
        match store.add(&record.into(), None).await {
            Ok(_) => {
                finish(tx).await?;
                Ok(device)
            }
            Err(_) => {
                let _ = tx.abort().await;
                let record = self
                    .meta(DEVICE_ID)
                    .await?
                    .ok_or_else(|| ChainError::Storage {
                        message: "the device key could not be stored".into(),
                    })?;
                WebCryptoDevice::from_pair(&record).await
            }
        }
    }

    /// Upgrades the data of a database written by the previous release
    /// (chain format version 1): each version 1 stream is verified under the
    /// version 1 rules ([`v1::verify`]), re-chained as version 2 signed by
    /// `device` ([`v1::upgrade`]: same actions, nonces derived from the old
    /// hashes), and replaced in ONE readwrite transaction with its new head;
    /// its sync state is reset (the backends' heads were version 1 hashes)
    /// and its recorded conflicts are kept, their events marked version 2.
    /// Once every stream is version 2, `meta` says so and later opens skip
    /// all this. Runs after the open, outside the `versionchange`
    /// transaction, because signing is asynchronous.
    pub async fn upgrade_v1(&self, device: &dyn Device) -> Result<UpgradeReport, ChainError> {
        let done = version(self.meta(FORMAT_ID).await?.as_ref());
        self.upgrade_v1_from(done, device).await
    }

    /// [`IndexedDbStore::upgrade_v1`], given the `format` marker's version.
    async fn upgrade_v1_from(
        &self,
        done: Option<f64>,
        device: &dyn Device,
    ) -> Result<UpgradeReport, ChainError> {
        let mut report = UpgradeReport::default();
        if done == Some(2.0) {
            return Ok(report);
        }
        for head in self.streams().await? {
            if head.seq == 0 {
                continue;
            }
            let first = self.raw_events(&head.id, Some(1)).await?;
            let Some(first) = first.first() else {
                continue;
            };
            let json = record_json(&head.id, first)?;
            let line = json.split('\n').next().unwrap_or_default();
            if serde_json::from_str::<Event>(line).is_ok() {
                continue;
            }
            match self.upgrade_stream(&head, device).await {
                Ok(()) => report.upgraded.push(head.id.clone()),
                Err(e) => report.failed.push((head.id.clone(), e)),
            }
        }
        if report.failed.is_empty() {
            self.put_version(FORMAT_ID, 2.0).await?;
        }
        Ok(report)
    }

    async fn raw_events(
        &self,
        stream: &str,
        limit: Option<u32>,
    ) -> Result<Vec<JsValue>, ChainError> {
        let tx = self.transaction(&["events"], TransactionMode::ReadOnly)?;
        let store = tx.store("events").map_err(storage)?;
        let range = KeyRange::bound(
            &event_key(stream, 0),
            &event_key(stream, MAX_TOKENS),
            Some(true),
            Some(false),
        )
        .map_err(|e| storage(e.into()))?;
        store.get_all(Some(range), limit).await.map_err(storage)
    }

    async fn upgrade_stream(
        &self,
        head: &StreamRecord,
        device: &dyn Device,
    ) -> Result<(), ChainError> {
        let stream = head.id.as_str();
        let model = self
            .model(&head.model)
            .await?
            .ok_or_else(|| ChainError::UnknownModel {
                model: head.model.clone(),
            })?;
        let (model, _) = petrichain::formats::json::import_json(&model.json).map_err(|e| {
            ChainError::CorruptRecord {
                store: "models".into(),
                key: head.model.clone(),
                message: e.to_string(),
            }
        })?;
        let mut old = Vec::new();
        for record in self.raw_events(stream, None).await? {
            // Version 1 stored one event per record.
            let json = record_json(stream, &record)?;
            let e: v1::EventV1 =
                serde_json::from_str(&json).map_err(|e| ChainError::CorruptRecord {
                    store: "events".into(),
                    key: format!("[{stream}, ?]"),
                    message: format!("neither a version 2 nor a version 1 event: {e}"),
                })?;
            old.push(e);
        }
        let marking = v1::verify(&model, stream, &old)?;
        let last = old.last().map(|e| (e.seq, e.hash.clone()));
        if last != Some((head.seq, head.hash.clone())) || marking.0 != head.state {
            let (last_seq, last_hash) = last.unwrap_or((0, petrichain::chain::GENESIS_PREV.into()));
            return Err(ChainError::HeadMismatch {
                stream: stream.into(),
                head_seq: head.seq,
                head_hash: head.hash.clone(),
                last_seq,
                last_hash,
            });
        }
        let (events, verified) = v1::upgrade(&model, stream, device, &old).await?;
        let record = StreamRecord {
            id: stream.to_string(),
            model: head.model.clone(),
            seq: verified.events,
            hash: verified.head,
            state: verified.marking,
            // Rebuilt from the events (all signed by this device).
            policy: None,
        };
        let tx = self.transaction(
            &["streams", "events", "sync", "conflicts", "meta"],
            TransactionMode::ReadWrite,
        )?;
        let result = replace_v1_stream(&tx, head, &record, &events).await;
        settle(tx, result).await
    }
}

/// The body of the upgrade transaction of one stream: checks the head is
/// still the version 1 one, replaces its events and head, resets its sync
/// state, upgrades its conflicts' events.
async fn replace_v1_stream(
    tx: &Transaction,
    old: &StreamRecord,
    record: &StreamRecord,
    new: &[Event],
) -> Result<(), ChainError> {
    let stream = old.id.as_str();
    let events = tx.store("events").map_err(storage)?;
    let sync = tx.store("sync").map_err(storage)?;
    let conflicts = tx.store("conflicts").map_err(storage)?;
    let key = JsValue::from_str(stream);
    let current = read_head(tx, stream, None).await?;
    match current {
        // Another tab upgraded it meanwhile (the same events: the upgrade
        // is deterministic for one device key).
        Some(c) if c == *record => return Ok(()),
        Some(c) if c == *old => {}
        _ => {
            return Err(ChainError::Storage {
                message: format!("stream '{stream}' changed during its upgrade"),
            })
        }
    }
    let range = KeyRange::bound(
        &event_key(stream, 0),
        &event_key(stream, MAX_TOKENS),
        Some(true),
        Some(false),
    )
    .map_err(|e| storage(e.into()))?;
    events.delete(range.into()).await.map_err(storage)?;
    add_events(&events, new).await?;
    write_head(tx, record, None).await?;
    sync.delete(key.clone()).await.map_err(storage)?;
    let index = conflicts.index("stream").map_err(storage)?;
    let only = KeyRange::only(&key).map_err(|e| storage(e.into()))?;
    for k in index
        .get_all_keys(Some(only), None)
        .await
        .map_err(storage)?
    {
        let Some(value) = conflicts.get(k.clone()).await.map_err(storage)? else {
            continue;
        };
        let mut c: serde_json::Value =
            crate::js::from_json(&value).map_err(|message| ChainError::CorruptRecord {
                store: "conflicts".into(),
                key: stream.into(),
                message,
            })?;
        if let Some(e) = c.get_mut("event").and_then(|e| e.as_object_mut()) {
            if e.remove("state").is_some() {
                // The refused action as it was recorded: its fields, its
                // version 1 hash, the nonce an upgrade gives it; it was never
                // part of the chain, so it has no delta, root or signature.
                let hash = e.get("hash").and_then(|h| h.as_str()).unwrap_or_default();
                let nonce = v1::upgrade_nonce(hash);
                e.insert("v".into(), 2.into());
                e.insert("nonce".into(), nonce.into());
                e.insert("delta".into(), serde_json::Value::Array(Vec::new()));
                e.insert("root".into(), "".into());
                e.insert("signer".into(), "".into());
                e.insert("sig".into(), "".into());
            }
        }
        conflicts
            .put(&to_js(&c)?, Some(&k))
            .await
            .map_err(storage)?;
    }
    Ok(())
}
