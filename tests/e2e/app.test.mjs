// The demo page in headless Chromium: it loads the wasm engine, shows the
// marking, lists enabled transitions, fires one on click and explains refusals.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serveApp, launchBrowser, watchErrors, artifacts } from "./helpers.mjs";

let app;
let browser;
before(async () => {
  app = await serveApp();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await app?.close();
});

const tokens = (page, place) => page.locator(`#marking tr[data-place="${place}"] td`).nth(1).textContent();

test("loads the engine, fires an enabled transition on click", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  assert.match(await page.textContent("#model-id"), /^[0-9a-f]{16}…$/);
  assert.equal(await tokens(page, "cart"), "1");
  assert.equal(await page.getAttribute('button[data-transition="place_order"]', "data-enabled"), "true");
  assert.equal(await page.getAttribute('button[data-transition="pay"]', "data-enabled"), "false");

  await page.click('button[data-transition="place_order"]');
  assert.equal(await tokens(page, "cart"), "0");
  assert.equal(await tokens(page, "placed"), "1");
  assert.equal(await page.getAttribute('button[data-transition="pay"]', "data-enabled"), "true");
  assert.equal(await page.locator("#log li").count(), 1);
  await page.screenshot({ path: `${artifacts}app-main.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a refused action shows the engine's reason and changes nothing", async () => {
  const page = await browser.newPage();
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  await page.fill("#roles", "customer");
  await page.click('button[data-transition="ship"]');
  assert.match(await page.textContent("#error"), /^ROLE_DENIED: 'ship' requires role 'warehouse'/);
  await page.fill("#roles", "*");
  await page.click('button[data-transition="ship"]');
  assert.match(await page.textContent("#error"), /^NOT_ENABLED: .*place 'paid' has 0 token/);
  assert.equal(await tokens(page, "stock"), "2");
  assert.equal(await page.locator("#log li").count(), 0);
  await page.close();
});

test("switching example nets loads the other model", async () => {
  const page = await browser.newPage();
  await page.goto(app.url);
  await page.waitForSelector("body[data-ready=true]");
  await page.selectOption("#example", "counter");
  for (let i = 0; i < 3; i++) await page.click('button[data-transition="inc"]');
  assert.equal(await tokens(page, "count"), "3");
  assert.equal(await page.getAttribute('button[data-transition="inc"]', "data-enabled"), "false", "capacity 3 reached");
  await page.close();
});
