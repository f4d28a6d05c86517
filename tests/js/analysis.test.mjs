// The analysis API of the built package (pkg/) under Node: invariants as
// sentences, the state space with its limits, reachability, and the CSV /
// firing counts of a stream's events replayed through the net.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, Ledger, Model } from "../../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

const transfer = JSON.parse(readFileSync(new URL("../../www/examples/transfer.json", import.meta.url), "utf8"));
const order = JSON.parse(readFileSync(new URL("../../www/examples/order.json", import.meta.url), "utf8"));

test("invariants: the transfer net conserves 175, said in words", () => {
  const model = Model.fromJson(transfer);
  const inv = model.invariants();
  assert.equal(inv.places.invariants.length, 1);
  assert.equal(inv.places.invariants[0].sentence, "The total of Alice, Bob and Carol is always 175.");
  assert.equal(inv.places.invariants[0].formula, "alice + bob + carol = 175");
  assert.equal(inv.places.invariants[0].total, 175);
  assert.deepEqual(inv.places.bounds, [175, 175, 175]);
  assert.equal(inv.places.bounded, true);
  assert.equal(inv.transitions.invariants.length, 5);
  assert.deepEqual(inv.siphons, { emptySiphon: [], neverEnabled: [], markedTrap: ["alice", "bob", "carol"] });
});

test("incidence matrix and its CSV", () => {
  const model = Model.fromJson(transfer);
  const c = model.incidence();
  assert.deepEqual(c.places, ["alice", "bob", "carol"]);
  assert.equal(c.transitions.length, 6);
  const t = c.transitions.indexOf("alice_to_bob");
  assert.deepEqual(
    c.matrix.map((row) => row[t]),
    [-1, 1, 0],
  );
  assert.deepEqual(c.reset, []);
  assert.match(model.incidenceCsv(), /^place,alice_to_bob,alice_to_carol,/);
});

test("explore: exhaustive figures, and an honest stop at the limit", () => {
  const model = Model.fromJson(transfer);
  const all = model.explore();
  assert.equal(all.complete, true);
  assert.equal(all.states, (177 * 176) / 2);
  assert.equal(all.deadlockCount, 0);
  assert.match(all.summary, /^explored 15,576 states and .* firings: exhaustive$/);
  const some = model.explore({ maxStates: 100 });
  assert.equal(some.complete, false);
  assert.equal(some.states, 100);
  assert.deepEqual(some.stopped, { limit: "states", max: 100 });
  assert.equal(some.summary, "explored 100 states, not exhaustive: the state limit (100) was reached");
});

test("deadlocks come with a sequence that reaches them", () => {
  const model = Model.fromJson(order);
  const space = model.explore({ maxStates: 10_000 });
  assert.equal(space.complete, true);
  // The order is shipped and the stock is full (capacity 5): nothing more can happen.
  assert.equal(space.deadlockCount, 1);
  assert.deepEqual(space.deadlocks[0].marking, { cart: 0, paid: 0, placed: 0, shipped: 1, stock: 5 });
  assert.equal(space.deadlocks[0].sequence.length, 7);
  for (const d of space.deadlocks) {
    let m = model.initialMarking();
    for (const t of d.sequence) m = model.fire(m, t, { roles: ["*"] });
    assert.deepEqual(m, d.marking);
    assert.deepEqual(model.enabled(m, ["*"]), []);
  }
});

test("isReachable: a sequence, a proof by invariant, typed errors", () => {
  const model = Model.fromJson(transfer);
  const yes = model.isReachable({ alice: 99, bob: 51, carol: 25 });
  assert.deepEqual(yes, { answer: "reachable", sequence: ["alice_to_bob"], states: yes.states });
  const no = model.isReachable({ alice: 1 });
  assert.equal(no.answer, "unreachable");
  assert.match(no.reason, /breaks the invariant alice \+ bob \+ carol = 175/);
  assert.throws(
    () => model.isReachable({ nobody: 1 }),
    (e) => e.code === "UNKNOWN_PLACE",
  );
  assert.throws(
    () => model.explore({ maxStates: 0 }),
    (e) => e.code === "INVALID_INPUT",
  );
  assert.throws(
    () => model.explore({ maxStatez: 5 }),
    (e) => e.code === "BAD_ARGUMENT",
  );
  assert.throws(
    () => model.explore("fast"),
    (e) => e.code === "BAD_ARGUMENT",
  );
});

test("a stream's events as CSV of replayed state vectors and as firing counts", async () => {
  const model = Model.fromJson(transfer);
  const ledger = await Ledger.memory();
  await ledger.putModel(model);
  const stream = await ledger.createStream("s", model.id);
  await stream.fire("alice_to_bob", { roles: ["alice"], multiple: 10, actor: "ann" });
  await stream.fire("bob_to_carol", { roles: ["bob"], multiple: 5, actor: "bo" });
  const events = await stream.events();
  const lines = model.eventsCsv(events).trim().split("\n");
  assert.equal(lines[0], "seq,action,actor,ts,alice,bob,carol");
  assert.match(lines[1], /^1,alice_to_bob,ann,\d+,90,60,25$/);
  assert.match(lines[2], /^2,bob_to_carol,bo,\d+,90,55,30$/);
  const counts = model.firingCounts(events);
  assert.equal(counts.events, 2);
  assert.deepEqual(counts.marking, stream.marking);
  assert.equal(counts.counts.find((c) => c.transition === "alice_to_bob").count, 10);
  // Replay is checked: an edited log is refused with the engine's reason.
  const forged = events.map((e) => ({ ...e, multiple: e.seq === 1 ? 500 : e.multiple }));
  assert.throws(
    () => model.eventsCsv(forged),
    (e) => e.code === "NOT_ENABLED" && e.details.seq === 1,
  );
  assert.throws(
    () => model.eventsCsv("events"),
    (e) => e.code === "BAD_ARGUMENT",
  );
});
