//! `Ledger`: the hash-chained event store, for JavaScript.
//!
//! Thin: every rule lives in [`petrichain::store::Ledger`]; this file converts
//! arguments, picks the store (memory or IndexedDB) and turns futures into
//! promises. Times (`ts`) come from `Date.now()` at the edge (`js.rs`),
//! unless the caller passes one.

use std::rc::Rc;

use petrichain::store::{Ledger, MemoryStore};
use wasm_bindgen::prelude::*;

use crate::device::WebCryptoDevice;
use crate::error::js_err;
use crate::js::to_js;
use crate::model::JsModel;
use crate::promise::promise;
use crate::store::{AnyStore, Inner};
use crate::stream::JsStream;

#[wasm_bindgen(typescript_custom_section)]
const TS_LEDGER_TYPES: &'static str = r#"
/**
 * One stored event, chain format version 2 (see docs/chain-format.md), as
 * the API gives it: `payload` is the value of its stored JSON text. The
 * stored text itself: `RawEvent` (`stream.events({ payloadText: true })`).
 */
export interface Event {
  /** Chain format version: 2. */
  v: number;
  stream: string; seq: number; model: string; action: string; multiple: number;
  /** Who fired it: free text the application chose (not authenticated; `signer` is). */
  actor: string; roles: string[];
  /**
   * The payload's value (`null` if none was given): `JSON.parse` of the
   * stored text, so numbers beyond 2^53 lose digits; read the exact text
   * with `stream.events({ payloadText: true })`.
   */
  payload: unknown;
  /** Milliseconds since the epoch. */
  ts: number;
  /** 128 random bits (32 hex digits): two firings are never the same event. */
  nonce: string;
  prev: string;
  /** The counts the event changed, `[placeId, countAfter]`, in the model's place order (a keyed place: its total). */
  delta: [string, number][];
  /** Arguments bound to the transition's parameters, `[param, key]` sorted by param; absent without parameters. */
  args?: [string, string][];
  /** Keys of keyed places the event changed, `[placeId, key, countAfter]`; absent when none. */
  keys?: [string, string, number][];
  /** Merkle root (64 hex digits) of the whole marking after the event. */
  root: string;
  /** Ed25519 public key (64 hex digits) of the device that signed it. */
  signer: string;
  hash: string;
  /**
   * Ed25519 signature (128 hex digits) by `signer` of the event's hash.
   * Absent inside a signature run (docs/chain-format.md, "Signature runs"):
   * `fireBatch` signs its last event (and every 1,000th), whose signature
   * covers the events before it through `prev`; what a sync push or
   * `exportJsonl` sends out is signed event by event.
   */
  sig?: string;
}

/** An event with its payload as the exact stored JSON text: what the chain hashes, what the sync protocol carries. */
export interface RawEvent extends Omit<Event, "payload"> {
  /** The payload's exact JSON text (`"null"` if none was given). */
  payload: string;
}

/** A Merkle proof of one place's count (`Stream.prove`; check with `verifyPlaceProof`). */
export interface PlaceProof {
  place: string; count: number;
  /** The place's index in the model's place order. */
  index: number;
  /** Sibling hashes (64 hex digits each), from the leaf up. */
  path: string[];
}

/** What `Stream.prove` gives: the event whose signed `root` the proof leads to. */
export interface PlaceProofAt { event: Event; proof: PlaceProof }

/**
 * A proof of one key's count in a keyed place (`Stream.prove(place, { key })`;
 * check with `verifyKeyProof`): the key trie's branches, the place's leaf
 * and the marking tree's siblings (docs/chain-format.md, "Proofs of one key").
 */
export interface KeyProof {
  place: string; key: string;
  /** The key's count; 0 = the place does not hold it (a proof of absence). */
  count: number;
  /** The place's index in the model's place order. */
  index: number;
  /** Key trie branches from the leaf up: `[bit, siblingHash]`. */
  trie: [number, string][];
  /** For count 0 in a place holding keys: the key whose leaf the key's path ends at, and its count. */
  nearest?: [string, number];
  /** Marking tree sibling hashes (64 hex digits each), from the place's leaf up. */
  path: string[];
}

/** What `Stream.prove(place, { key })` gives. */
export interface KeyProofAt { event: Event; proof: KeyProof }

/** `Stream.prove` of one key of a keyed place (merged into the class `Stream`). */
export interface Stream {
  prove(place: string, options: ProveOptions & { key: string }): Promise<KeyProofAt>;
}

/** Options for `Stream.prove`. */
export interface ProveOptions {
  /** Prove the marking after this event. Default: the head. */
  seq?: number;
  /** For a keyed place: the key whose count to prove (required there, refused for an unkeyed place). */
  key?: string;
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
  /** Any JSON value, stored as `JSON.stringify` gives it (a string is a JSON string). Default null. */
  payload?: unknown;
  /** The payload as JSON text instead, kept byte for byte (e.g. numbers beyond 2^53). Not with `payload`. */
  payloadText?: string;
  /** Time to record, ms since the epoch. Default Date.now(). */
  ts?: number;
  /** Keys for the transition's parameters (keyed places), e.g. `{ from: "alice", to: "bob" }`: one per parameter. */
  args?: Record<string, string>;
}

/** Options for `Stream.keys`. */
export interface KeysOptions {
  /** Keys after this one (byte order). Default: from the first. */
  after?: string;
  /** Only keys that start with this (a search box). Default: every key. */
  prefix?: string;
  /** At most this many, 1 to 10000. Default 100. */
  limit?: number;
}

/** Options for `Stream.top`. */
export interface TopOptions {
  /** At most this many, 1 to 1000. Default 20. */
  limit?: number;
}

/** A page of a keyed place's keys (`Stream.keys`), or its top list (`Stream.top`: highest counts first, ties by key). */
export interface KeysPage {
  keys: { key: string; count: number }[];
  /** How many keys the place holds. */
  count: number;
  /** The place's total over all keys. */
  total: number;
}

/** One action of `Stream.fireBatch`; its `ts` is its own (default: the batch's `ts`, else Date.now()). */
export interface BatchAction extends AppendOptions { action: string }

/** What `verify` checked. */
export interface Verified {
  stream: string; events: number; head: string; marking: number[];
  /** Merkle root of the marking reached (the last event's `root`). */
  root: string;
}

/** What `importJsonl` did. */
export interface ImportReport {
  stream: string; model: string; events: number; added: number; head: string;
  /** The file's chain format version: 1 when its events were upgraded (re-chained and signed by this ledger's device). */
  version: number;
}

/** A change to a stream, from this tab or another. */
export interface Change { stream: string; seq: number; hash: string; added: number }

/** Options for `Stream.events`. */
export interface EventsOptions {
  /** Events with seq above this. Default 0. */
  after?: number;
  /** At most this many. Default all. */
  limit?: number;
  /** Payloads as their exact stored JSON text (`RawEvent`) instead of values. Default false. */
  payloadText?: boolean;
}

export interface Stream {
  /** Stored events with seq > `after`, at most `limit`, with payloads as their exact stored text. */
  events(options: EventsOptions & { payloadText: true }): Promise<RawEvent[]>;
  /** Stored events with seq > `after` (default 0), at most `limit`, with payloads as values. */
  events(options?: EventsOptions): Promise<Event[]>;
}
"#;

/// A set of event streams, each validated by its Petri net, hash-chained and
/// signed by the ledger's device key, kept in IndexedDB (`Ledger.open`) or in
/// memory (`Ledger.memory`).
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
/// event.signer === ledger.deviceKey; // true: every event is signed by this device
/// stream.marking;       // { stock: 1 }
/// try { await stream.fire("sell", { multiple: 5 }); } catch (e) { e.code === "NOT_ENABLED"; }
/// await ledger.verify(); // throws (HASH_MISMATCH, BAD_SIGNATURE, ...) if anything was tampered with
/// ```
#[wasm_bindgen(js_name = Ledger)]
pub struct JsLedger {
    pub(crate) inner: Inner,
}

impl JsLedger {
    /// `Ledger.memory()` for Rust callers (the wasm-bindgen tests).
    pub async fn in_memory() -> Result<JsLedger, JsValue> {
        crate::device::seed_key_hashing().map_err(js_err)?;
        let (device, _) = WebCryptoDevice::generate().await.map_err(js_err)?;
        Ok(JsLedger {
            inner: Rc::new(Ledger::new(
                AnyStore::Memory(MemoryStore::new()),
                Rc::new(device),
            )),
        })
    }
}

#[wasm_bindgen(js_class = Ledger)]
impl JsLedger {
    /// Opens (or creates) the IndexedDB ledger `name` (database
    /// `petrichain-<name>`) with its device key (a non-extractable Ed25519
    /// WebCrypto key kept in the database, made on the first open), upgrades
    /// data written by the previous release (chain format version 1), and
    /// asks the browser for persistent storage.
    #[wasm_bindgen(unchecked_return_type = "Promise<Ledger>")]
    pub fn open(name: String) -> js_sys::Promise {
        promise(async move {
            crate::device::seed_key_hashing().map_err(js_err)?;
            let (store, device) = crate::indexeddb::open_with_device(&name)
                .await
                .map_err(js_err)?;
            Ok(JsLedger {
                inner: Rc::new(Ledger::new(AnyStore::IndexedDb(store), Rc::new(device))),
            }
            .into())
        })
    }

    /// A ledger in memory: same behaviour, nothing persisted, signing with a
    /// new non-extractable WebCrypto Ed25519 key (`crypto.subtle`, in
    /// browsers and Node alike).
    #[wasm_bindgen(unchecked_return_type = "Promise<Ledger>")]
    pub fn memory() -> js_sys::Promise {
        promise(async move { Ok(JsLedger::in_memory().await?.into()) })
    }

    /// The device's Ed25519 public key (64 hex digits): the `signer` of every
    /// event this ledger writes. The private key never leaves WebCrypto.
    #[wasm_bindgen(getter, js_name = deviceKey)]
    pub fn device_key(&self) -> String {
        self.inner.device_key()
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
        promise(async move {
            let id = inner.put_model(&model).await.map_err(js_err)?;
            Ok(id.into())
        })
    }

    /// A stored model by id (e.g. the net of a stream, `stream.modelId`);
    /// throws `UNKNOWN_MODEL`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Model>")]
    pub fn model(&self, id: String) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
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
        promise(async move {
            let record = inner.create_stream(&id, &model_id).await.map_err(js_err)?;
            JsStream::load(inner, record).await.map(Into::into)
        })
    }

    /// A handle on an existing stream; throws `UNKNOWN_STREAM`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Stream>")]
    pub fn stream(&self, id: String) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            let record = inner.stream(&id).await.map_err(js_err)?;
            JsStream::load(inner, record).await.map(Into::into)
        })
    }

    /// Every stream's head record, sorted by id.
    #[wasm_bindgen(unchecked_return_type = "Promise<StreamInfo[]>")]
    pub fn streams(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move { to_js(&inner.streams().await.map_err(js_err)?) })
    }

    /// Deletes stream `streamId` from this ledger: its events, head, sync
    /// state and conflicts, in one transaction (keep a copy first with
    /// `exportJsonl`). Subscribers and other tabs hear of it as a change
    /// with seq 0. A sync backend keeps its copy (and a sync that follows
    /// it brings it back). Throws `UNKNOWN_STREAM`.
    #[wasm_bindgen(js_name = deleteStream, unchecked_return_type = "Promise<void>")]
    pub fn delete_stream(
        &self,
        #[wasm_bindgen(js_name = "streamId")] stream_id: String,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner.delete_stream(&stream_id).await.map_err(js_err)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Replays one stream (or all) through its net, recomputes every hash
    /// and marking root, and checks every signature (in batches). Throws the
    /// first problem: `HASH_MISMATCH`, `BROKEN_LINK`, `SEQ_GAP`,
    /// `ACTION_REJECTED`, `STATE_MISMATCH`, `COMMITMENT_MISMATCH`,
    /// `BAD_SIGNATURE`, `HEAD_MISMATCH`, ... with `details.seq`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Verified[]>")]
    pub fn verify(
        &self,
        #[wasm_bindgen(js_name = "streamId")] stream_id: Option<String>,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move { to_js(&inner.verify(stream_id.as_deref()).await.map_err(js_err)?) })
    }

    /// The stream as JSON lines: a header line with its net, then one event per line.
    #[wasm_bindgen(js_name = exportJsonl, unchecked_return_type = "Promise<string>")]
    pub fn export_jsonl(
        &self,
        #[wasm_bindgen(js_name = "streamId")] stream_id: String,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move { Ok(inner.export_jsonl(&stream_id).await.map_err(js_err)?.into()) })
    }

    /// Imports a JSON-lines export: every event is verified first, then all
    /// of it is stored in one transaction, or nothing is.
    #[wasm_bindgen(js_name = importJsonl, unchecked_return_type = "Promise<ImportReport>")]
    pub fn import_jsonl(&self, text: String) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move { to_js(&inner.import_jsonl(&text).await.map_err(js_err)?) })
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

/// Whether `proof` (from `Stream.prove(place, { key })`) shows that its key
/// held its count (0: was absent) in the keyed place, in the marking whose
/// Merkle root is `root` (an event's `root`). A proof that is not even well
/// formed is `BAD_ARGUMENT`.
#[wasm_bindgen(js_name = verifyKeyProof)]
pub fn verify_key_proof(
    #[wasm_bindgen(unchecked_param_type = "KeyProof")] proof: JsValue,
    root: String,
) -> Result<bool, JsValue> {
    let proof: petrichain::chain::KeyProof = crate::js::from_json(&proof)
        .map_err(|e| crate::error::bad_argument(format!("not a key proof: {e}")))?;
    Ok(proof.verify(&root))
}

/// Whether `proof` (from `Stream.prove`) shows that its place held its count
/// in the marking whose Merkle root is `root` (an event's `root`). A proof
/// that is not even well formed is `BAD_ARGUMENT`.
#[wasm_bindgen(js_name = verifyPlaceProof)]
pub fn verify_place_proof(
    #[wasm_bindgen(unchecked_param_type = "PlaceProof")] proof: JsValue,
    root: String,
) -> Result<bool, JsValue> {
    let proof: petrichain::chain::PlaceProof = crate::js::from_json(&proof)
        .map_err(|e| crate::error::bad_argument(format!("not a place proof: {e}")))?;
    Ok(proof.verify(&root))
}
