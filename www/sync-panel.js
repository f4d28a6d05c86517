// The sync panel: backend URL, online / offline indicator, pending count,
// last sync and conflicts. Sync itself is the ledger's (ledger.sync); a build
// without it says so instead of pretending.
import { $ } from "./dom.js";

export function wireSyncPanel(ledger) {
  const url = $("sync-url");
  url.value = localStorage.getItem("petrichain.syncUrl") ?? "";
  url.addEventListener("change", () => localStorage.setItem("petrichain.syncUrl", url.value.trim()));

  const showOnline = () => {
    const online = navigator.onLine;
    const badge = $("online-badge");
    badge.className = `badge ${online ? "good" : "warn"}`;
    badge.dataset.state = online ? "online" : "offline";
    badge.textContent = online ? "● Online" : "○ Offline";
    $("sync-online").textContent = online ? "online" : "offline: events are kept here and wait";
  };
  addEventListener("online", showOnline);
  addEventListener("offline", showOnline);
  showOnline();

  const connected = typeof ledger.sync === "function";
  $("sync-now").disabled = !connected;
  $("sync-status").textContent = connected
    ? ""
    : "Sync is not connected: this build has no sync client yet. Every event stays in this browser's ledger.";
  $("sync-form").addEventListener("submit", (e) => e.preventDefault());
}
