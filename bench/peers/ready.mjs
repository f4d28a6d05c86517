// Times the wasm's readiness (`init()`: fetch, compile or reuse of a
// compiled module, instantiate) on page loads in headless Chromium, as a
// returning user's browser would see them: a persistent profile (Playwright's
// default contexts are off the record, with no code cache on disk), the page
// built by Vite (the .wasm under assets/ with a content hash) and served by
// the reference server (`immutable` cache headers and a `Link` preload of
// the .wasm, server/src/static_files.rs).
//
//   node bench/peers/ready.mjs [--loads 5] [--preload] [--no-trace] [--cold-open] [--appends N] [PKG_DIR ...]
//                              (default: pkg pkg/core)
//
// --preload puts `<link rel="preload" as="fetch">` for the .wasm into the
// page's HTML (docs/server.md, "Caching the wasm"; the reference server
// from this branch on sends the same as a `Link` header: PETRICHAIN_SERVER
// picks another binary to compare); --no-trace times the
// loads without recording trace events (whose overhead is in the times).
// --cold-open instead opens a ledger of 10,000 events cold, --loads times,
// and lists every IndexedDB, WebCrypto, BroadcastChannel and storage call
// of the median open (ready/calls.js). --appends N instead makes N single
// appends (after 50 unrecorded ones), each followed by the same record
// written by plain IndexedDB, in a cross-origin isolated page, and lists
// call by call when the median write made each call and when it was
// answered (ready/calls.js).
//
// Per build: load 1 on an empty profile, a short session of engine work
// (2,000 appends, a read and a verify: V8 optimises the hot functions), a
// wait (READY_WAIT_MS, 3,000 ms: V8 means to write a module with optimised
// code to the code cache once no function was optimised for
// wasm_caching_timeout_ms, 2 s; its re-armed timer waits that many seconds
// instead, BENCHMARKS.md "Why the code cache is not written"), then loads
// 2..N in the same tab, one in a new tab, and one after a browser restart on
// the same profile (only the disk caches survive).
// Chromium's trace events say what V8 did in each tab: compiled the module,
// reused the one its renderer still held ("GetNativeModuleFromCache"), read
// it from the code cache ("moduleCacheHit"), wrote it there ("cachedModule"),
// and how long its steps took (TIMED).
// READY_CHROMIUM_ARGS adds browser flags (e.g.
// `--js-flags=--wasm-caching-timeout-ms=0`). Figures: BENCHMARKS.md,
// "Bundle size", "wasm ready".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { build } from "vite";
import { assertIsolated, isolatedContext, serve } from "./run.mjs";

const repo = new URL("../../", import.meta.url).pathname;
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  ...(process.env.READY_CHROMIUM_ARGS?.split(" ") ?? []),
];
/** How long the first tab idles after its work: V8's caching timeout (2 s) and then some. */
const CACHE_WAIT_MS = Number(process.env.READY_WAIT_MS ?? 3000);

/**
 * A Vite plugin that puts `<link rel="preload" as="fetch">` for the page's
 * .wasm into its `<head>`: the browser starts reading the file while it
 * parses the HTML, before any script ran, and the loader's `fetch` takes
 * that response over (same URL, same CORS mode: `crossorigin`).
 */
const preloadWasm = {
  name: "preload-wasm",
  transformIndexHtml: {
    order: "post",
    handler(_html, ctx) {
      const wasm = Object.values(ctx.bundle ?? {}).find((f) => f.fileName.endsWith(".wasm"));
      if (!wasm) throw new Error("no .wasm in the bundle to preload");
      const attrs = {
        rel: "preload",
        href: `./${wasm.fileName}`,
        as: "fetch",
        type: "application/wasm",
        crossorigin: "",
      };
      return [{ tag: "link", attrs, injectTo: "head-prepend" }];
    },
  },
};

async function buildPage(pkg, { preload = false } = {}) {
  const outDir = mkdtempSync(join(tmpdir(), "petrichain-bench-ready-"));
  await build({
    configFile: false,
    root: new URL("./ready/", import.meta.url).pathname,
    base: "./",
    plugins: preload ? [preloadWasm] : [],
    resolve: { alias: { "petrichain-pkg": resolve(pkg, "petrichain.js") } },
    build: { outDir, emptyOutDir: true, target: "es2022" },
    logLevel: "warn",
  });
  return outDir;
}

/** Trace events counted per load: what V8 and Blink did with the module. */
const COUNTED = {
  compiled: "wasm.NewNativeModule",
  reused: "wasm.GetNativeModuleFromCache",
  fromCodeCache: "v8.wasm.moduleCacheHit",
  written: "v8.wasm.cachedModule",
  // V8 asked Blink to cache the module (Blink then serialises it: "written").
  callback: "v8.wasm.compiledModule",
  // V8 decided that new optimised code is worth caching (CompilationStateImpl).
  chunks: "wasm.CompilationChunkFinished",
};
/**
 * Trace events timed per load (sum of their durations, ms): feeding the
 * bytes to V8 as they come out of the HTTP cache, hashing them to look the
 * module up, deserialising a cached module, instantiating.
 */
const TIMED = {
  feed: "v8.wasm.compileConsume",
  hash: "wasm.GetNativeModuleFromCache",
  deserialize: "wasm.Deserialize",
  instantiate: "wasm.SyncInstantiate",
};
const CATEGORIES = ["v8.wasm", "disabled-by-default-v8.wasm.detailed", "disabled-by-default-devtools.timeline"];

/**
 * A page of `context` whose trace events (Chromium's, through the DevTools
 * protocol) can be recorded around each load. A page's trace covers the
 * renderer process it has when tracing starts, so the page first opens a
 * page of the server's origin (a 404): the loads that follow stay in that
 * renderer.
 */
async function tracedPage(context, url, trace = true) {
  const page = await context.newPage();
  await page.goto(new URL("not-a-page", url).href);
  // Without tracing (its overhead is in the times), nothing is counted.
  if (!trace) return { page, traced: async (run) => ({ ...(await run()), ...summarise([]) }) };
  const cdp = await context.newCDPSession(page);
  let events = [];
  cdp.on("Tracing.dataCollected", (d) => events.push(...d.value));
  /** Resolves to `{ how, phases }` of what `run` did (see COUNTED and TIMED). */
  const traced = async (run) => {
    events = [];
    await cdp.send("Tracing.start", { traceConfig: { includedCategories: CATEGORIES } });
    const result = await run();
    const done = new Promise((r) => cdp.once("Tracing.tracingComplete", r));
    await cdp.send("Tracing.end");
    await done;
    return { ...result, ...summarise(events) };
  };
  return { page, traced };
}

/** Counts of COUNTED and summed durations (ms) of TIMED in `events`. */
function summarise(events) {
  const how = Object.fromEntries(Object.keys(COUNTED).map((k) => [k, 0]));
  const phases = Object.fromEntries(Object.keys(TIMED).map((k) => [k, 0]));
  const open = new Map();
  for (const e of events) {
    for (const [k, name] of Object.entries(COUNTED)) if (e.name === name && e.ph !== "E") how[k]++;
    for (const [k, name] of Object.entries(TIMED)) {
      if (e.name !== name) continue;
      // Complete events carry their duration; begin / end pairs are matched per thread.
      if (e.ph === "X") phases[k] += (e.dur ?? 0) / 1000;
      else if (e.ph === "B") open.set(`${k}/${e.tid}`, e.ts);
      else if (e.ph === "E" && open.has(`${k}/${e.tid}`)) {
        phases[k] += (e.ts - open.get(`${k}/${e.tid}`)) / 1000;
        open.delete(`${k}/${e.tid}`);
      }
    }
  }
  return { how, phases };
}

/**
 * A pause before each load (READY_PAUSE_MS, 500 ms): a user's reload comes
 * seconds after the last, not while the renderer still tears the previous
 * page down (without it, loads without tracing ran 10-20 ms slower).
 */
const PAUSE_MS = Number(process.env.READY_PAUSE_MS ?? 500);

async function load(page, url) {
  await page.waitForTimeout(PAUSE_MS);
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 60_000 });
  return page.evaluate(() => ({
    ms: window.wasmReadyMs,
    fetchedMs: window.wasmFetchedMs,
    fetchStartMs: window.wasmFetchStartMs,
    firstByteMs: window.wasmFirstByteMs,
  }));
}

const sum = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] + b[k]]));

/**
 * Resolves to `{ loads, how, newTab, restart }` for the build in `pkg`:
 * `{ ms, fetchedMs, how, phases }` (ready, and the file's last byte in,
 * from the same start; what V8 did, see COUNTED; time in V8's steps, see
 * TIMED) of each of the first tab's loads (load 1 with its idle time), of a
 * load in a new tab and of one after a restart; `how` also summed over the
 * first tab's loads.
 */
export async function measureReady({ pkg, loads = 5, preload = false, trace = true }) {
  const dir = await buildPage(pkg, { preload });
  const server = await serve(dir);
  const profile = mkdtempSync(join(tmpdir(), "petrichain-bench-profile-"));
  const launch = () =>
    chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: ARGS,
    });
  let context = await launch();
  try {
    const out = { pkg, loads: [] };
    let tab = await tracedPage(context, server.url, trace);
    for (let i = 0; i < loads; i++) {
      out.loads.push(await tab.traced(() => load(tab.page, server.url)));
      if (i === 0) {
        // Traced too: V8 may write the code cache during the work or the idle time.
        const idle = await tab.traced(async () => {
          const n = await tab.page.evaluate(() => window.warmUp());
          if (n !== 2000) throw new Error(`warm-up read back ${n} events, not 2000`);
          await tab.page.waitForTimeout(CACHE_WAIT_MS);
          return {};
        });
        out.loads[0].how = sum(out.loads[0].how, idle.how);
      }
    }
    out.how = out.loads.map((l) => l.how).reduce(sum);
    await tab.page.close();
    tab = await tracedPage(context, server.url, trace);
    out.newTab = await tab.traced(() => load(tab.page, server.url));
    await context.close();
    context = await launch();
    tab = await tracedPage(context, server.url, trace);
    out.restart = await tab.traced(() => load(tab.page, server.url));
    return out;
  } finally {
    await context.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Resolves to the rounds of `coldOpen` (ready/calls.js) for the build in
 * `pkg`: a ledger of `events` events opened cold `rounds` times in one
 * page, each round with its time and the calls the open made.
 */
export async function measureColdOpen({ pkg, events = 10_000, rounds = 5 }) {
  const dir = await buildPage(pkg);
  const server = await serve(dir);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  try {
    const page = await browser.newPage();
    await load(page, server.url);
    return await page.evaluate((o) => window.coldOpen(o), { events, rounds });
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Resolves to the recorded writes of `appendCalls` (ready/calls.js,
 * `{ fire, plain }`) for the build in `pkg`, made in a cross-origin
 * isolated page (5 us timer).
 */
export async function measureAppends({ pkg, n = 300 }) {
  const dir = await buildPage(pkg);
  const server = await serve(dir);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: ARGS });
  try {
    const page = await (await isolatedContext(browser, server.url)).newPage();
    await load(page, server.url);
    await assertIsolated(page);
    return await page.evaluate((o) => window.appendCalls(o), { n });
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The calls of `appends` (all alike: the same calls in the same order),
 * each with the median of when it was made and when it was answered, and
 * the median append time. Appends that made other calls (a slow commit)
 * are counted apart.
 */
export function medianCalls(appends) {
  const shape = (a) => a.calls.map((c) => c.op).join("|");
  const counts = new Map();
  for (const a of appends) counts.set(shape(a), (counts.get(shape(a)) ?? 0) + 1);
  const [common] = [...counts].sort((x, y) => y[1] - x[1])[0];
  const alike = appends.filter((a) => shape(a) === common);
  const mid = (xs) => spread(xs).median;
  return {
    ms: mid(alike.map((a) => a.ms)),
    alike: alike.length,
    others: appends.length - alike.length,
    calls: alike[0].calls.map((c, i) => ({
      op: c.op,
      at: mid(alike.map((a) => a.calls[i].at)),
      done: alike.every((a) => a.calls[i].done != null) ? mid(alike.map((a) => a.calls[i].done)) : null,
    })),
  };
}

/** Median, lowest and highest of `xs`. */
function spread(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s.at(-1) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--loads");
  const loads = i < 0 ? 5 : Number(args.splice(i, 2)[1]);
  const flag = (name) => args.includes(name) && args.splice(args.indexOf(name), 1).length > 0;
  const preload = flag("--preload");
  const trace = !flag("--no-trace");
  const cold = flag("--cold-open");
  const a = args.indexOf("--appends");
  const appends = a < 0 ? 0 : Number(args.splice(a, 2)[1]);
  if (a >= 0 && !(Number.isSafeInteger(appends) && appends > 0))
    throw new Error("--appends takes a count of appends (1 or more)");
  if (cold && appends) throw new Error("--cold-open and --appends are two runs: give one");
  const pkgs = args.length ? args : [`${repo}pkg`, `${repo}pkg/core`];
  const one = (x) => x.toFixed(1);
  const how = (h) => JSON.stringify(h).replace(/"/g, "");
  const phases = (p) =>
    Object.entries(p)
      .map(([k, v]) => `${k} ${one(v)}`)
      .join(", ");
  // ready ms (of which: until the file's last byte); V8's steps in ms
  const f = (x) => `${one(x.ms)} (${x.fetchedMs == null ? "?" : one(x.fetchedMs)})`;
  for (const pkg of cold ? pkgs : []) {
    const rounds = await measureColdOpen({ pkg, rounds: loads });
    const m = spread(rounds.map((r) => r.ms));
    const s = spread(rounds.map((r) => r.streamMs));
    console.log(
      `${pkg}: cold open median ${one(m.median)} ms (${one(m.min)} to ${one(m.max)}), of which ledger.stream ${one(s.median)} ms`,
    );
    // The calls of the median round, each "at +how long it took" (ms from the open's start).
    const mid = rounds.find((r) => r.ms === m.median) ?? rounds[0];
    for (const c of mid.calls)
      console.log(`    ${one(c.at).padStart(6)} +${c.done == null ? "?" : one(c.done - c.at)}  ${c.op}`);
  }
  for (const pkg of appends ? pkgs : []) {
    const { fire, plain } = await measureAppends({ pkg, n: appends });
    // Each call at when it was made, +how long until it was answered (ms from the write's start).
    const three = (x) => x.toFixed(3);
    for (const [what, runs] of [
      ["stream.fire", fire],
      ["plain IndexedDB add", plain],
    ]) {
      const m = medianCalls(runs);
      console.log(`${pkg}: ${what}, median ${three(m.ms)} ms (${m.alike} alike, ${m.others} with other calls)`);
      for (const c of m.calls)
        console.log(`  ${three(c.at).padStart(7)} +${c.done == null ? "?" : three(c.done - c.at)}  ${c.op}`);
    }
  }
  for (const pkg of cold || appends ? [] : pkgs) {
    const r = await measureReady({ pkg, loads, preload, trace });
    console.log(`${pkg}\n  page loads ${r.loads.map(f).join(" / ")} ms ${how(r.how)}`);
    for (const [n, l] of r.loads.entries()) {
      const at = `fetch ${one(l.fetchStartMs)}, first byte ${one(l.firstByteMs)}, last ${one(l.fetchedMs)}`;
      console.log(`    load ${n + 1}: ${at}; ${phases(l.phases)} ${how(l.how)}`);
    }
    if (r.loads.length > 1) {
      const later = r.loads.slice(1);
      const m = spread(later.map((l) => l.ms));
      const fetched = spread(later.map((l) => l.fetchedMs ?? Number.NaN));
      console.log(
        `  later loads (${later.length}): ready median ${one(m.median)} ms (${one(m.min)} to ${one(m.max)}), last byte in median ${one(fetched.median)} ms (${one(fetched.min)} to ${one(fetched.max)})`,
      );
    }
    console.log(`  new tab ${f(r.newTab)} ms ${how(r.newTab.how)}; ${phases(r.newTab.phases)}`);
    console.log(`  after a restart ${f(r.restart)} ms ${how(r.restart.how)}; ${phases(r.restart.phases)}`);
  }
}
