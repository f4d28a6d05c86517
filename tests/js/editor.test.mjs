// The editor's pure modules (www/editor-draft.js, editor-problems.js,
// editor-history.js) under Node with the built package: drafts built from
// nothing validate and fire, the engine's problems land on the right
// elements with the engine's own wording, undo / redo steps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Model } from "../../js/node.js";
import {
  MAX_NODES,
  addArc,
  addPlace,
  addTransition,
  emptyDraft,
  freeSpot,
  fromModel,
  needsLayout,
  nodeOf,
  parseRoles,
  removeElement,
  snapValue,
  toModelJson,
} from "../../www/editor-draft.js";
import { locateProblems, problemText } from "../../www/editor-problems.js";
import { History } from "../../www/editor-history.js";

/** p1 (3 tokens) -2-> t1 -> p2: the net the page test draws too. */
function smallNet() {
  const d = emptyDraft("small");
  const p1 = addPlace(d, 0, 0);
  const t1 = addTransition(d, 100, 0);
  const p2 = addPlace(d, 200, 0);
  nodeOf(d, p1).node.initial = 3;
  const a = addArc(d, p1, t1);
  d.arcs.find((x) => x.uid === a.uid).weight = 2;
  addArc(d, t1, p2);
  return { d, p1, t1, p2 };
}

/** The engine's verdict on a draft: `{ model }` or `{ err }`. */
function judge(d) {
  try {
    return { model: Model.fromJson(toModelJson(d)) };
  } catch (err) {
    return { err };
  }
}

test("a draft built from nothing is a valid model that fires; its id is content-addressed", () => {
  const { d } = smallNet();
  const { model, err } = judge(d);
  assert.equal(err, undefined);
  assert.deepEqual(
    model.places.map((p) => p.id),
    ["p1", "p2"],
  );
  assert.match(model.id, /^[0-9a-f]{64}$/);
  let m = model.initialMarking();
  m = model.fire(m, "t1", { roles: ["*"] });
  assert.deepEqual(m, { p1: 1, p2: 1 });
  assert.throws(
    () => model.fire(m, "t1", { roles: ["*"] }),
    (e) => e.code === "NOT_ENABLED",
  );
  // The same net again (another draft, other uids) has the same id; a moved node another.
  assert.equal(judge(smallNet().d).model.id, model.id);
  const moved = smallNet().d;
  moved.places[0].x = 20;
  assert.notEqual(judge(moved).model.id, model.id);
});

test("ids are fresh, renaming a node keeps its arcs, deleting a node takes its arcs", () => {
  const { d, p1, t1 } = smallNet();
  assert.equal(nodeOf(d, addPlace(d, 0, 100)).node.id, "p3");
  nodeOf(d, p1).node.id = "input";
  assert.deepEqual(toModelJson(d).arcs[0], { source: "input", target: "t1", kind: "normal", weight: 2 });
  assert.equal(removeElement(d, t1), 3, "the transition and its two arcs");
  assert.equal(d.arcs.length, 0);
  assert.equal(nodeOf(d, t1), null);
});

test("an arc joins a place and a transition; anything else the engine judges", () => {
  const { d, p1, p2, t1 } = smallNet();
  assert.match(addArc(d, p1, p2).reason, /not two places/);
  assert.match(addArc(d, p1, "e999").reason, /place and a transition/);
  assert.match(addArc(d, p1, t1, "bogus").reason, /unknown arc kind/);
  const guard = addArc(d, t1, p1, "inhibitor"); // the draft takes it; the engine refuses the net
  const { err } = judge(d);
  assert.equal(err.code, "INVALID_MODEL");
  const { list, byUid } = locateProblems(err, d);
  assert.deepEqual(list, [
    {
      code: "INVALID_MODEL",
      message: "arc t1->p1: a inhibitor arc must run from a place to a transition",
      uids: [guard.uid],
      fields: ["kind"],
    },
  ]);
  assert.deepEqual(byUid.get(guard.uid), [list[0].message]);
});

test("problem texts are the engine's own words, each on its element", () => {
  const { d, p1, p2, t1 } = smallNet();
  nodeOf(d, p1).node.capacity = 2; // initial 3 above capacity 2
  const p3 = addPlace(d, 0, 100);
  nodeOf(d, p3).node.id = "p2"; // two places called p2
  const again = addArc(d, p1, t1); // the same arc twice
  d.arcs[0].weight = 0; // and weight 0
  const { err } = judge(d);
  const { list, byUid } = locateProblems(err, d);
  assert.equal(list.length, 4);
  // The error's message joins the engine's Display of each problem: ours must read the same.
  assert.equal(err.message, `invalid model: ${list.map((p) => p.message).join("; ")}`);
  assert.deepEqual(byUid.get(p1), ["place p1: initial 3 is above capacity 2"]);
  assert.deepEqual([...locateProblems(err, d).fieldsByUid.get(p1)], ["initial", "capacity"]);
  assert.deepEqual([...locateProblems(err, d).fieldsByUid.get(p3)], ["id"]);
  assert.deepEqual(byUid.get(p2), ["p2: id used by more than one place/transition"]);
  assert.deepEqual(byUid.get(p3), ["p2: id used by more than one place/transition"]);
  assert.equal(byUid.get(t1), undefined);
  assert.ok(byUid.get(again.uid).includes("arc p1->t1: appears more than once"));
  assert.ok(byUid.get(d.arcs[0].uid).includes("arc p1->t1: weight must be at least 1"));
  // An empty id names no element: it lands on the node whose id is empty.
  nodeOf(d, p3).node.id = "";
  const empty = locateProblems(judge(d).err, d);
  assert.deepEqual(empty.byUid.get(p3), ["an element has an empty id"]);
  // Kinds the editor does not know yet still say something.
  assert.equal(problemText({ element: "x", kind: "somethingNew" }), "x: somethingNew");
});

test("a value the reader refuses (a fraction, a negative) is shown on its node or arc", () => {
  const { d, p1, t1 } = smallNet();
  nodeOf(d, p1).node.initial = 1.5;
  let { err } = judge(d);
  assert.equal(err.code, "BAD_VALUE");
  let { list } = locateProblems(err, d);
  assert.deepEqual(list[0].uids, [p1]);
  assert.deepEqual(list[0].fields, ["initial"]);
  assert.match(list[0].message, /expected a non-negative integer, found 1\.5/);
  nodeOf(d, p1).node.initial = 3;
  d.arcs[1].weight = -1;
  ({ err } = judge(d));
  ({ list } = locateProblems(err, d));
  assert.deepEqual(list[0].uids, [d.arcs[1].uid]);
  assert.deepEqual(list[0].fields, ["weight"]);
  // A dotted id is matched whole, not by its first part.
  nodeOf(d, t1).node.id = "t";
  d.arcs[1].weight = 1;
  nodeOf(d, p1).node.id = "t.x";
  nodeOf(d, p1).node.capacity = -4;
  ({ err } = judge(d));
  ({ list } = locateProblems(err, d));
  assert.equal(err.code, "BAD_VALUE");
  assert.deepEqual(list[0].uids, [p1]);
});

test("fromModel reads a Model (and junk) into a draft; caps are enforced", () => {
  const { d } = smallNet();
  const model = judge(d).model;
  const back = fromModel(model);
  assert.equal(judge(back).model.id, model.id, "Model -> draft -> Model keeps the id");
  const junk = fromModel({ name: 7, places: [{ id: 5 }, null, { id: "p", initial: "x", x: "y" }], arcs: "no" });
  assert.deepEqual(toModelJson(junk), {
    name: "",
    places: [
      { id: "", label: "", initial: 0, capacity: 0, x: 0, y: 0 },
      { id: "p", label: "", initial: 0, capacity: 0, x: 0, y: 0 },
    ],
    transitions: [],
    arcs: [],
  });
  const many = { places: Array.from({ length: MAX_NODES + 1 }, (_, i) => ({ id: `p${i}` })) };
  assert.throws(() => fromModel(many), /at most 2000/);
  const full = emptyDraft();
  full.places = many.places.slice(0, MAX_NODES);
  assert.throws(() => addPlace(full, 0, 0), /at most 2000/);
});

test("positions: snapping, a free spot, when a layout is needed", () => {
  assert.equal(snapValue(29, true), 20);
  assert.equal(snapValue(31, true), 40);
  assert.equal(snapValue(31.4, false), 31);
  assert.equal(snapValue(Number.NaN, true), 0);
  assert.equal(snapValue(1e12, false), 1_000_000);
  const { d } = smallNet();
  const spot = freeSpot(d, { x: 0, y: 0 });
  assert.ok([...d.places, ...d.transitions].every((n) => Math.abs(n.x - spot.x) >= 50 || Math.abs(n.y - spot.y) >= 50));
  assert.equal(needsLayout(d), false);
  for (const n of [...d.places, ...d.transitions]) Object.assign(n, { x: 0, y: 0 });
  assert.equal(needsLayout(d), true);
  assert.deepEqual(parseRoles(" clerk, ,manager,clerk "), ["clerk", "manager"]);
});

test("history: undo and redo, keyed runs as one step, bounded", () => {
  const h = new History(3);
  let state = { n: 0 };
  h.record(state);
  state = { n: 1 };
  // Typing "a", "ab", "abc" into one field is one step.
  for (const text of ["a", "ab", "abc"]) {
    h.record(state, "field");
    state = { ...state, text };
  }
  h.seal();
  state = h.undo(state);
  assert.deepEqual(state, { n: 1 });
  state = h.undo(state);
  assert.deepEqual(state, { n: 0 });
  assert.equal(h.undo(state), null);
  state = h.redo(state);
  assert.deepEqual(state, { n: 1 });
  state = h.redo(state);
  assert.deepEqual(state, { n: 1, text: "abc" });
  assert.equal(h.redo(state), null);
  // A new change drops what could be redone.
  h.undo(state);
  h.record({ n: 1 });
  assert.equal(h.canRedo, false);
  // Only the last `limit` steps are kept.
  for (let i = 0; i < 10; i++) h.record({ i });
  assert.equal(h.past.length, 3);
  assert.deepEqual(h.past[0], { i: 7 });
});
