// Keyed places from JavaScript (built package, Node, in-memory ledger):
// fire with args, count, keys, the errors naming a key or an argument.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, Ledger, Model, verifyKeyProof } from "../../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

const bank = readFileSync(new URL("../../www/examples/bank.json", import.meta.url), "utf8");
const ownedBank = readFileSync(new URL("../models/owned-bank.json", import.meta.url), "utf8");

test("a bank: open, transfer with args, count and page the keys; refusals name the key", async () => {
  const ledger = await Ledger.memory();
  const model = Model.fromJson(bank);
  assert.deepEqual(
    model.transitions.map((t) => [t.id, t.params]),
    [
      ["open", ["user"]],
      ["transfer", ["from", "to"]],
    ],
  );
  assert.equal(model.places.find((p) => p.id === "balance").keyed, true);
  const stream = await ledger.createStream("bank", await ledger.putModel(model));
  await stream.fireBatch(["alice", "bob", "carol"].map((user) => ({ action: "open", args: { user } })));
  const e = await stream.fire("transfer", { args: { from: "alice", to: "bob" }, multiple: 30 });
  assert.deepEqual(e.args, [
    ["from", "alice"],
    ["to", "bob"],
  ]);
  assert.deepEqual(e.keys, [
    ["balance", "alice", 70],
    ["balance", "bob", 130],
  ]);
  assert.deepEqual(e.delta, [], "a transfer leaves the total alone");
  assert.equal(await stream.count("balance", "alice"), 70);
  assert.equal(await stream.count("balance", "zed"), 0);
  assert.deepEqual(await stream.keys("balance", { after: "alice", limit: 1 }), {
    keys: [{ key: "bob", count: 130 }],
    count: 3,
    total: 300,
  });
  assert.deepEqual(stream.marking, { balance: 300, registered: 3 });

  await assert.rejects(stream.fire("transfer", { args: { from: "alice", to: "bob" }, multiple: 71 }), (err) => {
    assert.equal(err.code, "NOT_ENABLED");
    assert.equal(err.details.place, "balance[alice]");
    assert.equal(err.message, "'transfer' is not enabled: place 'balance[alice]' has 70 token(s), needs 71");
    return true;
  });
  await assert.rejects(stream.fire("transfer", { args: { from: "alice" } }), (err) => {
    assert.equal(err.code, "BAD_ARGUMENT");
    assert.equal(err.details.argument, "to");
    return true;
  });
  await assert.rejects(stream.fire("transfer", { args: { from: "alice", to: "bob", memo: "x" } }), /'memo'/);
  await assert.rejects(stream.fire("transfer", { args: { from: 1, to: "bob" } }), { code: "BAD_ARGUMENT" });
  await assert.rejects(stream.keys("registered", { limit: 10001 }), { code: "BAD_ARGUMENT" });
  await assert.rejects(stream.count("nowhere", "x"), { code: "UNKNOWN_PLACE" });
  assert.equal(stream.head.seq, 4, "refusals store nothing");
  assert.throws(() => model.toPnml(), { code: "UNSUPPORTED" });

  const svg = model.renderSvg(stream.marking, { keys: { balance: 3 } });
  assert.match(svg, /data-place="balance"[^>]*data-keyed="true"[^>]*data-keys="3"/);
  assert.match(svg, />3 keys</);
  const [verified] = await ledger.verify("bank");
  assert.equal(verified.events, 4);
});

test("accounts keyed by public keys: the signer is bound, a constant key funds them, one key is proven", async () => {
  const ledger = await Ledger.memory();
  const model = Model.fromJson(ownedBank);
  assert.deepEqual(
    model.transitions.map((t) => [t.id, t.signer ?? []]),
    [
      ["mint", []],
      ["open", ["user"]],
      ["transfer", ["from"]],
    ],
  );
  assert.deepEqual(model.arcs.find((a) => a.target === "open").key, { const: "bank" });
  const stream = await ledger.createStream("owned", await ledger.putModel(model));
  await assert.rejects(stream.fire("open"), (e) => e.code === "NOT_ENABLED" && e.details.place === "balance[bank]");
  await stream.fire("mint", { roles: ["banker"] });
  // `user` left out: bound to this device's key.
  const opened = await stream.fire("open");
  const me = opened.signer;
  assert.deepEqual(opened.args, [["user", me]]);
  await assert.rejects(
    stream.fire("transfer", { args: { from: "b0".repeat(32), to: me } }),
    (e) => e.code === "BAD_ARGUMENT" && e.details.argument === "from",
  );
  const paid = await stream.fire("transfer", { args: { to: "carol" }, multiple: 40 });
  assert.deepEqual(paid.args, [
    ["from", me],
    ["to", "carol"],
  ]);
  const { event, proof } = await stream.prove("balance", { key: me });
  assert.equal(proof.count, 60);
  assert.equal(verifyKeyProof(proof, event.root), true);
  assert.equal(verifyKeyProof({ ...proof, count: 61 }, event.root), false);
  const absent = (await stream.prove("balance", { key: "dave" })).proof;
  assert.equal(absent.count, 0);
  assert.equal(verifyKeyProof(absent, event.root), true);
  const before = await stream.prove("balance", { key: "bank", seq: 1 });
  assert.equal(before.proof.count, 1000);
  assert.equal(verifyKeyProof(before.proof, before.event.root), true);
  assert.equal(verifyKeyProof(before.proof, event.root), false);
  await assert.rejects(stream.prove("balance"), (e) => e.code === "INVALID_INPUT");
  assert.throws(
    () => verifyKeyProof({ place: "balance" }, event.root),
    (e) => e.code === "BAD_ARGUMENT",
  );
});

test("a bank's entries: top by count (ties by key), a prefix search paged with after", async () => {
  const ledger = await Ledger.memory();
  const stream = await ledger.createStream("bank", await ledger.putModel(Model.fromJson(bank)));
  const users = ["al", "alice", "alma", "bob", "carol", "dave"];
  await stream.fireBatch(users.map((user) => ({ action: "open", args: { user } })));
  await stream.fire("transfer", { args: { from: "carol", to: "alma" }, multiple: 100 });
  await stream.fire("transfer", { args: { from: "bob", to: "dave" }, multiple: 40 });
  assert.deepEqual(await stream.top("balance", { limit: 3 }), {
    keys: [
      { key: "alma", count: 200 },
      { key: "dave", count: 140 },
      { key: "al", count: 100 },
    ],
    count: 5,
    total: 600,
  });
  assert.equal((await stream.top("balance")).keys.length, 5, "default 20: all of them");
  const first = await stream.keys("balance", { prefix: "al", limit: 2 });
  assert.deepEqual(
    first.keys.map((e) => e.key),
    ["al", "alice"],
  );
  const next = await stream.keys("balance", { prefix: "al", after: "alice", limit: 2 });
  assert.deepEqual(next.keys, [{ key: "alma", count: 200 }]);
  assert.deepEqual((await stream.keys("balance", { prefix: "c" })).keys, [], "carol holds nothing");
  await assert.rejects(stream.top("balance", { limit: 1001 }), { code: "BAD_ARGUMENT" });
  await assert.rejects(stream.keys("balance", { prefix: 7 }), { code: "BAD_ARGUMENT" });
});
