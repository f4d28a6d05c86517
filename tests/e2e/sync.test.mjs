// Sync through the reference server, as `npm start` runs it: a browser that
// goes offline, fires and comes back online pushes its events; two browsers
// converge on one stream; a spend both made offline becomes one event and a
// conflict with the engine's reason.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  serveAppWithServer,
  launchBrowser,
  artifacts,
  openApp,
  startExample,
  waitForEvents,
  tokens,
  followStream,
  grantRole,
} from "./helpers.mjs";

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

/** The server's copy of a stream (straight from the sync API). */
async function remote(stream) {
  const r = await fetch(new URL(`v2/streams/${encodeURIComponent(stream)}/events?after=0`, app.url));
  return r.ok ? r.json() : { status: r.status };
}

/** Turns on continuous sync with the app's own origin as the backend. */
async function keepSyncing(page) {
  assert.equal(await page.inputValue("#sync-url"), app.url, "the backend defaults to the app's origin");
  await page.check("#sync-auto");
}

// What Chromium itself logs for the sync client's requests while offline
// (the page cannot reach the server; expected). Anything else, a 404 from
// pulling a stream the server does not have included, is a real error: the
// client lists the server's streams first and does not pull those.
const realErrors = (errors) =>
  errors.filter((e) => !/^Failed to load resource: net::ERR_INTERNET_DISCONNECTED/.test(e));

const pending = (page, n) =>
  page.waitForFunction((n) => document.getElementById("sync-pending").dataset.count === String(n), n);

test("offline events wait, then sync when the browser is back online", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.waitForSelector("body[data-offline=ready]");
  await keepSyncing(page);
  const stream = await startExample(page, "counter");
  await page.click('#net [data-transition="inc"]');
  await waitForEvents(page, 1);
  await pending(page, 0);
  assert.equal((await remote(stream)).head.seq, 1);
  assert.notEqual(await page.textContent("#sync-last"), "never");

  await context.setOffline(true);
  await page.waitForSelector('#online-badge[data-state="offline"]');
  await page.click('#net [data-transition="inc"]');
  await waitForEvents(page, 2);
  await page.click('#transitions [data-transition="inc"]');
  await waitForEvents(page, 3);
  await pending(page, 2);
  assert.equal((await remote(stream)).head.seq, 1, "nothing reached the server while offline");

  await context.setOffline(false);
  await pending(page, 0);
  const copy = await remote(stream);
  assert.equal(copy.head.seq, 3);
  const hashes = await page.locator("#log tbody td:nth-child(5)").evaluateAll((tds) => tds.map((td) => td.title));
  assert.deepEqual(copy.events.map((e) => e.hash).reverse(), hashes, "the server holds the very same chain");
  assert.equal(await tokens(page, "count"), 3);
  assert.deepEqual(realErrors(errors), []);
  await context.close();
});

test("two browsers sync one stream through the server; a double spend becomes a conflict with its reason", async () => {
  const a = await openApp(browser, app.url);
  const b = await openApp(browser, app.url);
  await keepSyncing(a.page);
  await keepSyncing(b.page);
  const stream = await startExample(a.page, "order");
  // B may fire any role of A's stream: A grants it `*` from B's join code (seq 1).
  await grantRole(a.page, b.page, "*");
  await a.page.click('#net [data-transition="place_order"]');
  await waitForEvents(a.page, 2);
  await a.page.click('#net [data-transition="pay"]');
  await waitForEvents(a.page, 3);
  await pending(a.page, 0);

  // B sees the stream in the server's list, follows it and opens it.
  await followStream(b.page, stream);
  await b.page.click(`#streams [data-stream="${stream}"]`);
  await b.page.waitForFunction((id) => document.body.dataset.stream === id, stream);
  await waitForEvents(b.page, 3);
  assert.equal(await tokens(b.page, "paid"), 1);

  // Both ship the one paid order while offline.
  await a.context.setOffline(true);
  await b.context.setOffline(true);
  await a.page.click('#net [data-transition="ship"]');
  await waitForEvents(a.page, 4);
  await b.page.click('#net [data-transition="ship"]');
  await waitForEvents(b.page, 4);
  await a.context.setOffline(false);
  await pending(a.page, 0);
  await b.context.setOffline(false);

  // B rebases on A's chain: its ship is refused by the net and kept as a conflict.
  await b.page.waitForSelector("#sync-conflicts li");
  assert.match(
    await b.page.textContent("#sync-conflicts li .c-text"),
    /^ship \(note “me”\) was refused: NOT_ENABLED: .*'paid' has 0/,
  );
  await b.page.screenshot({ path: `${artifacts}app-sync-conflict.png`, fullPage: true });
  await pending(b.page, 0);
  await waitForEvents(b.page, 4);
  const hashesA = await a.page.locator("#log tbody td:nth-child(5)").evaluateAll((tds) => tds.map((td) => td.title));
  const hashesB = await b.page.locator("#log tbody td:nth-child(5)").evaluateAll((tds) => tds.map((td) => td.title));
  assert.deepEqual(hashesB, hashesA, "both browsers hold the same chain");
  assert.equal(await tokens(b.page, "stock"), 1, "one ship, not two");
  assert.equal((await remote(stream)).head.seq, 4);

  await b.page.click("#sync-clear");
  await b.page.waitForSelector("#sync-conflicts-box", { state: "hidden" });
  assert.deepEqual(realErrors(a.errors), []);
  assert.deepEqual(realErrors(b.errors), []);
  for (const { context } of [a, b]) await context.close();
});
