// Storage health: whether the browser keeps the ledger (persistent storage)
// and how much it uses (navigator.storage), a warning when it may evict it,
// and a one-click full backup of every stream with its restore.
//
// A backup is JSON lines: one header line
//   {"format":"petrichain-backup","version":1,"created":<ms>,"streams":<n>,"labels":{...}}
// then each stream's export (`ledger.exportJsonl`: its header line with its
// net, then its events), one after another. Restoring imports each stream
// (`ledger.importJsonl`: verified, then stored in one transaction; a stream
// already here is extended, or refused as DIVERGED if its chain differs).
import { $, h, describe, download } from "./dom.js";
import { labels } from "./stream-labels.js";

export const BACKUP_FORMAT = "petrichain-backup";
/** Largest backup file read (the whole file is held in memory while restoring). */
export const MAX_RESTORE_BYTES = 256 * 1024 * 1024;
const STREAM_HEADER = '{"format":"petrichain-stream"';

const mb = (bytes) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

/** The backup text of every stream of `ledger`. */
export async function backupText(ledger) {
  const streams = await ledger.streams();
  const parts = [
    `${JSON.stringify({ format: BACKUP_FORMAT, version: 1, created: Date.now(), streams: streams.length, labels: labels.all() })}\n`,
  ];
  for (const s of streams) parts.push(await ledger.exportJsonl(s.id));
  return parts.join("");
}

/**
 * Splits a backup (or a single stream's export) into `{ header, streams }`:
 * the backup header (or null) and each stream's JSON-lines text.
 */
export function splitBackup(text) {
  const lines = text.split("\n");
  let header = null;
  const streams = [];
  let current = null;
  lines.forEach((line, i) => {
    if (i === 0 && line.startsWith(`{"format":"${BACKUP_FORMAT}"`)) {
      header = JSON.parse(line);
      return;
    }
    if (line.startsWith(STREAM_HEADER)) {
      current = [];
      streams.push(current);
    } else if (!current && line.trim()) {
      throw Object.assign(new Error(`line ${i + 1}: not a petrichain backup (expected a stream header line)`), {
        code: "IMPORT_SYNTAX",
      });
    }
    current?.push(line);
  });
  return { header, streams: streams.map((s) => `${s.join("\n").trimEnd()}\n`) };
}

/** `ws` is the workspace (ledger-view.js). */
export function createStoragePanel(ws, { onError }) {
  const status = $("backup-status");

  async function show() {
    const storage = navigator.storage;
    const persisted = storage?.persisted ? await storage.persisted() : false;
    $("storage-persisted").textContent = persisted ? "yes (persistent storage)" : "not guaranteed";
    $("storage-persisted").dataset.persisted = String(persisted);
    $("storage-warning").hidden = persisted;
    if (storage?.estimate) {
      const { usage = 0, quota = 0 } = await storage.estimate();
      $("storage-used").textContent = quota
        ? `${mb(usage)} of ${mb(quota)} (${((usage / quota) * 100).toFixed(usage / quota < 0.01 ? 2 : 0)}%)`
        : mb(usage);
    } else {
      $("storage-used").textContent = "unknown (no navigator.storage)";
    }
  }

  $("storage-persist").addEventListener("click", async () => {
    const granted = await navigator.storage?.persist?.().catch(() => false);
    status.textContent = granted
      ? "The browser will keep the ledger."
      : "The browser did not grant persistent storage (it often does once the site is installed or bookmarked). Keep backups.";
    await show();
  });

  $("backup-all").addEventListener("click", async () => {
    try {
      const text = await backupText(ws.ledger);
      const n = (await ws.ledger.streams()).length;
      const day = new Date().toISOString().slice(0, 10);
      download(`petrichain-backup-${day}.jsonl`, text, "application/x-ndjson");
      status.textContent = `Backed up ${n} stream${n === 1 ? "" : "s"} (${mb(text.length)}).`;
    } catch (err) {
      status.textContent = describe(err);
    }
  });

  $("restore-input").addEventListener("change", async (e) => {
    const file = e.target.files?.[0];
    e.target.value = "";
    if (!file) return;
    try {
      if (file.size > MAX_RESTORE_BYTES)
        throw Object.assign(
          new Error(`${file.name} is ${mb(file.size)}; the most a restore reads is ${mb(MAX_RESTORE_BYTES)}`),
          {
            code: "TOO_LARGE",
          },
        );
      const { header, streams } = splitBackup(await file.text());
      const done = [];
      const failed = [];
      for (const text of streams) {
        try {
          done.push(await ws.ledger.importJsonl(text));
        } catch (err) {
          const id = /"stream":("[^"]*")/.exec(text)?.[1];
          failed.push(`${id ? JSON.parse(id) : "?"}: ${describe(err)}`);
        }
      }
      if (header?.labels) labels.merge(header.labels);
      const added = done.reduce((n, r) => n + r.added, 0);
      status.replaceChildren(
        h(
          "span",
          { dataset: { restored: String(done.length), failed: String(failed.length) } },
          `Restored ${done.length} of ${streams.length} stream${streams.length === 1 ? "" : "s"} from ${file.name} (${added} event${added === 1 ? "" : "s"} added).`,
        ),
        ...(failed.length ? [h("ul", { className: "conflicts" }, ...failed.map((f) => h("li", {}, f)))] : []),
      );
      await ws.renderList();
      await show();
    } catch (err) {
      status.textContent = describe(err);
      onError(err);
    }
  });

  return { show };
}
