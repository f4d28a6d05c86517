// The Bank example of the gallery in headless Chromium: keyed places and
// parameterized transitions from the app. Accounts open with 100, a
// transfer moves the amount between two of them, an overdraft is refused
// with the key named, the total stays, the keys are listed and looked up,
// the drawing shows the number of keys and the total, and a reload keeps
// everything (the keys rebuilt from the stored events).
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

/** The keys listed for `place`: { key: count }. */
async function listed(page, place) {
  const rows = page.locator(`#keys-panel [data-keyed-place="${place}"] tbody tr`);
  const out = {};
  for (const row of await rows.all()) {
    const [key, n] = await row.locator("td").allTextContents();
    out[key] = Number(n);
  }
  return out;
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
  await page.waitForFunction(
    () => document.querySelector('#keys-panel [data-key="alice"] td.num')?.textContent === "70",
  );
  assert.deepEqual(await listed(page, "balance"), { alice: 70, bob: 130, carol: 100 });
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

  // Look a key up.
  await page.fill('#keys-panel [data-keys-search="balance"]', "bob");
  await page.click('#keys-panel [data-keyed-place="balance"] .key-search button');
  await page.waitForFunction(() => document.querySelector('[data-keys-found="balance"]')?.textContent === "bob: 130");
  await page.screenshot({ path: `${artifacts}bank.png`, fullPage: true });

  // A reload: the keys come back from the stored events.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.getAttribute("body", "data-stream"), id, "the open stream is remembered");
  await page.waitForFunction(
    () => document.querySelector('#keys-panel [data-key="bob"] td.num')?.textContent === "130",
  );
  await fire(page, "transfer", { from: "bob", to: "alice" }, 130);
  await waitForEvents(page, 5);
  await page.waitForFunction(
    () => document.querySelector('#keys-panel [data-key="alice"] td.num')?.textContent === "200",
  );
  assert.deepEqual(await listed(page, "balance"), { alice: 200, carol: 100 }, "bob holds nothing: his key is gone");
  assert.match(await page.textContent("#verify-badge"), /verified · 5 events/);
  assert.deepEqual(errors, []);
  await context.close();
});
