// The net editor (docs/app.md, "Editor"): draw a net from nothing or edit a
// copy of the open one, in a full-window dialog. The draft is plain data
// (editor-draft.js); after every change the engine validates it
// (`Model.fromJson`) and its problems are shown on the elements
// (editor-problems.js); the valid draft's model id is shown live. "Play"
// fires the draft's transitions in memory (`model.fire`) before anything is
// stored; "Save" stores the model in the ledger (content-addressed id) and
// opens a new stream of it. Undo / redo (editor-history.js), snap to grid,
// the engine's layout (editor-layout.js), import and export, keyboard
// shortcuts for everything.
import { Model } from "petrichain";
import { $, h, describe, download, slug } from "./dom.js";
import {
  ARC_KINDS,
  GRID,
  addArc,
  addPlace,
  addTransition,
  elementOf,
  emptyDraft,
  freeSpot,
  fromModel,
  needsLayout,
  nodeOf,
  parseRoles,
  removeElement,
  snapValue,
  toModelJson,
} from "./editor-draft.js";
import { locateProblems } from "./editor-problems.js";
import { History } from "./editor-history.js";
import { canvasDefs, draftBounds, drawDraft, s } from "./editor-canvas.js";
import { createInspector } from "./editor-inspector.js";
import { layoutPositions } from "./editor-layout.js";

const STORE = "petrichain.editor.draft";

const SHORTCUTS = [
  ["V", "select and move"],
  ["P", "add a place (next to the selection)"],
  ["T", "add a transition"],
  ["A", "arc tool: pick the source, then the target"],
  ["K", "next arc kind (normal, inhibitor, read, reset)"],
  ["Enter / Space", "on a node or arc: select it (arc tool: use it as an end; Play: fire)"],
  ["Arrow keys", "move the selected node one grid step (Shift: five)"],
  ["Delete / Backspace", "delete the selection"],
  ["Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "undo / redo"],
  ["G", "snap to grid on / off"],
  ["L", "auto-layout"],
  ["F", "fit the drawing"],
  ["M", "switch between Edit and Play"],
  ["R", "Play: reset the token game"],
  ["Ctrl+S", "save and start a stream"],
  ["Escape", "cancel an arc, clear the selection, then close"],
];

/**
 * Builds the editor dialog and wires the app's "New net" (`#new-net`) and
 * "Edit net" (`#edit-net`) buttons to it. `ws` is the app's workspace
 * (ledger-view.js): saving calls `ws.start(model, name)`.
 */
export function createEditor({ ws }) {
  let { draft, savedId } = loadDraft(); // savedId: the model id last saved from this draft
  let mode = "edit"; // or "play"
  let tool = "select"; // "place", "transition", "arc"
  let arcKind = "normal";
  let arcFrom = null; // uid of the chosen source while drawing an arc
  let selected = null;
  let snap = true;
  let compiled = null; // Model of the draft when valid
  let problems = { list: [], byUid: new Map(), fieldsByUid: new Map() };
  let box = null; // the viewBox shown
  let game = null; // { marking, fired: [], last } while playing
  const history = new History();

  // ---- the dialog ----
  const btn = (id, text, attrs = {}) =>
    h("button", { type: "button", id, className: "button secondary small", ...attrs }, text);
  const toolButton = (name, text, key) =>
    btn(`ed-tool-${name}`, text, {
      dataset: { tool: name },
      "aria-pressed": "false",
      "aria-keyshortcuts": key,
      title: `${text} (${key})`,
    });
  const status = h("span", { id: "ed-status", className: "badge small neutral", role: "status" }, "…");
  const message = h("p", { id: "ed-msg", className: "ed-msg", role: "status" });
  const nameInput = h("input", { id: "ed-name", autocomplete: "off", placeholder: "untitled net" });
  const snapBox = h("input", { id: "ed-snap", type: "checkbox", checked: true, "aria-keyshortcuts": "G" });
  const kindSelect = h(
    "select",
    { id: "ed-arc-kind", "aria-keyshortcuts": "K" },
    ...ARC_KINDS.map((k) => h("option", { value: k }, k)),
  );
  const importInput = h("input", {
    id: "ed-import",
    type: "file",
    className: "visually-hidden",
    accept: ".pnml,.xml,.pflow,.pflowx,.json,.jsonld,.tapn,.lola,.net",
  });
  const roleSelect = h("select", { id: "ed-play-role" });
  const amountInput = h("input", {
    id: "ed-play-amount",
    type: "number",
    min: "1",
    step: "1",
    value: "1",
    inputmode: "numeric",
  });
  const played = h("p", { id: "ed-played", className: "subtle small-print", "aria-live": "polite" });
  const streamName = h("input", { id: "ed-stream-name", autocomplete: "off", placeholder: "stream name (optional)" });
  const saveButton = h(
    "button",
    { type: "submit", id: "ed-save", className: "button", "aria-keyshortcuts": "Control+S" },
    "Save and start a stream",
  );
  const layer = s("g", { class: "ed-layer" });
  const gridRect = s("rect", { class: "ed-grid", fill: "url(#ed-grid)" });
  const canvas = s(
    "svg",
    {
      id: "ed-canvas",
      class: "ed-canvas",
      role: "group",
      "aria-label": "The draft net: its places, transitions and arcs",
      preserveAspectRatio: "xMidYMid meet",
    },
    canvasDefs(),
    gridRect,
    layer,
  );
  const inspectorHost = h("div", { id: "ed-inspector", className: "ed-inspector" });
  const problemList = h("ul", { id: "ed-problems", className: "ed-problems", "aria-labelledby": "ed-problems-h" });

  const editTools = h(
    "div",
    { className: "ed-group", role: "group", "aria-label": "Tools" },
    toolButton("select", "Select", "V"),
    toolButton("place", "Place", "P"),
    toolButton("transition", "Transition", "T"),
    toolButton("arc", "Arc", "A"),
    h("label", { className: "visually-hidden", htmlFor: "ed-arc-kind" }, "Kind of new arcs"),
    kindSelect,
    btn("ed-delete", "Delete", { "aria-keyshortcuts": "Delete" }),
  );
  const dialog = h(
    "dialog",
    { id: "editor", className: "editor", "aria-labelledby": "editor-title" },
    h(
      "header",
      { className: "ed-head" },
      h("h2", { id: "editor-title" }, "Net editor"),
      h("label", { className: "ed-name" }, h("span", { className: "visually-hidden" }, "Name of the net"), nameInput),
      status,
      h(
        "div",
        { className: "ed-group", role: "group", "aria-label": "Mode" },
        btn("ed-mode-edit", "Edit", { "aria-pressed": "true", "aria-keyshortcuts": "M" }),
        btn("ed-mode-play", "Play", { "aria-pressed": "false", "aria-keyshortcuts": "M" }),
      ),
      btn("ed-close", "Close", { "aria-label": "Close the editor" }),
    ),
    h(
      "div",
      { className: "ed-toolbar" },
      editTools,
      h(
        "div",
        { className: "ed-group", role: "group", "aria-label": "History" },
        btn("ed-undo", "Undo", { "aria-keyshortcuts": "Control+Z" }),
        btn("ed-redo", "Redo", { "aria-keyshortcuts": "Control+Shift+Z" }),
      ),
      h(
        "div",
        { className: "ed-group", role: "group", "aria-label": "Arrange" },
        h("label", { className: "check ed-check" }, snapBox, "Snap"),
        btn("ed-layout", "Auto-layout", { "aria-keyshortcuts": "L" }),
        btn("ed-zoom-out", "−", { "aria-label": "Zoom out" }),
        btn("ed-fit", "Fit", { "aria-keyshortcuts": "F" }),
        btn("ed-zoom-in", "+", { "aria-label": "Zoom in" }),
      ),
      h(
        "div",
        { className: "ed-group", role: "group", "aria-label": "File" },
        btn("ed-new", "New"),
        h("label", { className: "button secondary small", htmlFor: "ed-import" }, "Import…"),
        importInput,
        btn("ed-export-json", ".json"),
        btn("ed-export-pnml", ".pnml"),
        btn("ed-export-pflow", "pflow"),
        btn("ed-export-dot", ".dot"),
        btn("ed-export-svg", ".svg", { title: "The engine's drawing of the draft (in Play: at the game's marking)" }),
      ),
    ),
    h(
      "div",
      { id: "ed-play-bar", className: "ed-toolbar ed-play-bar", hidden: true },
      h("label", {}, "Acting as role ", roleSelect),
      h("label", {}, "Amount ", amountInput),
      btn("ed-reset", "Reset", { "aria-keyshortcuts": "R" }),
      played,
    ),
    message,
    h(
      "div",
      { className: "ed-body" },
      h("div", { className: "ed-frame" }, canvas),
      h(
        "aside",
        { className: "ed-side", "aria-label": "Inspector" },
        inspectorHost,
        h("h3", { id: "ed-problems-h" }, "Problems"),
        problemList,
        h(
          "form",
          { id: "ed-save-form", className: "ed-save" },
          h("label", { htmlFor: "ed-stream-name" }, "Save as a model and start a stream"),
          streamName,
          saveButton,
        ),
        h(
          "details",
          { className: "ed-keys" },
          h("summary", {}, "Keyboard shortcuts"),
          h("dl", {}, ...SHORTCUTS.flatMap(([k, v]) => [h("dt", {}, h("kbd", {}, k)), h("dd", {}, v)])),
        ),
      ),
    ),
  );
  document.body.append(dialog);

  const inspector = createInspector(inspectorHost, problemList, {
    onField: setField,
    onFieldDone: () => history.seal(),
    onRemove: (uid) => removeSelected(uid),
    onConnect: connect,
    onSelect: (uid) => select(uid, { focus: true }),
  });
  inspector.wire();

  // ---- state changes ----

  /** Runs `change(draft)` as one undoable step (or part of step `key`), then redraws. */
  function edit(change, key = null, opts = {}) {
    if (mode !== "edit") return false;
    history.record(draft, key);
    change(draft);
    refresh(opts);
    return true;
  }

  function say(text, bad = false) {
    message.textContent = text;
    message.classList.toggle("bad", bad);
  }

  /** Validates, redraws the canvas, the inspector and the status; keeps the draft in localStorage. */
  function refresh({ typing = false, focus = false } = {}) {
    if (selected && !elementOf(draft, selected)) selected = null;
    if (arcFrom && !nodeOf(draft, arcFrom)) arcFrom = null;
    if (!arcFrom) canvas.querySelector(".ed-band")?.remove();
    compiled?.free();
    compiled = null;
    try {
      compiled = Model.fromJson(toModelJson(draft));
      problems = { list: [], byUid: new Map(), fieldsByUid: new Map() };
    } catch (err) {
      problems = locateProblems(err, draft);
    }
    const focusedUid = canvas.contains(document.activeElement) ? document.activeElement.dataset?.uid : null;
    if (compiled && mode === "play" && game) {
      const roles = playRoles();
      game.enabled = new Set(compiled.enabled(game.marking, roles));
    }
    drawDraft(layer, draft, {
      mode,
      selected,
      arcFrom,
      byUid: problems.byUid,
      tokens: game?.marking,
      enabled: game?.enabled,
      last: game?.last,
    });
    const again = focus ? selected : focusedUid;
    const toFocus = again && layer.querySelector(`[data-uid="${CSS.escape(again)}"]`);
    // Only when it moved to a new element: focusing forces a layout of the whole drawing.
    if (toFocus && toFocus !== document.activeElement) toFocus.focus({ preventScroll: true });
    inspector.show(draft, selected, problems, { play: mode === "play", typing });

    if (nameInput.value !== draft.name && document.activeElement !== nameInput) nameInput.value = draft.name;
    const n = problems.list.length;
    if (compiled) {
      status.textContent = `${savedId === compiled.id ? "Saved" : "Valid"} · id ${compiled.id.slice(0, 12)}…`;
      status.title = `model id ${compiled.id}`;
      status.className = "badge small good";
    } else {
      status.textContent = `${n} problem${n === 1 ? "" : "s"}`;
      status.title = problems.list.map((p) => p.message).join("\n");
      status.className = "badge small bad";
    }
    dialog.dataset.valid = String(!!compiled);
    dialog.dataset.modelId = compiled?.id ?? "";
    dialog.dataset.mode = mode;
    $("ed-undo").disabled = mode !== "edit" || !history.canUndo;
    $("ed-redo").disabled = mode !== "edit" || !history.canRedo;
    $("ed-delete").disabled = mode !== "edit" || !selected;
    for (const id of ["ed-export-json", "ed-export-pnml", "ed-export-pflow", "ed-export-dot", "ed-export-svg"])
      $(id).disabled = !compiled;
    saveButton.disabled = !compiled || !(draft.places.length + draft.transitions.length);
    for (const b of editTools.querySelectorAll("[data-tool]")) {
      b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
      b.disabled = mode !== "edit";
    }
    kindSelect.disabled = mode !== "edit";
    nameInput.disabled = mode !== "edit";
    kindSelect.value = arcKind;
    canvas.dataset.tool = mode === "edit" ? tool : "play";
    try {
      localStorage.setItem(STORE, JSON.stringify({ net: toModelJson(draft), savedId }));
    } catch {
      // A full or unavailable localStorage only loses the reload safety net.
    }
  }

  function select(uid, { focus = false } = {}) {
    selected = uid;
    refresh({ focus });
  }

  function setField(uid, field, raw, key) {
    const found = elementOf(draft, uid);
    if (!found) return;
    const count = (text) => (String(text).trim() === "" ? 0 : Number(text));
    edit(
      () => {
        const el = found.element;
        if (field === "id" || field === "label") el[field] = raw;
        else if (field === "roles") el.roles = parseRoles(raw);
        else if (field === "x" || field === "y") el[field] = snapValue(count(raw), false);
        else if (field === "kind") el.kind = ARC_KINDS.includes(raw) ? raw : el.kind;
        else if (field === "points") el.points = [];
        // Counts go to the engine as typed: it names what is wrong (a fraction, a negative, too large).
        else if (field === "initial" || field === "capacity" || field === "weight") el[field] = count(raw);
      },
      key,
      { typing: key !== null },
    );
  }

  function removeSelected(uid = selected) {
    if (!uid || mode !== "edit") return;
    const found = elementOf(draft, uid);
    if (!found) return;
    const name = found.kind === "arc" ? "the arc" : `${found.kind} ${found.element.id}`;
    edit((d) => {
      const n = removeElement(d, uid);
      say(`Deleted ${name}${n > 1 ? ` and ${n - 1} arc${n === 2 ? "" : "s"}` : ""}.`);
    });
    selected = null;
    refresh();
  }

  /** Adds a node of `kind` at (x, y), or next to the selection / in the view when no point is given. */
  function addNode(kind, at = null) {
    if (mode !== "edit") return;
    let point = at;
    if (!point) {
      const sel = selected && nodeOf(draft, selected)?.node;
      const v = box ?? draftBounds(draft, canvas.getBoundingClientRect());
      point = freeSpot(draft, sel ? { x: sel.x + 4 * GRID, y: sel.y } : { x: v[0] + v[2] / 2, y: v[1] + v[3] / 2 });
    }
    try {
      let uid = null;
      edit((d) => {
        const x = snapValue(point.x, snap);
        const y = snapValue(point.y, snap);
        uid = kind === "place" ? addPlace(d, x, y) : addTransition(d, x, y);
      });
      selected = uid;
      keepInView(uid);
      refresh({ focus: !at });
      say(`Added ${kind} ${nodeOf(draft, uid).node.id}.`);
    } catch (err) {
      say(describe(err), true);
    }
  }

  function connect(uid, other, dir, kind) {
    if (mode !== "edit") return;
    const [source, target] = dir === "in" ? [other, uid] : [uid, other];
    // Tried on a copy first, so a refused arc leaves no undo step behind.
    const refused = addArc(structuredClone(draft), source, target, kind).reason;
    if (refused) {
      say(refused, true);
      refresh();
      return;
    }
    let result = null;
    edit((d) => {
      result = addArc(d, source, target, kind);
    });
    selected = result.uid;
    say(`Added ${kind} arc ${nodeOf(draft, source).node.id} → ${nodeOf(draft, target).node.id}.`);
    refresh({ focus: true });
  }

  /** What Enter, Space or a click on an element does. */
  function activate(uid) {
    const found = elementOf(draft, uid);
    if (!found) return;
    if (mode === "play") {
      if (found.kind === "transition") fire(found.element.id);
      return;
    }
    if (tool === "arc" && found.kind !== "arc") {
      if (!arcFrom) {
        arcFrom = uid;
        say(`Arc from ${found.element.id}: now choose the other end (Escape cancels).`);
        refresh({ focus: false });
      } else if (arcFrom === uid) {
        arcFrom = null;
        say("Arc cancelled.");
        refresh();
      } else {
        const from = arcFrom;
        arcFrom = null;
        connect(from, uid, "out", arcKind);
      }
      return;
    }
    select(uid);
  }

  function setTool(name, { keyboard = false } = {}) {
    if (mode !== "edit") return;
    if (keyboard && (name === "place" || name === "transition")) {
      addNode(name); // from the keyboard there is no point to click: add next to the selection
      return;
    }
    tool = name;
    arcFrom = null;
    say(
      name === "place" || name === "transition"
        ? `Click the drawing to add a ${name}.`
        : name === "arc"
          ? `Arc tool (${arcKind}): click the source, then the target.`
          : "",
    );
    refresh();
  }

  function setMode(next) {
    if (next === mode) return;
    if (next === "play" && !compiled) {
      say(`Fix the ${problems.list.length} problem(s) first: the token game runs on a valid net.`, true);
      return;
    }
    mode = next;
    arcFrom = null;
    history.seal();
    $("ed-mode-edit").setAttribute("aria-pressed", String(mode === "edit"));
    $("ed-mode-play").setAttribute("aria-pressed", String(mode === "play"));
    $("ed-play-bar").hidden = mode !== "play";
    if (mode === "play") {
      fillRoles();
      resetGame();
      say("Play: click a transition to fire it on the draft (nothing is stored).");
    } else {
      game = null;
      say("");
      refresh();
    }
  }

  // ---- the token game ----

  function fillRoles() {
    const roles = [...new Set(draft.transitions.flatMap((t) => t.roles))].sort();
    roleSelect.replaceChildren(
      h("option", { value: "*" }, "every role (*)"),
      ...roles.map((r) => h("option", { value: r }, r)),
      h("option", { value: "" }, "no role"),
    );
  }
  const playRoles = () => (roleSelect.value === "*" ? ["*"] : roleSelect.value === "" ? [] : [roleSelect.value]);

  function resetGame() {
    if (!compiled) return;
    game = { marking: compiled.initialMarking(), fired: [], last: null };
    played.textContent = "No transition fired yet.";
    refresh();
  }

  function fire(id) {
    if (!compiled || !game) return;
    const multiple = Number(amountInput.value);
    try {
      game.marking = compiled.fire(game.marking, id, { roles: playRoles(), multiple });
      game.fired.push(multiple === 1 ? id : `${id}×${multiple}`);
      game.last = id;
      say(`Fired ${id}.`);
      const shown = game.fired.slice(-12).join(", ");
      played.textContent = `${game.fired.length} fired: ${game.fired.length > 12 ? "…, " : ""}${shown}`;
    } catch (err) {
      say(describe(err), true);
    }
    refresh();
  }

  // ---- saving, layout, import, export ----

  async function save() {
    if (!compiled) {
      say("The net has problems: fix them before saving.", true);
      return;
    }
    if (!(draft.places.length + draft.transitions.length)) {
      say("Add a place or a transition before saving.", true);
      return;
    }
    const model = Model.fromJson(toModelJson(draft)); // handed to the workspace, which keeps it
    const name = streamName.value.trim();
    try {
      await ws.start(model, name || slug(draft.name || "net"), { exact: !!name });
    } catch (err) {
      model.free();
      say(describe(err), true);
      return;
    }
    savedId = model.id;
    streamName.value = "";
    refresh();
    close();
    document.getElementById("net-section")?.focus();
  }

  function autoLayout() {
    if (mode !== "edit" || !(draft.places.length + draft.transitions.length)) return;
    const frame = canvas.getBoundingClientRect();
    try {
      const pos = layoutPositions(Model, draft, frame.width && frame.height ? frame.width / frame.height : undefined);
      edit((d) => {
        for (const n of [...d.places, ...d.transitions]) {
          const p = pos.get(n.uid);
          if (p) {
            n.x = snapValue(p.x, snap);
            n.y = snapValue(p.y, snap);
          }
        }
        for (const a of d.arcs) a.points = [];
      });
      fit();
      say("Laid out by the engine's layered layout.");
    } catch (err) {
      say(describe(err), true);
    }
  }

  /** Replaces the draft by `next` (undoable), laid out if it has no positions. */
  function replaceDraft(next, note) {
    if (mode === "play") setMode("edit");
    history.record(draft);
    history.seal();
    draft = next;
    selected = null;
    arcFrom = null;
    savedId = null;
    inspector.reset();
    refresh();
    if (needsLayout(draft)) autoLayoutInPlace();
    fit();
    say(note);
  }

  /** Lays out without a history step of its own (part of an import). */
  function autoLayoutInPlace() {
    const frame = canvas.getBoundingClientRect();
    try {
      const pos = layoutPositions(Model, draft, frame.width && frame.height ? frame.width / frame.height : undefined);
      for (const n of [...draft.places, ...draft.transitions]) {
        const p = pos.get(n.uid);
        if (p) Object.assign(n, { x: snapValue(p.x, snap), y: snapValue(p.y, snap) });
      }
      for (const a of draft.arcs) a.points = [];
      refresh();
    } catch (err) {
      say(describe(err), true);
    }
  }

  async function importFile(file) {
    try {
      const model = Model.import(new Uint8Array(await file.arrayBuffer()));
      try {
        const warnings = model.warnings.length;
        replaceDraft(
          fromModel(model),
          `Imported ${file.name}${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"}: ${model.warnings[0].message}${warnings > 1 ? ", …" : ""})` : ""}.`,
        );
      } finally {
        model.free();
      }
    } catch (err) {
      say(`${file.name}: ${describe(err)}`, true);
    }
  }

  function exportAs(ext, text, type) {
    download(`${slug(draft.name || "net")}${ext}`, text, type);
  }

  // ---- the view: fit, zoom, pan ----

  function showBox(next) {
    box = next;
    canvas.setAttribute("viewBox", box.map((v) => Math.round(v * 100) / 100).join(" "));
    // The grid covers the whole frame, whatever its aspect.
    const pad = Math.max(box[2], box[3]);
    gridRect.setAttribute("x", String(box[0] - pad));
    gridRect.setAttribute("y", String(box[1] - pad));
    gridRect.setAttribute("width", String(box[2] + 2 * pad));
    gridRect.setAttribute("height", String(box[3] + 2 * pad));
  }
  /** Pans (never zooms) so that node `uid` is inside the view, with a margin. */
  function keepInView(uid) {
    const n = uid && nodeOf(draft, uid)?.node;
    if (!n || !box) return;
    const m = 40;
    let [x, y] = box;
    const [w, hgt] = [box[2], box[3]];
    if (n.x - m < x) x = n.x - m;
    else if (n.x + m > x + w) x = n.x + m - w;
    if (n.y - m < y) y = n.y - m;
    else if (n.y + m > y + hgt) y = n.y + m - hgt;
    if (x !== box[0] || y !== box[1]) showBox([x, y, w, hgt]);
  }
  const fit = () => showBox(draftBounds(draft, canvas.getBoundingClientRect()));
  function zoom(factor, at = null) {
    const b = box ?? draftBounds(draft);
    const c = at ?? { x: b[0] + b[2] / 2, y: b[1] + b[3] / 2 };
    const w = Math.min(Math.max(b[2] / factor, 60), 40000);
    const k = w / b[2];
    showBox([c.x - (c.x - b[0]) * k, c.y - (c.y - b[1]) * k, w, b[3] * k]);
  }
  /** The model point under a pointer event. */
  function pointOf(e) {
    const m = canvas.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return { x: p.x, y: p.y };
  }

  // ---- pointer: click, drag a node, pan the background ----

  let press = null;
  let frame = 0;
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    const el = e.target.closest?.("[data-uid]");
    const uid = el?.dataset.uid ?? null;
    const node = uid && nodeOf(draft, uid);
    press = {
      id: e.pointerId,
      x: e.clientX,
      y: e.clientY,
      uid,
      at: pointOf(e),
      moved: false,
      drag: mode === "edit" && tool === "select" && node ? { x: node.node.x, y: node.node.y } : null,
      box: box ?? draftBounds(draft),
    };
    canvas.setPointerCapture?.(e.pointerId);
    e.preventDefault(); // no text selection, no focus steal from the drag
    // A field being typed in is done with (its change event ends the undo step).
    if (document.activeElement?.matches?.("input, select")) document.activeElement.blur();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!press || e.pointerId !== press.id) return;
    if (!press.moved && Math.hypot(e.clientX - press.x, e.clientY - press.y) < 4) return;
    if (!press.moved && press.drag) {
      selected = press.uid;
      history.record(draft, `drag:${press.uid}:${press.x}:${press.y}`);
    }
    press.moved = true;
    if (press.drag) {
      const p = pointOf(e);
      const n = nodeOf(draft, press.uid)?.node;
      if (!n) return;
      n.x = snapValue(press.drag.x + p.x - press.at.x, snap);
      n.y = snapValue(press.drag.y + p.y - press.at.y, snap);
      if (!frame)
        frame = requestAnimationFrame(() => {
          frame = 0;
          refresh({ typing: true });
        });
    } else if (!press.uid) {
      const rect = canvas.getBoundingClientRect();
      const k = Math.max(press.box[2] / rect.width, press.box[3] / rect.height);
      showBox([
        press.box[0] - (e.clientX - press.x) * k,
        press.box[1] - (e.clientY - press.y) * k,
        press.box[2],
        press.box[3],
      ]);
    }
  });
  const release = (e) => {
    if (!press || e.pointerId !== press.id) return;
    const p = press;
    press = null;
    if (p.moved) {
      history.seal();
      refresh();
      return;
    }
    if (e.type === "pointercancel") return;
    if (p.uid) {
      activate(p.uid);
      return;
    }
    // A click on the background.
    if (mode !== "edit") return;
    if (tool === "place" || tool === "transition") addNode(tool, p.at);
    else if (arcFrom) {
      arcFrom = null;
      say("Arc cancelled.");
      refresh();
    } else if (selected) select(null);
  };
  // While an arc waits for its target, a dashed line follows the pointer from the source.
  const band = s("line", { class: "ed-band", "aria-hidden": "true" });
  canvas.addEventListener("pointermove", (e) => {
    const from = arcFrom && mode === "edit" ? nodeOf(draft, arcFrom)?.node : null;
    if (!from || press) {
      band.remove();
      return;
    }
    const p = pointOf(e);
    for (const [k, v] of Object.entries({ x1: from.x, y1: from.y, x2: p.x, y2: p.y })) band.setAttribute(k, String(v));
    if (!band.isConnected) layer.before(band);
  });
  canvas.addEventListener("pointerleave", () => band.remove());
  canvas.addEventListener("pointerup", release);
  canvas.addEventListener("pointercancel", release);
  canvas.addEventListener(
    "wheel",
    (e) => {
      e.preventDefault();
      zoom(Math.exp(-e.deltaY / 400), pointOf(e));
    },
    { passive: false },
  );
  canvas.addEventListener("keydown", (e) => {
    const uid = e.target.closest?.("[data-uid]")?.dataset.uid;
    if (uid && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      activate(uid);
    }
  });

  // ---- keyboard shortcuts (not while typing in a field) ----

  // On the document: the focus may fall to <body> when the element holding it is redrawn.
  document.addEventListener("keydown", (e) => {
    if (!dialog.open || e.defaultPrevented) return;
    const typing = e.target.closest?.("input:not([type=checkbox]), select, textarea");
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (mod && key === "s") {
      e.preventDefault();
      save();
      return;
    }
    if (typing) return;
    if (mod && key === "z") {
      e.preventDefault();
      e.shiftKey ? redo() : undo();
      return;
    }
    if (mod && key === "y") {
      e.preventDefault();
      redo();
      return;
    }
    if (mod || e.altKey) return;
    const node = selected && nodeOf(draft, selected)?.node;
    const step = (e.shiftKey ? 5 : 1) * GRID;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[key] && node && mode === "edit") {
      e.preventDefault();
      const [dx, dy] = moves[key];
      edit(
        () => {
          node.x = snapValue(node.x + dx, snap);
          node.y = snapValue(node.y + dy, snap);
        },
        `move:${selected}`,
        { focus: true, typing: true },
      );
      keepInView(selected);
      return;
    }
    const actions = {
      v: () => setTool("select"),
      p: () => setTool("place", { keyboard: true }),
      t: () => setTool("transition", { keyboard: true }),
      a: () => setTool("arc"),
      k: () => {
        arcKind = ARC_KINDS[(ARC_KINDS.indexOf(arcKind) + 1) % ARC_KINDS.length];
        say(`New arcs: ${arcKind}.`);
        refresh();
      },
      g: () => {
        snap = !snap;
        snapBox.checked = snap;
        say(snap ? "Snap to grid on." : "Snap to grid off.");
      },
      l: autoLayout,
      f: fit,
      m: () => setMode(mode === "edit" ? "play" : "edit"),
      r: () => mode === "play" && resetGame(),
      Delete: () => removeSelected(),
      Backspace: () => removeSelected(),
    };
    if (actions[key]) {
      e.preventDefault();
      actions[key]();
    }
  });
  // Escape: first cancel what is going on, then close.
  dialog.addEventListener("cancel", (e) => {
    if (arcFrom || selected) {
      e.preventDefault();
      arcFrom = null;
      selected = null;
      say("");
      refresh();
    }
  });

  function undo() {
    if (mode !== "edit") return;
    const prev = history.undo(draft);
    if (!prev) return;
    draft = prev;
    inspector.reset();
    say("Undone.");
    refresh();
  }
  function redo() {
    if (mode !== "edit") return;
    const next = history.redo(draft);
    if (!next) return;
    draft = next;
    inspector.reset();
    say("Redone.");
    refresh();
  }

  // ---- controls ----

  $("ed-close").addEventListener("click", () => close());
  $("ed-mode-edit").addEventListener("click", () => setMode("edit"));
  $("ed-mode-play").addEventListener("click", () => setMode("play"));
  for (const b of editTools.querySelectorAll("[data-tool]"))
    b.addEventListener("click", (e) => setTool(b.dataset.tool, { keyboard: e.detail === 0 }));
  kindSelect.addEventListener("change", () => {
    arcKind = kindSelect.value;
    refresh();
  });
  $("ed-delete").addEventListener("click", () => removeSelected());
  $("ed-undo").addEventListener("click", undo);
  $("ed-redo").addEventListener("click", redo);
  snapBox.addEventListener("change", () => {
    snap = snapBox.checked;
  });
  $("ed-layout").addEventListener("click", autoLayout);
  $("ed-fit").addEventListener("click", fit);
  $("ed-zoom-in").addEventListener("click", () => zoom(1.5));
  $("ed-zoom-out").addEventListener("click", () => zoom(1 / 1.5));
  $("ed-new").addEventListener("click", () =>
    replaceDraft(emptyDraft(), "A new, empty net (Undo brings the last one back)."),
  );
  importInput.addEventListener("change", () => {
    const file = importInput.files?.[0];
    importInput.value = "";
    if (file) importFile(file);
  });
  $("ed-export-json").addEventListener(
    "click",
    () => compiled && exportAs(".json", compiled.toJson(), "application/json"),
  );
  $("ed-export-pnml").addEventListener(
    "click",
    () => compiled && exportAs(".pnml", compiled.toPnml(), "application/xml"),
  );
  $("ed-export-pflow").addEventListener(
    "click",
    () => compiled && exportAs(".jsonld", compiled.toPflow(), "application/ld+json"),
  );
  $("ed-export-dot").addEventListener(
    "click",
    () => compiled && exportAs(".dot", compiled.toDot(), "text/vnd.graphviz"),
  );
  $("ed-export-svg").addEventListener("click", () => {
    if (!compiled) return;
    const marking = mode === "play" && game ? game.marking : compiled.initialMarking();
    exportAs(".svg", compiled.renderSvg(marking, { roles: mode === "play" ? playRoles() : ["*"] }), "image/svg+xml");
  });
  $("ed-reset").addEventListener("click", resetGame);
  roleSelect.addEventListener("change", () => refresh());
  nameInput.addEventListener("input", () =>
    edit(
      (d) => {
        d.name = nameInput.value;
      },
      "name",
      { typing: true },
    ),
  );
  nameInput.addEventListener("change", () => history.seal());
  $("ed-save-form").addEventListener("submit", (e) => {
    e.preventDefault();
    save();
  });

  function open() {
    if (!dialog.open) {
      dialog.showModal();
      // Not the name field (the shortcuts are letters): the first tool.
      $("ed-tool-select").focus();
    }
    document.body.dataset.editor = "open";
    refresh();
    fit();
  }
  function close() {
    if (mode === "play") setMode("edit");
    dialog.close();
  }
  dialog.addEventListener("close", () => {
    document.body.dataset.editor = "closed"; // the dialog gives the focus back to what opened it
  });

  // The app's buttons.
  document.getElementById("new-net")?.addEventListener("click", () => {
    // A saved (or empty) draft is done with: start afresh; otherwise carry on with it.
    if (savedId && compiled?.id === savedId) {
      draft = emptyDraft();
      savedId = null;
      history.past = [];
      history.future = [];
      selected = null;
      inspector.reset();
    }
    open();
    say(
      draft.places.length + draft.transitions.length
        ? "Your draft, as you left it."
        : "Press P for a place, T for a transition.",
    );
  });
  document.getElementById("edit-net")?.addEventListener("click", () => {
    if (!ws.model) return;
    open();
    try {
      replaceDraft(
        fromModel(ws.model),
        `A copy of ${ws.model.name || "the open net"}: saving it makes a new model and stream.`,
      );
    } catch (err) {
      say(describe(err), true);
    }
  });

  refresh(); // validates the draft kept from the last session (is it the one saved?)
  return {
    open,
    close,
    get draft() {
      return draft;
    },
  };
}

/** The draft kept in localStorage by the last session (and the id it was saved as), read defensively, or an empty one. */
function loadDraft() {
  try {
    const kept = JSON.parse(localStorage.getItem(STORE) ?? "null");
    const savedId = typeof kept?.savedId === "string" ? kept.savedId : null;
    return kept?.net ? { draft: fromModel(kept.net), savedId } : { draft: emptyDraft(), savedId: null };
  } catch {
    return { draft: emptyDraft(), savedId: null };
  }
}
