// The peers benchmark page: petrichain, Dexie, PouchDB, RxDB (Dexie storage)
// and a raw IndexedDB loop on petrichain's record layout, measured in the
// same page, phase by phase with the libraries interleaved (the order rotates
// each round). bench/peers/run.mjs drives it (`npm run bench -- peers`):
// it calls window.runBench(options) and prints the medians and ratios.
import init from "petrichain-pkg";
import { initBase, libraries, petrichainRecords, RECORD_BYTES, rawLoop, rawObjects, record } from "./libs.js";

// Time to a usable engine: fetch, compile (or the browser's cached
// compilation, on a later load) and instantiate the wasm.
const started = performance.now();
await init();
window.wasmReadyMs = performance.now() - started;
await initBase();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

/** Appends `n` records in transactions of `size`; resolves to events/s. */
async function batched(lib, name, n, size) {
  const h = await lib.create(name);
  const t0 = performance.now();
  for (let from = 0; from < n; from += size) await lib.batch(h, from, Math.min(size, n - from));
  const ms = performance.now() - t0;
  return { h, rate: (n * 1000) / ms };
}

/**
 * Runs every phase `rounds` times. Options: `n` events for the batched
 * phases and the load (default 10,000), `singles` single appends (default
 * 200), `rounds` (default 3), `only` (library names; default all). Resolves to `{medians, rounds, ...}`.
 */
window.runBench = async ({ n = 10_000, singles = 200, rounds = 3, only = null } = {}) => {
  const wanted = (name) => !only || only.includes(name);
  // The raw loop's records (made by an in-memory petrichain ledger): only when it runs.
  const lines = wanted("raw") || wanted("rawobj") ? await petrichainRecords(Math.max(n, singles)) : null;
  const raws = lines ? [rawLoop(lines), rawObjects(lines)] : [];
  const all = [...libraries, ...raws].filter((l) => wanted(l.name));
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    const order = rotate(all, round);
    const out = Object.fromEntries(all.map((l) => [l.name, {}]));
    const db = (lib, phase) => `${lib.name}-${phase}-${round}`;
    for (const lib of order) {
      const name = db(lib, "single");
      const h = await lib.create(name);
      const times = [];
      for (let i = 0; i < singles; i++) {
        const t0 = performance.now();
        await lib.single(h, i);
        times.push(performance.now() - t0);
      }
      lib.close(h);
      await lib.destroy(name);
      out[lib.name].singleP50 = percentile(times, 50);
      out[lib.name].singleP95 = percentile(times, 95);
    }
    for (const size of [100, 1000]) {
      for (const lib of order) {
        const name = db(lib, `batch${size}`);
        const { h, rate } = await batched(lib, name, n, size);
        out[lib.name][`batch${size}`] = rate;
        lib.close(h);
        // The 1,000-per-transaction database is kept for the open and load phases.
        if (size === 100) await lib.destroy(name);
      }
    }
    for (const lib of order) {
      const name = db(lib, "batch1000");
      const t0 = performance.now();
      const h = await lib.open(name);
      out[lib.name].openMs = performance.now() - t0;
      const t1 = performance.now();
      const count = await lib.load(h);
      out[lib.name].load = (count * 1000) / (performance.now() - t1);
      if (count !== n) throw new Error(`${lib.name} loaded ${count} of ${n} records`);
      lib.close(h);
      await lib.destroy(name);
    }
    runs.push(out);
  }
  const measures = ["singleP50", "singleP95", "batch100", "batch1000", "load", "openMs"];
  const medians = Object.fromEntries(
    all.map((l) => [l.name, Object.fromEntries(measures.map((m) => [m, median(runs.map((r) => r[l.name][m]))]))]),
  );
  return {
    n,
    singles,
    rounds,
    recordBytes: JSON.stringify(record(0)).length,
    targetRecordBytes: RECORD_BYTES,
    petrichainStoredBytes: lines?.[0].json.length,
    medians,
    runs,
  };
};

document.body.dataset.ready = "true";
