// Signature checking speed of a wasm build, in Node (V8, as in Chromium):
// what a size change to the crypto (features, opt-levels) costs. A memory
// ledger appends 2,000 events one by one (each signed), `verify()` runs 7
// times (median: one batch check of 2,000 signatures); then 300 one-event
// streams are added, each a batch of one (`verify_strict`).
//
//   node scripts/wasm-verify-speed.mjs [PKG_DIR]     (default: pkg/core)
//
// PKG_DIR holds petrichain.js and petrichain_bg.wasm (scripts/build-wasm.sh's
// output, or a copy of an earlier build to compare with).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { NET } from "../bench/peers/net.js";

const dir = resolve(process.argv[2] ?? new URL("../pkg/core", import.meta.url).pathname);
const m = await import(pathToFileURL(`${dir}/petrichain.js`).href);
m.initSync({ module: readFileSync(`${dir}/petrichain_bg.wasm`) });

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function timed(f, rounds = 7) {
  const ms = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

const ledger = await m.Ledger.memory();
const modelId = await ledger.putModel(m.Model.fromJson(NET));
const s = await ledger.createStream("s", modelId);
for (let i = 0; i < 2000; i++) await s.fire(i % 2 ? "back" : "go");
const batch = await timed(() => ledger.verify("s"));
for (let i = 0; i < 300; i++) await (await ledger.createStream(`one-${i}`, modelId)).fire("go");
const all = await timed(() => ledger.verify());
const singles = all - batch;
console.log(
  `${dir}: 2,000 signed events verified in ${batch.toFixed(1)} ms (${Math.round((2000 / batch) * 1000)} events/s); ` +
    `300 one-event streams ${singles.toFixed(1)} ms (${Math.round((singles / 300) * 1000)} µs each)`,
);
