// What a sync left for the user to decide, shown at the top of the open
// stream, each with a way out:
// - conflicts (local actions the net refused after a rebase), with their
//   reason: discard one (or all), re-fire it with another amount, copy it;
// - a remote that forked (REMOTE_FORKED: the server no longer has the event
//   both sides agreed on) or a chain that diverged (DIVERGED): keep the
//   local chain as a named fork and adopt the server's, or push the local
//   chain as a new stream; the local chain can be downloaded first.
// A stream id is part of every event's hash, so "keeping the chain under
// another name" re-fires its actions (action, amount, actor, roles, exact
// payload, time) on a new stream, signed by this device; the exact original
// chain is what "Download my chain" saves.
// - a push the server refused (PUSH_REJECTED), with the server's reason:
//   keep the local chain as a fork and take the server's, discard the local
//   events (take the server's), or download them;
// - a server chain that does not verify (REMOTE_CHAIN_INVALID): nothing of
//   it was stored; syncing of the stream stops (until resumed), and the
//   local chain can be downloaded.
import { $, h, describe, download } from "./dom.js";
import { ask } from "./dialog.js";
import { labels } from "./stream-labels.js";

/** Sync error codes that only the user can resolve, per stream. */
const FORKS = new Set(["REMOTE_FORKED", "DIVERGED"]);
/** The server refused this stream's events; its chain did not verify. */
const REFUSALS = new Set(["PUSH_REJECTED", "REMOTE_CHAIN_INVALID"]);
/** Events re-fired per transaction when copying a chain. */
const PAGE = 500;

const suffix = () => crypto.getRandomValues(new Uint16Array(1))[0].toString(36).padStart(4, "0").slice(-4);

/**
 * Copies the actions of stream `from` onto a new stream `to` of the same
 * net, in order, with their amounts, actors, roles, exact payloads and times.
 */
export async function copyChain(ledger, from, to) {
  const source = await ledger.stream(from);
  const target = await ledger.createStream(to, source.modelId);
  let after = 0;
  for (;;) {
    const page = await source.events({ after, limit: PAGE, payloadText: true });
    if (page.length === 0) break;
    await target.fireBatch(
      page.map((e) => ({
        action: e.action,
        multiple: e.multiple,
        actor: e.actor,
        roles: e.roles,
        payloadText: e.payload,
        ts: e.ts,
      })),
    );
    after = page[page.length - 1].seq;
  }
  return target;
}

/**
 * `ws`: the workspace; `sync`: the sync panel (`now`, `handle`);
 * `explain(conflict)`: more words on a conflict's reason (who revoked a
 * role, identity.js), or null.
 */
export function createRecovery(ws, { sync, onError, explain = () => null }) {
  const problems = new Map(); // stream id -> the sync error that needs the user

  /** Takes in what the last sync said, stream by stream. */
  async function noteSync(handle) {
    const report = handle?.lastReport;
    if (!report) return;
    for (const s of report.streams) problems.delete(s.stream);
    for (const { stream, error } of report.errors) {
      if (FORKS.has(error.code) || REFUSALS.has(error.code)) problems.set(stream, error);
      else problems.delete(stream);
      // A server whose chain does not verify is not asked again for this stream.
      if (error.code === "REMOTE_CHAIN_INVALID") await sync.stop(stream, true);
    }
  }

  function showFork(id) {
    const box = $("fork-box");
    const problem = problems.get(id) ?? (sync.stopped(id) ? { code: "SYNC_STOPPED" } : null);
    box.hidden = !problem;
    if (!problem) {
      box.replaceChildren();
      return;
    }
    if (!FORKS.has(problem.code)) {
      box.replaceChildren(...refusal(problem));
      return;
    }
    const what =
      problem.code === "REMOTE_FORKED"
        ? "The server's copy of this stream no longer has the events it had agreed on with this browser: its history was rewritten or lost."
        : "This stream and the server's copy went different ways.";
    box.replaceChildren(
      h("h3", {}, "This stream cannot sync"),
      h(
        "p",
        {},
        what,
        " ",
        h("code", {}, problem.code),
        Number.isInteger(problem.seq) ? ` (the last event both sides agreed on: seq ${problem.seq})` : "",
      ),
      h("p", { className: "small-print" }, "Choose what to keep. Nothing of yours is lost either way."),
      h(
        "div",
        { className: "inline-buttons" },
        h(
          "button",
          { type: "button", className: "button secondary small", id: "fork-download" },
          "Download my chain (.jsonl)",
        ),
        h(
          "button",
          { type: "button", className: "button small", id: "fork-keep" },
          "Keep mine as a fork, take the server's",
        ),
        h(
          "button",
          { type: "button", className: "button secondary small", id: "fork-push" },
          "Push mine as a new stream",
        ),
      ),
      h("p", { id: "fork-status", className: "small-print", role: "status" }),
    );
  }

  const downloadButton = () =>
    h(
      "button",
      { type: "button", className: "button secondary small", id: "fork-download" },
      "Download my chain (.jsonl)",
    );

  /** The box for a refused push, a server chain that does not verify, or a stream whose sync is stopped. */
  function refusal(problem) {
    const status = h("p", { id: "fork-status", className: "small-print", role: "status" });
    if (problem.code === "PUSH_REJECTED") {
      // A report's error is a flat record ({code, remote_code, message, seq, ...}); a thrown one has `details`.
      const d = { ...problem.details, ...problem };
      return [
        h("h3", {}, "The server refused this stream's new events"),
        h(
          "p",
          { className: "refusal-reason" },
          "Its reason: ",
          h("code", {}, String(d.remote_code ?? d.remoteCode ?? problem.code)),
          `: ${d.message}`,
          Number.isInteger(d.seq) ? ` (seq ${d.seq})` : "",
        ),
        h("p", { className: "small-print" }, "Until you choose, they stay here and every sync offers them again."),
        h(
          "div",
          { className: "inline-buttons" },
          downloadButton(),
          h(
            "button",
            { type: "button", className: "button small", id: "fork-keep" },
            "Keep mine as a fork, take the server's",
          ),
          h(
            "button",
            { type: "button", className: "button secondary small danger", id: "fork-discard" },
            "Discard my unsynced events…",
          ),
        ),
        status,
      ];
    }
    const error = problem.error ?? problem.details?.error;
    return [
      h(
        "h3",
        {},
        problem.code === "SYNC_STOPPED" ? "Syncing of this stream is stopped" : "The server's copy does not verify",
      ),
      problem.code === "SYNC_STOPPED"
        ? h("p", {}, "You stopped it after the server sent events of this stream that did not verify.")
        : h(
            "p",
            {},
            "The server sent events of this stream that do not verify",
            error?.code ? [": ", h("code", {}, error.code)] : "",
            Number.isInteger(error?.seq) ? ` at seq ${error.seq}` : "",
            ". None of them was stored here; this browser stopped syncing the stream. ",
            h("code", {}, problem.code),
          ),
      h("p", { className: "small-print" }, "Your chain here is intact. Ask the server's operator to check its copy."),
      h(
        "div",
        { className: "inline-buttons" },
        downloadButton(),
        h("button", { type: "button", className: "button secondary small", id: "fork-resume" }, "Sync it again"),
      ),
      status,
    ];
  }

  async function discardLocal(id) {
    const { choice } = await ask({
      title: `Discard your unsynced events of ${labels.name(id)}?`,
      body: [
        "The events the server refused (and any after them) are removed from this browser, and the server's copy of the stream is taken instead (none, if the server never had it). Download your chain first to keep a copy.",
      ],
      actions: [{ value: "discard", label: "Discard and take the server's", danger: true }],
    });
    if (choice !== "discard") return;
    const status = $("fork-status");
    status.textContent = `Taking the server's ${id}…`;
    problems.delete(id);
    await ws.remove(id);
    await sync.follow(id, true);
    if ((await ws.ledger.streams()).some((s) => s.id === id)) await ws.open(id);
  }

  /** Moves the local chain of `id` to `newId`, then lets the server's `id` replace it here. */
  async function moveAside(id, newId, label) {
    const status = $("fork-status");
    status.textContent = `Copying ${id} to ${newId}…`;
    await copyChain(ws.ledger, id, newId);
    labels.setLabel(newId, label);
    status.textContent = `Taking the server's ${id}…`;
    problems.delete(id);
    await ws.remove(id);
    // Follow the server's `id`, so that the sync pulls it back here.
    await sync.follow(id, true);
  }

  async function keepFork(id) {
    const forkId = `${id}-fork-${suffix()}`;
    await moveAside(id, forkId, `${labels.name(id)} (my fork)`);
    // The server's copy, pulled by the sync (moveAside follows it).
    const there = (await ws.ledger.streams()).some((s) => s.id === id);
    await ws.open(there ? id : forkId);
  }

  async function pushNew(id) {
    const { choice, text } = await ask({
      title: "Push your chain as a new stream",
      body: [
        `Your events of ${id} are copied to a new stream, which syncs to the server; ${id} then takes the server's copy.`,
      ],
      input: { label: "Id of the new stream", value: `${id}-mine-${suffix()}` },
      actions: [{ value: "push", label: "Copy and push" }],
    });
    if (choice !== "push") return;
    const newId = text.trim();
    await moveAside(id, newId, "");
    await ws.open(newId);
  }

  const forkButtons = (e) => {
    const id = ws.stream?.id;
    if (!id || !(problems.has(id) || sync.stopped(id))) return;
    const run = (f) =>
      f().catch((err) => {
        const status = document.getElementById("fork-status");
        if (status) status.textContent = describe(err);
        onError(err);
      });
    if (e.target.closest("#fork-download"))
      run(async () => download(`${id}.jsonl`, await ws.ledger.exportJsonl(id), "application/x-ndjson"));
    else if (e.target.closest("#fork-keep")) run(() => keepFork(id));
    else if (e.target.closest("#fork-push")) run(() => pushNew(id));
    else if (e.target.closest("#fork-discard")) run(() => discardLocal(id));
    else if (e.target.closest("#fork-resume"))
      run(async () => {
        problems.delete(id);
        await sync.stop(id, false);
        showFork(id);
      });
  };
  $("fork-box").addEventListener("click", forkButtons);

  const explainOrNull = (c) => {
    const nodes = explain(c);
    return nodes ? h("p", { className: "c-reason", dataset: { code: c.code } }, ...nodes) : null;
  };

  // Conflicts.
  let shown = []; // the conflicts listed, in order
  async function showConflicts(id) {
    const all = await ws.ledger.conflicts(id);
    if (ws.stream?.id !== id) return;
    shown = all;
    $("sync-conflicts-box").hidden = shown.length === 0;
    $("conflicts-h").textContent = `Conflicts (${shown.length})`;
    $("sync-conflicts").replaceChildren(
      ...shown.map((c, i) =>
        h(
          "li",
          { dataset: { action: c.event.action, index: String(i) } },
          h(
            "p",
            { className: "c-text" },
            h("code", {}, c.event.action),
            c.event.multiple > 1 ? ` ×${c.event.multiple}` : "",
            // The actor is free text, not who fired (this device did): a note.
            c.event.actor ? ` (note “${c.event.actor}”)` : "",
            ` was refused: ${c.code}: ${c.message}`,
          ),
          explainOrNull(c),
          h(
            "div",
            { className: "c-actions" },
            h("button", { type: "button", className: "button secondary small", dataset: { do: "discard" } }, "Discard"),
            h(
              "label",
              { className: "visually-hidden", htmlFor: `conflict-amount-${i}` },
              `Amount for ${c.event.action}`,
            ),
            h("input", {
              id: `conflict-amount-${i}`,
              type: "number",
              min: "1",
              step: "1",
              value: String(c.event.multiple),
              className: "c-amount",
              inputmode: "numeric",
            }),
            h(
              "button",
              { type: "button", className: "button secondary small", dataset: { do: "refire" } },
              "Re-fire with this amount",
            ),
            h("button", { type: "button", className: "button secondary small", dataset: { do: "copy" } }, "Copy"),
          ),
          h("p", { className: "c-status small-print", role: "status" }),
        ),
      ),
    );
  }

  $("sync-conflicts").addEventListener("click", async (e) => {
    const button = e.target.closest("[data-do]");
    const item = button?.closest("li");
    const id = ws.stream?.id;
    const c = item && shown[Number(item.dataset.index)];
    if (!c || !id) return;
    const status = item.querySelector(".c-status");
    try {
      if (button.dataset.do === "discard") {
        await ws.ledger.discardConflict(id, c.event.hash);
        await showConflicts(id);
      } else if (button.dataset.do === "refire") {
        const multiple = Number(item.querySelector(".c-amount").value);
        await ws.stream.fire(c.event.action, {
          multiple,
          actor: c.event.actor,
          roles: c.event.roles,
          payload: c.event.payload,
        });
        await ws.ledger.discardConflict(id, c.event.hash);
        await ws.changed();
      } else if (button.dataset.do === "copy") {
        const text = JSON.stringify(
          {
            stream: c.stream,
            action: c.event.action,
            multiple: c.event.multiple,
            actor: c.event.actor,
            roles: c.event.roles,
            payload: c.event.payload,
            ts: c.event.ts,
            refused: c.reason,
          },
          null,
          2,
        );
        await navigator.clipboard.writeText(text);
        status.textContent = "Copied to the clipboard as JSON.";
      }
    } catch (err) {
      status.textContent = describe(err);
    }
  });
  $("sync-clear").addEventListener("click", async () => {
    const id = ws.stream?.id;
    if (!id) return;
    await ws.ledger.clearConflicts(id);
    await showConflicts(id).catch(onError);
  });

  return {
    /** After a sync: record what it said and redraw. */
    async synced(handle) {
      await noteSync(handle);
      await this.show();
    },
    /** Redraws the alerts of the open stream. */
    async show() {
      const id = ws.stream?.id;
      if (!id) return;
      showFork(id);
      await showConflicts(id);
    },
  };
}
