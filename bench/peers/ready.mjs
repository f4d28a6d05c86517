// Times the wasm's readiness (`init()`: fetch, compile or reuse of a
// compiled module, instantiate) on page loads in headless Chromium, as a
// returning user's browser would see them: a persistent profile (Playwright's
// default contexts are off the record, with no code cache on disk), the page
// built by Vite (the .wasm under assets/ with a content hash) and served by
// the reference server (`immutable` cache headers, server/src/static_files.rs).
//
//   node bench/peers/ready.mjs [--loads 5] [PKG_DIR ...]   (default: pkg pkg/core)
//
// Per build: load 1 on an empty profile, a short session of engine work
// (2,000 appends, a read and a verify: V8 optimises the hot functions), a
// wait (READY_WAIT_MS, 3,000 ms: V8 writes a module with optimised code to
// the code cache once no function was optimised for wasm_caching_timeout_ms,
// 2 s), then loads 2..N in the same tab, one in a new tab, and one after a
// browser restart on the same profile (only the disk caches survive).
// Chromium's trace events say what V8 did in each tab: compiled the module,
// reused the one its renderer still held ("GetNativeModuleFromCache"), read
// it from the code cache ("moduleCacheHit"), wrote it there ("cachedModule").
// READY_CHROMIUM_ARGS adds browser flags (e.g.
// `--js-flags=--wasm-caching-timeout-ms=0`). Figures: BENCHMARKS.md,
// "Bundle size", "wasm ready".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { build } from "vite";
import { serve } from "./run.mjs";

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

async function buildPage(pkg) {
  const outDir = mkdtempSync(join(tmpdir(), "petrichain-bench-ready-"));
  await build({
    configFile: false,
    root: new URL("./ready/", import.meta.url).pathname,
    base: "./",
    resolve: { alias: { "petrichain-pkg": `${pkg}/petrichain.js` } },
    build: { outDir, emptyOutDir: true, target: "es2022" },
    logLevel: "warn",
  });
  return outDir;
}

const EVENTS = [
  "wasm.NewNativeModule",
  "wasm.GetNativeModuleFromCache",
  "v8.wasm.moduleCacheHit",
  "v8.wasm.cachedModule",
];

/**
 * A page of `context` whose trace events (Chromium's, through the DevTools
 * protocol) are counted from before its first load: `stop()` resolves to
 * how many of each of EVENTS it saw. A page's trace covers the renderer
 * process it has when tracing starts, so the page first opens a page of the
 * server's origin (a 404): the loads that follow stay in that renderer.
 */
async function tracedPage(context, url) {
  const page = await context.newPage();
  await page.goto(new URL("not-a-page", url).href);
  const cdp = await context.newCDPSession(page);
  const counts = Object.fromEntries(EVENTS.map((n) => [n, 0]));
  cdp.on("Tracing.dataCollected", (d) => {
    for (const e of d.value) if (e.name in counts) counts[e.name]++;
  });
  await cdp.send("Tracing.start", {
    traceConfig: {
      includedCategories: ["v8.wasm", "disabled-by-default-v8.wasm.detailed", "disabled-by-default-devtools.timeline"],
    },
  });
  const stop = async () => {
    const done = new Promise((r) => cdp.once("Tracing.tracingComplete", r));
    await cdp.send("Tracing.end");
    await done;
    return {
      compiled: counts[EVENTS[0]],
      reused: counts[EVENTS[1]],
      fromCodeCache: counts[EVENTS[2]],
      written: counts[EVENTS[3]],
    };
  };
  return { page, stop };
}

async function load(page, url) {
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 60_000 });
  return page.evaluate(() => ({ ms: window.wasmReadyMs, fetchedMs: window.wasmFetchedMs }));
}

/**
 * Resolves to `{ loads, how, newTab, restart }` for the build in `pkg`:
 * `{ ms, fetchedMs }` (ready, and the file's last byte in, from the same
 * start) of the first tab's loads, of a load in a new tab and of one after
 * a restart, each with what V8 did in that tab (`how`: modules
 * compiled, reused from the renderer, read from the code cache; code cache
 * entries written).
 */
export async function measureReady({ pkg, loads = 5 }) {
  const dir = await buildPage(pkg);
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
    let tab = await tracedPage(context, server.url);
    for (let i = 0; i < loads; i++) {
      out.loads.push(await load(tab.page, server.url));
      if (i === 0) {
        const n = await tab.page.evaluate(() => window.warmUp());
        if (n !== 2000) throw new Error(`warm-up read back ${n} events, not 2000`);
        await tab.page.waitForTimeout(CACHE_WAIT_MS);
      }
    }
    out.how = await tab.stop();
    await tab.page.close();
    tab = await tracedPage(context, server.url);
    out.newTab = { ...(await load(tab.page, server.url)), how: await tab.stop() };
    await context.close();
    context = await launch();
    tab = await tracedPage(context, server.url);
    out.restart = { ...(await load(tab.page, server.url)), how: await tab.stop() };
    return out;
  } finally {
    await context.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--loads");
  const loads = i < 0 ? 5 : Number(args.splice(i, 2)[1]);
  const pkgs = args.length ? args : [`${repo}pkg`, `${repo}pkg/core`];
  for (const pkg of pkgs) {
    const r = await measureReady({ pkg, loads });
    const how = (h) => JSON.stringify(h).replace(/"/g, "");
    // ready ms (of which: until the file's last byte)
    const f = (x) => `${x.ms.toFixed(1)} (${x.fetchedMs?.toFixed(1) ?? "?"})`;
    console.log(`${pkg}\n  page loads ${r.loads.map(f).join(" / ")} ms ${how(r.how)}`);
    console.log(`  new tab ${f(r.newTab)} ms ${how(r.newTab.how)}`);
    console.log(`  after a restart ${f(r.restart)} ms ${how(r.restart.how)}`);
  }
}
