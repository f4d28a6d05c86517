// The petrichain app: wires the ledger (IndexedDB), the net view, the event
// log, import, the sync panel and the service worker together. It imports the
// package the way any user would.
import { Model } from "petrichain";
import { $, h, describe, download, slug } from "./dom.js";
import { renderGallery } from "./examples.js";
import { wireImport } from "./import.js";
import { openWorkspace } from "./ledger-view.js";
import { createNetView } from "./net-view.js";
import { renderLog, verifyInto } from "./log-view.js";
import { keyCounts, renderKeys } from "./keys-view.js";
import { wireSyncPanel } from "./sync-panel.js";
import { createAnalysisPanel } from "./analysis-panel.js";
import { registerServiceWorker } from "./offline.js";
import { createEditor } from "./editor.js";
import { createStreamsPanel } from "./streams-panel.js";
import { createRecovery } from "./recovery.js";
import { createHistory } from "./history.js";
import { createStoragePanel } from "./storage-panel.js";
import { keepTabOrderVisual } from "./narrow-order.js";
import { accessOf, createIdentity } from "./identity.js";
import { createMembers } from "./members.js";
import { createInvites } from "./invite.js";
import { policyFields, policySentence } from "./signers.js";

const ws = await openWorkspace("app", (err) => showError(err)).catch((err) => {
  // No IndexedDB (some private modes), or the browser refused it: say so.
  $("empty").replaceChildren(
    h("h2", {}, "The ledger could not be opened"),
    h("p", { className: "error", role: "alert" }, describe(err)),
  );
  document.body.dataset.ready = "failed";
  throw err;
});
// This device's key, name and join code; the open stream's policy (who holds which role).
const identity = createIdentity(ws, { onError: (err) => showError(err), onPublished: () => show() });
let last = null; // the transition fired last in this view, highlighted
let queue = Promise.resolve(); // firings run one after another, in click order

function showError(err) {
  const box = $("error");
  box.hidden = !err;
  // A refusal for lack of a grant says which role and whom to ask.
  box.replaceChildren(...(err ? (identity.explain(err) ?? [describe(err)]) : []));
  box.dataset.code = err?.code ?? "";
}

const net = createNetView({
  onFire: (action) => {
    queue = queue.then(() => fire(action)).catch(showError);
    return queue;
  },
});

async function fire(action) {
  const stream = ws.stream;
  if (!stream) return;
  const { roles: chosen, actor, multiple, args } = net.options(action);
  try {
    const roles = await claimedRoles(stream, action, chosen);
    await stream.fire(action, { roles, actor, multiple, args });
    last = action;
    showError(null);
  } catch (err) {
    showError(err);
  }
  await show();
}

/**
 * The roles a firing claims. A transition open to every role needs none
 * (claiming one would need a grant of it). "Every role (*)" claims `*` only
 * where this device holds it (the owner, or a grant of `*`); elsewhere it
 * claims the transition's roles this device was granted, so that a member
 * granted `clerk` fires a clerk transition without choosing the role. If it
 * holds none of them, it claims them all and the refusal names the one to ask for.
 */
async function claimedRoles(stream, action, chosen) {
  const needed = ws.model.transitions.find((t) => t.id === action)?.roles ?? [];
  if (needed.length === 0) return [];
  if (chosen.length !== 1 || chosen[0] !== "*") return chosen;
  const held = await heldHere(stream);
  if (held === null) return chosen;
  const mine = needed.filter((r) => held.includes(r));
  return mine.length ? mine : needed;
}

/**
 * The roles this device holds on `stream` for the drawing: null where it may
 * claim every role (its own stream, a new one, a grant of `*`).
 */
async function heldHere(stream) {
  const policy = await stream.policy().catch(() => null);
  if (!policy || policy.owner === null) return null;
  const { roles } = accessOf(policy, ws.ledger.deviceKey);
  return roles.includes("*") ? null : roles;
}

/** Redraws everything that depends on the open stream. */
async function show() {
  const { stream, model } = ws;
  // Read first: once `data-stream` names the stream, its drawing and
  // marking are there (the page tests read them at that moment).
  const [keys, held] = stream
    ? await Promise.all([keyCounts(stream, model).catch(() => ({})), heldHere(stream)])
    : [{}, null];
  $("empty").hidden = !!stream;
  $("workspace").hidden = !stream;
  $("log-section").hidden = !stream;
  if (!stream) analysis.show(null);
  document.body.dataset.stream = stream?.id ?? "";
  if (!stream) {
    await ws.renderList();
    return;
  }
  streamsPanel.showStream(stream);
  $("model-name").textContent = model.name || "untitled net";
  $("model-id").textContent = `${model.id.slice(0, 12)}…`;
  $("model-id").title = model.id;
  $("head").textContent = stream.head.seq ? `#${stream.head.seq} ${stream.head.hash.slice(0, 10)}…` : "#0 (empty)";
  $("head").title = stream.head.hash;
  net.show(model, stream.marking, last, keys, held);
  analysis.show(model);
  try {
    const { who, policy } = await identity.refresh(stream);
    members?.show();
    invites?.update(stream, policy);
    await Promise.all([
      renderLog(stream, who, (e) => policySentence(e, policyFields(e), who)),
      renderKeys(stream, model),
      verifyInto(ws.ledger, stream.id),
      ws.renderList(),
      sync.refresh(),
      recovery?.show(),
    ]);
  } catch (err) {
    showError(err); // e.g. a store that cannot be read: say so rather than freeze
  }
}

/** Signs this device's display name on the open stream if it is due there (identity.js), then redraws. */
async function publishName() {
  try {
    if (await identity.publishOn(ws.stream)) await show();
  } catch (err) {
    showError(err);
  }
}

ws.onSwitch(async () => {
  last = null;
  showError(null);
  historyView.reset();
  members?.reset();
  await show();
  await publishName();
});
ws.onRemoteChange(async () => {
  last = null; // the stream moved elsewhere (another tab, a sync): nothing of ours to highlight
  await show();
  await publishName(); // a grant may have arrived
});

renderGallery($("gallery"), async (example) => {
  try {
    await ws.start(Model.fromJson(example.text), example.key);
  } catch (err) {
    showError(err);
  }
});

wireImport(async ({ model, file }) => {
  await ws.start(model, slug(file.replace(/\.[^.]+$/, "")));
});

$("new-stream").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("new-stream-name");
  try {
    await ws.start(ws.model, input.value.trim(), { exact: true });
    input.value = "";
  } catch (err) {
    showError(err);
  }
});

$("verify-now").addEventListener("click", () => ws.stream && verifyInto(ws.ledger, ws.stream.id));

$("export-events").addEventListener("click", async () => {
  try {
    download(`${ws.stream.id}.jsonl`, await ws.ledger.exportJsonl(ws.stream.id), "application/x-ndjson");
  } catch (err) {
    showError(err);
  }
});
$("export-json").addEventListener("click", () =>
  download(`${slug(ws.model.name || ws.stream.id)}.json`, ws.model.toJson(), "application/json"),
);
$("export-pnml").addEventListener("click", () =>
  download(`${slug(ws.model.name || ws.stream.id)}.pnml`, ws.model.toPnml(), "application/xml"),
);
$("export-pflow").addEventListener("click", () =>
  download(`${slug(ws.model.name || ws.stream.id)}.jsonld`, ws.model.toPflow(), "application/ld+json"),
);
$("export-dot").addEventListener("click", () =>
  download(`${slug(ws.model.name || ws.stream.id)}.dot`, ws.model.toDot(), "text/vnd.graphviz"),
);
$("export-svg").addEventListener("click", () => download(`${ws.stream.id}.svg`, net.svgText(), "image/svg+xml"));

createEditor({ ws }); // the net editor: #new-net, #edit-net (www/editor.js)
// Stream management, sync recovery, history and storage (one module each).
// A deleted stream is unfollowed, so that the next sync does not bring it back.
const streamsPanel = createStreamsPanel(ws, { onError: showError, onDeleted: (id) => sync.follow(id, false) });
ws.setListView(streamsPanel.render);
let recovery = null; // set below; a sync may report before
let members = null; // set below, once the sync panel exists
let invites = null;
const sync = wireSyncPanel(ws, { onSync: (handle) => recovery?.synced(handle).catch(showError) });
recovery = createRecovery(ws, { sync, onError: showError, explain: (c) => identity.explainConflict(c) });
members = createMembers(ws, { identity, sync, onChanged: () => show() });
invites = createInvites(ws, { sync, onError: showError });
const historyView = createHistory(ws, { onError: showError });
createStoragePanel(ws, { onError: showError }).show().catch(showError);
keepTabOrderVisual();
const analysis = createAnalysisPanel(ws, { onReplayed: () => show(), onError: showError });
await ws.restore();
await show();
document.body.dataset.ready = "true";
await invites.check(); // an invite link (#invite=...) opened here
registerServiceWorker();
