// The editor's draft: a net being drawn, as plain data the engine has not
// validated yet. Every place, transition and arc has a `uid` that never
// changes (arcs point at uids), so renaming a node's id keeps its arcs and the
// selection; ids are what the user types, checked by the engine
// (editor-problems.js). Pure functions, no DOM: tests/js/editor.test.mjs runs
// them under Node.

/** Grid step of "snap to grid", in model units (the engine draws places with radius 16). */
export const GRID = 20;
/** Most places + transitions the editor opens (the DOM drawing is redrawn on every change). */
export const MAX_NODES = 2000;
/** Most arcs the editor opens. */
export const MAX_ARCS = 8000;
/** The arc kinds of the model format (docs/model-format.md). */
export const ARC_KINDS = ["normal", "inhibitor", "read", "reset"];
/** Coordinates stay in a 32-bit integer range (the engine refuses others). */
const COORD_LIMIT = 1_000_000;

/** A draft with nothing in it. */
export function emptyDraft(name = "") {
  return { name, next: 1, places: [], transitions: [], arcs: [] };
}

const newUid = (d) => `e${d.next++}`;

/** Rounds a coordinate to an integer (or to the grid) within the editor's range. */
export function snapValue(v, snap) {
  const n = Number.isFinite(v) ? v : 0;
  const r = snap ? Math.round(n / GRID) * GRID : Math.round(n);
  return Math.min(Math.max(r, -COORD_LIMIT), COORD_LIMIT);
}

// uid -> { node, kind } per draft, rebuilt when a node list is replaced
// (removal filters into a new array) or grows (an add pushes): drawing a
// net looks up both ends of every arc, which must not scan the node lists.
const indexes = new WeakMap();
function index(d) {
  const kept = indexes.get(d);
  if (
    kept &&
    kept.places === d.places &&
    kept.transitions === d.transitions &&
    kept.np === d.places.length &&
    kept.nt === d.transitions.length
  )
    return kept.map;
  const map = new Map();
  for (const node of d.places) map.set(node.uid, { node, kind: "place" });
  for (const node of d.transitions) map.set(node.uid, { node, kind: "transition" });
  indexes.set(d, { places: d.places, transitions: d.transitions, np: d.places.length, nt: d.transitions.length, map });
  return map;
}

/** The place or transition with this uid, as `{ node, kind }`, or null. */
export function nodeOf(d, uid) {
  return index(d).get(uid) ?? null;
}

/** The element (node or arc) with this uid, as `{ element, kind }` ("place", "transition", "arc"), or null. */
export function elementOf(d, uid) {
  const n = nodeOf(d, uid);
  if (n) return { element: n.node, kind: n.kind };
  const a = d.arcs.find((x) => x.uid === uid);
  return a ? { element: a, kind: "arc" } : null;
}

/** The first of `p1`, `p2`, ... (or `t1`, ...) no node uses. */
export function freeId(d, prefix) {
  const used = new Set([...d.places, ...d.transitions].map((n) => n.id));
  let i = 1;
  while (used.has(`${prefix}${i}`)) i++;
  return `${prefix}${i}`;
}

/** A grid point near `near` that no node occupies (bounded search: falls back to `near`). */
export function freeSpot(d, near) {
  const nodes = [...d.places, ...d.transitions];
  const taken = (x, y) => nodes.some((n) => Math.abs(n.x - x) < 50 && Math.abs(n.y - y) < 50);
  const x0 = snapValue(near.x, true);
  const y0 = snapValue(near.y, true);
  // Rings of growing radius around the point, 3 grid steps apart.
  for (let ring = 0; ring < 30; ring++) {
    for (let i = -ring; i <= ring; i++) {
      for (const [dx, dy] of [
        [ring, i],
        [i, ring],
        [-ring, i],
        [i, -ring],
      ]) {
        const x = x0 + dx * 3 * GRID;
        const y = y0 + dy * 3 * GRID;
        if (!taken(x, y)) return { x, y };
      }
    }
  }
  return { x: x0, y: y0 };
}

/** Checks that one more node fits; throws with a clear message otherwise. */
function roomForNode(d) {
  if (d.places.length + d.transitions.length >= MAX_NODES)
    throw new Error(`the editor holds at most ${MAX_NODES} places and transitions`);
}

/** Adds a place at (x, y); returns its uid. */
export function addPlace(d, x, y) {
  roomForNode(d);
  const uid = newUid(d);
  d.places.push({ uid, id: freeId(d, "p"), label: "", initial: 0, capacity: 0, x: snapValue(x), y: snapValue(y) });
  return uid;
}

/** Adds a transition at (x, y); returns its uid. */
export function addTransition(d, x, y) {
  roomForNode(d);
  const uid = newUid(d);
  d.transitions.push({ uid, id: freeId(d, "t"), label: "", roles: [], x: snapValue(x), y: snapValue(y) });
  return uid;
}

/**
 * Adds an arc from node `source` to node `target` (uids). Returns
 * `{ uid }`, or `{ reason }` when it cannot be an arc at all (two places, two
 * transitions, a missing node, too many arcs). Everything else the engine
 * judges (an inhibitor from a transition, the same arc twice): the draft
 * takes it and live validation shows the engine's message on the arc.
 */
export function addArc(d, source, target, kind = "normal") {
  const s = nodeOf(d, source);
  const t = nodeOf(d, target);
  if (!s || !t) return { reason: "an arc needs a place and a transition at its two ends" };
  if (s.kind === t.kind) return { reason: `an arc joins a place and a transition, not two ${s.kind}s` };
  if (!ARC_KINDS.includes(kind)) return { reason: `unknown arc kind ${kind}` };
  if (d.arcs.length >= MAX_ARCS) return { reason: `the editor holds at most ${MAX_ARCS} arcs` };
  const uid = newUid(d);
  d.arcs.push({ uid, source, target, kind, weight: 1, points: [] });
  return { uid };
}

/** Removes a node (and its arcs) or an arc; returns how many elements went. */
export function removeElement(d, uid) {
  const before = d.places.length + d.transitions.length + d.arcs.length;
  d.places = d.places.filter((n) => n.uid !== uid);
  d.transitions = d.transitions.filter((n) => n.uid !== uid);
  d.arcs = d.arcs.filter((a) => a.uid !== uid && a.source !== uid && a.target !== uid);
  return before - (d.places.length + d.transitions.length + d.arcs.length);
}

/** The engine's name of an arc in its messages: `source->target` (by ids). */
export function arcName(d, arc) {
  return `${nodeOf(d, arc.source)?.node.id ?? "?"}->${nodeOf(d, arc.target)?.node.id ?? "?"}`;
}

/**
 * The draft as petrichain JSON for `Model.fromJson` (arcs in draft order, so
 * the engine's `arcs[i]` is `d.arcs[i]`). Numbers go as they are: the engine
 * judges them (a negative or fractional count is its `BAD_VALUE`).
 */
export function toModelJson(d) {
  const idOf = (uid) => nodeOf(d, uid)?.node.id ?? "";
  return {
    name: d.name,
    places: d.places.map(({ id, label, initial, capacity, x, y }) => ({ id, label, initial, capacity, x, y })),
    transitions: d.transitions.map(({ id, label, roles, x, y }) => ({ id, label, roles, x, y })),
    arcs: d.arcs.map((a) => ({
      source: idOf(a.source),
      target: idOf(a.target),
      kind: a.kind,
      weight: a.weight,
      ...(a.points.length ? { points: a.points } : {}),
    })),
  };
}

/**
 * A draft of an existing net: `net` is anything with `name`, `places`,
 * `transitions` and `arcs` as a Model has them. Throws when it is larger than
 * the editor holds.
 */
export function fromModel(net) {
  const list = (v) => (Array.isArray(v) ? v.filter((x) => x && typeof x === "object") : []);
  const places = list(net?.places);
  const transitions = list(net?.transitions);
  const arcs = list(net?.arcs);
  if (places.length + transitions.length > MAX_NODES)
    throw new Error(
      `this net has ${places.length + transitions.length} places and transitions; the editor opens at most ${MAX_NODES}`,
    );
  if (arcs.length > MAX_ARCS) throw new Error(`this net has ${arcs.length} arcs; the editor opens at most ${MAX_ARCS}`);
  // Read defensively: a draft kept in localStorage comes back through here too.
  const str = (v) => (typeof v === "string" ? v : "");
  const num = (v, fallback) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
  const d = emptyDraft(str(net?.name));
  const byId = new Map();
  for (const p of places) {
    const uid = newUid(d);
    byId.set(str(p.id), uid);
    d.places.push({
      uid,
      id: str(p.id),
      label: str(p.label),
      initial: num(p.initial, 0),
      capacity: num(p.capacity, 0),
      x: snapValue(num(p.x, 0)),
      y: snapValue(num(p.y, 0)),
    });
  }
  for (const t of transitions) {
    const uid = newUid(d);
    byId.set(str(t.id), uid);
    d.transitions.push({
      uid,
      id: str(t.id),
      label: str(t.label),
      roles: Array.isArray(t.roles) ? t.roles.filter((r) => typeof r === "string") : [],
      x: snapValue(num(t.x, 0)),
      y: snapValue(num(t.y, 0)),
    });
  }
  for (const a of arcs) {
    const source = byId.get(str(a.source));
    const target = byId.get(str(a.target));
    if (!source || !target) continue; // a validated Model has none such
    d.arcs.push({
      uid: newUid(d),
      source,
      target,
      kind: ARC_KINDS.includes(a.kind) ? a.kind : "normal",
      weight: num(a.weight, 1),
      points: list(a.points).map((p) => ({ x: snapValue(num(p.x, 0)), y: snapValue(num(p.y, 0)) })),
    });
  }
  return d;
}

/** True when most nodes share a position (files without graphics): the draft wants an automatic layout. */
export function needsLayout(d) {
  const nodes = [...d.places, ...d.transitions];
  if (nodes.length < 2) return false;
  const seen = new Set();
  let stacked = 0;
  for (const n of nodes) {
    const key = `${n.x},${n.y}`;
    if (seen.has(key)) stacked++;
    seen.add(key);
  }
  return stacked * 4 > nodes.length;
}

/** Parses "a, b ,c" into role names (trimmed, non-empty, first occurrence kept). */
export function parseRoles(text) {
  return [
    ...new Set(
      String(text)
        .split(",")
        .map((r) => r.trim())
        .filter(Boolean),
    ),
  ];
}
