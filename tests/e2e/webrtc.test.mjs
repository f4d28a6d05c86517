// Peer to peer: two pages in headless Chromium sync their IndexedDB ledgers
// directly over a WebRTC data channel (js/adapters/webrtc.js), signalling
// through a BroadcastChannel. One page hosts the log (memoryStore), the
// other is the guest; then a double spend between them is a recorded conflict.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
import { artifacts, watchErrors } from "./helpers.mjs";

const repo = new URL("../../", import.meta.url).pathname;
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
let server;
let base;
let browser;

before(async () => {
  // The repository's own files (the page, js/, pkg/) on loopback.
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const ok = ["/tests/e2e/webrtc.html", "/js/", "/pkg/"].some((p) => path.startsWith(p));
    try {
      if (!ok) throw new Error("not served");
      const body = await readFile(join(repo, path));
      res.writeHead(200, { "Content-Type": types[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // Host candidates as plain loopback addresses: no mDNS names to resolve in a closed network.
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-features=WebRtcHideLocalIpsWithMdns"],
  });
});
after(async () => {
  await browser?.close();
  await new Promise((r) => server.close(r));
});

const models = {
  counter: { places: [{ id: "count" }], transitions: [{ id: "add" }], arcs: [{ source: "add", target: "count" }] },
  coin: {
    places: [{ id: "coin", initial: 1 }, { id: "spent" }],
    transitions: [{ id: "spend" }],
    arcs: [
      { source: "coin", target: "spend" },
      { source: "spend", target: "spent" },
    ],
  },
};

/**
 * Two pages of webrtc.html in one context, loaded; `errors()` lists what
 * both have logged as errors so far.
 */
async function twoPages() {
  const context = await browser.newContext();
  const host = await context.newPage();
  const guest = await context.newPage();
  const watched = [watchErrors(host), watchErrors(guest)];
  const errors = () => watched.flat();
  for (const page of [host, guest]) {
    await page.goto(`${base}/tests/e2e/webrtc.html`);
    await page.waitForFunction(() => document.getElementById("status").textContent === "ready");
  }
  return { context, host, guest, errors };
}

test("two browsers sync directly over a WebRTC data channel", async () => {
  const { context, host, guest, errors } = await twoPages();
  // Both open their ledger and connect; the host serves a log in memory.
  const open = (page, hosting) =>
    page.evaluate(
      async ({ hosting, models }) => {
        const { Ledger, Model, connectPeer, createOnlyTransport, memoryStore, peerTransport, servePeerStore } =
          window.petrichain;
        document.getElementById("role").textContent = hosting ? "host" : "guest";
        const ledger = await Ledger.open(`peer-${hosting ? "host" : "guest"}-${Math.random()}`);
        window.ledger = ledger;
        window.counter = await ledger.putModel(Model.fromJson(models.counter));
        window.coin = await ledger.putModel(Model.fromJson(models.coin));
        const channel = await connectPeer(window.signal, { initiator: hosting });
        if (hosting) {
          const log = memoryStore();
          servePeerStore(channel, log);
          window.transport = createOnlyTransport(log, { name: "peer-log" });
        } else {
          window.transport = peerTransport(channel, { name: "peer-log" });
        }
        document.getElementById("status").textContent = `connected (${channel.label})`;
        return channel.readyState;
      },
      { hosting, models },
    );
  assert.deepEqual(await Promise.all([open(host, true), open(guest, false)]), ["open", "open"]);

  const run = (page, code, arg) => page.evaluate(code, arg);
  const sync = (page, stream) =>
    run(page, (s) => window.ledger.sync({ transport: window.transport, streams: [s] }).now(), stream);
  // The host records, the guest pulls; both record offline; both sync in turn.
  await run(host, async () => {
    const s = await window.ledger.createStream("tally", window.counter);
    await s.fire("add", { actor: "host" });
  });
  await sync(host, "tally");
  await sync(guest, "tally");
  await run(host, async () => (await window.ledger.stream("tally")).fire("add", { actor: "host" }));
  await run(guest, async () => (await window.ledger.stream("tally")).fire("add", { actor: "guest" }));
  await sync(guest, "tally");
  const report = await sync(host, "tally");
  assert.equal(report.streams[0].rebased, 1);
  await sync(guest, "tally");
  const hashes = (page) =>
    run(page, async () => (await (await window.ledger.stream("tally")).events({ limit: 100 })).map((e) => e.hash));
  const [h, g] = [await hashes(host), await hashes(guest)];
  assert.equal(h.length, 3);
  assert.deepEqual(h, g);

  // A double spend between the two browsers: one event, one recorded conflict.
  await run(host, async () => window.ledger.createStream("wallet", window.coin));
  await sync(host, "wallet");
  await sync(guest, "wallet");
  await run(host, async () => (await window.ledger.stream("wallet")).fire("spend", { actor: "host" }));
  await run(guest, async () => (await window.ledger.stream("wallet")).fire("spend", { actor: "guest" }));
  await sync(host, "wallet");
  const spent = await sync(guest, "wallet");
  assert.equal(spent.streams[0].conflicts, 1);
  const conflicts = await run(guest, async () => window.ledger.conflicts("wallet"));
  assert.equal(conflicts[0].code, "NOT_ENABLED");

  for (const [name, page] of [
    ["host", host],
    ["guest", guest],
  ]) {
    await run(page, () => window.show(window.ledger, "tally"));
    await page.screenshot({ path: join(artifacts, `webrtc-${name}.png`) });
  }
  assert.deepEqual(errors(), []);
  await context.close();
});

test("a guest that starts listening after the host's offer went out still connects", async () => {
  const { context, host, guest, errors } = await twoPages();
  // The host connects first and the test waits until its offer and a
  // candidate are out: a BroadcastChannel keeps them for nobody, so the
  // guest only hears them again because its hello asks for them.
  await host.evaluate(async () => {
    const { connectPeer, memoryStore, servePeerStore } = window.petrichain;
    const sent = [];
    const signal = {
      send(m) {
        sent.push(m.type);
        window.signal.send(m);
      },
      subscribe: window.signal.subscribe,
    };
    window.connected = connectPeer(signal, { initiator: true, timeout: 15_000 }).then((channel) => {
      servePeerStore(channel, memoryStore());
      return channel.readyState;
    });
    const until = Date.now() + 10_000;
    while (!(sent.includes("offer") && sent.includes("candidate"))) {
      if (Date.now() > until) throw new Error(`the host sent only ${sent.join(", ")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  const answered = await guest.evaluate(async () => {
    const { connectPeer, peerStore } = window.petrichain;
    const channel = await connectPeer(window.signal, { timeout: 15_000 });
    const store = peerStore(channel);
    return [channel.readyState, await store.create("k", { n: 1 }), await store.get("k")];
  });
  assert.deepEqual(answered, ["open", true, { n: 1 }]);
  assert.equal(await host.evaluate(() => window.connected), "open");
  assert.deepEqual(errors(), []);
  await context.close();
});
