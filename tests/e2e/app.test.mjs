// The app in headless Chromium: examples, firing by clicking the drawing and
// by keyboard, refusals with the engine's reason, the log and its
// verification, streams, reload, exports. Each test has its own browser
// context, so its own IndexedDB.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
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

test("an example fires by clicking the drawing; the log grows, the marking changes, the chain verifies", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  assert.equal(await page.isVisible("#empty"), true, "no stream before one is started");
  assert.match(await startExample(page, "order"), /^order-[0-9a-z]{4}$/);
  assert.match(await page.getAttribute("#net svg", "data-model"), /^[0-9a-f]{64}$/);
  assert.equal(await drawnTokens(page, "cart"), 1);
  assert.equal(await page.getAttribute('#net [data-transition="place_order"]', "data-enabled"), "true");
  assert.equal(await page.getAttribute('#net [data-transition="pay"]', "data-enabled"), "false");
  await waitForEvents(page, 0);
  assert.match(await page.textContent("#verify-badge"), /verified · 0 events/);

  await page.click('#net [data-transition="place_order"]');
  await waitForEvents(page, 1);
  assert.equal(await drawnTokens(page, "cart"), 0);
  assert.equal(await drawnTokens(page, "placed"), 1);
  assert.equal(await tokens(page, "placed"), 1);
  assert.equal(await page.getAttribute('#net [data-transition="pay"]', "data-enabled"), "true");
  assert.equal(await page.getAttribute('#transitions [data-transition="pay"]', "data-enabled"), "true");

  await page.click('#net [data-transition="pay"]');
  await waitForEvents(page, 2);
  const row = page.locator("#log tbody tr").first();
  assert.equal(await row.getAttribute("data-seq"), "2", "newest first");
  const cells = await row.locator("td").allTextContents();
  assert.equal(cells[1], "pay");
  assert.equal(cells[2], "me");
  assert.match(cells[4], /^[0-9a-f]{10}$/);
  const first = await page.locator("#log tbody tr").nth(1).locator("td").allTextContents();
  assert.equal(cells[5], first[4], "prev of event 2 is the hash of event 1");
  assert.equal(first[5], "0000000000", "prev of the first event is zeros");
  // Each event names its signer: this browser's device key ("you"), whose
  // fingerprint is shown above the log.
  const device = await page.getAttribute("#device-key", "title");
  const key = device.match(/[0-9a-f]{64}/)[0];
  assert.equal(await page.textContent("#device-key"), await page.textContent("#device-fingerprint"));
  assert.match(await page.textContent("#device-key"), /^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/);
  assert.equal(cells[6], "you");
  assert.equal(await row.locator("td").nth(6).getAttribute("data-signer"), key);
  // A redraw may start another verification meanwhile: wait for its verdict.
  await page.waitForSelector("#verify-badge.good");
  await page.screenshot({ path: `${artifacts}app-main.png`, fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test("a refused action shows the engine's reason and stores nothing", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await startExample(page, "order");
  await page.selectOption("#role", "customer");
  assert.equal(await page.getAttribute('#net [data-transition="ship"]', "data-enabled"), "false");
  await page.click('#net [data-transition="ship"]');
  await page.waitForSelector("#error:not([hidden])");
  assert.match(await page.textContent("#error"), /^ROLE_DENIED: 'ship' requires role 'warehouse'/);
  await page.selectOption("#role", "*");
  await page.click('#net [data-transition="ship"]');
  await page.waitForFunction(() => document.getElementById("error").textContent.startsWith("NOT_ENABLED"));
  assert.match(await page.textContent("#error"), /place 'paid' has 0 token/);
  assert.equal(await tokens(page, "stock"), 2);
  await waitForEvents(page, 0);
  await page.click('#net [data-transition="place_order"]');
  await waitForEvents(page, 1);
  assert.equal(await page.isHidden("#error"), true, "a successful firing clears the reason");
  assert.deepEqual(errors, []);
  await context.close();
});

test("the money transfer moves amounts (multiple) and conserves the total", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await startExample(page, "transfer");
  assert.equal(await page.textContent("#marking-total"), "175");
  await page.selectOption("#role", "alice");
  await page.fill("#amount", "30");
  await page.click('#net [data-transition="alice_to_bob"]');
  await waitForEvents(page, 1);
  assert.equal(await tokens(page, "alice"), 70);
  assert.equal(await tokens(page, "bob"), 80);
  assert.equal(await page.textContent("#marking-total"), "175");
  assert.equal(await page.textContent("#log tbody tr >> nth=0 >> td >> nth=1"), "alice_to_bob ×30");
  await page.fill("#amount", "71");
  await page.click('#transitions [data-transition="alice_to_carol"]');
  await page.waitForSelector("#error:not([hidden])");
  assert.match(await page.textContent("#error"), /^NOT_ENABLED: .*'alice' has 70 .*needs 71/);
  await page.click('#net [data-transition="bob_to_alice"]');
  await page.waitForFunction(() => document.getElementById("error").textContent.startsWith("ROLE_DENIED"));
  assert.equal(await page.textContent("#marking-total"), "175");
  await waitForEvents(page, 1);
  assert.deepEqual(errors, []);
  await context.close();
});

test("tic-tac-toe (pflow JSON-LD) enforces turns through roles", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await startExample(page, "tictactoe");
  await page.selectOption("#role", "x");
  assert.equal(await page.locator('#transitions [data-enabled="true"]').count(), 9);
  await page.click('#net [data-transition="X11"]');
  await waitForEvents(page, 1);
  assert.equal(await drawnTokens(page, "_X11"), 1);
  assert.equal(await drawnTokens(page, "P11"), 0);
  await page.click('#net [data-transition="X00"]');
  await page.waitForSelector("#error:not([hidden])");
  assert.match(
    await page.textContent("#error"),
    /^CAPACITY_EXCEEDED: 'X00' .*place 'Next'/,
    "x cannot play twice in a row",
  );
  await page.selectOption("#role", "o");
  assert.equal(await page.locator('#transitions [data-enabled="true"]').count(), 8);
  await page.click('#net [data-transition="O00"]');
  await waitForEvents(page, 2);
  assert.deepEqual(errors, []);
  await context.close();
});

test("transitions are reachable and firable by keyboard", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  await page.focus('#gallery [data-example="counter"]');
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.body.dataset.stream.startsWith("counter-"));
  // Tab from the amount field reaches the transition list.
  await page.focus("#amount");
  let focused = null;
  for (let i = 0; i < 8 && focused !== "inc"; i++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.dataset?.transition ?? null);
  }
  assert.equal(focused, "inc", "Tab reaches the first transition");
  await page.keyboard.press("Enter");
  await waitForEvents(page, 1);
  assert.equal(
    await page.evaluate(() => document.activeElement?.dataset?.transition),
    "inc",
    "focus stays on the button",
  );
  await page.keyboard.press("Space");
  await waitForEvents(page, 2);
  assert.equal(await tokens(page, "count"), 2);
  await page.keyboard.press("Enter");
  await waitForEvents(page, 3);
  assert.equal(
    await page.getAttribute('#transitions [data-transition="inc"]', "data-enabled"),
    "false",
    "capacity 3 reached",
  );
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("error").textContent.startsWith("CAPACITY_EXCEEDED"));
  assert.equal(await tokens(page, "count"), 3);
  assert.deepEqual(errors, []);
  await context.close();
});

test("streams: several per ledger, switchable, and all of it survives a reload", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const counter = await startExample(page, "counter");
  await page.click('#net [data-transition="inc"]');
  await waitForEvents(page, 1);
  await page.fill("#new-stream-name", "second counter");
  await page.press("#new-stream-name", "Enter");
  await page.waitForFunction(() => document.body.dataset.stream === "second counter");
  assert.equal(await tokens(page, "count"), 0, "a new stream starts from the initial marking");
  for (let i = 0; i < 2; i++) {
    await page.click('#net [data-transition="inc"]');
    await waitForEvents(page, i + 1);
  }
  const order = await startExample(page, "order");
  assert.deepEqual(
    await page.locator("#streams [data-stream]").evaluateAll((els) => els.map((e) => e.dataset.stream)),
    [counter, order, "second counter"].sort(),
  );

  await page.click(`#streams [data-stream="${counter}"]`);
  await page.waitForFunction((id) => document.body.dataset.stream === id, counter);
  await waitForEvents(page, 1);
  assert.equal(await tokens(page, "count"), 1);

  await page.click('#streams [data-stream="second counter"]');
  await page.waitForFunction(() => document.body.dataset.stream === "second counter");
  const hashes = await page.locator("#log tbody td:nth-child(5)").allTextContents();
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  assert.equal(await page.getAttribute("body", "data-stream"), "second counter", "the open stream is remembered");
  await waitForEvents(page, 2);
  assert.equal(await tokens(page, "count"), 2);
  assert.deepEqual(await page.locator("#log tbody td:nth-child(5)").allTextContents(), hashes);
  assert.equal(await page.locator("#streams [data-stream]").count(), 3);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the badge turns red when a stored event is tampered with", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const stream = await startExample(page, "counter");
  for (let i = 0; i < 3; i++) {
    await page.click('#net [data-transition="inc"]');
    await waitForEvents(page, i + 1);
  }
  // Edit event 2 behind the app's back, straight in IndexedDB.
  await page.evaluate(
    (stream) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("petrichain-app");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction("events", "readwrite");
          const store = tx.objectStore("events");
          const get = store.get([stream, 2]);
          get.onsuccess = () => {
            // Events are stored as JSON text in a `json` field, or as the event's own fields.
            const record = get.result;
            if (typeof record.json === "string") record.json = record.json.replace('"actor":"me"', '"actor":"mallory"');
            else if (record.actor === "me") record.actor = "mallory";
            else return reject(new Error(`unexpected event record: ${JSON.stringify(record)}`));
            store.put(record);
          };
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
    stream,
  );
  await page.click("#verify-now");
  await page.waitForSelector('#verify-badge[data-state="broken"]');
  assert.match(await page.textContent("#verify-badge"), /broken at seq 2 \(HASH_MISMATCH\)/);
  assert.match(await page.getAttribute("#verify-badge", "class"), /bad/);
  // The refusal is the page's, not the console's.
  assert.deepEqual(errors, []);
  await context.close();
});

test("exports the events (JSON lines), the net (JSON) and the drawing (SVG) as downloads", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const stream = await startExample(page, "order");
  await page.click('#net [data-transition="place_order"]');
  await waitForEvents(page, 1);
  const save = async (button) => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
    return { name: download.suggestedFilename(), text: await readFile(await download.path(), "utf8") };
  };
  const events = await save("#export-events");
  assert.equal(events.name, `${stream}.jsonl`);
  const lines = events.text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].format, "petrichain-stream");
  assert.equal(lines[1].action, "place_order");
  assert.equal(lines[1].model, lines[0].model);

  const net = await save("#export-json");
  assert.equal(net.name, "order-workflow.json");
  assert.deepEqual(
    JSON.parse(net.text)
      .transitions.map((t) => t.id)
      .sort(),
    ["pay", "place_order", "restock", "ship"],
  );

  const svg = await save("#export-svg");
  assert.equal(svg.name, `${stream}.svg`);
  assert.match(svg.text, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg.text, /data-place="placed" data-tokens="1"/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a second tab on the same stream follows the first one's events", async () => {
  const { context, page, errors } = await openApp(browser, app.url);
  const stream = await startExample(page, "counter");
  const other = await context.newPage();
  await other.goto(app.url);
  await other.waitForSelector("body[data-ready=true]");
  assert.equal(await other.getAttribute("body", "data-stream"), stream, "the open stream is shared by the tabs");
  await page.click('#net [data-transition="inc"]');
  await waitForEvents(page, 1);
  await waitForEvents(other, 1);
  assert.equal(await tokens(other, "count"), 1);
  await other.click('#net [data-transition="inc"]');
  await waitForEvents(other, 2);
  await waitForEvents(page, 2);
  assert.equal(await drawnTokens(page, "count"), 2);
  assert.deepEqual(errors, []);
  await context.close();
});
