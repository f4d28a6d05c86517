//! `Ledger` and `Stream`: the hash-chained event store, for JavaScript.
//!
//! Thin: every rule lives in [`crate::store::Ledger`]; this file converts
//! arguments, picks the store (memory or IndexedDB) and turns futures into
//! promises. Times (`ts`) come from `Date.now()` here, at the edge, unless the
//! caller passes one.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::convert::{multiple_from_js, option, roles_from_js, text_or_json, to_js};
use super::error::{bad_argument, to_js_error};
use super::model::JsModel;
use crate::chain::{ChainError, Event};
use crate::engine::Marking;
use crate::store::indexeddb::IndexedDbStore;
use crate::store::{
    Action, Change, Commit, Ledger, MemoryStore, ModelRecord, Plan, Store, StreamRecord,
};
use crate::MAX_TOKENS;

#[wasm_bindgen(typescript_custom_section)]
const TS_LEDGER_TYPES: &'static str = r#"
/** One stored event (see docs/chain-format.md). */
export interface Event {
  stream: string; seq: number; model: string; action: string; multiple: number;
  actor: string; roles: string[];
  /** The payload's exact JSON text (`"null"` if none was given): `JSON.parse(e.payload)`. */
  payload: string;
  /** Milliseconds since the epoch. */
  ts: number;
  prev: string;
  /** Token counts after the event, one per place in the model's place order (places sorted by id). */
  state: number[];
  hash: string;
}

/** Where a stream's chain ends. */
export interface Head { seq: number; hash: string }

/** A stream's stored head record. */
export interface StreamInfo { id: string; model: string; seq: number; hash: string; state: number[] }

/** Options for `Stream.fire`. */
export interface AppendOptions {
  /** Fire this many times at once. Default 1. */
  multiple?: number;
  /** Who fires (free text). Default "". */
  actor?: string;
  /** Roles the actor holds; "*" holds every role. Default none. */
  roles?: string[];
  /** JSON text (kept byte for byte) or any JSON-able value (stored as JSON.stringify gives it). Default null. */
  payload?: string | unknown;
  /** Time to record, ms since the epoch. Default Date.now(). */
  ts?: number;
}

/** One action of `Stream.fireBatch`. */
export interface BatchAction extends AppendOptions { action: string }

/** What `verify` checked. */
export interface Verified { stream: string; events: number; head: string; marking: number[] }

/** What `importJsonl` did. */
export interface ImportReport { stream: string; model: string; events: number; added: number; head: string }

/** A change to a stream, from this tab or another. */
export interface Change { stream: string; seq: number; hash: string; added: number }

/** Options for `Stream.events`. */
export interface EventsOptions { after?: number; limit?: number }
"#;

/// The store under a JS ledger: memory or IndexedDB.
pub enum AnyStore {
    /// `Ledger.memory()`.
    Memory(MemoryStore),
    /// `Ledger.open(name)`.
    IndexedDb(IndexedDbStore),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Memory($s) => $e,
            AnyStore::IndexedDb($s) => $e,
        }
    };
}

impl Store for AnyStore {
    async fn put_model(&self, record: &ModelRecord) -> Result<(), ChainError> {
        each!(self, s => s.put_model(record).await)
    }
    async fn model(&self, id: &str) -> Result<Option<ModelRecord>, ChainError> {
        each!(self, s => s.model(id).await)
    }
    async fn stream(&self, id: &str) -> Result<Option<StreamRecord>, ChainError> {
        each!(self, s => s.stream(id).await)
    }
    async fn streams(&self) -> Result<Vec<StreamRecord>, ChainError> {
        each!(self, s => s.streams().await)
    }
    async fn events(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, ChainError> {
        each!(self, s => s.events(stream, after, limit).await)
    }
    async fn event_by_hash(&self, hash: &str) -> Result<Option<Event>, ChainError> {
        each!(self, s => s.event_by_hash(hash).await)
    }
    async fn commit(&self, stream: &str, plan: &mut Plan<'_>) -> Result<Commit, ChainError> {
        each!(self, s => s.commit(stream, plan).await)
    }
    fn broadcast(&self, change: &Change) {
        each!(self, s => s.broadcast(change))
    }
    fn on_remote_change(&self, sink: crate::store::ChangeSink) {
        each!(self, s => s.on_remote_change(sink))
    }
    fn close(&self) {
        each!(self, s => s.close())
    }
}

pub(crate) type Inner = Rc<Ledger<AnyStore>>;

fn js_err(e: ChainError) -> JsValue {
    to_js_error(&e)
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

fn ts_from_js(value: &JsValue) -> Result<u64, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(now());
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= MAX_TOKENS as f64 => {
            Ok(n as u64)
        }
        _ => Err(bad_argument(
            "ts must be a whole number of milliseconds from 0 to 2^53-1",
        )),
    }
}

fn string_option(options: &JsValue, key: &str) -> Result<String, JsValue> {
    let v = option(options, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(String::new());
    }
    v.as_string()
        .ok_or_else(|| bad_argument(format!("{key} must be a string")))
}

fn action_from_js(action: &str, options: &JsValue) -> Result<Action, JsValue> {
    let payload = option(options, "payload")?;
    Ok(Action {
        action: action.to_string(),
        multiple: multiple_from_js(&option(options, "multiple")?)?,
        actor: string_option(options, "actor")?,
        roles: roles_from_js(&option(options, "roles")?)?,
        payload: if payload.is_undefined() {
            None
        } else if payload.is_null() {
            Some("null".into())
        } else {
            Some(text_or_json(&payload)?)
        },
    })
}

/// A set of event streams, each validated by its Petri net and hash-chained,
/// kept in IndexedDB (`Ledger.open`) or in memory (`Ledger.memory`).
///
/// @example
/// ```ts
/// import init, { Model, Ledger } from "petrichain";
/// await init();
/// const model = Model.fromJson({ places: [{ id: "stock", initial: 2 }],
///   transitions: [{ id: "sell" }], arcs: [{ source: "stock", target: "sell" }] });
/// const ledger = await Ledger.open("shop");
/// const modelId = await ledger.putModel(model);
/// const stream = await ledger.createStream("till-1", modelId);
/// const event = await stream.fire("sell", { actor: "ann", payload: { sku: 7 } });
/// event.seq;            // 1
/// stream.marking;       // { stock: 1 }
/// try { await stream.fire("sell", { multiple: 5 }); } catch (e) { e.code === "NOT_ENABLED"; }
/// await ledger.verify(); // throws (HASH_MISMATCH, ...) if anything was tampered with
/// ```
#[wasm_bindgen(js_name = Ledger)]
pub struct JsLedger {
    pub(crate) inner: Inner,
}

#[wasm_bindgen(js_class = Ledger)]
impl JsLedger {
    /// Opens (or creates) the IndexedDB ledger `name` (database
    /// `petrichain-<name>`) and asks the browser for persistent storage.
    #[wasm_bindgen(unchecked_return_type = "Promise<Ledger>")]
    pub fn open(name: String) -> js_sys::Promise {
        future_to_promise(async move {
            let store = IndexedDbStore::open(&name).await.map_err(js_err)?;
            Ok(JsLedger {
                inner: Rc::new(Ledger::new(AnyStore::IndexedDb(store))),
            }
            .into())
        })
    }

    /// A ledger in memory: same behaviour, nothing persisted.
    pub fn memory() -> JsLedger {
        JsLedger {
            inner: Rc::new(Ledger::new(AnyStore::Memory(MemoryStore::new()))),
        }
    }

    /// Whether the browser has granted persistent storage (asked at `open`, not
    /// awaited: false until it answered; always false in memory).
    #[wasm_bindgen(getter)]
    pub fn persisted(&self) -> bool {
        match self.inner.store() {
            AnyStore::IndexedDb(s) => s.persisted(),
            AnyStore::Memory(_) => false,
        }
    }

    /// Stores a model (idempotent) and resolves to its id.
    #[wasm_bindgen(js_name = putModel, unchecked_return_type = "Promise<string>")]
    pub fn put_model(&self, model: &JsModel) -> js_sys::Promise {
        let (inner, model) = (self.inner.clone(), model.model.clone());
        future_to_promise(async move {
            let id = inner.put_model(&model).await.map_err(js_err)?;
            Ok(id.into())
        })
    }

    /// A stored model by id (e.g. the net of a stream, `stream.modelId`);
    /// throws `UNKNOWN_MODEL`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Model>")]
    pub fn model(&self, id: String) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let model = inner.model(&id).await.map_err(js_err)?;
            Ok(JsModel::stored(model).into())
        })
    }

    /// Creates an empty stream of a stored model; throws `STREAM_EXISTS`,
    /// `UNKNOWN_MODEL`.
    #[wasm_bindgen(js_name = createStream, unchecked_return_type = "Promise<Stream>")]
    pub fn create_stream(
        &self,
        id: String,
        #[wasm_bindgen(js_name = "modelId")] model_id: String,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let record = inner.create_stream(&id, &model_id).await.map_err(js_err)?;
            JsStream::load(inner, record).await.map(Into::into)
        })
    }

    /// A handle on an existing stream; throws `UNKNOWN_STREAM`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Stream>")]
    pub fn stream(&self, id: String) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let record = inner.stream(&id).await.map_err(js_err)?;
            JsStream::load(inner, record).await.map(Into::into)
        })
    }

    /// Every stream's head record, sorted by id.
    #[wasm_bindgen(unchecked_return_type = "Promise<StreamInfo[]>")]
    pub fn streams(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { to_js(&inner.streams().await.map_err(js_err)?) })
    }

    /// Replays one stream (or all) through its net and recomputes every hash.
    /// Throws the first problem: `HASH_MISMATCH`, `BROKEN_LINK`, `SEQ_GAP`,
    /// `ACTION_REJECTED`, `STATE_MISMATCH`, `HEAD_MISMATCH`, ... with
    /// `details.seq`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Verified[]>")]
    pub fn verify(
        &self,
        #[wasm_bindgen(js_name = "streamId")] stream_id: Option<String>,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            to_js(&inner.verify(stream_id.as_deref()).await.map_err(js_err)?)
        })
    }

    /// The stream as JSON lines: a header line with its net, then one event per line.
    #[wasm_bindgen(js_name = exportJsonl, unchecked_return_type = "Promise<string>")]
    pub fn export_jsonl(
        &self,
        #[wasm_bindgen(js_name = "streamId")] stream_id: String,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            Ok(inner.export_jsonl(&stream_id).await.map_err(js_err)?.into())
        })
    }

    /// Imports a JSON-lines export: every event is verified first, then all
    /// of it is stored in one transaction, or nothing is.
    #[wasm_bindgen(js_name = importJsonl, unchecked_return_type = "Promise<ImportReport>")]
    pub fn import_jsonl(&self, text: String) -> js_sys::Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { to_js(&inner.import_jsonl(&text).await.map_err(js_err)?) })
    }

    /// Calls `callback(change)` after every change to stream `streamId` (or
    /// to any stream if `null`), from this tab or another. Returns a function
    /// that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(js_name = "streamId")] stream_id: Option<String>,
        #[wasm_bindgen(unchecked_param_type = "(change: Change) => void")]
        callback: js_sys::Function,
    ) -> JsValue {
        let sub = self.inner.subscribe(stream_id.as_deref(), move |change| {
            if let Ok(value) = to_js(change) {
                let _ = callback.call1(&JsValue::NULL, &value);
            }
        });
        let inner = Rc::downgrade(&self.inner);
        Closure::once_into_js(move || {
            if let Some(inner) = inner.upgrade() {
                inner.unsubscribe(sub);
            }
        })
    }

    /// Closes the ledger; later calls throw `CLOSED`.
    pub fn close(&self) {
        self.inner.close();
    }
}

/// One stream of a ledger. `head`, `marking` and `enabled()` reflect the
/// last state this handle saw (after its own appends, or `refresh()`).
#[wasm_bindgen(js_name = Stream)]
pub struct JsStream {
    inner: Inner,
    model: Rc<crate::Model>,
    record: Rc<RefCell<StreamRecord>>,
}

impl JsStream {
    async fn load(inner: Inner, record: StreamRecord) -> Result<JsStream, JsValue> {
        let model = inner.model(&record.model).await.map_err(js_err)?;
        Ok(JsStream {
            inner,
            model,
            record: Rc::new(RefCell::new(record)),
        })
    }

    /// Fires and stores `actions`; resolves to the events (or only the last
    /// one when `single`).
    fn fire_actions(&self, actions: Vec<Action>, ts: u64, single: bool) -> js_sys::Promise {
        let (inner, record) = (self.inner.clone(), self.record.clone());
        let id = record.borrow().id.clone();
        future_to_promise(async move {
            let mut events = inner.fire_batch(&id, &actions, ts).await.map_err(js_err)?;
            if let Some(last) = events.last() {
                let mut r = record.borrow_mut();
                r.seq = last.seq;
                r.hash.clone_from(&last.hash);
                r.state.clone_from(&last.state);
            }
            match (single, events.pop()) {
                (true, Some(event)) => to_js(&event),
                (_, last) => {
                    events.extend(last);
                    to_js(&events)
                }
            }
        })
    }
}

#[wasm_bindgen(js_class = Stream)]
impl JsStream {
    /// The stream id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.record.borrow().id.clone()
    }

    /// Id of the stream's model.
    #[wasm_bindgen(getter, js_name = modelId)]
    pub fn model_id(&self) -> String {
        self.model.id().to_string()
    }

    /// `{seq, hash}` of the last event (seq 0 and 64 zeros for a new stream).
    #[wasm_bindgen(getter, unchecked_return_type = "Head")]
    pub fn head(&self) -> Result<JsValue, JsValue> {
        let r = self.record.borrow();
        #[derive(serde::Serialize)]
        struct Head<'a> {
            seq: u64,
            hash: &'a str,
        }
        to_js(&Head {
            seq: r.seq,
            hash: &r.hash,
        })
    }

    /// Tokens per place after the last event.
    #[wasm_bindgen(getter, unchecked_return_type = "Marking")]
    pub fn marking(&self) -> Result<JsValue, JsValue> {
        let marking = Marking(self.record.borrow().state.clone());
        to_js(&self.model.marking_map(&marking))
    }

    /// Transitions that may fire now for an actor with `roles`.
    pub fn enabled(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "string[]")] roles: Option<js_sys::Array>,
    ) -> Result<Vec<String>, JsValue> {
        let roles = roles_from_js(&roles.map_or(JsValue::UNDEFINED, Into::into))?;
        let names: Vec<&str> = roles.iter().map(String::as_str).collect();
        let marking = Marking(self.record.borrow().state.clone());
        Ok(self
            .model
            .enabled(&marking, &self.model.roles(&names))
            .into_iter()
            .map(|t| self.model.transitions()[t].id.clone())
            .collect())
    }

    /// Fires `action` and stores the event (validate, hash and write in one
    /// IndexedDB transaction); resolves to the stored event. A refused firing
    /// stores nothing and throws why (`NOT_ENABLED` with `details.place`,
    /// `has`, `needs`; `ROLE_DENIED`; `INHIBITED`; `CAPACITY_EXCEEDED`...).
    #[wasm_bindgen(unchecked_return_type = "Promise<Event>")]
    pub fn fire(
        &self,
        action: String,
        #[wasm_bindgen(unchecked_optional_param_type = "AppendOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> js_sys::Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let prepared = action_from_js(&action, &options)
            .and_then(|a| Ok((a, ts_from_js(&option(&options, "ts")?)?)));
        let (action, ts) = match prepared {
            Ok(p) => p,
            Err(e) => return js_sys::Promise::reject(&e),
        };
        self.fire_actions(vec![action], ts, true)
    }

    /// Fires several actions in order, all in one transaction: all are
    /// stored or none. Resolves to the stored events.
    #[wasm_bindgen(js_name = fireBatch, unchecked_return_type = "Promise<Event[]>")]
    pub fn fire_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BatchAction[]")] actions: JsValue,
        ts: Option<f64>,
    ) -> js_sys::Promise {
        let prepared = (|| {
            if !js_sys::Array::is_array(&actions) {
                return Err(bad_argument("fireBatch expects an array of {action, ...}"));
            }
            let list = js_sys::Array::from(&actions);
            let mut out = Vec::with_capacity(list.length() as usize);
            for item in list.iter() {
                let name = option(&item, "action")?
                    .as_string()
                    .ok_or_else(|| bad_argument("each batch item needs action: string"))?;
                out.push(action_from_js(&name, &item)?);
            }
            let ts = ts_from_js(&ts.map_or(JsValue::UNDEFINED, JsValue::from_f64))?;
            Ok((out, ts))
        })();
        match prepared {
            Ok((actions, ts)) => self.fire_actions(actions, ts, false),
            Err(e) => js_sys::Promise::reject(&e),
        }
    }

    /// Stored events with seq > `after` (default 0), at most `limit`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Event[]>")]
    pub fn events(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "EventsOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> js_sys::Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let parsed = (|| {
            let whole = |key: &str, max: f64| -> Result<Option<f64>, JsValue> {
                let v = option(&options, key)?;
                if v.is_undefined() || v.is_null() {
                    return Ok(None);
                }
                match v.as_f64() {
                    Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max => {
                        Ok(Some(n))
                    }
                    _ => Err(bad_argument(format!(
                        "{key} must be a whole number from 0 to {max}"
                    ))),
                }
            };
            Ok::<_, JsValue>((
                whole("after", MAX_TOKENS as f64)?.map_or(0, |n| n as u64),
                whole("limit", u32::MAX as f64)?.map(|n| n as u32),
            ))
        })();
        let (after, limit) = match parsed {
            Ok(p) => p,
            Err(e) => return js_sys::Promise::reject(&e),
        };
        let inner = self.inner.clone();
        let id = self.id();
        future_to_promise(
            async move { to_js(&inner.events(&id, after, limit).await.map_err(js_err)?) },
        )
    }

    /// Re-reads the head from the store (after other tabs appended).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn refresh(&self) -> js_sys::Promise {
        let (inner, record) = (self.inner.clone(), self.record.clone());
        let id = self.id();
        future_to_promise(async move {
            let fresh = inner.stream(&id).await.map_err(js_err)?;
            *record.borrow_mut() = fresh;
            Ok(JsValue::UNDEFINED)
        })
    }
}
