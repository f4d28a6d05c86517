// The five contenders of the peers benchmark, each behind the same small
// interface, so that main.js measures them with one loop:
//   create(name)        a fresh, empty database, ready to append to stream "s1"
//   open(name)          the same database opened again (cold open), ready to read and append
//   single(h, i)        append record i on its own (its own transaction)
//   batch(h, from, n)   append records from..from+n-1 in one transaction
//   load(h)             read the whole stream "s1" as values; resolves to the count
//   close(h), destroy(name)
// Records are the same application data for everyone (record(i), about
// 400 bytes of JSON); petrichain stores them as signed, chained events, the
// raw loop writes petrichain's own stored records (prepared beforehand).
import Dexie from "dexie";
import PouchDB from "pouchdb-browser";
import { createRxDatabase, removeRxDatabase } from "rxdb/plugins/core";
import { getRxStorageDexie } from "rxdb/plugins/storage-dexie";
import * as current from "petrichain-pkg";
// An earlier build to compare with in the same page (PETRICHAIN_BASE, see
// vite.config.js); the same module as "petrichain-pkg" when not set.
import * as earlier from "petrichain-base";
import { NET } from "./net.js";
import { RECORD_BYTES, record, STREAM } from "./record.js";

export { RECORD_BYTES, record };

const key = (seq) => `${STREAM}:${String(seq).padStart(10, "0")}`;

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("aborted"));
  });
}

// A connection closed a moment ago may still finish its last transaction:
// "blocked" is normal then; a connection left open is a bug of the bench.
function deleteDb(name) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.deleteDatabase(name);
    const timer = setTimeout(() => reject(new Error(`deleting ${name}: a connection stayed open`)), 10_000);
    r.onsuccess = () => {
      clearTimeout(timer);
      resolve();
    };
    r.onerror = () => reject(r.error);
  });
}

/** The petrichain contender on the bindings `pc` (this build's or an earlier one's). */
function petrichainOn(pc, label) {
  const { Ledger, Model } = pc;
  return {
    name: label,
    async create(name) {
      const ledger = await Ledger.open(name);
      const modelId = await ledger.putModel(Model.fromJson(NET));
      const stream = await ledger.createStream(STREAM, modelId);
      return { ledger, stream };
    },
    async open(name) {
      const ledger = await Ledger.open(name);
      return { ledger, stream: await ledger.stream(STREAM) };
    },
    async single(h, i) {
      const r = record(i);
      await h.stream.fire(r.action, { actor: r.actor, payload: r.payload, ts: r.ts });
    },
    async batch(h, from, n) {
      const actions = [];
      for (let i = from; i < from + n; i++) {
        const r = record(i);
        actions.push({ action: r.action, actor: r.actor, payload: r.payload, ts: r.ts });
      }
      await h.stream.fireBatch(actions);
    },
    async load(h) {
      return (await h.stream.events()).length;
    },
    close(h) {
      h.stream.free();
      h.ledger.close();
    },
    destroy: (name) => deleteDb(`petrichain-${name}`),
  };
}

const petrichain = petrichainOn(current, "petrichain");

const dexie = {
  name: "dexie",
  async create(name) {
    return dexie.open(name);
  },
  async open(name) {
    const db = new Dexie(name);
    db.version(1).stores({ events: "[stream+seq]" });
    await db.open();
    return db;
  },
  single: (db, i) => db.events.add(record(i)),
  batch(db, from, n) {
    const rows = [];
    for (let i = from; i < from + n; i++) rows.push(record(i));
    return db.events.bulkAdd(rows);
  },
  async load(db) {
    const rows = await db.events
      .where("[stream+seq]")
      .between([STREAM, Dexie.minKey], [STREAM, Dexie.maxKey])
      .toArray();
    return rows.length;
  },
  close: (db) => db.close(),
  destroy: (name) => Dexie.delete(name),
};

const pouchdb = {
  name: "pouchdb",
  create: (name) => pouchdb.open(name),
  async open(name) {
    const db = new PouchDB(name);
    await db.info();
    return db;
  },
  single(db, i) {
    const r = record(i);
    return db.put({ _id: key(r.seq), ...r });
  },
  async batch(db, from, n) {
    const docs = [];
    for (let i = from; i < from + n; i++) {
      const r = record(i);
      docs.push({ _id: key(r.seq), ...r });
    }
    const out = await db.bulkDocs(docs);
    const failed = out.find((o) => o.error);
    if (failed) throw new Error(`pouchdb bulkDocs: ${failed.message}`);
  },
  async load(db) {
    const out = await db.allDocs({ include_docs: true, startkey: `${STREAM}:`, endkey: `${STREAM}:\uffff` });
    return out.rows.length;
  },
  close: (db) => db.close(),
  async destroy(name) {
    await new PouchDB(name).destroy();
  },
};

const rxSchema = {
  version: 0,
  primaryKey: "id",
  type: "object",
  properties: {
    id: { type: "string", maxLength: 40 },
    stream: { type: "string" },
    seq: { type: "integer" },
    action: { type: "string" },
    actor: { type: "string" },
    ts: { type: "integer" },
    payload: { type: "object" },
  },
  required: ["id", "stream", "seq"],
};

const rxdb = {
  name: "rxdb",
  create: (name) => rxdb.open(name),
  async open(name) {
    const db = await createRxDatabase({ name, storage: getRxStorageDexie(), multiInstance: false });
    await db.addCollections({ events: { schema: rxSchema } });
    return db;
  },
  single(db, i) {
    const r = record(i);
    return db.events.insert({ id: key(r.seq), ...r });
  },
  async batch(db, from, n) {
    const docs = [];
    for (let i = from; i < from + n; i++) {
      const r = record(i);
      docs.push({ id: key(r.seq), ...r });
    }
    const out = await db.events.bulkInsert(docs);
    if (out.error.length) throw new Error(`rxdb bulkInsert: ${out.error.length} failed`);
  },
  async load(db) {
    return (await db.events.find().exec()).length;
  },
  close: (db) => db.close(),
  destroy: (name) => removeRxDatabase(name, getRxStorageDexie()),
};

/**
 * The raw loop: plain IndexedDB on petrichain's own layout (an `events`
 * store keyed [stream, seq] with a `hash` index, holding a transaction's
 * events in blocks, see `blocks`; a `streams` head record),
 * writing the very records petrichain stores, prepared beforehand by an
 * in-memory petrichain ledger (so: no validation, hashing or signing here).
 * Each transaction adds the events and puts the head, like a commit; it
 * does not read the head first (petrichain does, to refuse a fork). A load
 * parses each stored line and its payload, giving the values petrichain's
 * `stream.events()` gives.
 */
export function rawLoop(lines, grouped = true) {
  const head = (seq) => ({ id: STREAM, model: "m", seq, hash: lines[seq - 1].hash, state: "[0,1]" });
  const put = (db, from, n) => {
    const tx = db.transaction(["events", "streams"], "readwrite");
    const events = tx.objectStore("events");
    if (grouped) for (const block of blocks(lines, from, n)) events.add(block);
    else for (let i = from; i < from + n; i++) events.add(lines[i]);
    tx.objectStore("streams").put(head(from + n));
    return done(tx);
  };
  return {
    name: "raw",
    async create(name) {
      await deleteDb(`raw-${name}`);
      return rawLoop.open(name);
    },
    open: (name) => rawLoop.open(name),
    single: (db, i) => put(db, i, 1),
    batch: put,
    async load(db) {
      const tx = db.transaction(["events"], "readonly");
      const range = IDBKeyRange.bound([STREAM, 0], [STREAM, Number.MAX_SAFE_INTEGER], true, false);
      const rows = await request(tx.objectStore("events").getAll(range));
      const out = [];
      for (const row of rows) {
        for (const line of row.json.split("\n")) {
          const e = JSON.parse(line);
          e.payload = JSON.parse(e.payload);
          out.push(e);
        }
      }
      return out.length;
    },
    close: (db) => db.close(),
    destroy: (name) => deleteDb(`raw-${name}`),
  };
}

/**
 * Petrichain's records of lines from..from+n-1 stored in one transaction:
 * blocks of consecutive events (web/src/hot.js, `eventRecords`: at most 256
 * events, and no more line once a block's text is 262,144 characters long),
 * `{stream, seq, hash, json}` with the first event's seq, the hashes end to
 * end and the lines joined by "\n".
 */
function blocks(lines, from, n) {
  const out = [];
  let start = from;
  while (start < from + n) {
    let end = start + 1;
    let chars = lines[start].json.length;
    while (end < from + n && end - start < 256 && chars + 1 + lines[end].json.length <= 262_144) {
      chars += 1 + lines[end].json.length;
      end++;
    }
    const group = lines.slice(start, end);
    out.push({
      stream: STREAM,
      seq: lines[start].seq,
      hash: group.map((l) => l.hash).join(""),
      json: group.map((l) => l.json).join("\n"),
    });
    start = end;
  }
  return out;
}

/**
 * For comparison of layouts only (not a contender): the same raw loop
 * storing each of petrichain's events as a structured-clone object, one record per event (the
 * parsed line, payload a value) instead of its JSON line; a load is the
 * `getAll` alone. What petrichain's loads and appends would cost if events
 * were kept as objects.
 */
export function rawObjects(lines) {
  const objects = lines.map((l) => {
    const e = JSON.parse(l.json);
    e.payload = JSON.parse(e.payload);
    return e;
  });
  const inner = rawLoop(objects, false);
  return {
    ...inner,
    name: "rawobj",
    create: async (name) => {
      await deleteDb(`raw-${name}-obj`);
      return rawLoop.open(`${name}-obj`);
    },
    open: (name) => rawLoop.open(`${name}-obj`),
    async load(db) {
      const tx = db.transaction(["events"], "readonly");
      const range = IDBKeyRange.bound([STREAM, 0], [STREAM, Number.MAX_SAFE_INTEGER], true, false);
      return (await request(tx.objectStore("events").getAll(range))).length;
    },
    destroy: (name) => deleteDb(`raw-${name}-obj`),
  };
}

rawLoop.open = (name) =>
  new Promise((resolve, reject) => {
    const r = indexedDB.open(`raw-${name}`, 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore("events", { keyPath: ["stream", "seq"] }).createIndex("hash", "hash");
      r.result.createObjectStore("streams", { keyPath: "id" });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

/**
 * Petrichain's stored records for records 0..n-1 (`{stream, seq, hash,
 * json}`, json the event's line as the IndexedDB store keeps it), made by an
 * in-memory ledger: what the raw loop writes.
 */
export async function petrichainRecords(n) {
  const ledger = await current.Ledger.memory();
  const stream = await ledger.createStream(STREAM, await ledger.putModel(current.Model.fromJson(NET)));
  for (let from = 0; from < n; from += 1000) {
    const count = Math.min(1000, n - from);
    await petrichain.batch({ stream }, from, count);
  }
  const events = await stream.events({ payloadText: true });
  ledger.close();
  return events.map((e) => ({ stream: e.stream, seq: e.seq, hash: e.hash, json: JSON.stringify(e) }));
}

/** `init` of the earlier build, when there is one (a no-op on the same module). */
export const initBase = earlier.default;

// __PETRICHAIN_BASE__ is replaced by vite.config.js (`define`).
export const libraries = [
  petrichain,
  ...(__PETRICHAIN_BASE__ ? [petrichainOn(earlier, "base")] : []),
  dexie,
  pouchdb,
  rxdb,
];
