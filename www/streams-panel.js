// The streams of the ledger as the user manages them: the list (filtered by
// text and by active / archived, with counts), and the open stream's
// rename (a label: the id, part of every event's hash, stays), archive and
// delete (after offering a copy of its events), each confirmed in a dialog.
import { $, h, describe, download } from "./dom.js";
import { ask } from "./dialog.js";
import { labels } from "./stream-labels.js";

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * `ws` is the workspace (ledger-view.js); `onError(err)` shows a failure;
 * `onDeleted(id)` runs after a stream was deleted here (the app unfollows it).
 */
export function createStreamsPanel(ws, { onError, onDeleted = async () => {} }) {
  const filter = $("stream-filter");
  const show = $("stream-show");
  show.value = localStorage.getItem("petrichain.streamShow") ?? "active";
  filter.addEventListener("input", () => ws.renderList().catch(onError));
  show.addEventListener("change", () => {
    localStorage.setItem("petrichain.streamShow", show.value);
    ws.renderList().catch(onError);
  });

  /** Redraws the list from the ledger's stream records, unless `isLatest()` says a newer call will. */
  async function render(infos, isLatest = () => true) {
    const q = filter.value.trim().toLowerCase();
    const rows = await Promise.all(
      infos.map(async (s) => {
        const model = await ws.modelOf(s.model);
        const net = model.name || `untitled net ${s.model.slice(0, 8)}`;
        return { s, net, label: labels.label(s.id), archived: labels.archived(s.id) };
      }),
    );
    if (!isLatest()) return;
    const archived = rows.filter((r) => r.archived).length;
    const events = rows.reduce((n, r) => n + r.s.seq, 0);
    $("stream-counts").textContent = rows.length
      ? `${rows.length - archived} active · ${archived} archived · ${plural(events, "event")}`
      : "";
    const shown = rows
      .filter((r) => show.value === "all" || (show.value === "archived") === r.archived)
      .filter((r) => !q || [r.s.id, r.label, r.net].some((t) => t.toLowerCase().includes(q)))
      .sort((a, b) => (a.label || a.s.id).localeCompare(b.label || b.s.id));
    const items = shown.map(({ s, net, label, archived: isArchived }) => {
      const current = ws.stream?.id === s.id;
      return h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            className: `stream${current ? " current" : ""}`,
            dataset: { stream: s.id },
            "aria-current": current ? "true" : undefined,
          },
          h("span", { className: "s-id" }, label || s.id),
          label ? h("span", { className: "s-meta" }, s.id) : null,
          h("span", { className: "s-meta" }, `${net} · ${plural(s.seq, "event")}${isArchived ? " · archived" : ""}`),
        ),
      );
    });
    const none = rows.length
      ? q
        ? "No stream matches."
        : show.value === "archived"
          ? "No archived stream."
          : "No active stream."
      : "None yet.";
    $("streams").replaceChildren(...(items.length ? items : [h("li", { className: "subtle" }, none)]));
  }

  async function rename() {
    const id = ws.stream?.id;
    if (!id) return;
    const { choice, text } = await ask({
      title: "Rename the stream",
      body: [`The label is for you; the stream's id stays ${id} (every event's hash includes it).`],
      input: { label: "Label (empty: show the id)", value: labels.label(id) },
      actions: [{ value: "rename", label: "Rename" }],
    });
    if (choice !== "rename") return;
    labels.setLabel(id, text);
    await ws.changed();
  }

  async function archive() {
    const id = ws.stream?.id;
    if (!id) return;
    const now = !labels.archived(id);
    if (now) {
      const { choice } = await ask({
        title: `Archive ${labels.name(id)}?`,
        body: [
          "It leaves the list of active streams (choose Archived to see it) and stays in this browser, synced as before.",
        ],
        actions: [{ value: "archive", label: "Archive" }],
      });
      if (choice !== "archive") return;
    }
    labels.setArchived(id, now);
    await ws.changed();
  }

  async function remove() {
    const id = ws.stream?.id;
    if (!id) return;
    const exportCopy = async () => {
      try {
        download(`${id}.jsonl`, await ws.ledger.exportJsonl(id), "application/x-ndjson");
        saved.textContent = `A copy was downloaded as ${id}.jsonl.`;
      } catch (err) {
        saved.textContent = describe(err);
      }
    };
    const saved = h("p", { className: "subtle", role: "status" });
    const { choice } = await ask({
      title: `Delete ${labels.name(id)} from this browser?`,
      body: [
        `Its ${plural(ws.stream.head.seq, "event")}, sync state and conflicts are removed from this browser. A sync server keeps its own copy; this browser stops following it, so syncing does not bring it back (follow it again in the sync panel to get it back).`,
        h(
          "p",
          {},
          h(
            "button",
            { type: "button", className: "button secondary small", id: "delete-export", onclick: exportCopy },
            "Download a copy first (.jsonl)",
          ),
        ),
        saved,
      ],
      actions: [{ value: "delete", label: "Delete", danger: true }],
    });
    if (choice !== "delete") return;
    await ws.remove(id);
    labels.forget(id);
    await onDeleted(id);
  }

  const guard = (f) => () => f().catch(onError);
  $("stream-rename").addEventListener("click", guard(rename));
  $("stream-archive").addEventListener("click", guard(archive));
  $("stream-delete").addEventListener("click", guard(remove));

  return {
    render,
    /** Updates the open stream's title and buttons. */
    showStream(stream) {
      const label = labels.label(stream.id);
      $("stream-title").textContent = label || stream.id;
      $("stream-id-note").textContent = label ? `${stream.id} · ` : "";
      const archived = labels.archived(stream.id);
      $("stream-archive").textContent = archived ? "Unarchive" : "Archive";
      $("stream-archive").setAttribute("aria-pressed", String(archived));
    },
  };
}
