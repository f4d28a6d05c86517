// Live validation: the engine's verdict on a draft, attached to the elements
// it is about. `Model.fromJson` reports every validation problem at once
// (`INVALID_MODEL`, `details.problems[]` with the element id and the kind), or
// one value it could not read (`BAD_VALUE`, `details.element` like `p1.initial`
// or `arcs[2].weight`). Pure functions over the thrown error and the draft.
import { arcName } from "./editor-draft.js";

/**
 * The text of one engine problem. Worded exactly as the engine's `Display`
 * of `Problem` (crate/src/model/validate.rs), which is what the error's
 * `message` joins: tests/js/editor.test.mjs checks the two agree.
 */
export function problemText(p) {
  const e = p.element;
  switch (p.kind) {
    case "emptyId":
      return "an element has an empty id";
    case "tooLong":
      return `${e}: id, label or role longer than ${p.limit} bytes`;
    case "duplicateId":
      return `${e}: id used by more than one place/transition`;
    case "missingNode":
      return `arc ${e}: no place or transition '${p.node}'`;
    case "sameKindEndpoints":
      return `arc ${e}: must join a place and a transition`;
    case "zeroWeight":
      return `arc ${e}: weight must be at least 1`;
    case "tooLarge":
      return `${e}: ${p.value} is above the maximum ${p.max}`;
    case "guardNotPlaceToTransition":
      return `arc ${e}: a ${p.arc_kind ?? p.arcKind} arc must run from a place to a transition`;
    case "initialAboveCapacity":
      return `place ${e}: initial ${p.initial} is above capacity ${p.capacity}`;
    case "duplicateArc":
      return `arc ${e}: appears more than once`;
    case "tooManyElements":
      return `${p.count} ${p.what} is more than the limit of ${p.limit}`;
    default:
      return `${e}: ${p.kind}`;
  }
}

/** Uids of the nodes whose id the engine names `element` (a too-long id is cut to its first 64 bytes). */
function nodesNamed(d, element, kind) {
  const nodes = [...d.places, ...d.transitions];
  if (kind === "tooLong" && nodes.some((n) => n.id.startsWith(element) && n.id !== element)) {
    return nodes.filter((n) => n.id.startsWith(element)).map((n) => n.uid);
  }
  return nodes.filter((n) => n.id === element).map((n) => n.uid);
}

/**
 * Where each problem of `err` (thrown by `Model.fromJson(toModelJson(d))`)
 * belongs. Returns `{ list, byUid }`: `list` is every problem as
 * `{ code, message, uids, fields }` in the engine's order (`uids` empty for
 * one about the whole net; `fields` the inspector fields it is about);
 * `byUid` maps an element's uid to its messages, `fieldsByUid` to the
 * fields at fault.
 */
export function locateProblems(err, d) {
  const code = typeof err?.code === "string" ? err.code : "ERROR";
  const list = [];
  if (code === "INVALID_MODEL" && Array.isArray(err.details?.problems)) {
    for (const p of err.details.problems) {
      const element = String(p.element ?? "");
      let uids;
      if (p.kind === "tooManyElements") uids = [];
      else if (p.kind === "emptyId")
        uids = [...d.places, ...d.transitions].filter((n) => n.id === "").map((n) => n.uid);
      else if (
        ["missingNode", "sameKindEndpoints", "zeroWeight", "guardNotPlaceToTransition", "duplicateArc"].includes(p.kind)
      )
        uids = d.arcs.filter((a) => arcName(d, a) === element).map((a) => a.uid);
      else {
        uids = nodesNamed(d, element, p.kind);
        // A weight above the maximum names the arc, not a node.
        if (!uids.length) uids = d.arcs.filter((a) => arcName(d, a) === element).map((a) => a.uid);
      }
      list.push({ code, message: problemText(p), uids, fields: fieldsOf(p.kind, uids, d) });
    }
  } else {
    // One value the reader refused: `<id>.<field>` of a node or
    // `<source>-><target>.<field>` of an arc (ids may hold dots: the longest
    // name that matches wins), or `arcs[i]...` (the draft's arc i).
    const element = String(err?.details?.element ?? "");
    let uids = [];
    const arc = /^arcs\[(\d+)\]/.exec(element);
    if (arc) {
      const a = d.arcs[Number(arc[1])];
      if (a) uids = [a.uid];
    } else if (element) {
      const named = [
        ...[...d.places, ...d.transitions].map((n) => ({ uid: n.uid, name: n.id })),
        ...d.arcs.map((a) => ({ uid: a.uid, name: arcName(d, a) })),
      ].filter((x) => element === x.name || element.startsWith(`${x.name}.`));
      const longest = Math.max(0, ...named.map((x) => x.name.length));
      uids = named.filter((x) => x.name.length === longest).map((x) => x.uid);
    }
    // What follows the element's name is the field: `p1.initial`, `arcs[0].weight`.
    const field = /\.([A-Za-z]+)$/.exec(element)?.[1];
    list.push({ code, message: err instanceof Error ? err.message : String(err), uids, fields: field ? [field] : [] });
  }
  const byUid = new Map();
  const fieldsByUid = new Map();
  for (const p of list) {
    for (const uid of p.uids) {
      if (!byUid.has(uid)) byUid.set(uid, []);
      byUid.get(uid).push(p.message);
      if (!fieldsByUid.has(uid)) fieldsByUid.set(uid, new Set());
      for (const f of p.fields) fieldsByUid.get(uid).add(f);
    }
  }
  return { list, byUid, fieldsByUid };
}

/** The inspector fields a problem of `kind` is about (so only they are marked invalid). */
function fieldsOf(kind, uids, d) {
  const onArc = uids.length > 0 && d.arcs.some((a) => a.uid === uids[0]);
  switch (kind) {
    case "emptyId":
    case "duplicateId":
      return ["id"];
    case "tooLong":
      return ["id", "label", "roles"];
    case "tooLarge":
      return onArc ? ["weight"] : ["initial", "capacity"];
    case "initialAboveCapacity":
      return ["initial", "capacity"];
    case "zeroWeight":
      return ["weight"];
    case "guardNotPlaceToTransition":
    case "duplicateArc":
      return ["kind"];
    default:
      return [];
  }
}
