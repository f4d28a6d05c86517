// The demo page: load a net into the wasm engine, show its marking, list the
// transitions (enabled ones clickable) and fire them.
import init, { Model } from "../pkg/petrichain.js";
import order from "./examples/order.json";
import counter from "./examples/counter.json";

const examples = { order, counter };
const $ = (id) => document.getElementById(id);
let model;
let marking;

function roles() {
  return $("roles").value.split(",").map((r) => r.trim()).filter(Boolean);
}

function load(name) {
  model = Model.fromJson(examples[name]);
  marking = model.initialMarking();
  $("model-id").textContent = model.id.slice(0, 16) + "…";
  $("model-id").title = model.id;
  $("log").replaceChildren();
  showError(null);
  render();
}

function showError(err) {
  $("error").hidden = !err;
  $("error").textContent = err ? `${err.code}: ${err.message}` : "";
}

function render() {
  const rows = model.places.map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.place = p.id;
    for (const text of [p.label || p.id, String(marking[p.id]), p.capacity ? String(p.capacity) : "∞"]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  $("marking").tBodies[0].replaceChildren(...rows);

  const enabled = new Set(model.enabled(marking, roles()));
  const buttons = model.transitions.map((t) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.transition = t.id;
    b.dataset.enabled = String(enabled.has(t.id));
    b.className = enabled.has(t.id) ? "enabled" : "disabled";
    b.textContent = (t.label || t.id) + (t.roles.length ? ` (${t.roles.join(" | ")})` : "");
    b.addEventListener("click", () => fire(t.id));
    return b;
  });
  $("transitions").replaceChildren(...buttons);
}

function fire(action) {
  try {
    const multiple = Number($("multiple").value) || 1;
    marking = model.fire(marking, action, { multiple, roles: roles() });
    const li = document.createElement("li");
    li.textContent = multiple > 1 ? `${action} ×${multiple}` : action;
    $("log").append(li);
    showError(null);
  } catch (err) {
    showError(err);
  }
  render();
}

await init();
$("example").addEventListener("change", (e) => load(e.target.value));
$("roles").addEventListener("input", render);
load($("example").value);
document.body.dataset.ready = "true";
