// The app as `npm start` serves it: built files and the sync API on one
// origin, from petrichain-server.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serveAppWithServer, launchBrowser, startExample, waitForEvents, drawnTokens } from "./helpers.mjs";

let app;
let browser;
before(async () => {
  app = await serveAppWithServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

test("petrichain-server serves the app (wasm as application/wasm) and the sync API on the same origin", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const wasm = [];
  page.on("response", (r) => r.url().endsWith(".wasm") && wasm.push(r.headers()["content-type"]));
  const errors = [];
  page.on("console", (msg) => ["error", "warning"].includes(msg.type()) && errors.push(msg.text()));
  page.on("pageerror", (err) => errors.push(String(err)));
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  assert.deepEqual(wasm, ["application/wasm"]);
  await startExample(page, "order");
  await page.click('#net [data-transition="place_order"]');
  await waitForEvents(page, 1);
  assert.equal(await drawnTokens(page, "placed"), 1);
  await page.waitForSelector("body[data-offline=ready]");
  const listed = await page.evaluate(async () => (await fetch("v2/streams")).json());
  assert.ok(Array.isArray(listed.streams), JSON.stringify(listed));
  assert.deepEqual(errors, []);
  await context.close();
});
