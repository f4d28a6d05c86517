// After the first visit the service worker has cached the app: with the
// network gone it still opens, shows the stored stream and fires.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serveApp, launchBrowser, openApp, startExample, tokens, waitForEvents } from "./helpers.mjs";

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

test("the app works offline after the first visit", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.waitForSelector("body[data-offline=ready]");
  assert.match(await page.textContent("#offline-state"), /^ready \(\d+ files cached\)$/);
  const stream = await startExample(page, "counter");
  await page.click('#net [data-transition="inc"]');
  await waitForEvents(page, 1);

  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.getAttribute("#online-badge", "data-state"), "offline");
  assert.equal(await page.getAttribute("body", "data-stream"), stream);
  await waitForEvents(page, 1);
  await page.click('#net [data-transition="inc"]');
  await waitForEvents(page, 2);
  assert.equal(await tokens(page, "count"), 2);
  await page.waitForSelector("body[data-offline=ready]");

  await context.setOffline(false);
  await page.waitForSelector('#online-badge[data-state="online"]');
  assert.deepEqual(errors, []);
  await context.close();
});
