// The scenarios every adapter passes against a real server of its kind
// (issue 18): first writer of a seq wins; two offline devices converge; a
// double spend is a recorded conflict; a stop between two writes resumes; a
// tampered object is refused with its code and seq; a permanent refusal is
// REMOTE_ERROR with its status, not a retried NETWORK; live updates.
//
// `backend` gives, for a fresh namespace each call (a bucket, database or
// collection of its own): { store, transport(name), overwrite(key, value),
// refusals: [{what, status, transport}] }.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createOnlyTransport, keys, Ledger, liveSync, Model } from "../../js/node.js";

export const coin = Model.fromJson({
  places: [{ id: "coin", initial: 1 }, { id: "spent" }],
  transitions: [{ id: "spend" }],
  arcs: [
    { source: "coin", target: "spend" },
    { source: "spend", target: "spent" },
  ],
});

export const counter = Model.fromJson({
  places: [{ id: "count" }],
  transitions: [{ id: "add" }],
  arcs: [{ source: "add", target: "count" }],
});

async function device(model, stream, create = true) {
  const ledger = await Ledger.memory();
  await ledger.putModel(model);
  if (create) await ledger.createStream(stream, model.id);
  return ledger;
}

const events = async (ledger, stream) => (await ledger.stream(stream)).events({ limit: 10000 });

async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Registers the scenarios of one adapter. */
export function scenarios(kind, backend) {
  test(`${kind}: the first writer of a key wins, the second is told it is taken`, async () => {
    const { store } = await backend();
    assert.equal(await store.create("events/x/0000000000000001", { hash: "a" }), true);
    assert.equal(await store.create("events/x/0000000000000001", { hash: "b" }), false);
    assert.deepEqual(await store.get("events/x/0000000000000001"), { hash: "a" });
    assert.equal(await store.get("events/x/0000000000000002"), null);
    await store.create("events/x/0000000000000003", { hash: "c" });
    await store.create("events/y/0000000000000001", { hash: "d" });
    const listed = await store.list("events/x/", "events/x/0000000000000001", 10);
    assert.deepEqual(
      listed.map((e) => e.key),
      ["events/x/0000000000000003"],
    );
  });

  test(`${kind}: two offline devices converge`, async () => {
    const b = await backend();
    const a = await device(counter, "tally");
    const c = await device(counter, "tally", false);
    const stream = await a.stream("tally");
    await stream.fire("add");
    await a.sync({ transport: b.transport("dev"), streams: ["tally"] }).now();
    await c.sync({ transport: b.transport("dev"), streams: ["tally"] }).now();
    // Both record offline, then sync in turn.
    await stream.fire("add", { actor: "a" });
    await stream.fire("add", { actor: "a" });
    await (await c.stream("tally")).fire("add", { actor: "c" });
    await a.sync({ transport: b.transport("dev"), streams: ["tally"] }).now();
    const report = await c.sync({ transport: b.transport("dev"), streams: ["tally"] }).now();
    assert.equal(report.streams[0].rebased, 1);
    await a.sync({ transport: b.transport("dev"), streams: ["tally"] }).now();
    const ea = await events(a, "tally");
    const ec = await events(c, "tally");
    assert.equal(ea.length, 4);
    assert.deepEqual(
      ea.map((e) => e.hash),
      ec.map((e) => e.hash),
    );
    assert.deepEqual((await a.stream("tally")).marking, { count: 4 });
    assert.ok(await a.verify("tally"));
  });

  test(`${kind}: a double spend is a recorded conflict`, async () => {
    const b = await backend();
    const a = await device(coin, "wallet");
    const c = await device(coin, "wallet", false);
    await a.sync({ transport: b.transport("dev"), streams: ["wallet"] }).now();
    await c.sync({ transport: b.transport("dev"), streams: ["wallet"] }).now();
    await (await a.stream("wallet")).fire("spend", { actor: "a" });
    await (await c.stream("wallet")).fire("spend", { actor: "c" });
    await a.sync({ transport: b.transport("dev"), streams: ["wallet"] }).now();
    const report = await c.sync({ transport: b.transport("dev"), streams: ["wallet"] }).now();
    assert.equal(report.streams[0].conflicts, 1);
    const conflicts = await c.conflicts("wallet");
    assert.equal(conflicts.length, 1);
    assert.equal(conflicts[0].code, "NOT_ENABLED");
    assert.equal(conflicts[0].event.actor, "c");
    const ea = await events(a, "wallet");
    const ec = await events(c, "wallet");
    assert.equal(ec.length, 1);
    assert.equal(ec[0].hash, ea[0].hash);
    // The backend holds one event: seq 2 was never written.
    assert.equal(await b.store.get(keys.event("wallet", 2)), null);
  });

  test(`${kind}: a stop between two writes leaves a state the next sync resumes from`, async () => {
    const b = await backend();
    const a = await device(counter, "tally");
    const stream = await a.stream("tally");
    for (let i = 0; i < 3; i++) await stream.fire("add");
    // The connection drops after the first event is written (before its answer).
    let creates = 0;
    const dropping = {
      ...b.store,
      async create(key, value) {
        if (key.startsWith("events/") && ++creates === 2) throw new TypeError("fetch failed: connection reset");
        return b.store.create(key, value);
      },
    };
    const cut = await a
      .sync({ transport: createOnlyTransport(dropping, { name: "dev" }), streams: ["tally"] })
      .now()
      .catch((e) => e);
    assert.equal(cut.code, "NETWORK");
    assert.notEqual(await b.store.get(keys.event("tally", 1)), null);
    assert.equal(await b.store.get(keys.event("tally", 2)), null);
    const report = await a.sync({ transport: b.transport("dev"), streams: ["tally"] }).now();
    assert.equal(report.streams[0].pending, 0);
    const c = await device(counter, "tally", false);
    await c.sync({ transport: b.transport("other"), streams: ["tally"] }).now();
    assert.deepEqual(
      (await events(c, "tally")).map((e) => e.hash),
      (await events(a, "tally")).map((e) => e.hash),
    );
    assert.deepEqual((await c.stream("tally")).marking, { count: 3 });
  });

  test(`${kind}: an object tampered in the backend is refused with its code and seq`, async () => {
    const b = await backend();
    const a = await device(counter, "tally");
    const stream = await a.stream("tally");
    for (let i = 0; i < 3; i++) await stream.fire("add", { payload: { n: i } });
    await a.sync({ transport: b.transport("dev"), streams: ["tally"] }).now();
    const two = await b.store.get(keys.event("tally", 2));
    await b.overwrite(keys.event("tally", 2), { ...two, payload: '{"n":99}' });
    const c = await device(counter, "tally", false);
    const refused = await c
      .sync({ transport: b.transport("other"), streams: ["tally"] })
      .now()
      .catch((e) => e);
    assert.equal(refused.code, "REMOTE_CHAIN_INVALID");
    assert.equal(refused.details.error.code, "HASH_MISMATCH");
    assert.equal(refused.details.error.seq, 2);
    assert.deepEqual(await c.streams(), [], "nothing of the refused chain was stored");
    // A signature replaced: the hash still matches, the signature does not.
    await b.overwrite(keys.event("tally", 2), { ...two, sig: (await b.store.get(keys.event("tally", 1))).sig });
    const forged = await c
      .sync({ transport: b.transport("other"), streams: ["tally"] })
      .now()
      .catch((e) => e);
    assert.equal(forged.code, "REMOTE_CHAIN_INVALID");
    assert.equal(forged.details.error.code, "BAD_SIGNATURE");
    assert.equal(forged.details.error.seq, 2);
  });

  test(`${kind}: a permanent refusal is REMOTE_ERROR with its status, not a retried NETWORK`, async () => {
    const b = await backend();
    assert.ok(b.refusals.length > 0);
    for (const { what, status, remoteCode, transport } of b.refusals) {
      const a = await device(counter, "tally");
      await (await a.stream("tally")).fire("add");
      const sync = a.sync({ transport, streams: ["tally"], interval: 60000, backoff: 60000 });
      const refused = await sync.now().catch((e) => e);
      assert.equal(refused.code, "REMOTE_ERROR", `${what}: ${refused.message}`);
      assert.equal(refused.details.status, status, what);
      if (remoteCode) assert.equal(refused.details.remoteCode, remoteCode, what);
      sync.start();
      await until(`${what}: status error`, () => sync.status === "error");
      sync.stop();
      assert.equal(sync.lastError.code, "REMOTE_ERROR");
    }
  });

  test(`${kind}: live updates wake the other device`, async () => {
    const b = await backend();
    const a = await device(counter, "tally");
    const c = await device(counter, "tally", false);
    const ta = b.transport("dev");
    const tc = b.transport("dev");
    await a.sync({ transport: ta, streams: ["tally"] }).now();
    const sc = c.sync({ transport: tc, streams: ["tally"] });
    await sc.now();
    const stop = liveSync(sc, tc, ["tally"], { interval: 50, maxInterval: 400 });
    try {
      await new Promise((r) => setTimeout(r, 200)); // the watcher has its first view
      await (await a.stream("tally")).fire("add");
      await a.sync({ transport: ta, streams: ["tally"] }).now();
      await until("the other device to pull", async () => (await c.stream("tally")).head.seq === 1);
    } finally {
      stop();
    }
  });
}
