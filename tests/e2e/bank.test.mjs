// The Bank example of the gallery in headless Chromium: keyed places and
// parameterized transitions from the app. Accounts open with 100, a
// transfer moves the amount between two of them, an overdraft is refused
// with the key named, the total stays, the entries are listed (the top by
// count, a search by key prefix, paged), the drawing shows the number of
// keys and the total, at 1280 and 390 px with no serious axe violation, and
// a reload keeps everything (the keys read back from their key records).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  serveApp,
  launchBrowser,
  artifacts,
  openApp,
  startExample,
  tokens,
  drawnTokens,
  waitForEvents,
  seriousA11yViolations,
} from "./helpers.mjs";

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

/** Fires `action` with `args` (the parameter inputs) and `amount`. */
async function fire(page, action, args, amount = 1) {
  for (const [name, value] of Object.entries(args)) await page.fill(`#fire-args [data-arg="${name}"]`, value);
  await page.fill("#amount", String(amount));
  await page.click(`#transitions [data-transition="${action}"]`);
}

/** The top list of `place` as shown: [[key, count], ...] in its order. */
async function topList(page, place) {
  const rows = page.locator(`#keys-panel [data-keys-top="${place}"] tbody tr`);
  const out = [];
  for (const row of await rows.all()) {
    out.push([await row.locator("td.key").textContent(), Number(await row.locator("td:last-child").textContent())]);
  }
  return out;
}

/** The top list of `place` as { key: count }. */
async function listed(page, place) {
  return Object.fromEntries(await topList(page, place));
}

/** Waits until the top list shows `count` for `key`. */
async function waitForEntry(page, key, count) {
  await page.waitForFunction(
    ([k, n]) =>
      document.querySelector(`#keys-panel [data-keys-top] tr[data-key="${k}"] td:last-child`)?.textContent === n,
    [key, String(count)],
  );
}

/** The keys the search shows for `place`, in order. */
async function matches(page, place) {
  return page.locator(`#keys-panel [data-keys-matches="${place}"] tbody td.key`).allTextContents();
}

/** Searches the keys of `place` for `prefix` and waits for the answer. */
async function search(page, place, prefix) {
  await page.fill(`#keys-panel [data-keys-search="${place}"]`, prefix);
  await page.click(`#keys-panel [data-keyed-place="${place}"] .key-search button[type=submit]`);
  await page.waitForFunction(
    ([p, q]) => document.querySelector(`[data-keys-found="${p}"]`)?.textContent.includes(`“${q}”`),
    [place, prefix],
  );
}

test("Bank: open accounts, transfer, refuse an overdraft; the total is kept and the keys are listed", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const id = await startExample(page, "bank");
  assert.match(id, /^bank-[0-9a-z]{4}$/);
  assert.equal(await page.isVisible("#fire-args"), true, "the parameters get inputs");

  for (const [i, user] of ["alice", "bob", "carol"].entries()) {
    await fire(page, "open", { user });
    await waitForEvents(page, i + 1);
  }
  await fire(page, "transfer", { from: "alice", to: "bob" }, 30);
  await waitForEvents(page, 4);
  assert.equal(await page.isVisible("#error"), false);
  await waitForEntry(page, "alice", 70);
  assert.deepEqual(
    await topList(page, "balance"),
    [
      ["bob", 130],
      ["carol", 100],
      ["alice", 70],
    ],
    "highest first",
  );
  assert.equal(await tokens(page, "balance"), 300, "the marking shows the total");
  assert.equal(await drawnTokens(page, "balance"), 300);
  assert.equal(await page.getAttribute('#net [data-place="balance"]', "data-keys"), "3");
  assert.equal(await page.textContent('#net [data-place="balance"] .pc-keys'), "3 keys");

  // Overdraft: refused, the key named, nothing stored.
  await fire(page, "transfer", { from: "alice", to: "carol" }, 71);
  await page.waitForSelector("#error:not([hidden])");
  assert.match(await page.textContent("#error"), /^NOT_ENABLED: .*'balance\[alice\]' has 70 token\(s\), needs 71/);
  // To oneself: refused by the distinct constraint.
  await fire(page, "transfer", { from: "bob", to: "bob" }, 1);
  await page.waitForFunction(() => /BAD_ARGUMENT/.test(document.getElementById("error").textContent));
  // To somebody who never opened an account: refused by the read arc.
  await fire(page, "transfer", { from: "bob", to: "dave" }, 1);
  await page.waitForFunction(() => /READ_ARC_UNMET/.test(document.getElementById("error").textContent));
  await waitForEvents(page, 4);
  assert.equal(await tokens(page, "balance"), 300, "the total is kept");

  // Twenty-two more accounts: the top list shows the 20 highest, ties in
  // key order; u22 pays alice all it has and its key goes.
  const more = Array.from({ length: 22 }, (_, i) => `u${String(i + 1).padStart(2, "0")}`);
  for (const [i, user] of more.entries()) {
    await fire(page, "open", { user });
    await waitForEvents(page, 5 + i);
  }
  await fire(page, "transfer", { from: "u22", to: "alice" }, 100);
  await waitForEvents(page, 27);
  await waitForEntry(page, "alice", 170);
  const top = await topList(page, "balance");
  assert.equal(top.length, 20);
  assert.deepEqual(top.slice(0, 4), [
    ["alice", 170],
    ["bob", 130],
    ["carol", 100],
    ["u01", 100],
  ]);
  assert.deepEqual(top.at(-1), ["u17", 100]);
  assert.equal(await page.textContent('[data-keys-count="balance"]'), "24 keys");
  assert.equal(await page.textContent('[data-keys-total="balance"]'), "2500");
  assert.match(await page.textContent('[data-keys-top="balance"] caption'), /The 20 highest of 24 keys/);

  // Search by prefix: "u1" matches u10 to u19; "u" has 21, a page of 20
  // and then the last one; an exact key shows its count.
  await search(page, "balance", "u1");
  assert.deepEqual(await matches(page, "balance"), more.slice(9, 19));
  assert.match(await page.textContent('[data-keys-found="balance"]'), /^10 keys starting with “u1”$/);
  await search(page, "balance", "u");
  assert.equal((await matches(page, "balance")).length, 20);
  assert.match(await page.textContent('[data-keys-found="balance"]'), /the first 20 keys starting with “u”/);
  await page.click('[data-keys-more="balance"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-keys-matches="balance"] tbody tr').length === 21);
  assert.deepEqual(await matches(page, "balance"), more.slice(0, 21), "u22 holds nothing: not listed");
  assert.equal(await page.isVisible('[data-keys-more="balance"]'), false, "no more pages");
  await search(page, "balance", "bob");
  assert.match(await page.textContent('[data-keys-found="balance"]'), /^bob: 130 · 1 key starting with “bob”$/);
  await search(page, "balance", "zed");
  assert.equal(await page.textContent('[data-keys-found="balance"]'), "No key starts with “zed”.");
  await search(page, "balance", "u0");
  await page.locator('#keys-panel [data-keyed-place="balance"]').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${artifacts}bank.png`, fullPage: true });
  await page.locator("#keys-panel").screenshot({ path: `${artifacts}bank-entries.png` });
  assert.deepEqual(await seriousA11yViolations(page), [], "the entries view, searched");

  // At a phone's width: the same entries, no sideways scrolling, clean.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#keys-panel [data-keyed-place="balance"]').scrollIntoViewIfNeeded();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling (page is ${width} px wide)`);
  await page.locator("#keys-panel").screenshot({ path: `${artifacts}bank-entries-390.png` });
  assert.deepEqual(await seriousA11yViolations(page), [], "the entries view at 390 px");
  await page.setViewportSize({ width: 1280, height: 720 });

  // A reload: the entries come back from the key records.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.getAttribute("body", "data-stream"), id, "the open stream is remembered");
  await waitForEntry(page, "bob", 130);
  await fire(page, "transfer", { from: "bob", to: "carol" }, 130);
  await waitForEvents(page, 28);
  await waitForEntry(page, "carol", 230);
  const after = await listed(page, "balance");
  assert.equal(after.bob, undefined, "bob holds nothing: his key is gone");
  assert.deepEqual((await topList(page, "balance")).slice(0, 2), [
    ["carol", 230],
    ["alice", 170],
  ]);
  assert.equal(await page.textContent('[data-keys-count="balance"]'), "23 keys");
  await search(page, "balance", "b");
  assert.equal(await page.textContent('[data-keys-found="balance"]'), "No key starts with “b”.");
  assert.match(await page.textContent("#verify-badge"), /verified · 28 events/);
  assert.deepEqual(errors, []);
  await context.close();
});
