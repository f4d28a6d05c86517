// The load experiment (bench/layouts/run.mjs --page load): where a load of
// 10,000 events of petrichain's shape spends its time, and what a block
// record could carry to load faster, on plain IndexedDB. Each event is a
// line like petrichain's (about 880 bytes; the payload as JSON text inside
// it), stored in blocks of 64 (web/src/hot.js), written in transactions of
// 1,000 events and read back with one getAll. Variants:
//   line     the block's lines (what petrichain stores); a load parses the
//            block's lines in one JSON.parse, then each payload (as today)
//   line1p   the same records; the block's payloads parsed in ONE JSON.parse
//   obj      the lines plus `events`, the parsed events as structured-clone
//            objects (payload a value); a load is the getAll alone
//   objonly  `events` alone, no lines (the floor of `obj`: not an option,
//            the lines are what verify and export read)
//   dexie    Dexie's layout for scale: 10,000 records of 400-byte objects
// Every load ends with the same values: events whose payloads are values.
import { done, openLayout, request } from "./idb.js";
const N = 10_000;
const BLOCK = 64;
// Hashes, keys and signatures are random hex, as in a real chain (a
// repeated digit would compress: Chromium may compress large values).
const hex = (_, n) => {
  let out = "";
  while (out.length < n)
    out += Math.floor(Math.random() * 2 ** 52)
      .toString(16)
      .padStart(13, "0");
  return out.slice(0, n);
};
const payload = (i) => JSON.stringify({ i, sku: `sku-${i % 97}`, qty: (i % 7) + 1, note: "x".repeat(220) });
const hashes = Array.from({ length: N + 1 }, () => hex("", 64));
const hash = (i) => hashes[i + 1];
const MODEL = hex("", 64);
const SIGNER = hex("", 64);
const event = (i) => ({
  v: 2,
  stream: "s1",
  seq: i + 1,
  model: MODEL,
  prev: hash(i - 1),
  hash: hash(i),
  nonce: hex("c", 32),
  action: i % 2 ? "back" : "go",
  multiple: 1,
  actor: "bench",
  roles: [],
  args: {},
  delta: [
    [0, i % 2],
    [1, 1 - (i % 2)],
  ],
  keys: [],
  root: hex("d", 64),
  ts: 1_700_000_000_000 + i,
  payload: payload(i),
  signer: SIGNER,
  ...(i % BLOCK === BLOCK - 1 ? { sig: hex("f", 128) } : {}),
});
const lines = Array.from({ length: N }, (_, i) => JSON.stringify(event(i)));
const parsed = (l) => {
  const e = JSON.parse(l);
  e.payload = JSON.parse(e.payload);
  return e;
};
const block = (from, extra, size = BLOCK) => {
  const group = lines.slice(from, from + size);
  const rec = {
    stream: "s1",
    seq: from + 1,
    hash: group.map((_, k) => hash(from + k)).join(""),
    json: group.join("\n"),
  };
  return extra ? extra(rec, group) : rec;
};
const blocks = (extra, size = BLOCK) => {
  const out = [];
  for (let i = 0; i < N; i += size) out.push(block(i, extra, size));
  return out;
};
const loadLines = (rows) => {
  const out = [];
  for (const row of rows) {
    const events = JSON.parse(`[${row.json.replaceAll("\n", ",")}]`);
    for (const e of events) {
      e.payload = JSON.parse(e.payload);
      out.push(e);
    }
  }
  return out;
};
const variants = {
  line: { recs: () => blocks(), perTx: Math.round(1000 / BLOCK), load: loadLines },
  line16: { recs: () => blocks(undefined, 16), perTx: Math.round(1000 / 16), load: loadLines },
  line128: { recs: () => blocks(undefined, 128), perTx: 8, load: loadLines },
  line256: { recs: () => blocks(undefined, 256), perTx: 4, load: loadLines },
  line1000: { recs: () => blocks(undefined, 1000), perTx: 1, load: loadLines },
  line1p: {
    recs: () => blocks(),
    perTx: Math.round(1000 / BLOCK),
    load(rows) {
      const out = [];
      for (const row of rows) {
        const events = JSON.parse(`[${row.json.replaceAll("\n", ",")}]`);
        const texts = new Array(events.length);
        for (let k = 0; k < events.length; k++) texts[k] = events[k].payload;
        const values = JSON.parse(`[${texts.join(",")}]`);
        for (let k = 0; k < events.length; k++) {
          events[k].payload = values[k];
          out.push(events[k]);
        }
      }
      return out;
    },
  },
  obj: {
    recs: () => blocks((rec, group) => ({ ...rec, events: group.map(parsed) })),
    perTx: Math.round(1000 / BLOCK),
    load: (rows) => rows.flatMap((r) => r.events),
  },
  objonly: {
    recs: () =>
      blocks((rec, group) => ({ stream: rec.stream, seq: rec.seq, hash: rec.hash, events: group.map(parsed) })),
    perTx: Math.round(1000 / BLOCK),
    load: (rows) => rows.flatMap((r) => r.events),
  },
  dexie: {
    recs: () =>
      Array.from({ length: N }, (_, i) => ({
        stream: "s1",
        seq: i + 1,
        action: "go",
        actor: "bench",
        ts: 1,
        payload: JSON.parse(payload(i)),
      })),
    perTx: 1000,
    load: (rows) => rows,
  },
};
/** Rounds of every variant in turn; resolves to `{variant: [{write, getMs, loadMs}]}`. */
window.runLoads = async (rounds = 3) => {
  const out = {};
  for (let round = 0; round < rounds; round++) {
    const names = Object.keys(variants);
    // Rotate the order each round.
    for (const name of names.map((_, k) => names[(k + round) % names.length])) {
      const v = variants[name];
      const recs = v.recs();
      const db = await openLayout(`load-${name}-${round}`);
      let t0 = performance.now();
      for (let from = 0; from < recs.length; from += v.perTx) {
        const tx = db.transaction(["events", "streams"], "readwrite");
        const events = tx.objectStore("events");
        for (let i = from; i < Math.min(recs.length, from + v.perTx); i++) events.add(recs[i]);
        tx.objectStore("streams").put({ id: "s1", seq: from, hash: "h", state: "[1,0]" });
        await done(tx);
      }
      const write = (N * 1000) / (performance.now() - t0);
      db.close();
      const again = await openLayout(`load-${name}-${round}`);
      t0 = performance.now();
      const tx = again.transaction(["events"], "readonly");
      const rows = await request(tx.objectStore("events").getAll(IDBKeyRange.bound(["s1", 0], ["s1", N + 1])));
      const getMs = performance.now() - t0;
      const events = v.load(rows);
      const loadMs = performance.now() - t0;
      if (events.length !== N || typeof events[N - 1].payload !== "object") throw new Error(`${name}: bad load`);
      again.close();
      await request(indexedDB.deleteDatabase(`load-${name}-${round}`));
      if (!out[name]) out[name] = [];
      out[name].push({ write, getMs, loadMs });
    }
  }
  return out;
};
document.body.dataset.ready = "true";

/**
 * The CPU of a load without IndexedDB, on the `line` records in memory
 * (best of `rounds`): the lines' JSON.parse (one per block), the payloads'
 * (one each, or one per block), in ms for N events.
 */
window.runParse = (rounds = 5) => {
  const rows = blocks();
  const best = { lines: Infinity, payloads: Infinity, payloadsOnePerBlock: Infinity };
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    const all = rows.map((row) => JSON.parse(`[${row.json.replaceAll("\n", ",")}]`));
    best.lines = Math.min(best.lines, performance.now() - t0);
    t0 = performance.now();
    for (const events of all) for (const e of events) JSON.parse(e.payload);
    best.payloads = Math.min(best.payloads, performance.now() - t0);
    t0 = performance.now();
    for (const events of all) JSON.parse(`[${events.map((e) => e.payload).join(",")}]`);
    best.payloadsOnePerBlock = Math.min(best.payloadsOnePerBlock, performance.now() - t0);
  }
  return best;
};
