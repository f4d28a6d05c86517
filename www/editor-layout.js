// Auto-layout of a draft with the engine's own layered layout (the one the
// app uses for imported nets without positions, docs/rendering.md). The
// package exposes it through `renderSvg({ layout: "always" })`, so the
// positions are read back from the drawing: a place's circle centre, a
// transition's square centre. The draft may be invalid while it is edited,
// so the layout runs on a stand-in net with the same shape that is always
// valid: fresh ids, the labels as drawn (they widen the columns), one normal
// arc per joined place/transition pair.
import { nodeOf } from "./editor-draft.js";

/** Half the side of the engine's transition square (crate/src/render/geometry.rs). */
const TRANSITION_HALF = 15;

/**
 * New positions for every node of draft `d`, as a Map uid -> {x, y}.
 * `Model` is the package's class; `aspect` the frame's width / height.
 */
export function layoutPositions(Model, d, aspect) {
  const nodes = [...d.places, ...d.transitions];
  const key = new Map(nodes.map((n, i) => [n.uid, `n${i}`]));
  const label = (n) => (n.label || n.id || " ").slice(0, 200);
  const pairs = new Set();
  const arcs = [];
  for (const a of d.arcs) {
    const s = nodeOf(d, a.source);
    const t = nodeOf(d, a.target);
    if (!s || !t || s.kind === t.kind) continue;
    const pair = `${key.get(a.source)} ${key.get(a.target)}`;
    if (pairs.has(pair)) continue;
    pairs.add(pair);
    arcs.push({ source: key.get(a.source), target: key.get(a.target) });
  }
  const standIn = Model.fromJson({
    places: d.places.map((p) => ({ id: key.get(p.uid), label: label(p) })),
    transitions: d.transitions.map((t) => ({ id: key.get(t.uid), label: label(t) })),
    arcs,
  });
  try {
    const svg = standIn.renderSvg(standIn.initialMarking(), {
      layout: "always",
      ...(aspect && Number.isFinite(aspect) && aspect > 0 ? { aspect } : {}),
    });
    const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
    const out = new Map();
    for (const n of nodes) {
      const id = CSS.escape(key.get(n.uid));
      const circle = doc.querySelector(`[data-place="${id}"] .pc-place-shape`);
      const rect = doc.querySelector(`[data-transition="${id}"] .pc-transition-shape`);
      if (circle) out.set(n.uid, { x: Number(circle.getAttribute("cx")), y: Number(circle.getAttribute("cy")) });
      else if (rect)
        out.set(n.uid, {
          x: Number(rect.getAttribute("x")) + TRANSITION_HALF,
          y: Number(rect.getAttribute("y")) + TRANSITION_HALF,
        });
    }
    return out;
  } finally {
    standIn.free();
  }
}
