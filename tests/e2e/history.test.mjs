// History and storage: any event of a stream shows the net as it was after
// it (marking and drawing) and its difference with another point; the
// storage panel shows persistence and usage, warns when the browser may
// evict, and backs up every stream in one file that restores into a fresh
// browser with the same chains.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  serveApp,
  launchBrowser,
  artifacts,
  openApp,
  startExample,
  waitForEvents,
  tokens,
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

const historyTokens = async (page, place) => ({
  drawn: Number(await page.getAttribute(`#history-net [data-place="${place}"]`, "data-tokens")),
  at: Number(await page.locator(`#history-diff tr[data-place="${place}"] td`).nth(1).textContent()),
  other: Number(await page.locator(`#history-diff tr[data-place="${place}"] td`).nth(2).textContent()),
});

test("history: the marking and the drawing after any event, and the difference between two", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await startExample(page, "transfer");
  await page.selectOption("#role", "*");
  const moves = [
    ["alice_to_bob", 10],
    ["bob_to_carol", 5],
    ["alice_to_carol", 20],
  ];
  for (const [i, [t, n]] of moves.entries()) {
    await page.fill("#amount", String(n));
    await page.click(`#transitions [data-transition="${t}"]`);
    await waitForEvents(page, i + 1);
  }
  assert.equal(await tokens(page, "alice"), 70);

  // Pick event 1 in the log: the net after it, compared with the head.
  await page.click('#log [data-history="1"]');
  await page.waitForFunction(() => document.getElementById("history-net").dataset.seq === "1");
  assert.deepEqual(await historyTokens(page, "alice"), { drawn: 90, at: 90, other: 70 });
  assert.deepEqual(await historyTokens(page, "bob"), { drawn: 60, at: 60, other: 55 });
  assert.equal(
    await page.getAttribute('#history-net [data-transition="alice_to_bob"]', "class"),
    "pc-transition pc-enabled pc-highlight",
  );
  assert.match(
    await page.textContent("#history-summary"),
    /^After event 1: alice_to_bob ×10 by me.*Compared with event 3: 2 events apart, 3 places differ\./,
  );
  assert.equal(await page.evaluate(() => document.activeElement.id), "history-section", "focus moves to the history");

  // Event 0 against event 2, typed in.
  await page.fill("#history-seq", "0");
  await page.fill("#history-other", "2");
  await page.click('#history-form [type="submit"]');
  await page.waitForFunction(() => document.getElementById("history-net").dataset.seq === "0");
  assert.deepEqual(await historyTokens(page, "alice"), { drawn: 100, at: 100, other: 90 });
  assert.deepEqual(await historyTokens(page, "carol"), { drawn: 25, at: 25, other: 30 });
  assert.equal(await page.textContent('#history-diff tr[data-place="carol"] td:nth-child(4)'), "+5");
  assert.match(
    await page.textContent("#history-summary"),
    /^Before any event: the initial marking\. Compared with event 2/,
  );
  // Out of range: clamped to the stream.
  await page.fill("#history-seq", "99");
  await page.click('#history-form [type="submit"]');
  await page.waitForFunction(() => document.getElementById("history-net").dataset.seq === "3");
  await page.screenshot({ path: `${artifacts}history.png`, fullPage: true });
  // The live view is untouched.
  assert.equal(await tokens(page, "alice"), 70);
  await page.click("#history-close");
  assert.equal(await page.isHidden("#history-section"), true);
  assert.deepEqual(errors, []);
  await context.close();
});

test("storage: persistence and usage shown, a warning when not persistent; a full backup restores into a fresh browser", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.waitForFunction(() => document.getElementById("storage-used").textContent !== "…");
  assert.match(await page.textContent("#storage-used"), /^\d+\.\d MB of \d+\.\d [MG]B \(/);
  const persisted = await page.evaluate(() => navigator.storage.persisted());
  assert.equal(await page.getAttribute("#storage-persisted", "data-persisted"), String(persisted));
  assert.equal(await page.isVisible("#storage-warning"), !persisted, "the warning shows exactly when not persistent");

  const counter = await startExample(page, "counter");
  for (let i = 0; i < 2; i++) {
    await page.click('#net [data-transition="inc"]');
    await waitForEvents(page, i + 1);
  }
  await page.click("#stream-rename");
  await page.fill("dialog[open] input", "Kept counter");
  await page.click('dialog[open] [data-choice="rename"]');
  const order = await startExample(page, "order");
  await page.click('#net [data-transition="place_order"]');
  await waitForEvents(page, 1);
  const hashesOf = async (p, id) => {
    await p.click(`#streams [data-stream="${id}"]`);
    await p.waitForFunction((id) => document.body.dataset.stream === id, id);
    await p.waitForFunction(() => document.getElementById("verify-badge").dataset.state === "verified");
    return p.locator("#log tbody td:nth-child(5)").evaluateAll((tds) => tds.map((td) => td.title));
  };
  const before = { [counter]: await hashesOf(page, counter), [order]: await hashesOf(page, order) };

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#backup-all")]);
  assert.match(download.suggestedFilename(), /^petrichain-backup-\d{4}-\d\d-\d\d\.jsonl$/);
  const file = await download.path();
  const lines = (await readFile(file, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines[0].format, "petrichain-backup");
  assert.equal(lines[0].streams, 2);
  assert.equal(lines.filter((l) => l.format === "petrichain-stream").length, 2);
  assert.equal(lines.filter((l) => l.v === 2).length, 3, "every event");
  assert.match(await page.textContent("#backup-status"), /^Backed up 2 streams/);
  await page.screenshot({ path: `${artifacts}storage-panel.png`, fullPage: true });
  assert.deepEqual(await seriousA11yViolations(page), [], "the storage panel with its warning");

  // A fresh browser (its own IndexedDB): restore, same chains, labels back.
  const fresh = await openApp(browser, app.url);
  await fresh.page.setInputFiles("#restore-input", file);
  await fresh.page.waitForSelector("#backup-status [data-restored]");
  assert.equal(await fresh.page.getAttribute("#backup-status [data-restored]", "data-restored"), "2");
  assert.match(await fresh.page.textContent("#backup-status"), /^Restored 2 of 2 streams .* \(3 events added\)\./);
  assert.equal(await hashesOf(fresh.page, counter).then((h) => h.join()), before[counter].join());
  assert.equal(await hashesOf(fresh.page, order).then((h) => h.join()), before[order].join());
  assert.equal(await fresh.page.textContent(`#streams [data-stream="${counter}"] .s-id`), "Kept counter");
  // Restoring again adds nothing (same chains); a file that is not a backup says so.
  await fresh.page.setInputFiles("#restore-input", file);
  await fresh.page.waitForFunction(() =>
    /\(0 events added\)/.test(document.getElementById("backup-status").textContent),
  );
  await fresh.page.setInputFiles("#restore-input", {
    name: "notes.jsonl",
    mimeType: "text/plain",
    buffer: Buffer.from("hello\n"),
  });
  await fresh.page.waitForFunction(() =>
    /^IMPORT_SYNTAX: line 1/.test(document.getElementById("backup-status").textContent),
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(fresh.errors, []);
  for (const c of [context, fresh.context]) await c.close();
});
