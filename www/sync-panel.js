// The sync panel: backend URL, online / offline indicator, sync status,
// pending count and last sync. Syncing is the ledger's own (`ledger.sync({
// url })`, see docs/sync-client.md). What a sync left to decide (conflicts,
// a forked remote) is shown at the top of the stream by recovery.js, told
// through `onSync(handle)`.
import { $, h, describe } from "./dom.js";
import { followed, setFollowed, setStopped, stoppedStreams } from "./follows.js";
import { listRemoteStreams } from "./remote-streams.js";

const URL_KEY = "petrichain.syncUrl";
const AUTO_KEY = "petrichain.syncAuto";
const LAST_KEY = "petrichain.syncLast";

/**
 * `ws` is the workspace (ledger-view.js); `onSync(handle)` runs after each
 * sync and status change. Returns `refresh()` for the app to call after
 * changes, `now()` (sync at once; resolves when done, whatever the outcome),
 * `handle()` (the current SyncHandle or null) and `follow(id, on)` (follow
 * or unfollow a server stream; a deleted stream is unfollowed).
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
  addEventListener("online", () => {
    showOnline();
    listRemote();
  });
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
    await rescope().catch((err) => (status.textContent = describe(err)));
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

  // The local streams and the ones the user chose to follow (follows.js),
  // less those whose syncing was stopped: then the list is given in full
  // (`streams`), from the local ids last read.
  let localIds = [];
  const scope = (target) => {
    const stopped = new Set(stoppedStreams(target));
    if (stopped.size === 0) return { url: target, follow: followed(target) };
    const ids = new Set([...localIds, ...followed(target)]);
    for (const id of stopped) ids.delete(id);
    return { url: target, streams: [...ids] };
  };
  const anyStopped = () => stoppedStreams(url.value.trim()).length > 0;
  /** Re-reads the local stream ids; true if they changed. */
  async function readLocal() {
    const ids = (await ledger.streams()).map((s) => s.id).sort();
    const changed = ids.join("\n") !== localIds.join("\n");
    localIds = ids;
    return changed;
  }
  /** With a stopped stream the scope lists the local ids: reconnect when they changed. */
  async function rescope() {
    if (anyStopped() && (await readLocal())) connect();
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
      handle = ledger.sync(scope(target));
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
        if (s === "idle" || s === "error") listRemote();
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
    listRemote();
  }

  // The server's streams not held here, each with a "follow" toggle.
  let listing = 0;
  async function listRemote() {
    const target = url.value.trim();
    const note = $("remote-status");
    if (!target) {
      $("remote-streams").replaceChildren();
      note.textContent = "";
      return;
    }
    const mine = ++listing;
    // Offline, asking would only fail (and log it): listed again when back online.
    if (!navigator.onLine) {
      note.textContent = "The server's streams are listed when back online.";
      return;
    }
    try {
      const [{ streams, more }, local] = await Promise.all([listRemoteStreams(target), ledger.streams()]);
      if (mine !== listing) return;
      const here = new Set(local.map((s) => s.id));
      const follows = new Set(followed(target));
      const others = streams.filter((s) => !here.has(s.id));
      // A followed stream whose net neither this browser nor the server has (MODEL_UNAVAILABLE).
      const missingNet = new Map(
        (handle?.lastReport?.errors ?? [])
          .filter((e) => e.error.code === "MODEL_UNAVAILABLE")
          .map((e) => [e.stream, String(e.error.model ?? "")]),
      );
      $("remote-streams").replaceChildren(
        ...others.map((s) =>
          h(
            "li",
            {},
            h(
              "label",
              { className: "check" },
              h("input", {
                type: "checkbox",
                checked: follows.has(s.id),
                dataset: { follow: s.id },
                "aria-label": `Follow ${s.id}`,
              }),
              h("span", {}, h("code", {}, s.id), ` · ${s.seq} event${s.seq === 1 ? "" : "s"}`),
            ),
            missingNet.has(s.id) && follows.has(s.id)
              ? h(
                  "p",
                  { className: "small-print remote-problem", dataset: { code: "MODEL_UNAVAILABLE" } },
                  "Not brought here: its net (model ",
                  h("code", { title: missingNet.get(s.id) }, missingNet.get(s.id).slice(0, 12)),
                  ") is neither in this browser nor on the server. Import that net (the same file gives the same model id), then sync again; or unfollow it.",
                )
              : null,
          ),
        ),
      );
      note.textContent = others.length
        ? `${others.length} stream${others.length === 1 ? "" : "s"} of the server not in this browser${more ? " (the first ones listed)" : ""}: follow one to bring it here.`
        : "Every stream of the server is in this browser.";
    } catch (err) {
      if (mine !== listing) return;
      note.textContent = `The server's streams could not be listed: ${describe(err)}`;
    }
  }

  /** Stops (`on`) or resumes syncing stream `id` with this backend, and reconnects. */
  async function stop(id, on) {
    const target = url.value.trim();
    if (!target || on === stoppedStreams(target).includes(id)) return;
    setStopped(target, id, on);
    await readLocal();
    connect();
    if (!on) await now();
  }

  /** Follows or unfollows server stream `id`, and reconnects with the new choice. */
  async function follow(id, on) {
    const target = url.value.trim();
    if (!target) return;
    setFollowed(target, id, on);
    connect();
    if (on) await now();
  }
  $("remote-streams").addEventListener("change", (e) => {
    const id = e.target.dataset?.follow;
    if (id) follow(id, e.target.checked).catch((err) => ($("remote-status").textContent = describe(err)));
  });

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
  // "Sync now" runs finished, as the status badge's data-runs: the status
  // alone cannot tell a run that is done from one that has not started (with
  // a stopped stream, the scope is read again before the sync begins).
  let runs = 0;
  async function now() {
    try {
      // (No wait before the sync starts when nothing is stopped: the status turns "syncing" at once.)
      if (anyStopped()) await rescope().catch(() => {});
      if (!handle) connect();
      if (!handle) return;
      try {
        await handle.now();
      } catch {
        // Shown through the "error" callback and the status badge.
      }
      await refresh();
      onSync(handle);
    } finally {
      state.dataset.runs = String(++runs);
    }
  }
  $("sync-now").addEventListener("click", now);
  connect();
  return {
    refresh,
    now,
    handle: () => handle,
    follow,
    stop,
    /** The backend URL ("" for none). */
    url: () => url.value.trim(),
    /** Syncs with backend `u` from now on (an invite link names one), kept like a typed URL. */
    setUrl(u) {
      url.value = u;
      localStorage.setItem(URL_KEY, u);
      connect();
    },
    /** Whether syncing of stream `id` with this backend is stopped. */
    stopped: (id) => stoppedStreams(url.value.trim()).includes(id),
  };
}
