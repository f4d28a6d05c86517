// The package in two pages of one origin: a Ledger that one page frees
// without close() (`free()`, as garbage collection would) must leave no
// BroadcastChannel handler behind, so that the other page's commits raise
// nothing in it (it used to throw "closure invoked recursively or after
// being dropped" once per commit).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, preview } from "vite";
import { launchBrowser, watchErrors } from "./helpers.mjs";

const repo = new URL("../../", import.meta.url).pathname;
let root;
let server;
let browser;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "petrichain-freed-"));
  writeFileSync(
    join(root, "index.html"),
    `<!doctype html><html lang="en"><head><title>freed</title><link rel="icon" href="data:,"></head>
    <body><script type="module" src="./main.js"></script></body></html>`,
  );
  // The page exposes the package to the test, nothing else.
  writeFileSync(
    join(root, "main.js"),
    `import * as petrichain from "petrichain"; window.petrichain = petrichain; document.body.dataset.ready = "true";`,
  );
  const config = {
    root,
    logLevel: "warn",
    configFile: false,
    resolve: { alias: { petrichain: `${repo}js/browser.js` } },
    build: { target: "es2022", outDir: join(root, "dist") },
  };
  await build(config);
  server = await preview({ ...config, preview: { host: "127.0.0.1", port: 0 } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test("a ledger freed without close() in one page hears nothing it cannot handle when another page commits", async () => {
  const context = await browser.newContext();
  const url = `http://127.0.0.1:${server.httpServer.address().port}/`;
  const [writer, freed] = [await context.newPage(), await context.newPage()];
  const errors = { writer: watchErrors(writer), freed: watchErrors(freed) };
  for (const page of [writer, freed]) {
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  }
  // The second page opens the ledger twice: one handle it frees without
  // close(), one it keeps and subscribes on (so it surely hears the channel).
  await freed.evaluate(async () => {
    const { Ledger } = window.petrichain;
    const dropped = await Ledger.open("two-pages");
    dropped.free();
    window.kept = await Ledger.open("two-pages");
    window.heard = 0;
    window.kept.subscribe(null, () => window.heard++);
  });
  const seq = await writer.evaluate(async () => {
    const { Ledger, Model } = window.petrichain;
    const model = Model.fromJson({
      places: [{ id: "a", initial: 50 }],
      transitions: [{ id: "t" }],
      arcs: [{ source: "a", target: "t" }],
    });
    const ledger = await Ledger.open("two-pages");
    await ledger.putModel(model);
    const stream = await ledger.createStream("s", model.id);
    let last = null;
    for (let i = 0; i < 20; i++) last = await stream.fire("t");
    return last.seq;
  });
  assert.equal(seq, 20);
  // Every commit reached the kept handle of the second page (21 changes:
  // the creation and 20 events), and the freed one raised nothing.
  await freed.waitForFunction(() => window.heard === 21);
  assert.deepEqual(errors.freed, [], "no 'closure invoked recursively or after being dropped'");
  assert.deepEqual(errors.writer, []);
  await context.close();
});
