// What a cold open of an IndexedDB ledger (`Ledger.open` then
// `ledger.stream(id)`, as the peers page times it) and a single append
// (`stream.fire`) do: every IndexedDB, WebCrypto, BroadcastChannel and
// storage call the wasm makes on the way, each with when it was made and
// when it answered (a request's success event, a transaction's `complete`,
// a promise's settling), from the start. bench/peers/ready.mjs --cold-open
// and --appends drive it; the figures are in BENCHMARKS.md ("Bundle size",
// "wasm ready", "a single append, call by call").

import { record, STREAM } from "../record.js";

/** Calls seen while `log` is set: `{ at, op, done }` (ms from the start). */
let log = null;
let t0 = 0;
const now = () => performance.now() - t0;

/** Records a call of `op`; returns the entry, whose `done` the caller sets. */
function note(op) {
  if (!log) return null;
  const entry = { at: now(), op, done: null };
  log.push(entry);
  return entry;
}

/** Wraps `proto[name]` so that each call is noted; requests note their answer. */
function spy(proto, name, label) {
  const original = proto[name];
  if (typeof original !== "function") return;
  proto[name] = function (...args) {
    const entry = note(label(this, args));
    const out = original.apply(this, args);
    if (entry && out instanceof IDBRequest) {
      const end = () => {
        entry.done = now();
      };
      out.addEventListener("success", end, { once: true });
      out.addEventListener("error", end, { once: true });
    } else if (entry && out instanceof Promise) {
      out.then(
        () => {
          entry.done = now();
        },
        () => {
          entry.done = now();
        },
      );
    } else if (entry && out instanceof IDBTransaction) {
      out.addEventListener("complete", () => {
        entry.done = now();
      });
    } else if (entry) {
      entry.done = entry.at;
    }
    return out;
  };
}

const storeName = (s) => (s instanceof IDBIndex ? `${s.objectStore.name}.${s.name}` : s.name);
for (const name of ["get", "getAll", "getAllKeys", "getKey", "openCursor", "openKeyCursor", "count", "put", "add"]) {
  // The key or range asked for, when it is a plain key (a string or an array of them).
  const key = ([k]) => (typeof k === "string" || Array.isArray(k) ? ` ${JSON.stringify(k)}` : "");
  spy(IDBObjectStore.prototype, name, (s, args) => `${name} ${storeName(s)}${key(args)}`);
  spy(IDBIndex.prototype, name, (s, args) => `${name} ${storeName(s)}${key(args)}`);
}
spy(IDBTransaction.prototype, "commit", () => "transaction.commit");
spy(IDBFactory.prototype, "open", (_f, [name, version]) => `indexedDB.open ${name} v${version ?? "-"}`);
spy(
  IDBDatabase.prototype,
  "transaction",
  (_d, [stores, mode]) => `transaction ${[stores].flat().join(",")} ${mode ?? "readonly"}`,
);
for (const name of ["sign", "verify", "importKey", "exportKey", "generateKey", "digest"]) {
  spy(SubtleCrypto.prototype, name, () => `crypto.subtle.${name}`);
}
spy(Crypto.prototype, "getRandomValues", (_c, [a]) => `crypto.getRandomValues ${a?.byteLength ?? "?"} bytes`);
if (globalThis.StorageManager) spy(StorageManager.prototype, "persist", () => "navigator.storage.persist");
const Channel = globalThis.BroadcastChannel;
globalThis.BroadcastChannel = class extends Channel {
  constructor(name) {
    const entry = note(`new BroadcastChannel ${name}`);
    super(name);
    if (entry) entry.done = now();
  }
  postMessage(m) {
    const entry = note("BroadcastChannel.postMessage");
    super.postMessage(m);
    if (entry) entry.done = now();
  }
};

/**
 * Fills the IndexedDB ledger `name` with `events` events in one stream
 * (1,000 per batch, the peers page's payloads), closes it, then opens it
 * cold `rounds` times. Resolves to `{ ms, streamMs, calls }` per round:
 * the open's time, the part of it in `ledger.stream`, and the calls made.
 */
export async function coldOpen({ Ledger, Model }, net, { name = "cold", events = 10_000, rounds = 5 } = {}) {
  {
    const ledger = await Ledger.open(name);
    const stream = await ledger.createStream("s1", await ledger.putModel(Model.fromJson(net)));
    for (let from = 0; from < events; from += 1000) {
      const actions = [];
      for (let i = from; i < Math.min(events, from + 1000); i++) {
        actions.push({ action: i % 2 ? "back" : "go", actor: "bench", payload: { i, note: "x".repeat(300) } });
      }
      await stream.fireBatch(actions);
    }
    stream.free();
    ledger.close();
  }
  const out = [];
  for (let r = 0; r < rounds; r++) {
    log = [];
    t0 = performance.now();
    const ledger = await Ledger.open(name);
    const opened = now();
    const stream = await ledger.stream("s1");
    const ms = now();
    const calls = log;
    log = null;
    out.push({ ms, streamMs: ms - opened, calls });
    stream.free();
    ledger.close();
    // What the open started and did not wait for (the persistence request) settles here.
    await new Promise((r) => setTimeout(r, 50));
  }
  await deleteDb(`petrichain-${name}`);
  return out;
}

/**
 * Appends `warm` events to a new IndexedDB ledger, one `stream.fire` each,
 * then `n` more with their calls recorded (the peers page's single appends
 * of `record(i)`, about 400 bytes). After each, for comparison, the same
 * application record is written by plain IndexedDB (a readwrite
 * transaction and one `add`, as Dexie's `add` does) into a database of its
 * own. Resolves to `{ fire, plain }`, each a list of `{ ms, calls }`: the
 * write's time until it resolved (`fire`) or completed (`plain`), and the
 * calls it made.
 */
export async function appendCalls({ Ledger, Model }, net, { name = "appends", n = 300, warm = 50 } = {}) {
  const ledger = await Ledger.open(name);
  const stream = await ledger.createStream(STREAM, await ledger.putModel(Model.fromJson(net)));
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open(`${name}-plain`);
    r.onupgradeneeded = () => r.result.createObjectStore("events", { keyPath: ["stream", "seq"] });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const out = { fire: [], plain: [] };
  for (let i = 0; i < warm + n; i++) {
    const r = record(i);
    log = i < warm ? null : [];
    t0 = performance.now();
    await stream.fire(r.action, { actor: r.actor, payload: r.payload, ts: r.ts });
    if (log) out.fire.push({ ms: now(), calls: log });
    log = i < warm ? null : [];
    t0 = performance.now();
    await new Promise((resolve, reject) => {
      const tx = db.transaction("events", "readwrite");
      tx.objectStore("events").add(r);
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
    if (log) out.plain.push({ ms: now(), calls: log });
    log = null;
  }
  stream.free();
  ledger.close();
  db.close();
  await deleteDb(`petrichain-${name}`);
  await deleteDb(`${name}-plain`);
  return out;
}

/** Deletes the IndexedDB database `name`. */
function deleteDb(name) {
  return new Promise((resolve, reject) => {
    const del = indexedDB.deleteDatabase(name);
    del.onsuccess = resolve;
    del.onerror = () => reject(del.error);
  });
}
