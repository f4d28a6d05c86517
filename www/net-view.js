// The net: the SVG drawing with the live marking, a keyboard-friendly list of
// transition buttons beside it, the marking as a table, and the options a
// firing takes (role, actor, amount). Clicks on [data-transition] anywhere in
// the view (drawing or list) go to `onFire(transitionId)`.
//
// The drawing opens fitted to its frame; the wheel zooms around the pointer,
// dragging pans, the buttons zoom in / out / fit, the search box finds a node
// by id or label and centres it, and hovering a node highlights its arcs.
// Pan and zoom only change the SVG's viewBox, so they survive redraws.
import { $, h } from "./dom.js";

const ALL = "*";
const NONE = "";

export function createNetView({ onFire }) {
  const host = $("net");
  const list = $("transitions");
  const role = $("role");
  const actor = $("actor");
  const amount = $("amount");
  let model = null;
  let marking = null;
  let highlight = null;
  let keys = {}; // keyed place -> number of keys, drawn with its total
  let held = null; // roles this device holds on another owner's stream (see shownRoles)
  let fit = null; // the drawing's own viewBox: [x, y, width, height]
  let view = null; // the one shown, null = fitted

  const svgOf = () => host.querySelector("svg");
  /** Shows `box` (clamped to 1/64 .. 4 times the fitted size). */
  const show = (box) => {
    const svg = svgOf();
    if (!svg || !fit) return;
    if (box) {
      const scale = Math.min(Math.max(box[2] / fit[2], 1 / 64), 4);
      const [cx, cy] = [box[0] + box[2] / 2, box[1] + box[3] / 2];
      const [w, hgt] = [fit[2] * scale, fit[3] * scale];
      box = [cx - w / 2, cy - hgt / 2, w, hgt];
    }
    view = box;
    svg.setAttribute("viewBox", (box ?? fit).map((v) => Math.round(v * 100) / 100).join(" "));
    host.dataset.zoom = String(box ? Math.round((fit[2] / box[2]) * 1000) / 1000 : 1);
    $("zoom-fit").setAttribute("aria-pressed", String(!box));
  };
  /** Zooms by `factor` around the drawing point under client (x, y), or the centre. */
  const zoomBy = (factor, client) => {
    const svg = svgOf();
    if (!svg || !fit) return;
    const box = view ?? fit;
    const rect = svg.getBoundingClientRect();
    const fx = client && rect.width ? (client.x - rect.left) / rect.width : 0.5;
    const fy = client && rect.height ? (client.y - rect.top) / rect.height : 0.5;
    const [px, py] = [box[0] + fx * box[2], box[1] + fy * box[3]];
    const [w, hgt] = [box[2] / factor, box[3] / factor];
    show([px - fx * w, py - fy * hgt, w, hgt]);
  };
  $("zoom-in").addEventListener("click", () => zoomBy(1.5));
  $("zoom-out").addEventListener("click", () => zoomBy(1 / 1.5));
  $("zoom-fit").addEventListener("click", () => show(null));
  host.addEventListener(
    "wheel",
    (e) => {
      if (!fit) return;
      e.preventDefault();
      zoomBy(Math.exp(-e.deltaY / 400), { x: e.clientX, y: e.clientY });
    },
    { passive: false },
  );
  // Dragging pans; a drag is not a click on what it started on.
  let drag = null;
  let dragged = false;
  host.addEventListener("pointerdown", (e) => {
    if (!fit || e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, box: view ?? fit, id: e.pointerId };
    dragged = false;
  });
  host.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const rect = svgOf()?.getBoundingClientRect();
    if (!rect?.width) return;
    const [dx, dy] = [e.clientX - drag.x, e.clientY - drag.y];
    if (!dragged && Math.hypot(dx, dy) < 5) return;
    if (!dragged) host.setPointerCapture?.(e.pointerId);
    dragged = true;
    host.classList.add("panning");
    const k = drag.box[2] / rect.width;
    show([drag.box[0] - dx * k, drag.box[1] - dy * k, drag.box[2], drag.box[3]]);
  });
  const endDrag = () => {
    drag = null;
    host.classList.remove("panning");
  };
  host.addEventListener("pointerup", endDrag);
  host.addEventListener("pointercancel", endDrag);
  host.addEventListener(
    "click",
    (e) => {
      if (dragged) {
        e.stopPropagation();
        dragged = false;
      }
    },
    true,
  );

  // Hovering a node highlights its arcs (and dims the others).
  const lit = [];
  const unlight = () => {
    for (const el of lit.splice(0)) el.classList.remove("pc-lit");
    svgOf()?.classList.remove("pc-hovering");
  };
  host.addEventListener("pointerover", (e) => {
    const node = e.target.closest?.("[data-place], [data-transition]");
    if (!node || drag) return;
    unlight();
    const id = node.dataset.place ?? node.dataset.transition;
    const svg = svgOf();
    for (const arc of svg.querySelectorAll(".pc-arc")) {
      if (arc.dataset.source === id || arc.dataset.target === id) {
        arc.classList.add("pc-lit");
        lit.push(arc);
      }
    }
    node.classList.add("pc-lit");
    lit.push(node);
    svg.classList.add("pc-hovering");
  });
  host.addEventListener("pointerout", (e) => {
    const node = e.target.closest?.("[data-place], [data-transition]");
    if (node && !node.contains(e.relatedTarget)) unlight();
  });

  // The search box: a node by id or label, centred and marked.
  const search = $("net-search");
  const options = $("net-search-options");
  const find = (text) => {
    const q = text.trim().toLowerCase();
    if (!q || !model) return null;
    const nodes = [
      ...model.places.map((p) => ({ ...p, kind: "place" })),
      ...model.transitions.map((t) => ({ ...t, kind: "transition" })),
    ];
    return (
      nodes.find((n) => n.id.toLowerCase() === q) ??
      nodes.find((n) => n.label.toLowerCase() === q) ??
      nodes.find((n) => n.id.toLowerCase().includes(q) || n.label.toLowerCase().includes(q)) ??
      null
    );
  };
  /** Centres the node `id` and marks it; false when it is not drawn. */
  const centre = (kind, id) => {
    const svg = svgOf();
    const el = svg?.querySelector(`[data-${kind}="${CSS.escape(id)}"]`);
    const shape = el?.querySelector(".pc-place-shape, .pc-transition-shape");
    if (!shape || !fit) return false;
    const b = shape.getBBox();
    const [cx, cy] = [b.x + b.width / 2, b.y + b.height / 2];
    const box = view ?? fit;
    // Close enough to read the node and its neighbours.
    const w = Math.min(box[2], 700);
    const hgt = (w * fit[3]) / fit[2];
    show([cx - w / 2, cy - hgt / 2, w, hgt]);
    for (const old of svg.querySelectorAll(".pc-found")) old.classList.remove("pc-found");
    el.classList.add("pc-found");
    return true;
  };
  $("net-search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const node = find(search.value);
    const ok = node && centre(node.kind, node.id);
    search.setCustomValidity(ok ? "" : "no such place or transition");
    search.reportValidity();
    $("net-search-status").textContent = ok ? `${node.kind} ${node.id}` : "not found";
  });
  search.addEventListener("input", () => search.setCustomValidity(""));

  for (const root of [host, list]) {
    root.addEventListener("click", (e) => {
      const t = e.target.closest("[data-transition]");
      if (t && root.contains(t)) onFire(t.dataset.transition);
    });
  }
  $("fire-options").addEventListener("submit", (e) => e.preventDefault());
  role.addEventListener("change", () => {
    localStorage.setItem("petrichain.role", role.value);
    draw();
  });
  actor.value = localStorage.getItem("petrichain.actor") ?? "me";
  actor.addEventListener("change", () => localStorage.setItem("petrichain.actor", actor.value.trim()));

  /** The roles the chosen actor holds: every role, none, or one. */
  const roles = () => (role.value === ALL ? [ALL] : role.value === NONE ? [] : [role.value]);
  /**
   * The roles the drawing and the list mark transitions enabled for: the
   * chosen ones, except that "every role" on another owner's stream is the
   * roles this device holds there (`held`; null: the owner, or a grant of `*`).
   */
  const shownRoles = () => (role.value === ALL && held ? held : roles());

  function fillRoles() {
    const all = [...new Set(model.transitions.flatMap((t) => t.roles))].sort();
    const wanted = localStorage.getItem("petrichain.role") ?? ALL;
    role.replaceChildren(
      h("option", { value: ALL }, "every role (*)"),
      ...all.map((r) => h("option", { value: r }, r)),
      h("option", { value: NONE }, "no role"),
    );
    role.value = [ALL, NONE, ...all].includes(wanted) ? wanted : ALL;
  }

  /** One text input per parameter name of the net's transitions. */
  function fillArgs(m) {
    const names = [...new Set(m.transitions.flatMap((t) => t.params ?? []))].sort();
    const box = $("fire-args");
    box.hidden = names.length === 0;
    box.replaceChildren(
      box.querySelector("legend") ?? h("legend", {}, "Arguments"),
      ...names.map((name) =>
        h("label", {}, name, h("input", { autocomplete: "off", dataset: { arg: name }, name: `arg-${name}` })),
      ),
    );
  }

  function draw() {
    if (!model) return;
    const who = shownRoles();
    // A large net without positions is laid out for this frame's shape.
    const aspect = host.clientWidth && host.clientHeight ? host.clientWidth / host.clientHeight : undefined;
    host.innerHTML = model.renderSvg(marking, { roles: who, highlight: highlight ?? undefined, aspect, keys });
    const svg = host.querySelector("svg");
    svg.setAttribute("focusable", "false");
    // Screen readers get each node by its <title> ("alice: 100 tokens",
    // "pay: enabled, roles: customer"); firing by keyboard is the list of
    // transition buttons beside the drawing.
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", `Drawing of ${model.name || "the net"}`);
    for (const node of svg.querySelectorAll("[data-place], [data-transition]")) {
      node.setAttribute("role", "img");
      node.setAttribute("aria-label", node.querySelector("title")?.textContent ?? "");
    }
    // Fitted to the frame (the drawing's size is the frame's, not the net's).
    fit = svg.getAttribute("viewBox").split(" ").map(Number);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    show(view);

    const enabled = new Set(model.enabled(marking, who));
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.transition : null;
    list.replaceChildren(
      ...model.transitions.map((t) => {
        const on = enabled.has(t.id);
        return h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              className: `transition ${on ? "enabled" : "disabled"}`,
              dataset: { transition: t.id, enabled: String(on) },
              title: on ? `Fire ${t.id}` : `${t.id} is not enabled for this actor: firing shows why`,
            },
            h("span", { className: "dot", "aria-hidden": "true" }),
            h("span", { className: "t-label" }, t.label || t.id),
            t.roles.length ? h("span", { className: "roles" }, t.roles.join(" | ")) : null,
            h("span", { className: "visually-hidden" }, on ? " (enabled)" : " (not enabled)"),
          ),
        );
      }),
    );
    if (focused) list.querySelector(`[data-transition="${CSS.escape(focused)}"]`)?.focus();

    let total = 0;
    $("marking").tBodies[0].replaceChildren(
      ...model.places.map((p) => {
        const n = marking[p.id] ?? 0;
        total += n;
        return h(
          "tr",
          { dataset: { place: p.id } },
          h(
            "td",
            { title: p.id },
            p.label || p.id,
            p.keyed ? h("span", { className: "subtle" }, " (keyed: total)") : null,
          ),
          h("td", { className: "num" }, String(n)),
          h("td", { className: "num subtle" }, p.capacity ? String(p.capacity) : "∞"),
        );
      }),
    );
    $("marking-total").textContent = String(total);
  }

  return {
    /**
     * Shows `m` (a Model) in marking `mk`; `last` (a transition id) is
     * highlighted; `k`: keys per keyed place; `mine`: the roles this device
     * holds on the stream (null when it may claim every role).
     */
    show(m, mk, last = null, k = {}, mine = null) {
      keys = k;
      held = mine;
      if (m !== model) {
        model = m;
        view = null;
        fillRoles();
        options.replaceChildren(
          ...[...m.places, ...m.transitions].map((n) =>
            h("option", { value: n.id }, n.label && n.label !== n.id ? n.label : ""),
          ),
        );
        search.value = "";
        $("net-search-status").textContent = "";
        fillArgs(m);
      }
      marking = mk;
      highlight = last;
      draw();
    },
    /** The options of a firing of `action` as chosen in the form (its `args`: the inputs of its parameters). */
    options(action) {
      const params = model?.transitions.find((t) => t.id === action)?.params ?? [];
      const value = (p) =>
        $("fire-args")
          .querySelector(`[data-arg="${CSS.escape(p)}"]`)
          ?.value.trim() ?? "";
      const args = params.length ? Object.fromEntries(params.map((p) => [p, value(p)])) : undefined;
      return { roles: roles(), actor: actor.value.trim(), multiple: Number(amount.value), args };
    },
    /** The drawing as a standalone SVG document (for export). */
    svgText() {
      return model.renderSvg(marking, { roles: shownRoles(), keys });
    },
  };
}
