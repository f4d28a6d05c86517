// The layouts experiment (bench/layouts/run.mjs): what IndexedDB costs per
// record and per byte in Chromium, on plain IndexedDB. 10,000 events of
// petrichain's shape (about 1.2 KB of JSON each) written in transactions of
// 1,000 and read back with one getAll, stored as: one record per event with
// the `hash` index (`cur`, the layout before blocks), without it (`noidx`),
// without the duplicated hash property (`nohash`), with a shorter line that
// leaves out what the key and the stream say (`short`), 100 events per
// record (`block`), and Dexie's 400-byte record (`dexie`). A load parses
// each line and its payload, as petrichain's loads do.
import { done, openLayout, request } from "./idb.js";
const N = 10_000;
const hex = (c, n) => c.repeat(n);
const payload = (i) => JSON.stringify({ i, sku: `sku-${i % 97}`, qty: (i % 7) + 1, note: "x".repeat(300) });
const tail = (i) => ({
  prev: hex("b", 64),
  nonce: hex("c", 32),
  action: i % 2 ? "back" : "go",
  multiple: 1,
  actor: "bench",
  roles: [],
  args: {},
  delta: [
    [0, -1],
    [1, 1],
  ],
  keys: [],
  root: hex("d", 64),
  ts: 1_700_000_000_000 + i,
  payload: payload(i),
  signer: hex("e", 64),
  sig: hex("f", 128),
});
const hash = (i) => i.toString(16).padStart(64, "0");
const line = (i) => JSON.stringify({ v: 2, stream: "s1", seq: i + 1, model: hex("a", 64), hash: hash(i), ...tail(i) });
const layouts = {
  cur: { index: true, rec: (i) => ({ stream: "s1", seq: i + 1, hash: hash(i), json: line(i) }) },
  noidx: { index: false, rec: (i) => ({ stream: "s1", seq: i + 1, hash: hash(i), json: line(i) }) },
  nohash: { index: false, rec: (i) => ({ stream: "s1", seq: i + 1, json: line(i) }) },
  short: { index: false, rec: (i) => ({ stream: "s1", seq: i + 1, json: JSON.stringify(tail(i)) }) },
  block: { index: false, block: 100, rec: line },
  dexie: {
    index: false,
    object: true,
    rec: (i) => ({ stream: "s1", seq: i + 1, action: "go", actor: "bench", ts: 1, payload: JSON.parse(payload(i)) }),
  },
};
function records(layout) {
  const one = Array.from({ length: N }, (_, i) => layout.rec(i));
  if (!layout.block) return one;
  const out = [];
  for (let i = 0; i < N; i += layout.block) {
    out.push({ stream: "s1", seq: i + 1, json: one.slice(i, i + layout.block).join("\n") });
  }
  return out;
}
/** Rounds of every layout in turn; resolves to `{layout: [{write, getMs, loadMs, bytes}]}`. */
window.runLayouts = async (rounds = 3) => {
  const out = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, layout] of Object.entries(layouts)) {
      const recs = records(layout);
      const perTx = layout.block ? 1000 / layout.block : 1000;
      const db = await openLayout(`${name}-${round}`, { hashIndex: Boolean(layout.index) });
      let t0 = performance.now();
      for (let from = 0; from < recs.length; from += perTx) {
        const tx = db.transaction(["events", "streams"], "readwrite");
        const events = tx.objectStore("events");
        for (let i = from; i < from + perTx; i++) events.add(recs[i]);
        tx.objectStore("streams").put({ id: "s1", seq: from + perTx, hash: "h", state: "[1,0]" });
        await done(tx);
      }
      const write = (N * 1000) / (performance.now() - t0);
      db.close();
      const again = await openLayout(`${name}-${round}`, { hashIndex: Boolean(layout.index) });
      t0 = performance.now();
      const tx = again.transaction(["events"], "readonly");
      const rows = await request(tx.objectStore("events").getAll(IDBKeyRange.bound(["s1", 0], ["s1", N + 1])));
      const getMs = performance.now() - t0;
      let events = 0;
      for (const row of rows) {
        if (layout.object) {
          events++;
          continue;
        }
        for (const l of row.json.split("\n")) {
          const e = JSON.parse(l);
          e.payload = JSON.parse(e.payload);
          events++;
        }
      }
      const loadMs = performance.now() - t0;
      if (events !== N) throw new Error(`${name}: loaded ${events} of ${N}`);
      again.close();
      await request(indexedDB.deleteDatabase(`${name}-${round}`));
      if (!out[name]) out[name] = [];
      out[name].push({ write, getMs, loadMs, bytes: JSON.stringify(recs[0]).length });
    }
  }
  return out;
};
document.body.dataset.ready = "true";
