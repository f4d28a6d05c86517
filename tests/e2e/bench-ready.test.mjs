// Smoke run of the wasm-ready benchmark (bench/peers/ready.mjs) on
// `petrichain/core`: two loads in one tab, a new tab, a restart. It checks
// that every load produced a time and that the trace plumbing saw V8 compile
// the module in each new renderer; the times and whether a module is reused
// or read from the code cache are figures (BENCHMARKS.md), never pass/fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { measureAppends, measureColdOpen, measureReady, medianCalls } from "../../bench/peers/ready.mjs";

test("the wasm-ready benchmark times loads, a new tab and a restart", { timeout: 240_000 }, async () => {
  const pkg = new URL("../../pkg/core", import.meta.url).pathname;
  const r = await measureReady({ pkg, loads: 2 });
  const loads = [...r.loads, r.newTab, r.restart];
  assert.equal(loads.length, 4);
  for (const l of loads) {
    assert.ok(Number.isFinite(l.ms) && l.ms > 0, `ready ${l.ms}`);
    assert.ok(Number.isFinite(l.fetchedMs) && l.fetchedMs <= l.ms, `fetched ${l.fetchedMs} of ${l.ms}`);
  }
  // A new tab and a restart each start a renderer that has no module yet.
  for (const how of [r.how, r.newTab.how, r.restart.how]) {
    assert.equal(how.compiled + how.fromCodeCache >= 1, true, JSON.stringify(how));
  }
  assert.equal(r.how.compiled + r.how.reused + r.how.fromCodeCache, 2, JSON.stringify(r.how));
  // Every load fed the file's bytes to V8 (the trace's timed steps are there).
  for (const l of loads) {
    assert.ok(Object.values(l.phases).every(Number.isFinite), JSON.stringify(l.phases));
    assert.ok(l.phases.feed > 0, JSON.stringify(l.phases));
  }
});

test("with --preload the page's HTML starts reading the wasm before any script runs", {
  timeout: 240_000,
}, async () => {
  const pkg = new URL("../../pkg/core", import.meta.url).pathname;
  const r = await measureReady({ pkg, loads: 2, preload: true, trace: false });
  // The module script runs after the HTML is parsed, so the file's fetch
  // (the preload's, which the loader's fetch takes over) started earlier.
  const loads = [...r.loads.map((l, i) => [`load ${i + 1}`, l]), ["new tab", r.newTab], ["restart", r.restart]];
  for (const [which, l] of loads) {
    assert.ok(Number.isFinite(l.ms) && l.ms > 0, `${which}: ready ${l.ms}`);
    assert.ok(l.fetchStartMs < 0, `${which}: fetch started ${l.fetchStartMs} ms after the script`);
  }
});

test("the cold-open breakdown lists the calls of an open", { timeout: 240_000 }, async () => {
  const pkg = new URL("../../pkg/core", import.meta.url).pathname;
  const rounds = await measureColdOpen({ pkg, events: 200, rounds: 2 });
  assert.equal(rounds.length, 2);
  for (const r of rounds) {
    assert.ok(Number.isFinite(r.ms) && r.streamMs <= r.ms, JSON.stringify(r));
    const ops = r.calls.map((c) => c.op);
    // The spies saw the database opened and the stream's record read.
    assert.ok(
      ops.some((o) => o.startsWith("indexedDB.open petrichain-cold ")),
      ops.join("; "),
    );
    assert.ok(ops.includes('get streams "s1"'), ops.join("; "));
  }
});

test("the single-append breakdown lists each append's calls, and the plain write's", { timeout: 240_000 }, async () => {
  const pkg = new URL("../../pkg/core", import.meta.url).pathname;
  const { fire, plain } = await measureAppends({ pkg, n: 5 });
  assert.equal(fire.length, 5);
  assert.equal(plain.length, 5);
  const m = medianCalls(fire);
  const ops = m.calls.map((c) => c.op);
  // Each append writes its event and the head in one readwrite transaction, signed first.
  assert.ok(ops.includes("crypto.subtle.sign"), ops.join("; "));
  assert.ok(ops.includes("add events") && ops.includes("put streams"), ops.join("; "));
  assert.ok(
    m.calls.every((c) => c.done === null || c.done >= c.at),
    JSON.stringify(m.calls),
  );
  assert.deepEqual(
    medianCalls(plain).calls.map((c) => c.op),
    ["transaction events readwrite", "add events"],
  );
});
