// A create-only store over a CouchDB (or PouchDB-server) database: one
// document per key, `{_id: key, value}`. A PUT of a new document id is a
// create-only write (a taken id answers 409: no revision was given);
// `_all_docs` with startkey/endkey lists a prefix in id order (raw collation,
// and the keys are ASCII); `_changes` long-polling wakes a watcher.
import { createOnlyTransport, keys, TransportError } from "./create-only.js";
import { fetchOf, refusal, send } from "./http.js";

/** Longest wait of one `_changes` long-poll, ms. */
const LONGPOLL_MS = 25000;

/**
 * @param {{url: string, headers?: Record<string,string>, fetch?: typeof fetch, name?: string}} options
 *   `url` is the database's URL, e.g. http://127.0.0.1:5984/ledger
 */
export function couchStore(options) {
  if (typeof options?.url !== "string") throw new TypeError("couchStore needs {url} of a database");
  const db = options.url.replace(/\/+$/, "");
  const headers = { Accept: "application/json", ...(options.headers ?? {}) };
  const fetchFn = fetchOf(options);
  const doc = (key) => `${db}/${encodeURIComponent(key)}`;
  // A 404 of the database itself is a permanent refusal, not an absent document.
  const missingDb = (answer) => answer.status === 404 && /database|no_db_file/i.test(String(answer.body?.reason ?? ""));

  return {
    name: options.name ?? db,
    async create(key, value) {
      const answer = await send(fetchFn, "PUT", doc(key), { headers, body: { value } });
      if (answer.status === 201 || answer.status === 202) return true;
      if (answer.status === 409) return false;
      throw refusal(`PUT ${key}`, answer, missingDb(answer) ? "NO_DATABASE" : undefined);
    },
    async get(key) {
      const answer = await send(fetchFn, "GET", doc(key), { headers });
      if (answer.status === 404 && !missingDb(answer)) return null;
      if (answer.status !== 200) throw refusal(`GET ${key}`, answer, missingDb(answer) ? "NO_DATABASE" : undefined);
      return answer.body?.value ?? null;
    },
    async list(prefix, after, limit) {
      const q = new URLSearchParams({
        startkey: JSON.stringify(after),
        endkey: JSON.stringify(`${prefix}\ufff0`),
        include_docs: "true",
        limit: String(limit + 1),
      });
      const answer = await send(fetchFn, "GET", `${db}/_all_docs?${q}`, { headers });
      if (answer.status !== 200 || !Array.isArray(answer.body?.rows)) {
        throw refusal("GET _all_docs", answer, missingDb(answer) ? "NO_DATABASE" : undefined);
      }
      return answer.body.rows
        .filter((r) => typeof r?.id === "string" && r.id > after && r.id.startsWith(prefix))
        .slice(0, limit)
        .map((r) => ({ key: r.id, value: r.doc?.value ?? null }));
    },

    /**
     * Long-polls `_changes` and calls `onChange(stream)` for each watched
     * stream one of whose documents changed; after a failure waits `backoff`
     * ms, doubling up to `maxBackoff`. Returns stop().
     */
    watch(streams, onChange, { backoff = 1000, maxBackoff = 30000 } = {}) {
      const prefixes = new Map(streams.map((s) => [keys.events(s), s]));
      const controller = new AbortController();
      let stopped = false;
      const loop = async () => {
        let since = "now";
        let delay = backoff;
        while (!stopped) {
          try {
            const q = `feed=longpoll&timeout=${LONGPOLL_MS}&since=${encodeURIComponent(since)}`;
            const response = await fetchFn(`${db}/_changes?${q}`, { headers, signal: controller.signal });
            const body = await response.json();
            if (response.status !== 200 || !Array.isArray(body?.results))
              throw new TransportError(response.status, "CHANGES", "bad _changes answer");
            since = body.last_seq;
            delay = backoff;
            const moved = new Set();
            for (const r of body.results) {
              const key = typeof r?.id === "string" ? r.id : "";
              const stream = prefixes.get(key.slice(0, key.lastIndexOf("/") + 1));
              if (stream !== undefined) moved.add(stream);
            }
            for (const s of moved) onChange(s);
          } catch {
            if (stopped) return;
            await new Promise((r) => setTimeout(r, delay));
            delay = Math.min(maxBackoff, delay * 2);
          }
        }
      };
      loop();
      return () => {
        stopped = true;
        controller.abort();
      };
    },
  };
}

/** `ledger.sync({transport: couchTransport({url})})`; `transport.watch` follows `_changes`. */
export function couchTransport(options) {
  const store = couchStore(options);
  const transport = createOnlyTransport(store, { name: options.name });
  transport.watch = (streams, onChange, opts) => store.watch(streams, onChange, opts);
  return transport;
}
