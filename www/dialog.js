// A modal question on the native <dialog>: the browser moves focus into it
// and back, keeps it there, and Escape cancels. Resolves to the value of the
// button chosen ("" when cancelled) and the text of the input, if any.
import { h } from "./dom.js";

let next = 0;

/**
 * `ask({ title, body, input, actions })`: `body` is nodes or strings,
 * `input` `{ label, value }` adds a text field, `actions` are
 * `{ value, label, danger }` buttons that close the dialog (a Cancel button is
 * added). Resolves to `{ choice, text }`.
 */
export function ask({ title, body = [], input = null, actions }) {
  const id = `dialog-${++next}`;
  const field = input ? h("input", { id: `${id}-input`, value: input.value ?? "", autocomplete: "off" }) : null;
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", { id: `${id}-title` }, title),
    ...body.map((b) => (typeof b === "string" ? h("p", {}, b) : b)),
    field ? h("label", { className: "dialog-field", htmlFor: field.id }, input.label) : null,
    field,
    h(
      "div",
      { className: "dialog-actions" },
      h("button", { type: "submit", value: "", className: "button secondary" }, "Cancel"),
      ...actions.map((a) =>
        h(
          "button",
          {
            type: "submit",
            value: a.value,
            className: `button${a.danger ? " danger" : ""}`,
            dataset: { choice: a.value },
          },
          a.label,
        ),
      ),
    ),
  );
  const dialog = h("dialog", { className: "dialog", "aria-labelledby": `${id}-title` }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve({ choice: dialog.returnValue, text: field?.value ?? "" });
      dialog.remove();
    });
    dialog.showModal();
    (field ?? dialog.querySelector("[data-choice]"))?.focus();
  });
}
