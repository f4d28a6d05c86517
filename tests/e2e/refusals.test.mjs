// Sync errors past conflicts and forks get a way out too, shown at the top
// of the stream (www/recovery.js), through the real reference server behind
// a misbehaving proxy (started here, on loopback):
// - PUSH_REJECTED: the proxy answers the server's own 422 shape to pushes;
//   the app shows the reason and lets the user discard the refused events
//   (taking the server's copy), keep them as a fork or download them;
// - MODEL_UNAVAILABLE: the proxy says it has no model; the followed
//   stream is not brought here and the sync panel explains what to do;
// - REMOTE_CHAIN_INVALID: the proxy alters an event's hash on the way; the
//   app says so, stops syncing that stream (no more pulls of it) and syncs
//   it again when asked.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
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
let proxy;
let mode = "pass"; // "pass" | "reject" (pushes) | "tamper" (pulled events) | "nomodel" (GET models: 404)
const pulls = []; // GET .../events paths seen by the proxy

before(async () => {
  app = await serveAppWithServer();
  browser = await launchBrowser();
  const server = http.createServer(async (req, res) => {
    const cors = {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": "GET, PUT, POST",
      "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] || "*",
    };
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    if (req.method === "GET" && /\/events\?/.test(req.url)) pulls.push(req.url);
    if (mode === "reject" && req.method === "POST" && req.url.endsWith("/events")) {
      res.writeHead(422, { ...cors, "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          code: "INVALID_EVENT",
          message: "this server takes no events of this net today",
          seq: 2,
          reason: { code: "POLICY" },
        }),
      );
      return;
    }
    if (mode === "nomodel" && req.method === "GET" && req.url.startsWith("/v2/models/")) {
      res.writeHead(404, { ...cors, "Content-Type": "application/json" });
      res.end(JSON.stringify({ code: "MODEL_NOT_FOUND", message: "no such model" }));
      return;
    }
    const upstream = await fetch(new URL(req.url.slice(1), app.url), {
      method: req.method,
      headers: req.headers["content-type"] ? { "Content-Type": req.headers["content-type"] } : {},
      body: req.method === "GET" ? undefined : body,
    });
    let text = await upstream.text();
    if (mode === "tamper" && req.method === "GET" && /\/events\?/.test(req.url) && upstream.ok) {
      const page = JSON.parse(text);
      // A forged hash: the client recomputes it and refuses the event.
      if (page.events?.length) page.events[0].hash = page.events[0].hash.replace(/^./, (c) => (c === "0" ? "1" : "0"));
      text = JSON.stringify(page);
    }
    res.writeHead(upstream.status, { ...cors, "Content-Type": upstream.headers.get("content-type") ?? "text/plain" });
    res.end(text);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy = { server, url: `http://127.0.0.1:${server.address().port}/` };
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => (proxy ? proxy.server.close(resolve) : resolve()));
  await app?.close();
});

// Chromium logs the proxy's refusals (422, the missing model's 404) as console errors: expected here.
const realErrors = (errors) => errors.filter((e) => !/^Failed to load resource: .*status of (422|404)/.test(e));

async function syncNow(page) {
  await page.click("#sync-now");
  await page.waitForFunction(() => document.getElementById("sync-state").dataset.state !== "syncing");
}

async function useBackend(page, url) {
  await page.fill("#sync-url", url);
  await page.dispatchEvent("#sync-url", "change");
}

test("a push the server refuses shows its reason; discarding takes the server's copy", async () => {
  mode = "pass";
  const a = await openApp(browser, app.url);
  await useBackend(a.page, proxy.url);
  const stream = await startExample(a.page, "counter");
  await a.page.click('#net [data-transition="inc"]');
  await waitForEvents(a.page, 1);
  await syncNow(a.page);
  assert.equal(await a.page.isHidden("#fork-box"), true);

  mode = "reject";
  await a.page.click('#net [data-transition="inc"]');
  await waitForEvents(a.page, 2);
  await syncNow(a.page);
  await a.page.waitForSelector("#fork-box:not([hidden])");
  assert.match(await a.page.textContent("#fork-box h3"), /refused this stream's new events/);
  assert.match(
    await a.page.textContent("#fork-box .refusal-reason"),
    /INVALID_EVENT: this server takes no events of this net today \(seq 2\)/,
  );
  await a.page.screenshot({ path: `${artifacts}refusal-push.png`, fullPage: true });
  assert.deepEqual(await seriousA11yViolations(a.page), [], "the refusal box");
  assert.equal(await a.page.isVisible("#fork-keep"), true, "keeping them as a fork is offered");
  assert.equal(await a.page.isVisible("#fork-download"), true);

  // Discard them: the server's copy (one event) replaces the local chain.
  mode = "pass";
  await a.page.click("#fork-discard");
  await a.page.click('dialog[open] [data-choice="discard"]');
  await a.page.waitForFunction((id) => document.body.dataset.stream === id, stream);
  await waitForEvents(a.page, 1);
  await a.page.waitForSelector("#fork-box", { state: "hidden" });
  assert.deepEqual(realErrors(a.errors), []);
  await a.context.close();
});

test("a server chain that does not verify stops the stream's sync until asked again", async () => {
  mode = "pass";
  const a = await openApp(browser, app.url);
  await useBackend(a.page, proxy.url);
  const stream = await startExample(a.page, "counter");
  await a.page.click('#net [data-transition="inc"]');
  await waitForEvents(a.page, 1);
  await syncNow(a.page);
  // Another browser adds a second event straight on the server.
  const b = await openApp(browser, app.url);
  await followStream(b.page, stream);
  await b.page.click(`#streams [data-stream="${stream}"]`);
  await b.page.waitForFunction((id) => document.body.dataset.stream === id, stream);
  // The app claims every role (`*`) by default, which only the owner holds
  // without a grant; `inc` needs none.
  await b.page.selectOption("#role", "");
  await b.page.click('#net [data-transition="inc"]');
  await waitForEvents(b.page, 2);
  await syncNow(b.page);

  // A pulls it through the proxy, which forges its hash.
  mode = "tamper";
  await syncNow(a.page);
  await a.page.waitForSelector("#fork-box:not([hidden])");
  const text = await a.page.textContent("#fork-box");
  assert.match(text, /do not verify: HASH_MISMATCH at seq 2\. None of them was stored here/);
  assert.match(text, /REMOTE_CHAIN_INVALID/);
  await waitForEvents(a.page, 1);
  await a.page.screenshot({ path: `${artifacts}refusal-chain-invalid.png`, fullPage: true });
  assert.deepEqual(await seriousA11yViolations(a.page), [], "the chain-invalid box");

  // Stopped: further syncs do not pull the stream, and the box stays.
  const before = pulls.filter((p) => p.includes(`/${stream}/`)).length;
  await syncNow(a.page);
  await syncNow(a.page);
  assert.equal(pulls.filter((p) => p.includes(`/${stream}/`)).length, before, "no more pulls of the stream");
  assert.equal(await a.page.isVisible("#fork-box"), true);
  const [download] = await Promise.all([a.page.waitForEvent("download"), a.page.click("#fork-download")]);
  assert.match(download.suggestedFilename(), new RegExp(`^${stream}\\.jsonl$`));

  // The server is fixed: sync it again, the true second event arrives.
  mode = "pass";
  await a.page.click("#fork-resume");
  await waitForEvents(a.page, 2);
  await a.page.waitForSelector("#fork-box", { state: "hidden" });
  assert.deepEqual(realErrors(a.errors), []);
  assert.deepEqual(realErrors(b.errors), []);
  for (const { context } of [a, b]) await context.close();
});

test("a followed stream whose net the server lacks is explained in the sync panel, and can be unfollowed", async () => {
  mode = "pass";
  const a = await openApp(browser, app.url);
  const stream = await startExample(a.page, "order");
  await syncNow(a.page);
  const b = await openApp(browser, app.url);
  await useBackend(b.page, proxy.url);
  mode = "nomodel";
  await syncNow(b.page);
  await b.page.locator(`#remote-streams [data-follow="${stream}"]`).click();
  const note = b.page.locator("#remote-streams .remote-problem");
  await note.waitFor();
  assert.match(await note.textContent(), /its net \(model [0-9a-f]{12}\) is neither in this browser nor on the server/);
  assert.equal(await b.page.getAttribute("#remote-streams .remote-problem", "data-code"), "MODEL_UNAVAILABLE");
  assert.equal(await b.page.locator(`#streams [data-stream="${stream}"]`).count(), 0, "not brought here");
  await b.page.locator("#sync-panel").screenshot({ path: `${artifacts}refusal-model-unavailable.png` });
  assert.deepEqual(await seriousA11yViolations(b.page), [], "the follow list with the note");
  // Unfollowed: the next sync leaves it alone, the note goes.
  await b.page.locator(`#remote-streams [data-follow="${stream}"]`).click();
  await syncNow(b.page);
  await b.page.waitForSelector("#remote-streams .remote-problem", { state: "detached" });
  assert.equal(await b.page.isChecked(`#remote-streams [data-follow="${stream}"]`), false);
  mode = "pass";
  assert.deepEqual(realErrors(a.errors), []);
  assert.deepEqual(realErrors(b.errors), []);
  for (const { context } of [a, b]) await context.close();
});
