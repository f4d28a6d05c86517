// The wasm-ready page (bench/peers/ready.mjs builds and drives it): times
// `init()` (fetch, compile or reuse of a compiled module, instantiate) and
// offers a short session of engine work, so that V8 optimises some functions
// as an app's first visit would, before the next load.
import init, { Ledger, Model } from "petrichain-pkg";
import { NET } from "../net.js";

/**
 * The .wasm file's resource timing entry. Chromium can add it a moment after
 * `init()` resolves (a preloaded file's especially: once in CI, on a second
 * load with the compiled module cached, it was not there yet), so this waits
 * for it, at most a second; undefined if it never comes.
 */
function wasmEntry() {
  const find = (entries) => entries.find((e) => e.name.endsWith(".wasm"));
  const now = find(performance.getEntriesByType("resource"));
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (entry) => {
      observer.disconnect();
      clearTimeout(timer);
      resolve(entry);
    };
    const observer = new PerformanceObserver((list) => {
      const entry = find(list.getEntries());
      if (entry) done(entry);
    });
    observer.observe({ type: "resource" });
    const timer = setTimeout(() => done(find(performance.getEntriesByType("resource"))), 1000);
  });
}

const started = performance.now();
await init();
window.wasmReadyMs = performance.now() - started;
// When the file's last byte arrived (from the network or the HTTP cache),
// from the same start: the rest of wasmReadyMs is V8 and the glue.
const wasm = await wasmEntry();
window.wasmFetchedMs = wasm ? wasm.responseEnd - started : null;
// The same file's request: when it started, and when its first byte came.
window.wasmRequestMs = wasm ? wasm.requestStart - started : null;
window.wasmFirstByteMs = wasm ? wasm.responseStart - started : null;
window.wasmFetchStartMs = wasm ? wasm.fetchStart - started : null;

/** Appends, reads back and verifies 2,000 events in a memory ledger. */
window.warmUp = async () => {
  const ledger = await Ledger.memory();
  const stream = await ledger.createStream("s1", await ledger.putModel(Model.fromJson(NET)));
  for (let from = 0; from < 2000; from += 100) {
    const actions = [];
    for (let i = from; i < from + 100; i++) {
      actions.push({ action: i % 2 ? "back" : "go", actor: "bench", payload: { i, note: "x".repeat(300) } });
    }
    await stream.fireBatch(actions);
  }
  const n = (await stream.events()).length;
  await ledger.verify();
  stream.free();
  ledger.close();
  return n;
};
// A cold open's and single appends' calls (calls.js, loaded only here: its
// spies stay out of the other loads).
window.coldOpen = async (options) => (await import("./calls.js")).coldOpen({ Ledger, Model }, NET, options);
window.appendCalls = async (options) => (await import("./calls.js")).appendCalls({ Ledger, Model }, NET, options);
document.body.dataset.ready = "true";
