// Which server streams a browser follows is the user's choice, through the
// real reference server: a new browser lists the server's streams without
// pulling them, follows one to bring it here, and a stream deleted here is
// unfollowed, so it stays deleted after the next syncs (and a reload) until
// it is followed again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  serveAppWithServer,
  launchBrowser,
  artifacts,
  openApp,
  startExample,
  waitForEvents,
  followStream,
  seriousA11yViolations,
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

/** Clicks "Sync now" and waits until that run is done (data-runs counts them) and the status is idle. */
async function syncNow(page) {
  const before = Number((await page.getAttribute("#sync-state", "data-runs")) ?? 0);
  await page.click("#sync-now");
  await page.waitForFunction((n) => {
    const state = document.getElementById("sync-state").dataset;
    return Number(state.runs ?? 0) > n && state.state === "idle";
  }, before);
}

const localStreams = (page) =>
  page.locator("#streams [data-stream]").evaluateAll((els) => els.map((e) => e.dataset.stream));
const followBox = (page, id) => page.locator(`#remote-streams [data-follow="${id}"]`);

test("a deleted stream is unfollowed and stays deleted after the next sync", async () => {
  const a = await openApp(browser, app.url);
  const stream = await startExample(a.page, "counter");
  await a.page.click('#net [data-transition="inc"]');
  await waitForEvents(a.page, 1);
  await syncNow(a.page);

  // A new browser: the server's stream is listed, not pulled.
  const b = await openApp(browser, app.url);
  await syncNow(b.page);
  await followBox(b.page, stream).waitFor();
  assert.equal(await followBox(b.page, stream).isChecked(), false);
  assert.deepEqual(await localStreams(b.page), [], "nothing pulled without following");
  assert.match(await b.page.textContent("#remote-status"), /1 stream of the server not in this browser/);
  await b.page.locator("#sync-panel").screenshot({ path: `${artifacts}follow-list.png` });
  assert.deepEqual(await seriousA11yViolations(b.page), [], "the follow list");

  // Follow: pulled, with its event.
  await followStream(b.page, stream);
  await b.page.click(`#streams [data-stream="${stream}"]`);
  await b.page.waitForFunction((id) => document.body.dataset.stream === id, stream);
  await waitForEvents(b.page, 1);
  assert.equal(await followBox(b.page, stream).count(), 0, "held here: no longer in the server's list");

  // Delete it here: it stays deleted through syncs, a new event on the server and a reload.
  await b.page.click("#stream-delete");
  await b.page.click('dialog[open] [data-choice="delete"]');
  await b.page.waitForFunction(() => !document.body.dataset.stream);
  await syncNow(b.page);
  assert.deepEqual(await localStreams(b.page), []);
  await followBox(b.page, stream).waitFor();
  assert.equal(await followBox(b.page, stream).isChecked(), false, "unfollowed");
  await a.page.click('#net [data-transition="inc"]');
  await waitForEvents(a.page, 2);
  await syncNow(a.page);
  await b.page.reload();
  await b.page.waitForSelector("body[data-ready=true]");
  await syncNow(b.page);
  await followBox(b.page, stream).waitFor();
  assert.deepEqual(await localStreams(b.page), [], "still deleted after a sync that follows a reload");
  await b.page.locator("#sync-panel").screenshot({ path: `${artifacts}follow-after-delete.png` });

  // Followed again: back, with the server's two events.
  await followStream(b.page, stream);
  await b.page.click(`#streams [data-stream="${stream}"]`);
  await b.page.waitForFunction((id) => document.body.dataset.stream === id, stream);
  await waitForEvents(b.page, 2);
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  for (const { context } of [a, b]) await context.close();
});
