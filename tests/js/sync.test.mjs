// ledger.sync() from the built package under node, with a JS transport over
// an in-memory backend written in plain JS (memory ledgers: node has no
// IndexedDB; no Web Locks either, which the client handles).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { initSync, Ledger, Model } from "../../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

const coin = Model.fromJson({
  places: [{ id: "coin", initial: 1 }, { id: "spent" }],
  transitions: [{ id: "spend" }],
  arcs: [
    { source: "coin", target: "spend" },
    { source: "spend", target: "spent" },
  ],
});

function backend() {
  const zero = { seq: 0, hash: "0".repeat(64) };
  const streams = new Map();
  const models = new Map();
  const head = (s) => (s?.events.length ? { seq: s.events.at(-1).seq, hash: s.events.at(-1).hash } : zero);
  return {
    name: "node-backend",
    streams,
    pull(stream, after, limit) {
      const s = streams.get(stream);
      if (!s) return null;
      const events = s.events.slice(after, after + limit);
      return { stream, model: s.model, head: head(s), events, more: after + events.length < s.events.length };
    },
    async push(stream, req) {
      let s = streams.get(stream);
      if (!s) {
        s = { model: req.model, events: [] };
        streams.set(stream, s);
      }
      const h = head(s);
      if (req.expected.seq !== h.seq || req.expected.hash !== h.hash) return { conflict: h };
      s.events.push(...req.events);
      return { head: head(s), stored: req.events.length, duplicates: 0 };
    },
    getModel: (id) => models.get(id) ?? null,
    putModel: (doc) => void models.set(doc.id, doc),
  };
}

async function wallet() {
  const ledger = await Ledger.memory();
  const id = await ledger.putModel(coin);
  const stream = await ledger.createStream("w", id);
  return { ledger, stream };
}

test("two ledgers spending one coin offline: one event kept, one conflict recorded", async () => {
  const transport = backend();
  const a = await wallet();
  const b = await wallet();
  await a.stream.fire("spend", { actor: "ann", ts: 1 });
  await b.stream.fire("spend", { actor: "bob", payload: { to: "carol" }, ts: 2 });
  const ha = a.ledger.sync({ transport });
  const hb = b.ledger.sync({ transport });
  assert.equal(await hb.pending(), 1);
  const seen = [];
  hb.on("conflict", (c) => seen.push(c));
  const ra = await ha.now();
  assert.equal(ra.streams[0].pushed, 1);
  const rb = await hb.now();
  assert.equal(rb.streams[0].conflicts, 1);
  assert.equal(hb.status, "idle");
  assert.equal(await hb.pending(), 0);
  const [ea, eb] = [await a.stream.events(), await (await b.ledger.stream("w")).events()];
  assert.deepEqual(ea, eb);
  assert.equal(eb.length, 1);
  const conflicts = await b.ledger.conflicts("w");
  assert.equal(conflicts.length, 1);
  assert.equal(conflicts[0].code, "NOT_ENABLED");
  assert.equal(conflicts[0].reason.place, "coin");
  assert.equal(conflicts[0].event.actor, "bob");
  assert.deepEqual(conflicts[0].event.payload, { to: "carol" });
  assert.deepEqual(seen, conflicts);
  assert.equal(await b.ledger.clearConflicts("w"), 1);
});

test("sync errors are real Errors with a code", async () => {
  const a = await wallet();
  const throwing = {
    name: "broken",
    pull() {
      throw new Error("socket closed");
    },
    push() {},
  };
  const h = a.ledger.sync({ transport: throwing });
  await assert.rejects(h.now(), (e) => e instanceof Error && e.name === "PetrichainError" && e.code === "NETWORK");
  assert.equal(h.status, "offline");
  assert.equal(h.lastError.code, "NETWORK");
  assert.throws(
    () => a.ledger.sync({}),
    (e) => e instanceof Error && e.code === "BAD_ARGUMENT",
  );
  assert.throws(
    () => a.ledger.sync({ transport: { pull() {} } }),
    (e) => e.code === "BAD_ARGUMENT",
  );
});

const shop = Model.fromJson({
  places: [{ id: "stock", initial: 5 }, { id: "sold" }],
  transitions: [{ id: "sell" }],
  arcs: [
    { source: "stock", target: "sell" },
    { source: "sell", target: "sold" },
  ],
});

async function till() {
  const ledger = await Ledger.memory();
  const stream = await ledger.createStream("till", await ledger.putModel(shop));
  return { ledger, stream };
}

// Issue 12: under chain format 1 these hashed alike and the second device's
// sale was taken for a copy of the first (sold 1 instead of 2).
for (const [label, options] of [
  ["by ann, same payload and ts", { actor: "ann", payload: { sku: 7 }, ts: 1700000000000 }],
  ["with the defaults (actor '', payload null), same ts", { ts: 1700000000000 }],
]) {
  test(`the same action on two devices ${label}: both kept after sync, one rebased`, async () => {
    const transport = backend();
    const a = await till();
    const b = await till();
    const [ea, eb] = [await a.stream.fire("sell", options), await b.stream.fire("sell", options)];
    assert.notEqual(ea.hash, eb.hash);
    assert.equal((await a.ledger.sync({ transport }).now()).streams[0].pushed, 1);
    const rb = (await b.ledger.sync({ transport }).now()).streams[0];
    assert.deepEqual([rb.pulled, rb.rebased, rb.pushed, rb.conflicts], [1, 1, 1, 0]);
    await a.ledger.sync({ transport }).now();
    for (const { ledger } of [a, b]) {
      const s = await ledger.stream("till");
      assert.deepEqual(s.marking, { sold: 2, stock: 3 });
      const events = await s.events();
      assert.deepEqual(
        events.map((e) => [e.signer, e.nonce]),
        [
          [a.ledger.deviceKey, ea.nonce],
          [b.ledger.deviceKey, eb.nonce],
        ],
        "b's event rebased, its nonce kept, signed again by b",
      );
      assert.equal((await ledger.verify())[0].events, 2);
    }
  });
}

// A forger's tools, in plain JS: the event hash is SHA-256 of the JCS
// encoding of every field but hash and sig (docs/chain-format.md).
const jcs = (v) =>
  Array.isArray(v)
    ? `[${v.map(jcs).join(",")}]`
    : v && typeof v === "object"
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`)
          .join(",")}}`
      : JSON.stringify(v);
const rehash = ({ hash, sig, ...rest }) => ({
  ...rest,
  sig,
  hash: createHash("sha256").update(jcs(rest)).digest("hex"),
});
const toHex = (buf) => Buffer.from(buf).toString("hex");

test("forged events served by a JS transport are refused with their code and seq, nothing stored", async () => {
  const transport = backend();
  const a = await till();
  for (const ts of [1, 2, 3]) await a.stream.fire("sell", { ts });
  await a.ledger.sync({ transport }).now();
  const honest = transport.streams.get("till").events.map((e) => ({ ...e }));
  assert.equal(rehash(honest[1]).hash, honest[1].hash, "the forger's hash is the real one");
  const forger = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign"]);
  const forgerKey = toHex(await crypto.subtle.exportKey("raw", forger.publicKey));
  const sign = async (e) => {
    const message = new TextEncoder().encode(`petrichain:event:v2:${e.hash}`);
    return { ...e, sig: toHex(await crypto.subtle.sign({ name: "Ed25519" }, forger.privateKey, message)) };
  };
  const changed = rehash({ ...honest[1], payload: '{"forged":true}' });
  const cases = [
    ["changed, rehashed, old signature", changed, "BAD_SIGNATURE"],
    ["no signature", { ...changed, sig: "" }, "BAD_SIGNATURE"],
    ["signature replayed from event 1", { ...changed, sig: honest[0].sig }, "BAD_SIGNATURE"],
    ["signed by another key under the device's name", await sign(changed), "BAD_SIGNATURE"],
    [
      "lying marking root, signed by the forger's own key",
      await sign(rehash({ ...honest[1], signer: forgerKey, root: "ab".repeat(32) })),
      "COMMITMENT_MISMATCH",
    ],
    [
      "lying delta, signed by the forger's own key",
      await sign(
        rehash({
          ...honest[1],
          signer: forgerKey,
          delta: [
            ["sold", 9],
            ["stock", 3],
          ],
        }),
      ),
      "STATE_MISMATCH",
    ],
    ["tampered without rehashing", { ...honest[1], actor: "mallory" }, "HASH_MISMATCH"],
  ];
  for (const [label, forged, code] of cases) {
    transport.streams.get("till").events[1] = forged;
    const fresh = await Ledger.memory();
    await assert.rejects(
      fresh.sync({ transport, streams: ["till"] }).now(),
      (e) => {
        assert.equal(e.code, "REMOTE_CHAIN_INVALID", label);
        assert.deepEqual([e.details.error.code, e.details.error.seq], [code, 2], label);
        return true;
      },
      label,
    );
    assert.deepEqual(await fresh.streams(), [], `${label}: nothing stored`);
  }
  transport.streams.get("till").events[1] = honest[1];
  const fresh = await Ledger.memory();
  await fresh.sync({ transport, streams: ["till"] }).now();
  assert.deepEqual(await (await fresh.stream("till")).events({ payloadText: true }), honest);
});

test("ledger.sync's default scope: the local streams (empty ones too) plus `follow`; not the backend's others", async () => {
  const t = backend();
  const zero = { seq: 0, hash: "0".repeat(64) };
  const listing = {
    ...t,
    streams: () => ({
      streams: [...t.streams.entries()].map(([id, s]) => ({
        id,
        model: s.model,
        head: s.events.length ? { seq: s.events.at(-1).seq, hash: s.events.at(-1).hash } : zero,
      })),
    }),
  };
  const a = await Ledger.memory();
  await a.putModel(coin);
  await a.createStream("empty", coin.id);
  const used = await a.createStream("used", coin.id);
  await used.fire("spend");
  await a.sync({ transport: listing }).now();
  assert.deepEqual([...t.streams.keys()].sort(), ["empty", "used"], "the empty stream reached the backend");
  assert.equal(t.streams.get("empty").events.length, 0);

  const b = await Ledger.memory();
  await b.putModel(coin);
  await b.createStream("mine", coin.id);
  const report = await b.sync({ transport: listing }).now();
  assert.deepEqual(
    report.streams.map((s) => s.stream),
    ["mine"],
    "a new device does not download every stream",
  );
  assert.deepEqual(
    (await b.streams()).map((s) => s.id),
    ["mine"],
  );
  const followed = b.sync({ transport: listing, follow: ["empty", "used"] });
  assert.equal(await followed.pending(), 0);
  await followed.now();
  assert.deepEqual(
    (await b.streams()).map((s) => [s.id, s.seq]),
    [
      ["empty", 0],
      ["mine", 0],
      ["used", 1],
    ],
  );
  const c = await Ledger.memory();
  await c.sync({ transport: listing, follow: "*" }).now();
  assert.deepEqual(
    (await c.streams()).map((s) => s.id),
    ["empty", "mine", "used"],
    'follow: "*" takes every stream the backend lists',
  );
  for (const bad of [
    { follow: "all" },
    { follow: [1] },
    { streams: ["x"], follow: ["y"] },
    { streams: ["x"], follow: "*" },
  ]) {
    assert.throws(() => b.sync({ transport: listing, ...bad }), { code: "BAD_ARGUMENT" }, JSON.stringify(bad));
  }
});

// A /v2 backend over HTTP that, like the reference server, refuses more than
// `cap` events in one push with 413 TOO_LARGE (the reference server's cap is
// 1000; a smaller one keeps the test small).
async function cappedServer(cap) {
  const http = await import("node:http");
  const zero = { seq: 0, hash: "0".repeat(64) };
  const streams = new Map();
  const models = new Map();
  const pushes = [];
  const head = (s) => (s?.events.length ? { seq: s.events.at(-1).seq, hash: s.events.at(-1).hash } : zero);
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const send = (status, value) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(value));
    };
    const url = new URL(req.url, "http://x");
    const events = url.pathname.match(/^\/v2\/streams\/([^/]+)\/events$/);
    const model = url.pathname.match(/^\/v2\/models\/([^/]+)$/);
    if (url.pathname === "/v2/streams") return send(200, { streams: [] });
    if (model && req.method === "PUT") {
      models.set(model[1], JSON.parse(body));
      return send(201, { id: model[1] });
    }
    if (model)
      return models.has(model[1])
        ? send(200, models.get(model[1]))
        : send(404, { code: "MODEL_NOT_FOUND", message: "no" });
    if (events && req.method === "GET") {
      const s = streams.get(decodeURIComponent(events[1]));
      if (!s) return send(404, { code: "STREAM_NOT_FOUND", message: "no such stream" });
      const after = Number(url.searchParams.get("after") ?? 0);
      const limit = Number(url.searchParams.get("limit") ?? 500);
      const page = s.events.slice(after, after + limit);
      return send(200, {
        stream: events[1],
        model: s.model,
        head: head(s),
        events: page,
        more: after + page.length < s.events.length,
      });
    }
    if (events && req.method === "POST") {
      const r = JSON.parse(body);
      pushes.push(r.events.length);
      if (r.events.length > cap) {
        return send(413, { code: "TOO_LARGE", message: `${r.events.length} events in one push; at most ${cap}` });
      }
      const id = decodeURIComponent(events[1]);
      const s = streams.get(id) ?? { model: r.model, events: [] };
      streams.set(id, s);
      const h = head(s);
      if (r.expected.seq !== h.seq || r.expected.hash !== h.hash) {
        return send(409, { code: "HEAD_MISMATCH", message: "moved", head: h });
      }
      s.events.push(...r.events);
      return send(200, { head: head(s), stored: r.events.length, duplicates: 0 });
    }
    send(404, { code: "NOT_FOUND", message: req.url });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, streams, pushes, close: () => server.close() };
}

test("pushes larger than the server takes are split on 413 and all arrive, in order", async () => {
  const backend = await cappedServer(100);
  try {
    const ledger = await Ledger.memory();
    const counter = Model.fromJson({
      places: [{ id: "n" }],
      transitions: [{ id: "tick" }],
      arcs: [{ source: "tick", target: "n" }],
    });
    const stream = await ledger.createStream("c", await ledger.putModel(counter));
    const fired = await stream.fireBatch(Array.from({ length: 250 }, () => ({ action: "tick" })));
    // One batch of 250: 413, then halves of 125 (413 again), then 62 and 63.
    const report = await ledger.sync({ url: backend.url, pushBatch: 250 }).now();
    assert.equal(report.streams[0].pushed, 250);
    const stored = backend.streams.get("c").events;
    assert.deepEqual(
      stored.map((e) => e.hash),
      fired.map((e) => e.hash),
    );
    // 250 refused, its first half 125 refused, 62 + 63 stored, the same
    // for the second half.
    assert.deepEqual(backend.pushes, [250, 125, 62, 63, 125, 62, 63]);
    // In sync: nothing more to push.
    const again = await ledger.sync({ url: backend.url, pushBatch: 250 }).now();
    assert.equal(again.streams[0].pushed, 0);
  } finally {
    backend.close();
  }
});
