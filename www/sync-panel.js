// The sync panel: backend URL, online / offline indicator, sync status,
// pending count and last sync. Syncing is the ledger's own (`ledger.sync({
// url })`, see docs/sync-client.md). What a sync left to decide (conflicts,
// a forked remote) is shown at the top of the stream by recovery.js, told
// through `onSync(handle)`.
import { $, describe } from "./dom.js";

const URL_KEY = "petrichain.syncUrl";
const AUTO_KEY = "petrichain.syncAuto";
const LAST_KEY = "petrichain.syncLast";

/**
 * `ws` is the workspace (ledger-view.js); `onSync(handle)` runs after each
 * sync and status change. Returns `refresh()` for the app to call after
 * changes, `now()` (sync at once; resolves when done, whatever the outcome)
 * and `handle()` (the current SyncHandle or null).
 */
export function wireSyncPanel(ws, { onSync = () => {} } = {}) {
  const { ledger } = ws;
  const url = $("sync-url");
  const auto = $("sync-auto");
  const state = $("sync-state");
  const status = $("sync-status");
  // By default the backend is the origin the app came from (npm start serves both).
  url.value = localStorage.getItem(URL_KEY) ?? new URL(".", location.href).href;
  auto.checked = localStorage.getItem(AUTO_KEY) === "true";

  const showOnline = () => {
    const online = navigator.onLine;
    const badge = $("online-badge");
    badge.className = `badge ${online ? "good" : "warn"}`;
    badge.dataset.state = online ? "online" : "offline";
    badge.textContent = online ? "● Online" : "○ Offline";
    $("sync-online").textContent = online ? "online" : "offline: new events wait here";
  };
  addEventListener("online", showOnline);
  addEventListener("offline", showOnline);
  showOnline();
  $("sync-form").addEventListener("submit", (e) => e.preventDefault());

  let handle = null;
  let offs = [];
  const showLast = () => {
    const last = Number(localStorage.getItem(`${LAST_KEY}:${url.value}`));
    $("sync-last").textContent = last ? new Date(last).toLocaleString() : "never";
  };
  // The handle's status ("idle" | "syncing" | "offline" | "error"); an idle
  // handle that never synced and is not running is shown as "manual".
  const setState = (s) => {
    const label = s === "idle" && handle && !handle.running && !handle.lastReport ? "manual" : s;
    state.textContent = label;
    state.dataset.state = s;
    state.className = `badge small ${label === "idle" ? "good" : s === "error" ? "bad" : s === "offline" ? "warn" : "neutral"}`;
  };

  async function refresh() {
    if (!handle || !ws.stream) {
      $("sync-pending").textContent = "—";
      return;
    }
    const id = ws.stream.id;
    try {
      const pending = await handle.pending(id);
      if (ws.stream?.id !== id) return;
      $("sync-pending").textContent = `${pending} event${pending === 1 ? "" : "s"} of ${id}`;
      $("sync-pending").dataset.count = String(pending);
    } catch (err) {
      status.textContent = describe(err);
    }
  }

  function connect() {
    for (const off of offs) off();
    handle?.stop();
    handle = null;
    offs = [];
    status.textContent = "";
    status.className = "note";
    showLast();
    const target = url.value.trim();
    if (!target) {
      setState("not connected");
      return;
    }
    try {
      // The app lists every stream of the server (a new device gets them all).
      handle = ledger.sync({ url: target, follow: "*" });
    } catch (err) {
      setState("error");
      status.textContent = describe(err);
      status.className = "note bad";
      return;
    }
    setState(handle.status);
    offs.push(
      handle.on("status", (s) => {
        setState(s);
        if (s === "idle") {
          localStorage.setItem(`${LAST_KEY}:${target}`, String(Date.now()));
          status.textContent = "";
          status.className = "note";
          showLast();
        }
        refresh();
        onSync(handle);
      }),
      handle.on("error", (err) => {
        status.textContent = describe(err);
        status.className = "note bad";
      }),
      handle.on("conflict", () => onSync(handle)),
    );
    if (auto.checked) handle.start();
    refresh();
  }

  url.addEventListener("change", () => {
    localStorage.setItem(URL_KEY, url.value.trim());
    connect();
  });
  auto.addEventListener("change", () => {
    localStorage.setItem(AUTO_KEY, String(auto.checked));
    if (auto.checked) handle?.start();
    else handle?.stop();
    if (handle) setState(handle.status);
  });
  async function now() {
    if (!handle) connect();
    if (!handle) return;
    try {
      await handle.now();
    } catch {
      // Shown through the "error" callback and the status badge.
    }
    await refresh();
    onSync(handle);
  }
  $("sync-now").addEventListener("click", now);
  connect();
  return { refresh, now, handle: () => handle };
}
