//! The options of `ledger.sync(options)`: their TypeScript types, their
//! parsing, and the transport they choose (fetch or a JS object).

use petrichain::sync::protocol::{AppendRequest, EventPage, ModelDoc, StreamList};
use petrichain::sync::{
    Backoff, PushOutcome, Schedule, Scheduler, SyncError, SyncOptions, Transport,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::browser::Browser;
use crate::error::bad_argument;
use crate::http::HttpTransport;
use crate::js::{option, string_entries, strings_from_js};
use crate::js_transport::JsTransport;
use crate::store::{AnyStore, Inner};

/// The scheduler of a JS sync handle.
pub(crate) type Sched = Scheduler<AnyStore, AnyTransport, Browser>;

#[wasm_bindgen(typescript_custom_section)]
const TS_SYNC_TYPES: &'static str = r#"
/** `GET /v2/streams/{id}/events` answer (docs/sync-protocol.md). */
export interface EventPage { stream: string; model: string; head: Head; events: RawEvent[]; more: boolean }
/** Body of a conditional append: "these events, if your head is still `expected`". */
export interface AppendRequest { model: string; expected: Head; events: RawEvent[] }
/** A stored append. */
export interface AppendOk { head: Head; stored: number; duplicates: number }
/** A model as the protocol carries it: id = SHA-256 of `json` (canonical JSON). */
export interface ModelDoc { id: string; json: string }
/** `GET /v2/streams` answer. */
export interface StreamList { streams: { id: string; model: string; head: Head }[]; next?: string }

/**
 * Sync through your own backend: an object with these functions instead of
 * a URL. Values are the protocol's JSON bodies (payloads as JSON text: `RawEvent`). A function that throws or
 * rejects counts as a network error (retried with backoff), unless the error
 * has a numeric HTTP `status` (and optionally the backend's `code`): that is a
 * refusal, `REMOTE_ERROR` with `details.status` / `details.remoteCode`,
 * retried only for 5xx and 429 (a 403, or the 404 of a missing bucket, is not).
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
  /** Base URL of a protocol v2 backend, e.g. "https://api.example.com/ledger". */
  url?: string;
  /** Your own transport instead of a URL. */
  transport?: SyncTransport;
  /** Headers sent with every request (e.g. `{ Authorization: "Bearer ..." }`). */
  headers?: Record<string, string>;
  /**
   * With `url`: credentials asked for before the first request
   * (`reason: "initial"`) and again when the server answers 401
   * (`reason: "unauthorized"`, then the request is sent once more; a second
   * 401 rejects with code `UNAUTHENTICATED`). Return `{ token }` (sent as
   * `Authorization: Bearer TOKEN`) or `{ headers }`. With the reference
   * server: `getAuth: () => ledger.authenticate(url)` signs in with the
   * device key.
   */
  getAuth?: (info: { reason: "initial" | "unauthorized" }) =>
    Promise<{ token: string } | { headers: Record<string, string> }> | { token: string } | { headers: Record<string, string> };
  /**
   * Streams to sync, exactly these. Default: every local stream (as it is at
   * each sync, empty ones included) plus those of `follow`; the backend's
   * other streams are not downloaded.
   */
  streams?: string[];
  /**
   * Without `streams`: remote streams to sync too, pulled even before this
   * ledger has them; `"*"`: every stream the backend lists. Default none.
   */
  follow?: string[] | "*";
  /** Continuous sync: ms between syncs. Default 30000. */
  interval?: number;
  /** Events asked per pull. Default 1000. */
  pageSize?: number;
  /**
   * Events sent per append. Default 500 (the reference server takes at most
   * 1000 per request). With `url`, a batch the server answers `413` (too many
   * events or bytes) is split in halves and sent again, down to one event.
   */
  pushBatch?: number;
  /** Rounds (pull, rebase, push) per stream when the remote keeps moving. Default 5. */
  maxRounds?: number;
  /** First retry delay after a network failure (doubles up to `maxBackoff`; each wait is random in [0, that], "full jitter"). Default 1000. */
  backoff?: number;
  /** Largest retry delay, ms. Default 60000. */
  maxBackoff?: number;
  /**
   * With `url` and `start()`: also listen to the server's live updates
   * (server-sent events on `/v2/streams/{id}/live`) and sync as soon as a
   * stream moves. Without credentials through `EventSource`; with `getAuth`
   * or an `Authorization` header through a `fetch` stream that sends them
   * (EventSource cannot send headers). Default false.
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
pub(crate) enum AnyTransport {
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

/// A whole-number option from `min` to `max` (default when absent).
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

/// A handle's scheduler and whether it listens to live updates.
pub(crate) struct Parsed {
    pub scheduler: Sched,
    pub live: bool,
}

/// Reads the options of `ledger.sync(options)`.
pub(crate) fn parse_options(ledger: &Inner, options: &JsValue) -> Result<Parsed, JsValue> {
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
            let get_auth = option(options, "getAuth")?;
            let http = HttpTransport::new(&url, headers);
            if get_auth.is_undefined() || get_auth.is_null() {
                AnyTransport::Http(http)
            } else {
                let f = get_auth
                    .dyn_into::<js_sys::Function>()
                    .map_err(|_| bad_argument("getAuth must be a function"))?;
                AnyTransport::Http(http.with_auth(f))
            }
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
    let follow_value = option(options, "follow")?;
    let follow_all = follow_value.as_string().as_deref() == Some("*");
    let follow = if follow_value.is_undefined() || follow_value.is_null() || follow_all {
        Vec::new()
    } else {
        strings_from_js(&follow_value)
            .ok_or_else(|| bad_argument("follow must be an array of stream ids, or \"*\""))?
    };
    if streams.is_some() && (!follow.is_empty() || follow_all) {
        return Err(bad_argument(
            "give streams (exactly these) or follow (the local streams and these), not both",
        ));
    }
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
    let schedule = Schedule {
        streams,
        follow,
        follow_all,
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
    };
    Ok(Parsed {
        scheduler: Scheduler::new(ledger.clone(), transport, Browser { lock }, schedule),
        live,
    })
}
