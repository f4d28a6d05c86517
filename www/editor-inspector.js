// The editor's inspector: the fields of the selected place, transition or
// arc (id, label, tokens, capacity, roles, kind, weight, position), the
// engine's problems with it, a form to connect it to another node (arcs made
// from the keyboard), and the list of every problem of the draft.
import { h } from "./dom.js";
import { ARC_KINDS, elementOf, nodeOf } from "./editor-draft.js";

/**
 * `host` receives the fields, `problemsHost` the list of all problems.
 * Callbacks: `onField(uid, field, rawValue, key)` while typing (key groups
 * keystrokes into one undo step), `onFieldDone()` when a field is left,
 * `onRemove(uid)`, `onConnect(uid, otherUid, direction, kind)`, `onSelect(uid)`.
 */
export function createInspector(host, problemsHost, callbacks) {
  let shownUid;
  let shownPlay = null;

  function field(uid, name, label, value, { type = "text", disabled = false, hint = "", invalid = false } = {}) {
    const id = `ed-f-${name}`;
    const input = h("input", {
      id,
      type,
      value: String(value),
      autocomplete: "off",
      disabled,
      ...(type === "number"
        ? { min: name === "x" || name === "y" ? undefined : "0", step: "1", inputmode: "numeric" }
        : {}),
      "aria-invalid": invalid ? "true" : undefined,
      "aria-describedby": invalid ? "ed-f-problems" : hint ? `${id}-hint` : undefined,
      dataset: { field: name },
    });
    input.addEventListener("input", () => callbacks.onField(uid, name, input.value, `${uid}:${name}`));
    input.addEventListener("change", () => callbacks.onFieldDone());
    return h(
      "div",
      { className: "ed-field" },
      h("label", { htmlFor: id }, label),
      input,
      hint ? h("span", { id: `${id}-hint`, className: "ed-hint" }, hint) : null,
    );
  }

  function connectForm(d, uid, kind, disabled) {
    const others = kind === "place" ? d.transitions : d.places;
    if (!others.length) return null;
    const target = h(
      "select",
      { id: "ed-connect-node", disabled },
      ...others.flatMap((n) => [
        h("option", { value: `out:${n.uid}` }, `→ to ${n.id}`),
        h("option", { value: `in:${n.uid}` }, `← from ${n.id}`),
      ]),
    );
    const arcKind = h(
      "select",
      { id: "ed-connect-kind", disabled },
      ...ARC_KINDS.map((k) => h("option", { value: k }, k)),
    );
    const add = h("button", { type: "submit", className: "button secondary small", disabled }, "Add arc");
    const form = h(
      "form",
      { className: "ed-connect", "aria-label": "Connect with an arc" },
      h("label", { htmlFor: "ed-connect-node" }, "Arc"),
      target,
      h("label", { htmlFor: "ed-connect-kind", className: "visually-hidden" }, "Arc kind"),
      arcKind,
      add,
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const [dir, other] = target.value.split(":");
      callbacks.onConnect(uid, other, dir, arcKind.value);
    });
    return form;
  }

  function build(d, uid, { byUid, fieldsByUid }, play) {
    const found = uid ? elementOf(d, uid) : null;
    const messages = (found && byUid.get(uid)) || [];
    const invalid = messages.length > 0;
    const bad = (name) => !!fieldsByUid?.get(uid)?.has(name);
    const problems = h(
      "ul",
      {
        id: "ed-f-problems",
        className: "ed-problems-here",
        hidden: !invalid,
        "aria-label": "Problems with this element",
      },
      ...messages.map((m) => h("li", {}, m)),
    );
    if (!found) {
      host.replaceChildren(
        h("h3", {}, "Nothing selected"),
        h(
          "p",
          { className: "subtle small-print" },
          play
            ? "Click a transition (or Tab to it and press Enter) to fire it on the draft."
            : "Click a node or arc, or Tab to one and press Enter, to edit it. Add places and transitions with the tools (P, T) and join them with the arc tool (A) or the Arc form of a selected node.",
        ),
      );
      return;
    }
    const { element: el, kind } = found;
    const remove = h(
      "button",
      { type: "button", className: "button secondary small ed-remove", disabled: play },
      `Delete ${kind}`,
    );
    remove.addEventListener("click", () => callbacks.onRemove(uid));
    const rows = [];
    if (kind === "arc") {
      const from = nodeOf(d, el.source)?.node.id;
      const to = nodeOf(d, el.target)?.node.id;
      const kindSelect = h(
        "select",
        {
          id: "ed-f-kind",
          disabled: play,
          dataset: { field: "kind" },
          "aria-invalid": bad("kind") ? "true" : undefined,
          "aria-describedby": bad("kind") ? "ed-f-problems" : undefined,
        },
        ...ARC_KINDS.map((k) => h("option", { value: k, selected: k === el.kind }, k)),
      );
      kindSelect.addEventListener("change", () => {
        callbacks.onField(uid, "kind", kindSelect.value, null);
        callbacks.onFieldDone();
      });
      rows.push(
        h("p", { className: "ed-arc-ends" }, h("code", {}, from), " → ", h("code", {}, to)),
        h("div", { className: "ed-field" }, h("label", { htmlFor: "ed-f-kind" }, "Kind"), kindSelect),
        field(uid, "weight", el.kind === "inhibitor" ? "Weight (blocks from)" : "Weight", el.weight, {
          type: "number",
          disabled: play || el.kind === "reset",
          hint:
            el.kind === "reset" ? "a reset arc empties the place" : el.kind === "read" ? "needed, not consumed" : "",
          invalid,
        }),
      );
      if (el.points.length) {
        const clear = h(
          "button",
          { type: "button", className: "button secondary small", disabled: play },
          "Straighten",
        );
        clear.addEventListener("click", () => callbacks.onField(uid, "points", "", null));
        rows.push(h("p", { className: "small-print" }, `${el.points.length} bend point(s) `, clear));
      }
    } else {
      rows.push(
        field(uid, "id", "Id", el.id, { disabled: play, invalid: bad("id") }),
        field(uid, "label", "Label", el.label, { disabled: play, invalid: bad("label") }),
      );
      if (kind === "place") {
        rows.push(
          field(uid, "initial", "Initial tokens", el.initial, { type: "number", disabled: play, invalid }),
          field(uid, "capacity", "Capacity", el.capacity, {
            type: "number",
            disabled: play,
            hint: "0 = unbounded",
            invalid,
          }),
        );
      } else {
        rows.push(
          field(uid, "roles", "Roles", el.roles.join(", "), {
            disabled: play,
            hint: "comma-separated; none = anyone may fire",
            invalid: bad("roles"),
          }),
        );
      }
      rows.push(
        h(
          "div",
          { className: "ed-xy" },
          field(uid, "x", "X", el.x, { type: "number", disabled: play }),
          field(uid, "y", "Y", el.y, { type: "number", disabled: play }),
        ),
      );
      const connect = connectForm(d, uid, kind, play);
      if (connect) rows.push(connect);
    }
    host.replaceChildren(
      h("h3", {}, kind === "arc" ? "Arc" : kind === "place" ? "Place" : "Transition"),
      problems,
      ...rows,
      remove,
    );
  }

  return {
    /**
     * Shows the selected element. Rebuilt unless only its values changed
     * (`typing` in it, which a rebuild would lose the caret of, or a move):
     * then the other fields' values and the problems are brought up to date.
     */
    show(d, uid, problems, { play = false, typing = false } = {}) {
      if (!typing || uid !== shownUid || play !== shownPlay) {
        // Rebuilt under the caret (a select that changed the arc kind): keep the focus on the same field.
        const focused = host.contains(document.activeElement) ? document.activeElement.id : "";
        build(d, uid, problems, play);
        if (focused) document.getElementById(focused)?.focus();
      } else {
        const messages = problems.byUid.get(uid) ?? [];
        const list = host.querySelector("#ed-f-problems");
        if (list) {
          list.replaceChildren(...messages.map((m) => h("li", {}, m)));
          list.hidden = !messages.length;
        }
        // Values changed elsewhere (a drag, the arrow keys) reach the fields not being typed in.
        const el = uid ? elementOf(d, uid)?.element : null;
        for (const input of host.querySelectorAll("input[data-field]")) {
          const v = el?.[input.dataset.field];
          if (
            input !== document.activeElement &&
            (typeof v === "number" || typeof v === "string") &&
            input.value !== String(v)
          )
            input.value = String(v);
        }
        const fields = problems.fieldsByUid?.get(uid) ?? new Set();
        for (const input of host.querySelectorAll("[data-field]")) {
          if (fields.has(input.dataset.field)) {
            input.setAttribute("aria-invalid", "true");
            input.setAttribute("aria-describedby", "ed-f-problems");
          } else if (input.getAttribute("aria-invalid")) {
            input.removeAttribute("aria-invalid");
            const hint = document.getElementById(`${input.id}-hint`);
            if (hint) input.setAttribute("aria-describedby", hint.id);
            else input.removeAttribute("aria-describedby");
          }
        }
      }
      shownUid = uid;
      shownPlay = play;
      problemsHost.replaceChildren(
        ...problems.list.map((p) => {
          const target = p.uids[0];
          return h(
            "li",
            {},
            target
              ? h(
                  "button",
                  { type: "button", className: "ed-problem", dataset: { uid: target } },
                  `${p.code}: ${p.message}`,
                )
              : h("span", { className: "ed-problem" }, `${p.code}: ${p.message}`),
          );
        }),
      );
    },
    /** Forces the next `show` to rebuild (after undo, layout, import). */
    reset() {
      shownUid = undefined;
    },
    wire() {
      problemsHost.addEventListener("click", (e) => {
        const b = e.target.closest("[data-uid]");
        if (b) callbacks.onSelect(b.dataset.uid);
      });
    },
  };
}
