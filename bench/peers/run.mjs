// Drives the peers benchmark page (bench/peers/main.js) in headless Chromium
// (playwright-core, the system's /usr/bin/chromium): builds the page with
// Vite, serves it with the reference server (its static files: the .wasm as
// application/wasm with cache headers, as an app would be served), loads it
// three times to time the wasm's readiness on a first and later page loads,
// then runs the measurements and prints medians and ratios.
//
//   node bench/peers/run.mjs [--n 10000] [--singles 200] [--rounds 3] [--json FILE]
//                            [--only petrichain,raw] [--profile]   (where the time goes)
//
// Used by `npm run bench -- peers` (scripts/bench.sh) and, tiny, by
// tests/e2e/bench-peers.test.mjs (which checks that every library produced
// numbers, never their values).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { build } from "vite";

const repo = new URL("../../", import.meta.url).pathname;
export const LIBRARIES = ["petrichain", "dexie", "pouchdb", "rxdb", "raw", "rawobj"];
/** Also in the table when measured: the earlier build (PETRICHAIN_BASE). */
const EXTRA = ["base"];

export async function serve(dir) {
  const binary =
    process.env.PETRICHAIN_SERVER ??
    join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "release", "petrichain-server");
  if (!existsSync(binary)) throw new Error(`${binary} missing: cargo build --release -p petrichain-server`);
  const data = mkdtempSync(join(tmpdir(), "petrichain-bench-data-"));
  const child = spawn(binary, ["--addr", "127.0.0.1:0", "--db", join(data, "db.sqlite"), "--static", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = [];
  child.stderr.on("data", (c) => log.push(String(c)));
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      m ? resolve(`${m[1]}/`) : reject(new Error(`unexpected first line: ${line}`));
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${log.join("")}`)));
  });
  return {
    url,
    close: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/**
 * A browser context whose document at `url` is cross-origin isolated
 * (COOP/COEP added by a route), so that performance.now() counts in 5 us
 * steps, not 100 us. Routing turns the context's HTTP cache off.
 */
export async function isolatedContext(browser, url) {
  const context = await browser.newContext();
  await context.route(url, async (route) => {
    const response = await route.fetch();
    const headers = {
      ...response.headers(),
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    };
    await route.fulfill({ response, headers });
  });
  return context;
}

/** Throws unless `page` is cross-origin isolated (its timer fine enough for sub-millisecond figures). */
export async function assertIsolated(page) {
  if (!(await page.evaluate(() => window.crossOriginIsolated))) {
    throw new Error("the measuring page is not cross-origin isolated: its timer would count in 100 us steps");
  }
}

/**
 * Builds, serves and runs the page; resolves to the page's results plus
 * `wasmReadyMs` of three loads. With `profile`, the run is also recorded by
 * the CPU profiler (Chrome DevTools protocol) and `profile` of the result
 * gives the self time per script (the wasm, its JS glue, each library).
 */
export async function runPeers({ n = 10_000, singles = 200, rounds = 3, only = null, profile = false } = {}) {
  const outDir = mkdtempSync(join(tmpdir(), "petrichain-bench-peers-"));
  await build({
    configFile: new URL("./vite.config.js", import.meta.url).pathname,
    build: { outDir, emptyOutDir: true },
  });
  const server = await serve(outDir);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
  try {
    const errors = [];
    /** A new page of `context`, its errors kept in `errors`. */
    const newPage = async (context) => {
      const page = await context.newPage();
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      return page;
    };
    /** Loads the bench page in `page` until it is ready. */
    const load = async (page) => {
      await page.goto(server.url);
      await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 }).catch((e) => {
        throw new Error(`the page did not get ready (${errors.join("; ") || e.message})`);
      });
    };
    const context = await browser.newContext();
    const page = await newPage(context);
    const wasmReadyMs = [];
    for (let i = 0; i < 3; i++) {
      await load(page);
      wasmReadyMs.push(await page.evaluate(() => window.wasmReadyMs));
    }
    // The measurements run in a page of their own, cross-origin isolated,
    // where performance.now() counts in 5 us steps (100 us otherwise: too
    // coarse for a single append of well under a millisecond). Only the
    // document is routed, to add the two headers; routing turns the
    // context's HTTP cache off, which is why the loads above, whose wasm
    // comes from that cache, ran in a context without routing.
    const isolated = await isolatedContext(browser, server.url);
    const bench = await newPage(isolated);
    await load(bench);
    await assertIsolated(bench);
    const cdp = profile ? await isolated.newCDPSession(bench) : null;
    if (cdp) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
      await cdp.send("Profiler.start");
    }
    const results = await bench.evaluate((o) => window.runBench(o), { n, singles, rounds, only });
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
    const out = { ...results, wasmReadyMs };
    if (cdp) out.profile = selfTimes((await cdp.send("Profiler.stop")).profile);
    return out;
  } finally {
    await browser.close();
    await server.close();
    if (process.env.PEERS_KEEP) console.log(`page kept in ${outDir}`);
    else rmSync(outDir, { recursive: true, force: true });
  }
}

/** Self time (ms) per script and per top function of a CPU profile. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    counts.set(id, (counts.get(id) ?? 0) + dt);
  });
  const scripts = {};
  const functions = {};
  for (const [id, ms] of counts) {
    const f = byId.get(id).callFrame;
    const script = f.url ? f.url.replace(/^.*\//, "").replace(/-[\w-]{8}\./, ".") : f.functionName || "(native)";
    scripts[script] = (scripts[script] ?? 0) + ms;
    const name = `${script}: ${f.functionName || `(anonymous ${f.lineNumber + 1}:${f.columnNumber + 1})`}`;
    functions[name] = (functions[name] ?? 0) + ms;
  }
  const top = Object.entries(functions)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 40);
  return { scripts: Object.entries(scripts).sort((a, b) => b[1] - a[1]), top };
}

const fmt = (x, digits = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The results as a Markdown table, with petrichain's ratios to Dexie and to the raw loop. */
export function table(r) {
  const m = r.medians;
  const libs = [...LIBRARIES.slice(0, 1), ...EXTRA, ...LIBRARIES.slice(1)].filter((l) => m[l]);
  const rows = [
    ["single append p50 (ms, lower is better)", "singleP50", 3, true],
    ["single append p95 (ms)", "singleP95", 3, true],
    ["batched, 100 per transaction (events/s)", "batch100", 0, false],
    ["batched, 1,000 per transaction (events/s)", "batch1000", 0, false],
    [`load of a ${fmt(r.n)}-event stream (events/s)`, "load", 0, false],
    ["cold open (ms)", "openMs", 1, true],
  ];
  const out = [
    `| measure (median of ${r.rounds}) | ${libs.join(" | ")} | petrichain / dexie | petrichain / raw |${m.base ? " petrichain / base |" : ""}`,
    `|---|${libs.map(() => "---:").join("|")}|---:|---:|${m.base ? "---:|" : ""}`,
  ];
  for (const [label, key, digits, lowerIsBetter] of rows) {
    // Ratios read "how many times as good": above 1 is petrichain ahead.
    const ratio = (other) => {
      if (!m[other] || !m.petrichain) return "–";
      const x = lowerIsBetter ? m[other][key] / m.petrichain[key] : m.petrichain[key] / m[other][key];
      return `${fmt(x, 2)}x`;
    };
    const vsBase = m.base ? ` | ${ratio("base")}` : "";
    out.push(
      `| ${label} | ${libs.map((l) => fmt(m[l][key], digits)).join(" | ")} | ${ratio("dexie")} | ${ratio("raw")}${vsBase} |`,
    );
  }
  out.push(
    "",
    `wasm ready (fetch + compile + instantiate), page loads 1 / 2 / 3: ${r.wasmReadyMs.map((x) => fmt(x, 1)).join(" / ")} ms`,
    `record: ${r.recordBytes} bytes of JSON (the application data); petrichain's stored event line: ${r.petrichainStoredBytes} bytes`,
  );
  return out.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (name, d) => {
    const i = args.indexOf(`--${name}`);
    return i < 0 ? d : args[i + 1];
  };
  const results = await runPeers({
    n: Number(opt("n", 10_000)),
    singles: Number(opt("singles", 200)),
    rounds: Number(opt("rounds", 3)),
    only: opt("only", null)?.split(","),
    profile: args.includes("--profile"),
  });
  const json = opt("json", null);
  if (json) writeFileSync(json, JSON.stringify(results, null, 1));
  if (results.profile) {
    console.log("self time by script (ms):");
    for (const [k, v] of results.profile.scripts) console.log(`  ${v.toFixed(1).padStart(9)}  ${k}`);
    console.log("top functions (ms):");
    for (const [k, v] of results.profile.top) console.log(`  ${v.toFixed(1).padStart(9)}  ${k}`);
  }
  console.log(table(results));
}
