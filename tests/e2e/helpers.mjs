// Shared set-up for page tests: build the app, serve it on loopback, and
// launch the system's Chromium through playwright-core (never a download).
import { build, preview } from "vite";
import { chromium } from "playwright-core";
import { mkdirSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";

const config = new URL("../../www/vite.config.js", import.meta.url).pathname;
export const artifacts = new URL("../artifacts/", import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

/** Builds www/ into a new temporary folder and returns its path. */
export async function buildApp() {
  const outDir = mkdtempSync(join(tmpdir(), "petrichain-app-"));
  await build({ configFile: config, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  return outDir;
}

/** The reference server's binary: PETRICHAIN_SERVER, else the release build. */
export function serverBinary() {
  const repo = new URL("../../", import.meta.url).pathname;
  const binary =
    process.env.PETRICHAIN_SERVER ??
    join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "release", "petrichain-server");
  if (!existsSync(binary)) throw new Error(`${binary} missing: cargo build --release -p petrichain-server`);
  return binary;
}

/**
 * The reference server (the binary PETRICHAIN_SERVER names, which
 * scripts/ci/e2e.sh sets to the debug build it makes; else the release build
 * `npm start` runs) serving the built app and
 * the sync API at a free port, with a fresh SQLite file. `restart()` stops
 * it and starts it again on the same address (the same origin for the
 * pages) with a new, empty database: a server that lost its history.
 */
export async function serveAppWithServer() {
  const binary = serverBinary();
  const outDir = await buildApp();
  const dirs = [];
  const log = [];
  let child;
  const start = async (addr) => {
    const data = mkdtempSync(join(tmpdir(), "petrichain-data-"));
    dirs.push(data);
    child = spawn(binary, ["--addr", addr, "--db", join(data, "petrichain.sqlite"), "--static", outDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stderr.on("data", (chunk) => log.push(String(chunk)));
    const started = child;
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: started.stdout });
      lines.once("line", (line) => {
        const m = /^listening on (http:\/\/\S+)$/.exec(line);
        m ? resolve(`${m[1]}/`) : reject(new Error(`unexpected first line: ${line}`));
      });
      started.once("exit", (code) => reject(new Error(`server exited (${code}): ${log.join("")}`)));
    });
  };
  const stop = async () => {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  };
  const url = await start("127.0.0.1:0");
  return {
    url,
    log,
    restart: async () => {
      await stop();
      const again = await start(new URL(url).host);
      if (again !== url) throw new Error(`restarted at ${again}, not ${url}`);
    },
    close: async () => {
      await stop();
      rmSync(outDir, { recursive: true, force: true });
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

/**
 * Builds www/ into a folder of its own (test files may run in parallel) and
 * serves the result on 127.0.0.1 at a free port.
 */
export async function serveApp() {
  const outDir = await buildApp();
  const buildOptions = { outDir, emptyOutDir: true };
  const server = await preview({
    configFile: config,
    logLevel: "warn",
    build: buildOptions,
    preview: { host: "127.0.0.1", port: 0, strictPort: false },
  });
  const address = server.httpServer.address();
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: async () => {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium with the flags this closed network needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Collects console errors and page errors; a clean page has none. */
export function watchErrors(page) {
  const errors = [];
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
  page.on("pageerror", (err) => errors.push(String(err)));
  return errors;
}

/**
 * A fresh browser context (its own IndexedDB, service worker and downloads)
 * with the app open and ready; `errors` collects console errors.
 */
export async function openApp(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  return { context, page, errors };
}

/** Starts a stream of a gallery example and waits until it is open. */
export async function startExample(page, key) {
  const before = await page.getAttribute("body", "data-stream");
  await page.click(`#gallery [data-example="${key}"]`);
  await page.waitForFunction((b) => document.body.dataset.stream && document.body.dataset.stream !== b, before);
  return page.getAttribute("body", "data-stream");
}

/** Tokens of a place as the marking table shows them. */
export async function tokens(page, place) {
  return Number(await page.locator(`#marking tr[data-place="${place}"] td`).nth(1).textContent());
}

/** Tokens of a place as the SVG drawing shows them. */
export async function drawnTokens(page, place) {
  return Number(await page.getAttribute(`#net [data-place="${place}"]`, "data-tokens"));
}

/** Waits until the log table holds `n` events (and the badge has verified them). */
export async function waitForEvents(page, n) {
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll("#log tbody tr[data-seq]").length === n &&
      document.getElementById("verify-badge").textContent.includes(`· ${n} event`),
    n,
  );
}

/**
 * Runs axe-core (the npm devDependency) on the page and returns the serious
 * and critical violations as "rule: target, target" strings (none: []).
 */
export async function seriousA11yViolations(page) {
  const { createRequire } = await import("node:module");
  const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => n.target.join(" ")),
      summary: v.nodes[0]?.failureSummary ?? "",
    }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.targets.slice(0, 5).join(", ")} (${v.summary.split("\n").slice(0, 2).join(" ")})`);
}

/**
 * Follows server stream `id` from the sync panel (a browser syncs its own
 * streams and the followed ones) and waits until it is in the stream list.
 */
export async function followStream(page, id) {
  await page.click("#sync-now"); // the panel lists the server's streams after each sync
  await page.locator(`#remote-streams [data-follow="${id}"]`).click();
  await page.waitForSelector(`#streams [data-stream="${id}"]`);
}

/**
 * The owner's page grants `role` to the device of page `member` the way a
 * user does: the member's join code pasted in the owner's Members panel
 * (www/members.js). Resolves once the grant is stored and synced.
 */
export async function grantRole(owner, member, role) {
  await owner.fill("#grant-code", await member.inputValue("#join-code"));
  await owner.selectOption("#grant-role", role);
  await owner.click('#grant-form button[type="submit"]');
  await owner.waitForFunction(() =>
    /; give them the invite link\.$/.test(document.getElementById("members-status").textContent),
  );
}
