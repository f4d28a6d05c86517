//! `ledger.sync(...)`, the `SyncHandle`, and `ledger.conflicts(...)`, for
//! JavaScript. Thin: the algorithm is [`petrichain::sync::client`]; this file
//! picks the transport (fetch or a JS object), serialises syncs across tabs
//! with the Web Locks API, runs the continuous loop (timer, backoff, the
//! `online` event, local changes) and reports progress to callbacks.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};

use petrichain::chain::ChainError;
use petrichain::store::{Subscription, SyncStore};
use petrichain::sync::protocol::{AppendRequest, EventPage, ModelDoc, StreamList};
use petrichain::sync::{
    self as client, Backoff, PushOutcome, SyncError, SyncEvent, SyncOptions, SyncReport, Transport,
};

use crate::error::{bad_argument, to_js_error};
use crate::http::HttpTransport;
use crate::js::{conflict_to_js, option, string_entries, strings_from_js, to_js};
use crate::js_transport::JsTransport;
use crate::ledger::JsLedger;
use crate::store::{AnyStore, Inner};

#[wasm_bindgen(typescript_custom_section)]
const TS_SYNC_TYPES: &'static str = r#"
/** `GET /v1/streams/{id}/events` answer (docs/sync-protocol.md). */
export interface EventPage { stream: string; model: string; head: Head; events: Event[]; more: boolean }
/** Body of a conditional append: "these events, if your head is still `expected`". */
export interface AppendRequest { model: string; expected: Head; events: Event[] }
/** A stored append. */
export interface AppendOk { head: Head; stored: number; duplicates: number }
/** A model as the protocol carries it: id = SHA-256 of `json` (canonical JSON). */
export interface ModelDoc { id: string; json: string }
/** `GET /v1/streams` answer. */
export interface StreamList { streams: { id: string; model: string; head: Head }[] }

/**
 * Sync through your own backend: an object with these functions instead of
 * a URL. Values are the protocol's JSON bodies. A function that throws or
 * rejects counts as a network error (retried with backoff).
 */
export interface SyncTransport {
  /** Backend name; sync state is kept per name. Default "js". */
  name?: string;
  /** Events after `after`, at most `limit`; `null` when the backend has no such stream. */
  pull(stream: string, after: number, limit: number): Promise<EventPage | null> | EventPage | null;
  /** Conditional append: the stored result, or `{conflict: head}` when the backend's head is not `request.expected`. */
  push(stream: string, request: AppendRequest): Promise<AppendOk | { conflict: Head }> | AppendOk | { conflict: Head };
  /** The model with this id (needed to pull a stream this ledger does not have yet). */
  getModel?(id: string): Promise<ModelDoc | null> | ModelDoc | null;
  /** Called before the first push of a stream the backend does not have. */
  putModel?(doc: ModelDoc): Promise<void> | void;
  /** Every stream the backend has (to pull streams this ledger does not have yet). */
  streams?(): Promise<StreamList> | StreamList;
}

/** Options of `ledger.sync`. Give `url` or `transport`. */
export interface SyncOptions {
  /** Base URL of a protocol v1 backend, e.g. "https://api.example.com/ledger". */
  url?: string;
  /** Your own transport instead of a URL. */
  transport?: SyncTransport;
  /** Headers sent with every request (e.g. `{ Authorization: "Bearer ..." }`). */
  headers?: Record<string, string>;
  /** Streams to sync. Default: every local stream and every stream the backend lists. */
  streams?: string[];
  /** Continuous sync: ms between syncs. Default 30000. */
  interval?: number;
  /** Events asked per pull. Default 1000. */
  pageSize?: number;
  /** Events sent per append. Default 500. */
  pushBatch?: number;
  /** Rounds (pull, rebase, push) per stream when the remote keeps moving. Default 5. */
  maxRounds?: number;
  /** First retry delay after a network failure (doubles up to `maxBackoff`). Default 1000. */
  backoff?: number;
  /** Largest retry delay, ms. Default 60000. */
  maxBackoff?: number;
  /**
   * With `url` and `start()`: also listen to the server's live updates
   * (server-sent events on `/v1/streams/{id}/live`) and sync as soon as a
   * stream moves. EventSource cannot send `headers`: use it with cookie or
   * no authentication. Default false.
   */
  live?: boolean;
}

/** What syncing one stream did. */
export interface StreamSyncReport {
  stream: string; pulled: number; pushed: number; duplicates: number;
  rebased: number; conflicts: number; rounds: number; head: Head;
  /** Local events the backend does not have yet (0 after a full sync). */
  pending: number;
}

/** What `SyncHandle.now()` did. */
export interface SyncReport {
  backend: string;
  streams: StreamSyncReport[];
  /** Streams that failed (`now()` then rejects with the first error). */
  errors: { stream: string; error: Record<string, unknown> & { code: string } }[];
}

/** A local action a rebase could not keep: the net no longer allows it. */
export interface Conflict {
  stream: string;
  backend: string;
  /** The local event as it was recorded (action, multiple, actor, roles, payload, ts, old seq and hash). */
  event: Event;
  /** The engine's code: "NOT_ENABLED", "ROLE_DENIED", "INHIBITED", "CAPACITY_EXCEEDED", ... */
  code: string;
  message: string;
  /** The engine's error object, e.g. `{code, transition, place, has, needs}`. */
  reason: Record<string, unknown>;
  /** The remote head the action was re-fired on. */
  remote: Head;
  /** When the rebase happened (ms since the epoch). */
  detected: number;
}

/** Progress of a sync, as given to `on("progress", ...)`. */
export type SyncProgress =
  | { type: "pulled"; stream: string; events: number; head: Head }
  | { type: "pushed"; stream: string; events: number; head: Head }
  | { type: "conflict"; conflict: Conflict }
  | { type: "stream"; report: StreamSyncReport }
  | { type: "error"; stream: string; error: Record<string, unknown> & { code: string } };

/** "idle" | "syncing" | "offline" (network trouble; retrying) | "error" (the last sync failed otherwise). */
export type SyncStatus = "idle" | "syncing" | "offline" | "error";
"#;

/// The transport of a handle.
enum AnyTransport {
    Http(HttpTransport),
    Js(JsTransport),
}

impl Transport for AnyTransport {
    fn backend(&self) -> &str {
        match self {
            AnyTransport::Http(t) => t.backend(),
            AnyTransport::Js(t) => t.backend(),
        }
    }
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        match self {
            AnyTransport::Http(t) => t.list_streams().await,
            AnyTransport::Js(t) => t.list_streams().await,
        }
    }
    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        match self {
            AnyTransport::Http(t) => t.get_model(id).await,
            AnyTransport::Js(t) => t.get_model(id).await,
        }
    }
    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        match self {
            AnyTransport::Http(t) => t.put_model(doc).await,
            AnyTransport::Js(t) => t.put_model(doc).await,
        }
    }
    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        match self {
            AnyTransport::Http(t) => t.pull(stream, after, limit).await,
            AnyTransport::Js(t) => t.pull(stream, after, limit).await,
        }
    }
    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        match self {
            AnyTransport::Http(t) => t.push(stream, request).await,
            AnyTransport::Js(t) => t.push(stream, request).await,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Idle,
    Syncing,
    Offline,
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Syncing => "syncing",
            Status::Offline => "offline",
            Status::Error => "error",
        }
    }
}

type Listener = (u32, String, Function);

/// The state a handle shares with its continuous loop and callbacks.
struct Shared {
    ledger: Inner,
    transport: AnyTransport,
    streams: Option<Vec<String>>,
    options: SyncOptions,
    backoff: Backoff,
    interval: u32,
    lock: String,
    status: Cell<Status>,
    running: Cell<bool>,
    generation: Cell<u32>,
    /// Set when a local change arrives during a sync: sync again at once.
    dirty: Cell<bool>,
    wake: RefCell<Option<Function>>,
    listeners: RefCell<Vec<Listener>>,
    next_listener: Cell<u32>,
    last_report: RefCell<JsValue>,
    last_error: RefCell<JsValue>,
    online: RefCell<Option<Closure<dyn FnMut()>>>,
    subscription: Cell<Option<Subscription>>,
    /// Listen to server-sent events (`live` option, URL transports only).
    live: bool,
    /// Open `EventSource`s and their listener.
    sources: RefCell<Vec<JsValue>>,
    on_live: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Shared {
    fn emit(&self, kind: &str, value: &JsValue) {
        let targets: Vec<Function> = self
            .listeners
            .borrow()
            .iter()
            .filter(|(_, k, _)| k == kind)
            .map(|(_, _, f)| f.clone())
            .collect();
        for f in targets {
            // A throwing callback must not break the sync.
            let _ = f.call1(&JsValue::NULL, value);
        }
    }

    fn set_status(&self, status: Status) {
        if self.status.replace(status) != status {
            self.emit("status", &status.as_str().into());
        }
    }

    fn progress(&self, event: &SyncEvent) {
        if let Ok(v) = to_js(event) {
            self.emit("progress", &v);
        }
        match event {
            SyncEvent::Conflict { conflict } => {
                if let Ok(v) = conflict_to_js(conflict) {
                    self.emit("conflict", &v);
                }
            }
            SyncEvent::Error { error, .. } => self.emit("error", &to_js_error(error)),
            _ => {}
        }
    }

    fn wake(&self) {
        if let Some(f) = self.wake.borrow_mut().take() {
            let _ = f.call0(&JsValue::UNDEFINED);
        }
    }
}

fn global_get(path: &[&str]) -> Option<JsValue> {
    let mut v: JsValue = js_sys::global().into();
    for key in path {
        v = Reflect::get(&v, &(*key).into()).ok()?;
        if v.is_undefined() || v.is_null() {
            return None;
        }
    }
    Some(v)
}

fn browser_offline() -> bool {
    global_get(&["navigator", "onLine"]).and_then(|v| v.as_bool()) == Some(false)
}

/// Sleeps `ms`, or until [`Shared::wake`].
async fn sleep(shared: &Shared, ms: u32) {
    let mut resolver = None;
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(set_timeout) =
            global_get(&["setTimeout"]).and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
        }
        resolver = Some(resolve);
    });
    *shared.wake.borrow_mut() = resolver;
    let _ = JsFuture::from(promise).await;
    shared.wake.borrow_mut().take();
}

/// One full sync of the handle's streams, inside the Web Lock (one tab at a time).
async fn run_once(shared: Rc<Shared>) -> Result<SyncReport, SyncError> {
    shared.set_status(Status::Syncing);
    shared.dirty.set(false);
    let result = if browser_offline() {
        Err(SyncError::Network {
            backend: shared.transport.backend().to_string(),
            message: "the browser is offline".into(),
        })
    } else {
        locked(shared.clone()).await
    };
    match &result {
        Ok(report) => {
            *shared.last_report.borrow_mut() = to_js(report).unwrap_or(JsValue::UNDEFINED);
            match report.errors.first() {
                None => {
                    *shared.last_error.borrow_mut() = JsValue::UNDEFINED;
                    shared.set_status(Status::Idle);
                }
                Some(f) => {
                    *shared.last_error.borrow_mut() = to_js_error(&f.error);
                    shared.set_status(if f.error.retryable() {
                        Status::Offline
                    } else {
                        Status::Error
                    });
                }
            }
        }
        Err(e) => {
            let js = to_js_error(e);
            *shared.last_error.borrow_mut() = js.clone();
            shared.emit("error", &js);
            shared.set_status(if e.retryable() {
                Status::Offline
            } else {
                Status::Error
            });
        }
    }
    result
}

/// Runs the sync under `navigator.locks.request(name, ...)` when the browser
/// has Web Locks (other tabs wait), directly otherwise.
async fn locked(shared: Rc<Shared>) -> Result<SyncReport, SyncError> {
    let outcome: Rc<RefCell<Option<Result<SyncReport, SyncError>>>> = Rc::default();
    let locks = global_get(&["navigator", "locks"]);
    let request = locks
        .as_ref()
        .and_then(|l| Reflect::get(l, &"request".into()).ok())
        .and_then(|f| f.dyn_into::<Function>().ok());
    match (locks, request) {
        (Some(locks), Some(request)) => {
            let (s, out) = (shared.clone(), outcome.clone());
            let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
                future_to_promise(async move {
                    let result = sync_all(&s).await;
                    *out.borrow_mut() = Some(result);
                    Ok(JsValue::UNDEFINED)
                })
            });
            let promise = request
                .call2(&locks, &shared.lock.as_str().into(), &callback)
                .ok()
                .and_then(|p| p.dyn_into::<Promise>().ok());
            match promise {
                Some(p) => {
                    if let Err(e) = JsFuture::from(p).await {
                        return Err(SyncError::Local(ChainError::Storage {
                            message: format!("Web Locks request failed: {e:?}"),
                        }));
                    }
                }
                None => {
                    return Err(SyncError::Local(ChainError::Storage {
                        message: "navigator.locks.request did not return a promise".into(),
                    }))
                }
            }
            let result = outcome.borrow_mut().take();
            result.unwrap_or_else(|| {
                Err(SyncError::Local(ChainError::Storage {
                    message: "the sync did not run under the Web Lock".into(),
                }))
            })
        }
        _ => sync_all(&shared).await,
    }
}

async fn sync_all(shared: &Shared) -> Result<SyncReport, SyncError> {
    let options = SyncOptions {
        now: js_sys::Date::now() as u64,
        ..shared.options.clone()
    };
    client::sync(
        &shared.ledger,
        &shared.transport,
        shared.streams.as_deref(),
        &options,
        &|e| shared.progress(e),
    )
    .await
}

/// The continuous loop started by `start()`: sync, then wait `interval` (or
/// the backoff after a failure), waking early for `online`, local changes and `now()`.
async fn run_loop(shared: Rc<Shared>, generation: u32) {
    let mut failures: u32 = 0;
    let live = |s: &Shared| s.running.get() && s.generation.get() == generation;
    while live(&shared) {
        let delay = match run_once(shared.clone()).await {
            Ok(report) if report.errors.is_empty() => {
                failures = 0;
                shared.interval
            }
            Ok(report) => {
                let retry = report.errors.iter().all(|f| f.error.retryable());
                next_delay(&shared, retry, &mut failures)
            }
            Err(e) => next_delay(&shared, e.retryable(), &mut failures),
        };
        if !live(&shared) {
            break;
        }
        if shared.dirty.replace(false) && failures == 0 {
            continue;
        }
        sleep(&shared, delay).await;
    }
}

/// Opens one `EventSource` per stream in scope (the `streams` option, else
/// the local streams); every `append` event wakes the loop.
async fn open_live(shared: Rc<Shared>, generation: u32) {
    let AnyTransport::Http(http) = &shared.transport else {
        return;
    };
    let ids = match &shared.streams {
        Some(list) => list.clone(),
        None => match shared.ledger.streams().await {
            Ok(list) => list.into_iter().map(|s| s.id).collect(),
            Err(e) => {
                shared.emit("error", &to_js_error(&e));
                return;
            }
        },
    };
    if !shared.running.get() || shared.generation.get() != generation {
        return;
    }
    let Some(class) = global_get(&["EventSource"]).and_then(|c| c.dyn_into::<Function>().ok())
    else {
        shared.emit(
            "error",
            &bad_argument("live updates need EventSource, which this environment lacks"),
        );
        return;
    };
    let weak = Rc::downgrade(&shared);
    let listener = Closure::<dyn FnMut()>::new(move || {
        if let Some(s) = weak.upgrade() {
            if s.status.get() == Status::Syncing {
                s.dirty.set(true);
            } else {
                s.wake();
            }
        }
    });
    for id in ids {
        let args = js_sys::Array::of1(&http.live_url(&id).into());
        let Ok(source) = Reflect::construct(&class, &args) else {
            continue;
        };
        if let Some(add) = Reflect::get(&source, &"addEventListener".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = add.call2(&source, &"append".into(), listener.as_ref());
        }
        shared.sources.borrow_mut().push(source);
    }
    *shared.on_live.borrow_mut() = Some(listener);
}

fn close_live(shared: &Shared) {
    for source in shared.sources.borrow_mut().drain(..) {
        if let Some(close) = Reflect::get(&source, &"close".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = close.call0(&source);
        }
    }
    shared.on_live.borrow_mut().take();
}

fn next_delay(shared: &Shared, retryable: bool, failures: &mut u32) -> u32 {
    let delay = if retryable {
        shared.backoff.delay(*failures)
    } else {
        u64::from(shared.interval)
    };
    *failures = failures.saturating_add(1);
    u32::try_from(delay).unwrap_or(u32::MAX)
}

fn whole(options: &JsValue, key: &str, default: u64, min: u64, max: u64) -> Result<u64, JsValue> {
    let v = option(options, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => {
            Ok(n as u64)
        }
        _ => Err(bad_argument(format!(
            "sync option {key} must be a whole number from {min} to {max}"
        ))),
    }
}

fn parse_options(ledger: &Inner, options: &JsValue) -> Result<Shared, JsValue> {
    if !options.is_object() {
        return Err(bad_argument(
            "ledger.sync expects an options object: { url } or { transport }",
        ));
    }
    let url = option(options, "url")?;
    let transport = option(options, "transport")?;
    let headers_value = option(options, "headers")?;
    let mut headers = Vec::new();
    if !headers_value.is_undefined() && !headers_value.is_null() {
        let bad = || bad_argument("headers must be an object of strings");
        let mut map = std::collections::BTreeMap::new();
        for (name, value) in string_entries(&headers_value).map_err(|_| bad())? {
            map.insert(name, value.as_string().ok_or_else(bad)?);
        }
        headers.extend(map);
    }
    let transport = match (url.as_string(), transport.is_object()) {
        (Some(url), false) => {
            if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with('/'))
            {
                return Err(bad_argument(
                    "url must be an http(s) URL or a path, e.g. \"https://api.example.com/ledger\"",
                ));
            }
            AnyTransport::Http(HttpTransport::new(&url, headers))
        }
        (None, true) => AnyTransport::Js(JsTransport::new(transport).map_err(bad_argument)?),
        (Some(_), true) => return Err(bad_argument("give url or transport, not both")),
        (None, false) => {
            return Err(bad_argument(
                "ledger.sync needs url (a string) or transport (an object with pull and push)",
            ))
        }
    };
    let streams_value = option(options, "streams")?;
    let streams = if streams_value.is_undefined() || streams_value.is_null() {
        None
    } else {
        Some(
            strings_from_js(&streams_value)
                .ok_or_else(|| bad_argument("streams must be an array of stream ids"))?,
        )
    };
    let live_value = option(options, "live")?;
    let live = match (
        live_value.is_undefined() || live_value.is_null(),
        live_value.as_bool(),
    ) {
        (true, _) => false,
        (false, Some(b)) => b,
        (false, None) => return Err(bad_argument("live must be true or false")),
    };
    if live && !matches!(transport, AnyTransport::Http(_)) {
        return Err(bad_argument(
            "live updates need a url (server-sent events); a JS transport can call now() itself",
        ));
    }
    let defaults = SyncOptions::default();
    let base = whole(options, "backoff", 1_000, 1, u64::from(u32::MAX))?;
    let backoff = Backoff {
        base_ms: base,
        max_ms: whole(options, "maxBackoff", 60_000, base, u64::from(u32::MAX))?,
    };
    let lock = format!(
        "petrichain-sync:{}:{}",
        match ledger.store() {
            AnyStore::IndexedDb(_) => "indexeddb",
            AnyStore::Memory(_) => "memory",
        },
        transport.backend()
    );
    Ok(Shared {
        ledger: ledger.clone(),
        streams,
        options: SyncOptions {
            page: whole(options, "pageSize", defaults.page, 1, 100_000)?,
            push_batch: whole(options, "pushBatch", defaults.push_batch as u64, 1, 100_000)?
                as usize,
            max_rounds: whole(
                options,
                "maxRounds",
                u64::from(defaults.max_rounds),
                1,
                1_000,
            )? as u32,
            now: 0,
        },
        interval: whole(options, "interval", 30_000, 1, u64::from(u32::MAX))? as u32,
        backoff,
        lock,
        transport,
        status: Cell::new(Status::Idle),
        running: Cell::new(false),
        generation: Cell::new(0),
        dirty: Cell::new(false),
        wake: RefCell::new(None),
        listeners: RefCell::new(Vec::new()),
        next_listener: Cell::new(0),
        last_report: RefCell::new(JsValue::UNDEFINED),
        last_error: RefCell::new(JsValue::UNDEFINED),
        online: RefCell::new(None),
        subscription: Cell::new(None),
        live,
        sources: RefCell::new(Vec::new()),
        on_live: RefCell::new(None),
    })
}

/// Syncs a ledger with one backend. Made by `ledger.sync(options)`.
///
/// @example
/// ```ts
/// const sync = ledger.sync({ url: "https://api.example.com/ledger",
///                            headers: { Authorization: `Bearer ${token}` } });
/// sync.on("conflict", (c) => console.warn(`${c.event.action} by ${c.event.actor} was refused: ${c.message}`));
/// const report = await sync.now();   // one full sync; rejects with a PetrichainError
/// sync.start();                      // then keep syncing (every `interval`, on "online", after local changes)
/// sync.status;                       // "idle" | "syncing" | "offline" | "error"
/// await sync.pending();              // local events the backend does not have yet
/// ```
#[wasm_bindgen(js_name = SyncHandle)]
pub struct JsSyncHandle {
    shared: Rc<Shared>,
}

#[wasm_bindgen(js_class = SyncHandle)]
impl JsSyncHandle {
    /// One full sync of every stream in scope: pull (verified before anything
    /// is stored), fast-forward or rebase, push. One tab at a time (Web
    /// Locks). Resolves with the report; rejects with a `PetrichainError`
    /// (`NETWORK`, `REMOTE_ERROR`, `BAD_RESPONSE`, `REMOTE_CHAIN_INVALID`,
    /// `REMOTE_FORKED`, `PUSH_REJECTED`, `SYNC_CONTENDED`, ...) if a stream
    /// failed; the other streams are still synced (see `lastReport`).
    #[wasm_bindgen(unchecked_return_type = "Promise<SyncReport>")]
    pub fn now(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let report = run_once(shared).await.map_err(|e| to_js_error(&e))?;
            if let Some(f) = report.errors.first() {
                return Err(to_js_error(&f.error));
            }
            to_js(&report)
        })
    }

    /// Keeps syncing: now, then every `interval` ms, at once when the browser
    /// comes back online or this ledger records a change, and after failures
    /// with exponential backoff. Does nothing if already started.
    pub fn start(&self) {
        let shared = &self.shared;
        if shared.running.replace(true) {
            return;
        }
        let generation = shared.generation.get().wrapping_add(1);
        shared.generation.set(generation);
        let weak: Weak<Shared> = Rc::downgrade(shared);
        let w = weak.clone();
        let online = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = w.upgrade() {
                s.wake();
            }
        });
        if let Some(add) =
            global_get(&["addEventListener"]).and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = add.call2(&js_sys::global(), &"online".into(), online.as_ref());
        }
        *shared.online.borrow_mut() = Some(online);
        let sub = shared.ledger.subscribe(None, move |change| {
            if let Some(s) = weak.upgrade() {
                if change.added > 0 && s.status.get() != Status::Syncing {
                    s.wake();
                } else {
                    s.dirty.set(true);
                }
            }
        });
        shared.subscription.set(Some(sub));
        if shared.live {
            spawn_local(open_live(shared.clone(), generation));
        }
        spawn_local(run_loop(shared.clone(), generation));
    }

    /// Stops continuous sync (a sync in progress finishes first).
    pub fn stop(&self) {
        let shared = &self.shared;
        if !shared.running.replace(false) {
            return;
        }
        if let Some(online) = shared.online.borrow_mut().take() {
            if let Some(remove) =
                global_get(&["removeEventListener"]).and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = remove.call2(&js_sys::global(), &"online".into(), online.as_ref());
            }
        }
        if let Some(sub) = shared.subscription.take() {
            shared.ledger.unsubscribe(sub);
        }
        close_live(shared);
        shared.wake();
    }

    /// Whether continuous sync is on.
    #[wasm_bindgen(getter)]
    pub fn running(&self) -> bool {
        self.shared.running.get()
    }

    /// `"idle"`, `"syncing"`, `"offline"` (network trouble, retrying) or `"error"`.
    #[wasm_bindgen(getter, unchecked_return_type = "SyncStatus")]
    pub fn status(&self) -> String {
        self.shared.status.get().as_str().into()
    }

    /// The backend's name (its URL, or the transport's `name`).
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.shared.transport.backend().into()
    }

    /// The report of the last sync, if any.
    #[wasm_bindgen(getter, js_name = lastReport, unchecked_return_type = "SyncReport | undefined")]
    pub fn last_report(&self) -> JsValue {
        self.shared.last_report.borrow().clone()
    }

    /// The error of the last sync, if it failed.
    #[wasm_bindgen(getter, js_name = lastError, unchecked_return_type = "PetrichainError | undefined")]
    pub fn last_error(&self) -> JsValue {
        self.shared.last_error.borrow().clone()
    }

    /// Local events this backend does not have yet: of `streamId`, or of
    /// every stream in scope when omitted.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn pending(&self, stream_id: Option<String>) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let ids = match (stream_id, &shared.streams) {
                (Some(id), _) => vec![id],
                (None, Some(list)) => list.clone(),
                (None, None) => shared
                    .ledger
                    .streams()
                    .await
                    .map_err(|e| to_js_error(&e))?
                    .into_iter()
                    .map(|s| s.id)
                    .collect(),
            };
            let mut total: u64 = 0;
            for id in ids {
                let n = client::pending(&shared.ledger, shared.transport.backend(), &id)
                    .await
                    .map_err(|e| to_js_error(&e))?;
                total = total.saturating_add(n);
            }
            Ok(JsValue::from_f64(total as f64))
        })
    }

    /// Calls `callback` on `"progress"` (every step), `"conflict"` (a
    /// recorded conflict), `"error"` (a `PetrichainError`) or `"status"` (the
    /// new status). Returns a function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn on(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "\"progress\" | \"conflict\" | \"error\" | \"status\""
        )]
        kind: String,
        #[wasm_bindgen(unchecked_param_type = "(value: any) => void")] callback: Function,
    ) -> Result<JsValue, JsValue> {
        if !["progress", "conflict", "error", "status"].contains(&kind.as_str()) {
            return Err(bad_argument(format!(
                "unknown sync event '{kind}': use progress, conflict, error or status"
            )));
        }
        let id = self.shared.next_listener.get().wrapping_add(1);
        self.shared.next_listener.set(id);
        self.shared
            .listeners
            .borrow_mut()
            .push((id, kind, callback));
        let weak = Rc::downgrade(&self.shared);
        Ok(Closure::once_into_js(move || {
            if let Some(s) = weak.upgrade() {
                s.listeners.borrow_mut().retain(|(i, _, _)| *i != id);
            }
        }))
    }
}

#[wasm_bindgen(js_class = Ledger)]
impl JsLedger {
    /// Syncs this ledger with a backend: `{url}` for a protocol v1 server
    /// (docs/sync-protocol.md) or `{transport}` for your own pull/push
    /// functions. Returns a `SyncHandle`; nothing happens until `now()` or
    /// `start()`.
    #[wasm_bindgen(unchecked_return_type = "SyncHandle")]
    pub fn sync(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SyncOptions")] options: JsValue,
    ) -> Result<JsSyncHandle, JsValue> {
        Ok(JsSyncHandle {
            shared: Rc::new(parse_options(&self.inner, &options)?),
        })
    }

    /// The local actions of `streamId` that a sync could not keep (the net
    /// refused them after a rebase), oldest first, with the engine's reason.
    #[wasm_bindgen(unchecked_return_type = "Promise<Conflict[]>")]
    pub fn conflicts(&self, stream_id: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let list = client::conflicts(&inner, &stream_id)
                .await
                .map_err(|e| to_js_error(&e))?;
            let out = js_sys::Array::new();
            for c in &list {
                out.push(&conflict_to_js(c)?);
            }
            Ok(out.into())
        })
    }

    /// Forgets the recorded conflicts of `streamId` (after the app dealt with
    /// them); resolves with how many there were.
    #[wasm_bindgen(js_name = clearConflicts, unchecked_return_type = "Promise<number>")]
    pub fn clear_conflicts(&self, stream_id: String) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let n = inner
                .store()
                .clear_conflicts(&stream_id)
                .await
                .map_err(|e| to_js_error(&e))?;
            Ok(JsValue::from_f64(n as f64))
        })
    }
}
