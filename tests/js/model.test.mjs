// The built package (pkg/) used from JavaScript, as an app would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, Model } from "../../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

const order = JSON.parse(readFileSync(new URL("../../www/examples/order.json", import.meta.url), "utf8"));

test("fires with roles and multiple, returning new markings", () => {
  const model = Model.fromJson(order);
  const start = model.initialMarking();
  assert.deepEqual(start, { cart: 1, paid: 0, placed: 0, shipped: 0, stock: 2 });
  assert.deepEqual(model.enabled(start, ["customer"]), ["place_order"]);
  assert.deepEqual(model.enabled(start, ["warehouse"]), ["restock"]);
  const m = model.fire(start, "restock", { roles: ["warehouse"], multiple: 3 });
  assert.equal(m.stock, 5);
  assert.equal(start.stock, 2, "input marking untouched");
});

test("refusals are Errors with a code and details", () => {
  const model = Model.fromJson(order);
  const start = model.initialMarking();
  const cases = [
    [() => model.fire(start, "pay", { roles: ["customer"] }), "NOT_ENABLED", { place: "placed", has: 0, needs: 1 }],
    [
      () => model.fire(start, "restock", { roles: ["warehouse"], multiple: 4 }),
      "CAPACITY_EXCEEDED",
      { wouldHave: 6, capacity: 5 },
    ],
    [() => model.fire(start, "place_order"), "ROLE_DENIED", { required: ["customer"], held: [] }],
    [() => model.fire(start, "teleport", { roles: ["*"] }), "UNKNOWN_TRANSITION", {}],
    [() => model.fire({ stock: -1 }, "restock", { roles: ["*"] }), "BAD_ARGUMENT", {}],
    [() => Model.fromJson('{"places": [}'), "SYNTAX", {}],
  ];
  for (const [run, code, details] of cases) {
    assert.throws(run, (err) => {
      assert.ok(err instanceof Error, `${code}: not an Error`);
      assert.equal(err.name, "PetrichainError");
      assert.equal(err.code, code);
      for (const [k, v] of Object.entries(details)) assert.deepEqual(err.details[k], v, `${code}.${k}`);
      assert.ok(err.message.length > 10, "message explains");
      return true;
    });
  }
});

test("the model id does not depend on key or element order", () => {
  const reordered = {
    arcs: [...order.arcs].reverse(),
    transitions: order.transitions,
    places: [...order.places].reverse(),
    name: order.name,
  };
  assert.equal(Model.fromJson(reordered).id, Model.fromJson(order).id);
  const json = Model.fromJson(order).toJson();
  assert.equal(Model.fromJson(json).id, Model.fromJson(order).id);
  assert.match(Model.fromJson(order).id, /^[0-9a-f]{64}$/);
});
