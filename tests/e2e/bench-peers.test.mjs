// Smoke run of the peers benchmark page (bench/peers/): a few events, one
// round. It checks that the page runs and that every library produced a
// number for every measure; the values themselves are benchmark figures
// (BENCHMARKS.md, `npm run bench -- peers`), never pass/fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LIBRARIES, runPeers, table } from "../../bench/peers/run.mjs";

test("the peers benchmark page measures every library", { timeout: 240_000 }, async () => {
  const r = await runPeers({ n: 300, singles: 5, rounds: 1 });
  for (const lib of LIBRARIES) {
    for (const key of ["singleP50", "singleP95", "batch100", "batch1000", "load", "openMs"]) {
      const v = r.medians[lib][key];
      assert.ok(Number.isFinite(v) && (v > 0 || key === "openMs"), `${lib} ${key}: ${v}`);
    }
  }
  assert.equal(r.wasmReadyMs.length, 3);
  assert.ok(r.wasmReadyMs.every((ms) => Number.isFinite(ms) && ms > 0));
  assert.match(table(r), /\| load of a 300-event stream/);
});
