// IndexedDB requests and transactions as promises, and the layout's
// database, shared by the layout experiments (page.js, load.js, single.js).
export const request = (r) =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
export const done = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
/**
 * A fresh database with petrichain's `events` (keyed [stream, seq], with the
 * `hash` index unless `hashIndex` is false) and `streams` stores, and `meta`
 * when asked.
 */
export const openLayout = (name, { hashIndex = true, meta = false } = {}) =>
  new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => {
      const events = r.result.createObjectStore("events", { keyPath: ["stream", "seq"] });
      if (hashIndex) events.createIndex("hash", "hash");
      r.result.createObjectStore("streams", { keyPath: "id" });
      if (meta) r.result.createObjectStore("meta", { keyPath: "id" });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
