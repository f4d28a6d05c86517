// The event store from JavaScript (built package, Node, in-memory ledger):
// promises, plain-object events, real Errors with codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, Ledger, Model, verifyPlaceProof } from "../../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

const shop = {
  places: [{ id: "stock", initial: 2 }, { id: "sold" }],
  transitions: [{ id: "sell", roles: ["clerk"] }],
  arcs: [
    { source: "stock", target: "sell" },
    { source: "sell", target: "sold" },
  ],
};

test("fires, chains, refuses with a coded Error, verifies, exports and imports", async () => {
  const ledger = await Ledger.memory();
  const id = await ledger.putModel(Model.fromJson(shop));
  const till = await ledger.createStream("till", id);
  assert.deepEqual(till.marking, { sold: 0, stock: 2 });
  const e1 = await till.fire("sell", {
    roles: ["clerk"],
    actor: "ann",
    payloadText: '{"big": 12345678901234567890}',
    ts: 1,
  });
  assert.equal(e1.seq, 1);
  assert.equal(e1.prev, "0".repeat(64));
  assert.deepEqual(e1.payload, JSON.parse('{"big": 12345678901234567890}'), "a value (JSON.parse: digits lost)");
  const [raw1] = await till.events({ payloadText: true });
  assert.equal(raw1.payload, '{"big": 12345678901234567890}', "the exact stored text, asked for");
  assert.deepEqual(till.head, { seq: 1, hash: e1.hash });
  const heard = [];
  const off = ledger.subscribe(null, (c) => heard.push(c.seq));
  const e2 = await till.fire("sell", { roles: ["*"], payload: { n: 2 } });
  off();
  assert.deepEqual(heard, [2]);
  assert.equal(e2.prev, e1.hash);
  assert.deepEqual(e2.payload, { n: 2 });
  await assert.rejects(till.fire("sell", { roles: ["clerk"] }), (err) => {
    assert.ok(err instanceof Error);
    assert.equal(err.code, "NOT_ENABLED");
    assert.equal(err.details.place, "stock");
    return true;
  });
  await assert.rejects(till.fire("sell"), (err) => err instanceof Error && err.code === "ROLE_DENIED");
  assert.equal((await till.events()).length, 2);
  assert.equal((await ledger.verify())[0].events, 2);
  const text = await ledger.exportJsonl("till");
  const copy = await Ledger.memory();
  await assert.rejects(
    copy.importJsonl(text.replace('{\\"n\\":2}', '{\\"n\\":3}')),
    (err) => err.code === "HASH_MISMATCH" && err.details.seq === 2,
  );
  assert.equal((await copy.importJsonl(text)).added, 2);
  ledger.close();
  await assert.rejects(ledger.streams(), (err) => err.code === "CLOSED");
});

test("ledger.model(id) gives back a stored net; an unknown id is UNKNOWN_MODEL", async () => {
  const ledger = await Ledger.memory();
  const model = Model.fromJson(shop);
  const id = await ledger.putModel(model);
  const back = await ledger.model(id);
  assert.equal(back.id, id);
  assert.equal(back.toJson(), model.toJson());
  await assert.rejects(ledger.model("0".repeat(64)), (err) => err instanceof Error && err.code === "UNKNOWN_MODEL");
});

test("events are chain format 2, signed by the ledger's WebCrypto device key", async () => {
  const ledger = await Ledger.memory();
  assert.match(ledger.deviceKey, /^[0-9a-f]{64}$/);
  assert.notEqual((await Ledger.memory()).deviceKey, ledger.deviceKey, "each memory ledger has its own key");
  const till = await ledger.createStream("till", await ledger.putModel(Model.fromJson(shop)));
  const same = { roles: ["clerk"], actor: "ann", payload: { sku: 7 }, ts: 1700000000000 };
  const [e1, e2] = [await till.fire("sell", same), await till.fire("sell", same)];
  for (const e of [e1, e2]) {
    assert.equal(e.v, 2);
    assert.equal(e.signer, ledger.deviceKey);
    assert.match(e.nonce, /^[0-9a-f]{32}$/);
    assert.match(e.root, /^[0-9a-f]{64}$/);
    assert.match(e.sig, /^[0-9a-f]{128}$/);
    assert.equal("state" in e, false);
  }
  assert.deepEqual(e1.delta, [
    ["sold", 1],
    ["stock", 1],
  ]);
  assert.deepEqual(till.marking, { sold: 2, stock: 0 }, "the handle's marking follows the deltas");
  assert.notEqual(e1.nonce, e2.nonce);
  assert.notEqual(e1.root, e2.root);
  // The signature is a plain Ed25519 signature of "petrichain:event:v2:" + hash.
  const hex = (s) => Uint8Array.from(s.match(/../g), (b) => Number.parseInt(b, 16));
  const key = await crypto.subtle.importKey("raw", hex(e1.signer), { name: "Ed25519" }, false, ["verify"]);
  const message = new TextEncoder().encode(`petrichain:event:v2:${e1.hash}`);
  assert.equal(await crypto.subtle.verify({ name: "Ed25519" }, key, hex(e1.sig), message), true);
  assert.equal(await crypto.subtle.verify({ name: "Ed25519" }, key, hex(e2.sig), message), false);
  const [verified] = await ledger.verify("till");
  assert.equal(verified.root, e2.root);
});

test("stream.prove gives a Merkle proof of one place's count under an event's signed root", async () => {
  const ledger = await Ledger.memory();
  const till = await ledger.createStream("till", await ledger.putModel(Model.fromJson(shop)));
  const e1 = await till.fire("sell", { roles: ["clerk"], ts: 1 });
  const e2 = await till.fire("sell", { roles: ["clerk"], ts: 2 });
  const { event, proof } = await till.prove("sold");
  assert.deepEqual(event, e2);
  assert.deepEqual([proof.place, proof.count], ["sold", 2]);
  assert.equal(verifyPlaceProof(proof, e2.root), true);
  assert.equal(verifyPlaceProof(proof, e1.root), false, "not the marking after seq 1");
  assert.equal(verifyPlaceProof({ ...proof, count: 3 }, e2.root), false, "a lying count");
  const at1 = await till.prove("stock", 1);
  assert.deepEqual([at1.event.seq, at1.proof.count], [1, 1]);
  assert.equal(verifyPlaceProof(at1.proof, e1.root), true);
  await assert.rejects(till.prove("nowhere"), (e) => e.code === "UNKNOWN_PLACE");
  await assert.rejects(till.prove("sold", 3), (e) => e.code === "INVALID_INPUT");
  await assert.rejects(till.prove("sold", 0.5), (e) => e.code === "BAD_ARGUMENT");
  assert.throws(
    () => verifyPlaceProof({ place: "sold" }, e2.root),
    (e) => e.code === "BAD_ARGUMENT",
  );
});

test("fireBatch records each action's own ts; the batch ts (or now) fills the others", async () => {
  const ledger = await Ledger.memory();
  const id = await ledger.putModel(Model.fromJson({ ...shop, places: [{ id: "stock", initial: 5 }, { id: "sold" }] }));
  const till = await ledger.createStream("till", id);
  const sell = { action: "sell", roles: ["clerk"] };
  const events = await till.fireBatch([{ ...sell, ts: 5 }, sell, { ...sell, ts: 7 }], 100);
  assert.deepEqual(
    events.map((e) => e.ts),
    [5, 100, 7],
  );
  const before = Date.now();
  const [own, now] = await till.fireBatch([{ ...sell, ts: 9 }, sell]);
  assert.equal(own.ts, 9);
  assert.ok(now.ts >= before, "no ts anywhere: Date.now()");
  await assert.rejects(till.fireBatch([{ ...sell, ts: -1 }]), { code: "BAD_ARGUMENT" });
  assert.equal(till.head.seq, 5, "the refused batch stored nothing");
  assert.equal((await ledger.verify("till"))[0].events, 5);
});

test("payloads round-trip as values; raw JSON text only behind payloadText", async () => {
  const ledger = await Ledger.memory();
  const id = await ledger.putModel(Model.fromJson({ ...shop, places: [{ id: "stock", initial: 12 }, { id: "sold" }] }));
  const till = await ledger.createStream("till", id);
  const values = [{ sku: 7, tags: ["a", "é"] }, "just text", '{"looks": "like JSON"}', 42, [1, null], true, null];
  const fired = [];
  for (const payload of values) fired.push(await till.fire("sell", { roles: ["*"], payload }));
  const none = await till.fire("sell", { roles: ["*"] });
  assert.deepEqual(
    fired.map((e) => e.payload),
    values,
    "fire gives each value back",
  );
  assert.equal(none.payload, null);
  const read = await till.events();
  assert.deepEqual(
    read.map((e) => e.payload),
    [...values, null],
    "events() too",
  );
  const raw = await till.events({ payloadText: true });
  assert.deepEqual(
    raw.map((e) => e.payload),
    [...values.map((v) => JSON.stringify(v)), "null"],
    "stored as JSON.stringify gives it: a string is a JSON string",
  );
  const [batch] = await till.fireBatch([{ action: "sell", roles: ["*"], payload: { in: "batch" } }]);
  assert.deepEqual(batch.payload, { in: "batch" });
  const exact = await till.fire("sell", { roles: ["*"], payloadText: '{ "n" : 1.50 }' });
  assert.deepEqual(exact.payload, { n: 1.5 });
  const { event: proved } = await till.prove("stock");
  assert.deepEqual(proved.payload, { n: 1.5 });
  assert.equal((await till.events({ after: 9, payloadText: true }))[0].payload, '{ "n" : 1.50 }');
  for (const bad of [{ payload: 1, payloadText: "1" }, { payloadText: 1 }, { payload: () => 1 }, { payload: 10n }]) {
    await assert.rejects(till.fire("sell", { roles: ["*"], ...bad }), { code: "BAD_ARGUMENT" });
  }
  await assert.rejects(till.fire("sell", { roles: ["*"], payloadText: "{bad" }), { code: "INVALID_PAYLOAD" });
  await assert.rejects(till.events({ payloadText: "yes" }), { code: "BAD_ARGUMENT" });
  assert.equal((await ledger.verify("till"))[0].events, 10);
});
