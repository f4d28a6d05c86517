// Runs the layouts experiment (page.js) in headless Chromium, served by the
// reference server (`--static` on this folder), and prints per layout the
// write rate and the getAll / load times of each round.
//
//   node bench/layouts/run.mjs [--rounds 3] [--page load|single]
//
// `--page load` runs load.js instead: where a load's time goes, and what a
// block record could carry to load faster; `--page single` runs single.js:
// what one append's round trip is made of.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const repo = new URL("../../", import.meta.url).pathname;
const binary =
  process.env.PETRICHAIN_SERVER ??
  join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "release", "petrichain-server");
if (!existsSync(binary)) throw new Error(`${binary} missing: cargo build --release -p petrichain-server`);
const i = process.argv.indexOf("--rounds");
const rounds = i < 0 ? 3 : Number(process.argv[i + 1]);
const pageArg = process.argv.indexOf("--page");
const which = pageArg < 0 ? "layouts" : process.argv[pageArg + 1];
const loads = which === "load";
const data = mkdtempSync(join(tmpdir(), "petrichain-layouts-"));
const dir = new URL(".", import.meta.url).pathname;
const server = spawn(binary, ["--addr", "127.0.0.1:0", "--db", join(data, "db.sqlite"), "--static", dir], {
  stdio: ["ignore", "pipe", "ignore"],
});
try {
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).once("line", (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      m ? resolve(`${m[1]}/`) : reject(new Error(`unexpected first line: ${line}`));
    });
    server.once("exit", (code) => reject(new Error(`server exited (${code})`)));
  });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
  try {
    const page = await browser.newPage();
    await page.goto(which === "layouts" ? url : `${url}${which}.html`);
    await page.waitForSelector("body[data-ready=true]", { state: "attached" });
    if (which === "single") {
      const out = await page.evaluate((r) => window.runSingles(r), rounds);
      console.log("variant | per round: p50 / p95 / mean ms of one append");
      for (const [name, runs] of Object.entries(out)) {
        console.log(
          `${name.padEnd(7)} | ${runs.map((x) => `${x.p50.toFixed(2)} / ${x.p95.toFixed(2)} / ${x.mean.toFixed(3)}`).join(" | ")}`,
        );
      }
    } else if (loads) {
      const cpu = await page.evaluate(() => window.runParse(5));
      console.log(`CPU of a load of 10,000 lines without IndexedDB (best of 5, ms): ${JSON.stringify(cpu)}`);
      const out = await page.evaluate((r) => window.runLoads(r), rounds);
      console.log("variant | per round: writes/s (1,000 events per transaction), getAll ms, load ms (getAll + parse)");
      for (const [name, runs] of Object.entries(out)) {
        const cells = runs.map((x) => `${Math.round(x.write)}/s ${x.getMs.toFixed(1)} ${x.loadMs.toFixed(1)}`);
        console.log(`${name.padEnd(7)} | ${cells.join(" | ")}`);
      }
    } else {
      const out = await page.evaluate((r) => window.runLayouts(r), rounds);
      console.log("layout  | record bytes | per round: writes/s (1,000 per transaction), getAll ms, load ms");
      for (const [name, runs] of Object.entries(out)) {
        const cells = runs.map((x) => `${Math.round(x.write)}/s ${x.getMs.toFixed(0)} ${x.loadMs.toFixed(0)}`);
        console.log(`${name.padEnd(7)} | ${String(runs[0].bytes).padStart(6)} | ${cells.join(" | ")}`);
      }
    }
  } finally {
    await browser.close();
  }
} finally {
  server.kill("SIGTERM");
  rmSync(data, { recursive: true, force: true });
}
