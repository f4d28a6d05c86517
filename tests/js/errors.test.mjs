// Error codes from JavaScript: every thrown error is a PetrichainError with a
// code, and isPetrichainError tells them from anything else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { initSync, isPetrichainError, Model } from "../../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/petrichain_bg.wasm", import.meta.url)) });

const net = {
  places: [{ id: "a", initial: 0 }, { id: "b" }],
  transitions: [{ id: "t" }],
  arcs: [
    { source: "a", target: "t" },
    { source: "t", target: "b" },
  ],
};

test("isPetrichainError is true for a thrown NOT_ENABLED error", () => {
  const model = Model.fromJson(net);
  let caught;
  try {
    model.fire(model.initialMarking(), "t");
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Error);
  assert.equal(caught.code, "NOT_ENABLED");
  assert.equal(isPetrichainError(caught), true);
});

test("isPetrichainError is true for BAD_ARGUMENT and import errors too", () => {
  const model = Model.fromJson(net);
  assert.throws(
    () => model.fire({ a: -1 }, "t"),
    (e) => isPetrichainError(e) && e.code === "BAD_ARGUMENT",
  );
  assert.throws(
    () => Model.fromJson("{"),
    (e) => isPetrichainError(e) && e.code === "SYNTAX",
  );
});

test("isPetrichainError is false for anything else", () => {
  assert.equal(isPetrichainError(new Error("plain")), false);
  assert.equal(isPetrichainError(new TypeError("type")), false);
  assert.equal(isPetrichainError("NOT_ENABLED"), false);
  assert.equal(isPetrichainError({ name: "PetrichainError", code: "NOT_ENABLED" }), false, "not an Error");
  const named = new Error("x");
  named.name = "PetrichainError";
  assert.equal(isPetrichainError(named), false, "no code");
  assert.equal(isPetrichainError(undefined), false);
  assert.equal(isPetrichainError(null), false);
  assert.equal(isPetrichainError(42), false);
});
