// The event store from JavaScript (built package, Node, in-memory ledger):
// promises, plain-object events, real Errors with codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, Ledger, Model } from "../../pkg/petrichain.js";

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
  const ledger = Ledger.memory();
  const id = await ledger.putModel(Model.fromJson(shop));
  const till = await ledger.createStream("till", id);
  assert.deepEqual(till.marking, { sold: 0, stock: 2 });
  const e1 = await till.fire("sell", {
    roles: ["clerk"],
    actor: "ann",
    payload: '{"big": 12345678901234567890}',
    ts: 1,
  });
  assert.equal(e1.seq, 1);
  assert.equal(e1.prev, "0".repeat(64));
  assert.equal(e1.payload, '{"big": 12345678901234567890}');
  assert.deepEqual(till.head, { seq: 1, hash: e1.hash });
  const heard = [];
  const off = ledger.subscribe(null, (c) => heard.push(c.seq));
  const e2 = await till.fire("sell", { roles: ["*"], payload: { n: 2 } });
  off();
  assert.deepEqual(heard, [2]);
  assert.equal(e2.prev, e1.hash);
  assert.equal(e2.payload, '{"n":2}');
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
  const copy = Ledger.memory();
  await assert.rejects(
    copy.importJsonl(text.replace('{\\"n\\":2}', '{\\"n\\":3}')),
    (err) => err.code === "HASH_MISMATCH" && err.details.seq === 2,
  );
  assert.equal((await copy.importJsonl(text)).added, 2);
  ledger.close();
  await assert.rejects(ledger.streams(), (err) => err.code === "CLOSED");
});

test("ledger.model(id) gives back a stored net; an unknown id is UNKNOWN_MODEL", async () => {
  const ledger = Ledger.memory();
  const model = Model.fromJson(shop);
  const id = await ledger.putModel(model);
  const back = await ledger.model(id);
  assert.equal(back.id, id);
  assert.equal(back.toJson(), model.toJson());
  await assert.rejects(ledger.model("0".repeat(64)), (err) => err instanceof Error && err.code === "UNKNOWN_MODEL");
});
