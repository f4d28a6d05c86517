// ledger.sync() from the built package under node, with a JS transport over
// an in-memory backend written in plain JS (memory ledgers: node has no
// IndexedDB; no Web Locks either, which the client handles).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
  const ledger = Ledger.memory();
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
  assert.equal(conflicts[0].event.payload, '{"to":"carol"}');
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
