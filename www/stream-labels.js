// What the app knows of a stream beyond its chain: a label the user gave it
// and whether it is archived. Kept in this browser's localStorage (per
// origin, not synced), keyed by stream id, so the id (part of every event's
// hash) never changes. Full backups carry them (storage-panel.js).
const KEY = "petrichain.streamLabels";

function read() {
  try {
    const all = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return all && typeof all === "object" && !Array.isArray(all) ? all : {};
  } catch {
    return {}; // a hand-edited entry that is not JSON: start again rather than fail
  }
}

function write(all) {
  localStorage.setItem(KEY, JSON.stringify(all));
}

function update(id, change) {
  const all = read();
  const entry = { ...all[id], ...change };
  if (!entry.label) delete entry.label;
  if (!entry.archived) delete entry.archived;
  if (Object.keys(entry).length) all[id] = entry;
  else delete all[id];
  write(all);
}

/** Longest label kept (a label is for people; the id stays the key). */
export const MAX_LABEL = 120;

export const labels = {
  /** The label of stream `id`, or "" if it has none. */
  label: (id) => (typeof read()[id]?.label === "string" ? read()[id].label : ""),
  /** What to call the stream: its label, else its id. */
  name: (id) => labels.label(id) || id,
  archived: (id) => read()[id]?.archived === true,
  setLabel(id, text) {
    update(id, { label: String(text).trim().slice(0, MAX_LABEL) });
  },
  setArchived(id, archived) {
    update(id, { archived: !!archived });
  },
  forget(id) {
    update(id, { label: "", archived: false });
  },
  /** Every entry, for a backup. */
  all: read,
  /** Merges entries from a backup (valid ones only). */
  merge(entries) {
    if (!entries || typeof entries !== "object") return;
    for (const [id, e] of Object.entries(entries)) {
      if (!e || typeof e !== "object") continue;
      const change = {};
      if (typeof e.label === "string") change.label = e.label.slice(0, MAX_LABEL);
      if (typeof e.archived === "boolean") change.archived = e.archived;
      update(id, change);
    }
  },
};
