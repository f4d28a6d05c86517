// The net: the SVG drawing with the live marking, a keyboard-friendly list of
// transition buttons beside it, the marking as a table, and the options a
// firing takes (role, actor, amount). Clicks on [data-transition] anywhere in
// the view (drawing or list) go to `onFire(transitionId)`.
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
  let zoom = 1; // 1 = fit the frame; above 1 the frame scrolls

  const applyZoom = () => {
    const svg = host.querySelector("svg");
    host.classList.toggle("zoomed", zoom > 1);
    if (svg) svg.style.width = zoom > 1 ? `${zoom * 100}%` : "";
    $("zoom-fit").setAttribute("aria-pressed", String(zoom === 1));
  };
  $("zoom-in").addEventListener("click", () => {
    zoom = Math.min(zoom * 1.5, 8);
    applyZoom();
  });
  $("zoom-out").addEventListener("click", () => {
    zoom = Math.max(zoom / 1.5, 1);
    applyZoom();
  });
  $("zoom-fit").addEventListener("click", () => {
    zoom = 1;
    applyZoom();
  });

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

  function draw() {
    if (!model) return;
    const who = roles();
    host.innerHTML = model.renderSvg(marking, { roles: who, highlight: highlight ?? undefined });
    const svg = host.querySelector("svg");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("aria-hidden", "true");
    applyZoom();

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
          h("td", { title: p.id }, p.label || p.id),
          h("td", { className: "num" }, String(n)),
          h("td", { className: "num subtle" }, p.capacity ? String(p.capacity) : "∞"),
        );
      }),
    );
    $("marking-total").textContent = String(total);
  }

  return {
    /** Shows `m` (a Model) in marking `mk`; `last` (a transition id) is highlighted. */
    show(m, mk, last = null) {
      if (m !== model) {
        model = m;
        zoom = 1;
        fillRoles();
      }
      marking = mk;
      highlight = last;
      draw();
    },
    /** The options of a firing as chosen in the form. */
    options() {
      return { roles: roles(), actor: actor.value.trim(), multiple: Number(amount.value) };
    },
    /** The drawing as a standalone SVG document (for export). */
    svgText() {
      return model.renderSvg(marking, { roles: roles() });
    },
  };
}
