// Runs the layouts experiment (page.js) in headless Chromium, served by the
// reference server (`--static` on this folder), and prints per layout the
// write rate and the getAll / load times of each round.
//
//   node bench/layouts/run.mjs [--rounds 3]
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
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]", { state: "attached" });
    const out = await page.evaluate((r) => window.runLayouts(r), rounds);
    console.log("layout  | record bytes | per round: writes/s (1,000 per transaction), getAll ms, load ms");
    for (const [name, runs] of Object.entries(out)) {
      const cells = runs.map((x) => `${Math.round(x.write)}/s ${x.getMs.toFixed(0)} ${x.loadMs.toFixed(0)}`);
      console.log(`${name.padEnd(7)} | ${String(runs[0].bytes).padStart(6)} | ${cells.join(" | ")}`);
    }
  } finally {
    await browser.close();
  }
} finally {
  server.kill("SIGTERM");
  rmSync(data, { recursive: true, force: true });
}
