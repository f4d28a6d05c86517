// The Analysis panel in headless Chromium: invariants as sentences, the
// conserved-total badge next to the chain badge, bounds, deadlocks with a
// Replay button that fires the counterexample on a scratch stream, and the
// CSV export of the stream's replayed markings.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
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

test("the transfer net: its conservation law in words and as a badge, its bounds", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await startExample(page, "transfer");
  await page.waitForSelector("#analysis-section:not([hidden])");
  const sentences = await page.locator("#invariants li").allTextContents();
  assert.deepEqual(sentences, ["The total of Alice, Bob and Carol is always 175."]);
  const badge = page.locator("#conserved-badge");
  assert.equal(await badge.isVisible(), true);
  assert.equal(await badge.textContent(), "∑ Alice + Bob + Carol = 175");
  assert.equal(await badge.getAttribute("data-total"), "175");
  // Next to the chain badge.
  assert.equal(
    await page.evaluate(() => document.getElementById("verify-badge").nextElementSibling.id),
    "conserved-badge",
  );
  assert.equal(await page.textContent("#space-summary"), "Explored 15,576 states and 92,400 firings: exhaustive.");
  assert.equal(await page.getAttribute("#space-summary", "data-complete"), "true");
  const alice = await page.locator('#bounds tr[data-place="alice"] td').allTextContents();
  assert.deepEqual(alice, ["175", "175"]);
  assert.match(await page.textContent("#deadlocks"), /None: in every reachable marking something can fire/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the order net: a deadlock, replayed on a scratch stream, ends where nothing can fire", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const original = await startExample(page, "order");
  await page.waitForSelector("#analysis-section:not([hidden])");
  assert.equal(await page.textContent("#invariants li"), "The total of Cart, Paid, Placed and Shipped is always 1.");
  const deadlocks = page.locator("#deadlocks li[data-deadlock]");
  assert.equal(await deadlocks.count(), 1);
  assert.equal(
    await deadlocks.first().locator(".sequence").textContent(),
    "place_order → pay → restock → restock → restock → ship → restock",
  );
  await deadlocks.first().locator("button.replay").click();
  await page.waitForFunction((o) => document.body.dataset.stream.startsWith(`${o}-replay-`), original);
  await waitForEvents(page, 7);
  assert.equal(await tokens(page, "shipped"), 1);
  assert.equal(await tokens(page, "stock"), 5);
  const enabled = await page.$$eval("#transitions [data-transition]", (els) =>
    els.map((e) => e.getAttribute("data-enabled")),
  );
  assert.ok(enabled.length > 0 && enabled.every((e) => e === "false"), `${enabled}`);
  // A redraw may start another verification meanwhile: wait for its verdict.
  await page.waitForSelector("#verify-badge.good");
  // The stream that was open keeps its (empty) history.
  assert.ok(await page.locator(`#streams [data-stream="${original}"]`).count());

  // The replayed stream's markings, recomputed from its events, as CSV.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-states")]);
  const csv = await readFile(await download.path(), "utf8");
  const lines = csv.trim().split("\n");
  assert.equal(lines[0], "seq,action,actor,ts,cart,paid,placed,shipped,stock");
  assert.equal(lines.length, 8);
  assert.match(lines[7], /^7,restock,replay,\d+,0,0,0,1,5$/);
  const [json] = await Promise.all([page.waitForEvent("download"), page.click("#export-counts")]);
  const counts = JSON.parse(await readFile(await json.path(), "utf8"));
  assert.equal(counts.events, 7);
  assert.deepEqual(Object.fromEntries(counts.counts.map((c) => [c.transition, c.count])), {
    pay: 1,
    place_order: 1,
    restock: 4,
    ship: 1,
  });
  assert.deepEqual(errors, []);
  await context.close();
});
