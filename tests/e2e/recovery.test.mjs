// Every sync state has a way out, through the real reference server:
// conflicts are shown at the top of the stream with their reason and can be
// re-fired with another amount, copied or discarded; a server that lost the
// history both sides agreed on (REMOTE_FORKED) lets the user keep the local
// chain as a named fork and take the server's, or push it as a new stream.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  serveAppWithServer,
  launchBrowser,
  artifacts,
  openApp,
  startExample,
  waitForEvents,
  tokens,
  seriousA11yViolations,
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

// Chromium's own log lines for requests that could not reach the server
// (offline, or the server restarting) are expected; anything else is not.
const realErrors = (errors) =>
  errors.filter((e) => !/^Failed to load resource: net::ERR_(INTERNET_DISCONNECTED|CONNECTION_REFUSED)/.test(e));

async function syncNow(page) {
  await page.click("#sync-now");
  await page.waitForFunction(() => document.getElementById("sync-state").dataset.state !== "syncing");
}

const openStream = async (page, id) => {
  await page.click(`#streams [data-stream="${id}"]`);
  await page.waitForFunction((id) => document.body.dataset.stream === id, id);
};

test("a conflict is shown at the top of the stream, re-fired with another amount, copied, discarded", async () => {
  const a = await openApp(browser, app.url);
  const b = await openApp(browser, app.url);
  await b.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(app.url).origin });
  const stream = await startExample(a.page, "transfer");
  // B may fire any role of A's stream: A grants it `*` from B's join code (seq 1).
  await grantRole(a.page, b.page, "*");
  await syncNow(a.page);
  await followStream(b.page, stream);
  await openStream(b.page, stream);

  // Both move 70 of Alice's 100 while offline: the second one cannot stand.
  for (const { context, page } of [a, b]) {
    await context.setOffline(true);
    await page.selectOption("#role", "alice");
    await page.fill("#amount", "70");
    await page.click('#transitions [data-transition="alice_to_bob"]');
    await waitForEvents(page, 2);
    await page.fill("#amount", "1");
  }
  await a.context.setOffline(false);
  await syncNow(a.page);
  await b.context.setOffline(false);
  await syncNow(b.page);

  // At the top of the stream, before the firing options: the reason.
  await b.page.waitForSelector("#sync-conflicts li");
  const box = await b.page.locator("#stream-alerts").boundingBox();
  const options = await b.page.locator("#fire-options").boundingBox();
  assert.ok(box.y < options.y, "the conflicts come before the firing options");
  assert.match(
    await b.page.textContent("#sync-conflicts li .c-text"),
    /^alice_to_bob ×70 \(note “me”\) was refused: NOT_ENABLED: .*'alice' has 30 token\(s\), needs 70/,
  );
  assert.equal(await b.page.textContent("#conflicts-h"), "Conflicts (1)");
  await b.page.screenshot({ path: `${artifacts}recovery-conflict.png`, fullPage: true });
  assert.deepEqual(await seriousA11yViolations(b.page), [], "the conflicts box");

  // Copy: the conflict as JSON on the clipboard.
  await b.page.click('#sync-conflicts [data-do="copy"]');
  await b.page.waitForFunction(() =>
    document.querySelector("#sync-conflicts .c-status").textContent.startsWith("Copied"),
  );
  const copied = JSON.parse(await b.page.evaluate(() => navigator.clipboard.readText()));
  assert.deepEqual([copied.action, copied.multiple, copied.refused.code], ["alice_to_bob", 70, "NOT_ENABLED"]);

  // Re-fire with the 30 that are left: stored, the conflict is gone.
  await b.page.fill("#sync-conflicts .c-amount", "30");
  await b.page.click('#sync-conflicts [data-do="refire"]');
  await b.page.waitForSelector("#sync-conflicts-box", { state: "hidden" });
  await waitForEvents(b.page, 3);
  assert.equal(await tokens(b.page, "alice"), 0);
  assert.equal(await tokens(b.page, "bob"), 150);
  await syncNow(b.page);
  assert.equal((await remote(stream)).head.seq, 3);

  // A second conflict, discarded on its own.
  await syncNow(a.page);
  await waitForEvents(a.page, 3);
  for (const { context, page } of [a, b]) {
    await context.setOffline(true);
    await page.selectOption("#role", "bob");
    await page.fill("#amount", "100");
    await page.click('#transitions [data-transition="bob_to_carol"]');
    await page.fill("#amount", "1");
  }
  await waitForEvents(a.page, 4);
  await waitForEvents(b.page, 4);
  await a.context.setOffline(false);
  await syncNow(a.page);
  await b.context.setOffline(false);
  await syncNow(b.page);
  await b.page.waitForSelector("#sync-conflicts li");
  await b.page.click('#sync-conflicts [data-do="discard"]');
  await b.page.waitForSelector("#sync-conflicts-box", { state: "hidden" });
  await b.page.reload();
  await b.page.waitForSelector("body[data-ready=true]");
  assert.equal(await b.page.isHidden("#sync-conflicts-box"), true, "discarded for good");
  assert.deepEqual(realErrors(a.errors), []);
  assert.deepEqual(realErrors(b.errors), []);
  for (const { context } of [a, b]) await context.close();
});

test("a server that lost the agreed history: keep the local chain as a fork and take the server's, or push it as a new stream", async () => {
  const a = await openApp(browser, app.url);
  const missing = []; // what answered 404, to name it if it shows up in the console
  a.page.on("response", (r) => r.status() === 404 && missing.push(`${r.request().method()} ${r.url()}`));
  const stream = await startExample(a.page, "counter");
  const second = `${stream}-b`;
  for (let i = 0; i < 2; i++) {
    await a.page.click('#net [data-transition="inc"]');
    await waitForEvents(a.page, i + 1);
  }
  await a.page.fill("#new-stream-name", second);
  await a.page.press("#new-stream-name", "Enter");
  await a.page.waitForFunction((id) => document.body.dataset.stream === id, second);
  await a.page.click('#net [data-transition="inc"]');
  await waitForEvents(a.page, 1);
  await syncNow(a.page);
  assert.equal((await remote(stream)).head.seq, 2);

  // The server comes back with an empty database; another browser starts
  // streams of the same ids there, with one event each.
  await app.restart();
  assert.equal((await remote(stream)).status, 404);
  const b = await openApp(browser, app.url);
  await startExample(b.page, "counter");
  for (const id of [stream, second]) {
    await b.page.fill("#new-stream-name", id);
    await b.page.press("#new-stream-name", "Enter");
    await b.page.waitForFunction((id) => document.body.dataset.stream === id, id);
    await b.page.click('#net [data-transition="inc"]');
    await waitForEvents(b.page, 1);
  }
  await syncNow(b.page);
  const theirs = await remote(stream);
  assert.equal(theirs.head.seq, 1);

  // A syncs: its chain and the server's share nothing it had agreed on.
  await openStream(a.page, stream);
  await syncNow(a.page);
  await a.page.waitForSelector("#fork-box:not([hidden])");
  assert.match(await a.page.textContent("#fork-box"), /REMOTE_FORKED/);
  await a.page.screenshot({ path: `${artifacts}recovery-forked.png`, fullPage: true });
  assert.deepEqual(await seriousA11yViolations(a.page), [], "the fork box");
  const [download] = await Promise.all([a.page.waitForEvent("download"), a.page.click("#fork-download")]);
  const mine = (await readFile(await download.path(), "utf8")).trim().split("\n");
  assert.equal(mine.length, 3, "the exact local chain: header and 2 events");

  // Keep mine as a fork, take the server's.
  await a.page.click("#fork-keep");
  await a.page.waitForFunction((id) => document.body.dataset.stream === id, stream);
  await a.page.waitForSelector("#fork-box", { state: "hidden" });
  await waitForEvents(a.page, 1);
  assert.equal(await tokens(a.page, "count"), 1, "the server's chain");
  const hashes = await a.page.locator("#log tbody td:nth-child(5)").evaluateAll((tds) => tds.map((td) => td.title));
  assert.deepEqual(
    hashes,
    theirs.events.map((e) => e.hash),
  );
  const fork = await a.page.evaluate(
    (id) =>
      [...document.querySelectorAll("#streams [data-stream]")]
        .map((e) => e.dataset.stream)
        .find((s) => s.startsWith(`${id}-fork-`)),
    stream,
  );
  assert.ok(fork, "the local chain kept under a new id");
  assert.match(await a.page.textContent(`#streams [data-stream="${fork}"]`), /\(my fork\).*2 events/s);
  await openStream(a.page, fork);
  await waitForEvents(a.page, 2);
  assert.equal(await tokens(a.page, "count"), 2);
  const actions = await a.page.locator("#log tbody tr td:nth-child(2)").allTextContents();
  assert.deepEqual(actions, ["inc", "inc"]);
  assert.equal((await remote(fork)).head.seq, 2, "the fork was pushed too");

  // The other stream: push mine as a new stream.
  await openStream(a.page, second);
  await syncNow(a.page);
  await a.page.waitForSelector("#fork-box:not([hidden])");
  await a.page.click("#fork-push");
  await a.page.waitForSelector("dialog[open]");
  await a.page.fill("dialog[open] input", `${second}-mine`);
  await a.page.click('dialog[open] [data-choice="push"]');
  await a.page.waitForFunction((id) => document.body.dataset.stream === id, `${second}-mine`);
  await waitForEvents(a.page, 1);
  await syncNow(a.page);
  assert.equal((await remote(`${second}-mine`)).head.seq, 1, "pushed as a new stream");
  assert.equal(await a.page.isHidden("#fork-box"), true);
  await openStream(a.page, second);
  const ours = await a.page.locator("#log tbody td:nth-child(5)").evaluateAll((tds) => tds.map((td) => td.title));
  assert.deepEqual(
    ours,
    (await remote(second)).events.map((e) => e.hash),
    "the server's copy, here",
  );
  assert.equal(await a.page.isHidden("#fork-box"), true);
  // A pull of a stream the server lost answers 404 (and Chromium logs
  // that); none may be for this test's streams.
  const ours404 = missing.filter((m) => [stream, second, fork, `${second}-mine`].some((id) => m.includes(`/${id}/`)));
  assert.deepEqual(ours404, []);
  assert.ok(
    missing.every((m) => /^GET .*\/v2\/streams\/[^/]+\/events\?after=\d+/.test(m)),
    missing.join(", "),
  );
  const logged = a.errors.filter((e) => /status of 404/.test(e));
  assert.equal(logged.length, missing.length);
  assert.deepEqual(
    realErrors(a.errors).filter((e) => !/status of 404/.test(e)),
    [],
  );
  assert.deepEqual(realErrors(b.errors), []);
  for (const { context } of [a, b]) await context.close();
});
