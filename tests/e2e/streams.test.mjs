// Managing streams: rename (a label; the id stays), archive, filter,
// counts, and delete from this browser after offering a copy, each with a
// confirmation.
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

const listed = (page) => page.locator("#streams [data-stream]").evaluateAll((els) => els.map((e) => e.dataset.stream));

/** Clicks `button`, then the dialog's button whose value is `choice` (after filling its input with `text`). */
async function confirm(page, button, choice, text) {
  await page.click(button);
  await page.waitForSelector("dialog[open]");
  if (text !== undefined) await page.fill("dialog[open] input", text);
  await page.click(`dialog[open] [data-choice="${choice}"]`);
  await page.waitForSelector("dialog[open]", { state: "detached" });
}

test("streams: rename keeps the id, archive hides, filters and counts follow, delete offers a copy first", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const a = await startExample(page, "counter");
  await page.click('#net [data-transition="inc"]');
  await waitForEvents(page, 1);
  const b = await startExample(page, "order");
  const c = await startExample(page, "transfer");
  assert.equal(await page.textContent("#stream-counts"), "3 active · 0 archived · 1 event");

  // Rename: the label shows, the id stays (in the list and on the events).
  await page.click(`#streams [data-stream="${a}"]`);
  await page.waitForFunction((id) => document.body.dataset.stream === id, a);
  await confirm(page, "#stream-rename", "rename", "My counter");
  await page.waitForFunction(() => document.getElementById("stream-title").textContent === "My counter");
  assert.equal(await page.getAttribute("body", "data-stream"), a, "the id did not change");
  assert.match(await page.textContent(`#streams [data-stream="${a}"]`), /^My counter/);
  assert.match(await page.textContent("#stream-id-note"), new RegExp(a));
  // Escape cancels and changes nothing.
  await page.click("#stream-rename");
  await page.waitForSelector("dialog[open]");
  await page.fill("dialog[open] input", "not this");
  await page.keyboard.press("Escape");
  await page.waitForSelector("dialog[open]", { state: "detached" });
  assert.equal(await page.textContent("#stream-title"), "My counter");

  // Filter by label or net name.
  await page.fill("#stream-filter", "my coun");
  await page.waitForFunction(() => document.querySelectorAll("#streams [data-stream]").length === 1);
  assert.deepEqual(await listed(page), [a]);
  await page.fill("#stream-filter", "transfer");
  await page.waitForFunction((id) => document.querySelector("#streams [data-stream]")?.dataset.stream === id, c);
  await page.fill("#stream-filter", "nothing like it");
  await page.waitForSelector("#streams li.subtle");
  assert.equal(await page.textContent("#streams li"), "No stream matches.");
  await page.fill("#stream-filter", "");

  // Archive: out of the active list, in the archived one, counted.
  await page.click(`#streams [data-stream="${b}"]`);
  await page.waitForFunction((id) => document.body.dataset.stream === id, b);
  await confirm(page, "#stream-archive", "archive");
  await page.waitForFunction(() =>
    document.getElementById("stream-counts").textContent.startsWith("2 active · 1 archived"),
  );
  assert.deepEqual((await listed(page)).sort(), [a, c].sort());
  await page.selectOption("#stream-show", "archived");
  await page.waitForFunction((id) => document.querySelector("#streams [data-stream]")?.dataset.stream === id, b);
  assert.match(await page.textContent(`#streams [data-stream="${b}"]`), /archived/);
  assert.equal(await page.textContent("#stream-archive"), "Unarchive");
  await page.click("#stream-archive");
  await page.waitForFunction(() => document.getElementById("stream-counts").textContent.startsWith("3 active"));
  await page.selectOption("#stream-show", "all");
  assert.equal((await listed(page)).length, 3);
  await page.screenshot({ path: `${artifacts}streams-managed.png`, fullPage: true });

  // Delete: the dialog offers the events as a download first, then deletes.
  await page.click(`#streams [data-stream="${a}"]`);
  await page.waitForFunction((id) => document.body.dataset.stream === id, a);
  await page.click("#stream-delete");
  await page.waitForSelector("dialog[open]");
  assert.match(await page.textContent("dialog[open] h2"), /^Delete My counter from this browser\?/);
  await page.screenshot({ path: `${artifacts}streams-delete-dialog.png` });
  assert.deepEqual(await seriousA11yViolations(page), [], "the delete dialog");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#delete-export")]);
  assert.equal(download.suggestedFilename(), `${a}.jsonl`);
  const saved = await readFile(await download.path(), "utf8");
  assert.equal(saved.trim().split("\n").length, 2, "a header and the one event");
  await page.click('dialog[open] [data-choice="delete"]');
  await page.waitForFunction(() => document.body.dataset.stream === "");
  await page.waitForSelector(`#streams [data-stream="${a}"]`, { state: "detached" });
  assert.equal(await page.isVisible("#empty"), true);
  assert.deepEqual((await listed(page)).sort(), [b, c].sort());
  assert.equal(await page.textContent("#stream-counts"), "2 active · 0 archived · 0 events");

  // Gone after a reload too.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.deepEqual((await listed(page)).sort(), [b, c].sort());
  assert.deepEqual(errors, []);
  await context.close();
});
