// The editor's drawing of a draft: the same shapes as the engine's renderer
// (places radius 16, transitions 30 x 30 squares, an arrowhead per arc kind,
// weights above 1 beside the arc) but drawn here, because a draft may be
// invalid and the engine only draws valid nets. Every node and arc is a
// keyboard stop (`tabindex`, `role="button"`) with a name for screen readers
// (`aria-label`, and a `<title>` for the pointer) that includes the engine's
// problems with it; those problems are also written under the element.
import { GRID, nodeOf } from "./editor-draft.js";

const NS = "http://www.w3.org/2000/svg";
const PLACE_RADIUS = 16;
const HALF = 15;
/** Spacing of parallel arcs between the same two nodes. */
const PARALLEL = 7;

/** An SVG element with attributes (`text` becomes its text content). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else el.setAttribute(k, String(v));
  }
  el.append(...children.filter(Boolean));
  return el;
}

/** Marker definitions and the grid pattern; put once in the canvas. */
export function canvasDefs() {
  const marker = (id, ...shapes) =>
    s(
      "marker",
      {
        id,
        viewBox: "0 0 12 12",
        refX: 11,
        refY: 6,
        markerWidth: 12,
        markerHeight: 12,
        markerUnits: "userSpaceOnUse",
        orient: "auto",
      },
      ...shapes,
    );
  return s(
    "defs",
    {},
    s(
      "pattern",
      { id: "ed-grid", width: GRID, height: GRID, patternUnits: "userSpaceOnUse" },
      s("circle", { cx: 0, cy: 0, r: 1.1, class: "ed-grid-dot" }),
    ),
    marker("ed-m-normal", s("path", { d: "M0,1 L11,6 L0,11 z", class: "ed-head-normal" })),
    marker("ed-m-read", s("path", { d: "M0,1 L11,6 L0,11", class: "ed-head-read" })),
    marker("ed-m-reset", s("path", { d: "M0,1 L6,6 L0,11 M5,1 L11,6 L5,11", class: "ed-head-reset" })),
    marker("ed-m-inhibitor", s("circle", { cx: 7, cy: 6, r: 4, class: "ed-head-inhibitor" })),
  );
}

const shapeOf = (kind) => (kind === "place" ? { circle: PLACE_RADIUS } : { square: HALF });

/** The point where the ray from `c` towards `q` leaves the node's shape. */
function clip(shape, c, q) {
  const dx = q.x - c.x;
  const dy = q.y - c.y;
  const len = Math.hypot(dx, dy);
  if (len < 1e-9) return { ...c };
  if (shape.circle) return { x: c.x + (dx / len) * shape.circle, y: c.y + (dy / len) * shape.circle };
  const k = shape.square / Math.max(Math.abs(dx), Math.abs(dy));
  return { x: c.x + dx * Math.min(k, 1), y: c.y + dy * Math.min(k, 1) };
}

const fmt = (v) => String(Math.round(v * 100) / 100);
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const cut = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** The polyline of an arc, clipped at both nodes, shifted aside when several arcs join the same two nodes. */
function arcPoints(d, arc, shift) {
  const s0 = nodeOf(d, arc.source);
  const t0 = nodeOf(d, arc.target);
  if (!s0 || !t0) return null;
  const from = { x: s0.node.x, y: s0.node.y };
  const to = { x: t0.node.x, y: t0.node.y };
  if (arc.points.length) {
    const first = arc.points[0];
    const last = arc.points[arc.points.length - 1];
    return [clip(shapeOf(s0.kind), from, first), ...arc.points, clip(shapeOf(t0.kind), to, last)];
  }
  const len = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  const nx = (-(to.y - from.y) / len) * shift;
  const ny = ((to.x - from.x) / len) * shift;
  const a = { x: from.x + nx, y: from.y + ny };
  const b = { x: to.x + nx, y: to.y + ny };
  return [clip(shapeOf(s0.kind), a, b), clip(shapeOf(t0.kind), b, a)];
}

/** Middle of a polyline and the direction there. */
function middle(points) {
  let total = 0;
  for (let i = 1; i < points.length; i++)
    total += Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
  let left = total / 2;
  for (let i = 1; i < points.length; i++) {
    const [p, q] = [points[i - 1], points[i]];
    const len = Math.hypot(q.x - p.x, q.y - p.y);
    if (left <= len || i === points.length - 1) {
      const k = len ? Math.min(left / len, 1) : 0;
      return {
        at: { x: p.x + (q.x - p.x) * k, y: p.y + (q.y - p.y) * k },
        dir: { x: (q.x - p.x) / (len || 1), y: (q.y - p.y) / (len || 1) },
      };
    }
    left -= len;
  }
  return { at: points[0], dir: { x: 1, y: 0 } };
}

/** The problems under an element: the first one, and how many more. */
function problemText(x, y, messages) {
  if (!messages?.length) return null;
  const more = messages.length > 1 ? ` (+${messages.length - 1})` : "";
  return s("text", {
    x: fmt(x),
    y: fmt(y),
    class: "ed-problem-text",
    "text-anchor": "middle",
    text: `${cut(messages[0], 48)}${more}`,
  });
}

/**
 * Draws draft `d` into the SVG group `layer`. `view`: `{ mode: "edit" |
 * "play", selected, arcFrom, byUid (uid -> problem messages), tokens (place
 * id -> count), enabled (Set of transition ids), last }`. Elements whose
 * inputs did not change since the last call are kept as they are (a key of
 * what each is drawn from): a move or a keystroke rebuilds a few elements,
 * not the whole drawing.
 */
export function drawDraft(layer, d, view) {
  const play = view.mode === "play";
  let kept = drawn.get(layer);
  if (!kept) {
    kept = { arcs: s("g", { class: "ed-arcs" }), nodes: s("g", { class: "ed-nodes" }), els: new Map() };
    layer.replaceChildren(kept.arcs, kept.nodes);
    drawn.set(layer, kept);
  }

  // Arcs between the same two nodes (either direction) are spread apart.
  const groups = new Map();
  for (const a of d.arcs) {
    if (a.points.length) continue;
    const key = [a.source, a.target].sort().join(" ");
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(a);
  }
  const shiftOf = new Map();
  for (const list of groups.values()) {
    list.forEach((a, k) => {
      // Measured in the frame of the pair's sorted order, so twins go to opposite sides.
      const sign = a.source < a.target ? 1 : -1;
      shiftOf.set(a.uid, list.length > 1 ? (k - (list.length - 1) / 2) * PARALLEL * sign : 0);
    });
  }

  const seen = new Set();
  /** Keeps the element of `uid` if `key` is what it was drawn from, else draws it with `build`. */
  const put = (parent, uid, key, build) => {
    seen.add(uid);
    const old = kept.els.get(uid);
    if (old && old.key === key && old.el.parentNode === parent) return;
    const el = build();
    if (!el) return;
    for (const t of el.querySelectorAll("text")) if (!t.closest(".ed-focus")) t.setAttribute("aria-hidden", "true");
    if (old) old.el.replaceWith(el);
    else parent.append(el);
    kept.els.set(uid, { key, el });
  };
  const mark = (uid) => [view.selected === uid, view.arcFrom === uid, view.byUid.get(uid) ?? null];

  for (const a of d.arcs) {
    const s0 = nodeOf(d, a.source)?.node;
    const t0 = nodeOf(d, a.target)?.node;
    if (!s0 || !t0) continue;
    const shift = shiftOf.get(a.uid) ?? 0;
    const key = JSON.stringify([
      a.kind,
      a.weight,
      a.points,
      shift,
      s0.id,
      s0.x,
      s0.y,
      t0.id,
      t0.x,
      t0.y,
      play,
      mark(a.uid),
    ]);
    put(kept.arcs, a.uid, key, () => arcElement(d, a, shift, view, play));
  }
  for (const p of d.places) {
    const tokens = play ? (view.tokens?.[p.id] ?? 0) : Number(p.initial) || 0;
    const key = JSON.stringify([p, tokens, play, mark(p.uid)]);
    put(kept.nodes, p.uid, key, () => placeElement(p, tokens, view, play));
  }
  for (const t of d.transitions) {
    const on = play && !!view.enabled?.has(t.id);
    const key = JSON.stringify([t, on, play && view.last === t.id, play, mark(t.uid)]);
    put(kept.nodes, t.uid, key, () => transitionElement(t, on, view, play));
  }
  for (const [uid, { el }] of kept.els) {
    if (!seen.has(uid)) {
      el.remove();
      kept.els.delete(uid);
    }
  }
  // Document order is the Tab order: the draft's (places, then transitions).
  const inOrder = (parent, uids) => {
    const want = uids.map((uid) => kept.els.get(uid)?.el).filter(Boolean);
    if (want.length !== parent.children.length || want.some((el, i) => parent.children[i] !== el))
      parent.append(...want);
  };
  inOrder(
    kept.arcs,
    d.arcs.map((a) => a.uid),
  );
  inOrder(
    kept.nodes,
    [...d.places, ...d.transitions].map((n) => n.uid),
  );
}

/** What `drawDraft` drew into each layer, by uid. */
const drawn = new WeakMap();

function arcElement(d, a, shift, view, play) {
  const points = arcPoints(d, a, shift);
  if (!points) return null;
  const sId = nodeOf(d, a.source).node.id;
  const tId = nodeOf(d, a.target).node.id;
  const messages = view.byUid.get(a.uid);
  const path = points.map((p, i) => `${i ? "L" : "M"}${fmt(p.x)},${fmt(p.y)}`).join(" ");
  const weightShown = a.kind === "reset" ? "" : `, weight ${a.weight}`;
  const name = `Arc from ${sId} to ${tId}, ${a.kind}${weightShown}${messages ? `. Problem: ${messages.join("; ")}` : ""}`;
  const g = s(
    "g",
    {
      class: `ed-arc ed-arc-${a.kind}${view.selected === a.uid ? " ed-selected" : ""}${messages ? " ed-invalid" : ""}`,
      "data-source": sId,
      "data-target": tId,
      "data-kind": a.kind,
      "data-weight": a.weight,
      "data-problems": messages ? messages.join("\n") : undefined,
    },
    focusable(
      a.uid,
      play ? null : { role: "button", "aria-pressed": String(view.selected === a.uid), "aria-label": name },
      name,
      s("path", { d: path, class: "ed-arc-hit" }),
      s("path", { d: path, class: "ed-arc-line", "marker-end": `url(#ed-m-${a.kind})` }),
    ),
  );
  const { at, dir } = middle(points);
  if (a.kind !== "reset" && a.weight !== 1) {
    g.append(
      s("text", {
        x: fmt(at.x - dir.y * 10),
        y: fmt(at.y + dir.x * 10 + 4),
        class: "ed-weight",
        "text-anchor": "middle",
        text: String(a.weight),
      }),
    );
  }
  const problem = problemText(at.x, at.y + 22, messages);
  if (problem) g.append(problem);
  return g;
}

function placeElement(p, tokens, view, play) {
  const messages = view.byUid.get(p.uid);
  const named = p.label ? `${p.id} “${p.label}”` : p.id || "(no id)";
  const cap = Number(p.capacity) > 0 ? `, capacity max ${p.capacity}` : "";
  const name = `Place ${named}, ${plural(tokens, "token")}${cap}${messages ? `. Problem: ${messages.join("; ")}` : ""}`;
  const g = s(
    "g",
    {
      class: `ed-node ed-place${view.selected === p.uid ? " ed-selected" : ""}${view.arcFrom === p.uid ? " ed-arc-from" : ""}${messages ? " ed-invalid" : ""}`,
      "data-id": p.id,
      "data-kind": "place",
      "data-tokens": tokens,
      "data-problems": messages ? messages.join("\n") : undefined,
    },
    focusable(
      p.uid,
      play
        ? { role: "img", "aria-label": name }
        : { role: "button", "aria-pressed": String(view.selected === p.uid), "aria-label": name },
      name,
      s("circle", { cx: p.x, cy: p.y, r: PLACE_RADIUS, class: "ed-shape" }),
      ...tokenMarks(p.x, p.y, tokens),
    ),
  );
  if (Number(p.capacity) > 0)
    g.append(s("text", { x: p.x + 19, y: p.y - 12, class: "ed-capacity", text: `max ${p.capacity}` }));
  g.append(s("text", { x: p.x, y: p.y - 21, class: "ed-id", "text-anchor": "middle", text: cut(p.id, 32) }));
  if (p.label)
    g.append(s("text", { x: p.x, y: p.y + 29, class: "ed-label", "text-anchor": "middle", text: cut(p.label, 40) }));
  const problem = problemText(p.x, p.y + (p.label ? 42 : 30), messages);
  if (problem) g.append(problem);
  return g;
}

function transitionElement(t, on, view, play) {
  const messages = view.byUid.get(t.uid);
  const named = t.label ? `${t.id} “${t.label}”` : t.id || "(no id)";
  const roles = t.roles.length ? `, roles ${t.roles.join(", ")}` : "";
  const state = play ? (on ? ", enabled: fire it" : ", not enabled: firing shows why") : "";
  const name = `Transition ${named}${roles}${state}${messages ? `. Problem: ${messages.join("; ")}` : ""}`;
  const g = s(
    "g",
    {
      class: `ed-node ed-transition${play ? (on ? " ed-enabled" : " ed-disabled") : ""}${view.last === t.id && play ? " ed-last" : ""}${view.selected === t.uid ? " ed-selected" : ""}${view.arcFrom === t.uid ? " ed-arc-from" : ""}${messages ? " ed-invalid" : ""}`,
      "data-id": t.id,
      "data-kind": "transition",
      "data-enabled": play ? String(!!on) : undefined,
      "data-problems": messages ? messages.join("\n") : undefined,
    },
    focusable(
      t.uid,
      play
        ? { role: "button", "aria-label": name }
        : { role: "button", "aria-pressed": String(view.selected === t.uid), "aria-label": name },
      name,
      s("rect", { x: t.x - HALF, y: t.y - HALF, width: 2 * HALF, height: 2 * HALF, class: "ed-shape" }),
    ),
    s("text", { x: t.x, y: t.y - 20, class: "ed-id", "text-anchor": "middle", text: cut(t.id, 32) }),
  );
  let below = t.y + 28;
  if (t.label) {
    g.append(s("text", { x: t.x, y: below, class: "ed-label", "text-anchor": "middle", text: cut(t.label, 40) }));
    below += 12;
  }
  if (t.roles.length) {
    g.append(
      s("text", { x: t.x, y: below, class: "ed-roles", "text-anchor": "middle", text: cut(t.roles.join(" | "), 40) }),
    );
    below += 12;
  }
  const problem = problemText(t.x, below + 2, messages);
  if (problem) g.append(problem);
  return g;
}

/**
 * The part of an element that takes the focus and the pointer: its shapes,
 * with `data-uid`, a role and a name (`attrs`; null = not a stop, in Play
 * for arcs). The texts beside it (id, label, problems) are its siblings,
 * outside the named part, so its name is not judged against them, and
 * hidden from screen readers since the name says it all.
 */
function focusable(uid, attrs, title, ...shapes) {
  return s(
    "g",
    { class: "ed-focus", "data-uid": uid, ...(attrs ? { tabindex: 0, ...attrs } : {}) },
    s("title", { text: title }),
    ...shapes,
  );
}

/** Dots for up to 5 tokens, the number beyond (as the engine draws them). */
function tokenMarks(x, y, n) {
  const offsets = [
    [],
    [[0, 0]],
    [
      [-5, 0],
      [5, 0],
    ],
    [
      [0, -5],
      [-5, 4],
      [5, 4],
    ],
    [
      [-5, -5],
      [5, -5],
      [-5, 5],
      [5, 5],
    ],
    [
      [-6, -6],
      [6, -6],
      [0, 0],
      [-6, 6],
      [6, 6],
    ],
  ];
  if (Number.isInteger(n) && n >= 0 && n <= 5) {
    return offsets[n].map(([dx, dy]) => s("circle", { cx: x + dx, cy: y + dy, r: 3, class: "ed-token" }));
  }
  const text = String(n);
  return [
    s("text", {
      x,
      y,
      dy: "0.35em",
      class: "ed-tokens",
      "font-size": text.length <= 3 ? 12 : text.length <= 5 ? 9 : 6,
      "text-anchor": "middle",
      text: cut(text, 12),
    }),
  ];
}

/** Bounds of the draft's nodes, `[x, y, width, height]`, with a margin; a default frame when empty. */
export function draftBounds(d, frame = null, margin = 60) {
  // Small nets are not blown up: at least 480 x 320 units, less in a frame
  // narrower than that (a phone), so nodes keep their size there.
  const minW = frame?.width ? Math.min(480, Math.max(240, frame.width)) : 480;
  const minH = frame?.height ? Math.min(320, Math.max(200, frame.height)) : 320;
  const nodes = [...d.places, ...d.transitions];
  if (!nodes.length) return [-minW / 2, -minH / 2, minW, minH];
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const n of nodes) {
    x0 = Math.min(x0, n.x);
    y0 = Math.min(y0, n.y);
    x1 = Math.max(x1, n.x);
    y1 = Math.max(y1, n.y);
  }
  let [w, h] = [x1 - x0 + 2 * margin, y1 - y0 + 2 * margin];
  const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
  w = Math.max(w, minW);
  h = Math.max(h, minH);
  return [cx - w / 2, cy - h / 2, w, h];
}
