// The ledger side of the app: one IndexedDB ledger, its streams (create,
// switch, delete; listed in the sidebar by streams-panel.js), the nets they
// run, and which stream is open (remembered across reloads).
import { Ledger } from "petrichain";
import { $ } from "./dom.js";

const CURRENT = "petrichain.stream";

/** `onError(err)` shows what went wrong in a step the user started (switching streams). */
export async function openWorkspace(name, onError = console.error) {
  const ledger = await Ledger.open(name);
  const models = new Map(); // model id -> Model
  const switchers = [];
  const remotes = [];
  let listView = null; // (infos, isLatest) => Promise: draws the list (streams-panel.js)
  let renders = 0; // renderList calls so far

  const ws = {
    ledger,
    /** The open Stream, or null. */
    stream: null,
    /** The open stream's Model, or null. */
    model: null,

    /** The net of a stream, from the ledger (cached). */
    async modelOf(id) {
      if (!models.has(id)) models.set(id, await ledger.model(id));
      return models.get(id);
    },

    /** Opens stream `id` and tells the listeners. */
    async open(id) {
      const stream = await ledger.stream(id);
      const model = await ws.modelOf(stream.modelId);
      ws.stream = stream;
      ws.model = model;
      localStorage.setItem(CURRENT, id);
      for (const f of switchers) await f();
    },

    /**
     * Stores `model` and opens a new stream of it. The stream is called
     * `name`, or with `exact: false` `name-xxxx` with a random suffix, so
     * streams started on two devices do not collide when they sync.
     */
    async start(model, name, { exact = false } = {}) {
      const modelId = await ledger.putModel(model);
      models.set(modelId, model);
      let id = name;
      if (!exact) {
        const taken = new Set((await ledger.streams()).map((s) => s.id));
        const suffix = () => crypto.getRandomValues(new Uint16Array(1))[0].toString(36).padStart(4, "0").slice(-4);
        do id = `${name}-${suffix()}`;
        while (taken.has(id));
      }
      await ledger.createStream(id, modelId);
      await ws.open(id);
    },

    /** Reopens the stream open before the reload, if it still exists. */
    async restore() {
      const id = localStorage.getItem(CURRENT);
      const ids = new Set((await ledger.streams()).map((s) => s.id));
      if (id && ids.has(id)) await ws.open(id);
    },

    /** Redraws the list of streams. */
    async renderList() {
      // Calls overlap (a switch, a change from another tab): only the
      // latest one draws, so a list read before a deletion never wins.
      const mine = ++renders;
      const infos = await ledger.streams();
      if (mine !== renders) return;
      await listView?.(infos, () => mine === renders);
      $("new-stream").hidden = !ws.stream;
    },

    /** Sets the function that draws the list of streams. */
    setListView(f) {
      listView = f;
    },

    /** Closes the open stream (none is open afterwards) and tells the listeners. */
    async close() {
      ws.stream = null;
      ws.model = null;
      localStorage.removeItem(CURRENT);
      for (const f of switchers) await f();
    },

    /** Deletes stream `id` from the ledger (closing it first if it is open). */
    async remove(id) {
      if (ws.stream?.id === id) await ws.close();
      await ledger.deleteStream(id);
      await ws.renderList();
    },

    /** Something about the open stream changed here (a label): redraw as after a switch. */
    async changed() {
      for (const f of switchers) await f();
    },

    onSwitch(f) {
      switchers.push(f);
    },
    onRemoteChange(f) {
      remotes.push(f);
    },
  };

  $("streams").addEventListener("click", (e) => {
    const b = e.target.closest("[data-stream]");
    if (b && b.dataset.stream !== ws.stream?.id) ws.open(b.dataset.stream).catch(onError);
  });

  // Changes from other tabs or from a sync (which may replace the tail: a
  // rebase) reach the open view; our own appends already moved the handle's
  // head to that hash, so they are skipped here.
  ledger.subscribe(null, async (change) => {
    try {
      if (ws.stream && change.stream === ws.stream.id && change.hash !== ws.stream.head.hash) {
        const gone = await ws.stream.refresh().then(
          () => false,
          (err) => err?.code === "UNKNOWN_STREAM" || Promise.reject(err),
        );
        // Deleted by another tab: nothing is open any more.
        if (gone) await ws.close();
        else for (const f of remotes) await f();
      } else if (!ws.stream || change.stream !== ws.stream.id) {
        await ws.renderList();
      }
    } catch (err) {
      onError(err);
    }
  });

  return ws;
}
