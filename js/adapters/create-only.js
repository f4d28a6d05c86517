// The conditional append of the sync protocol, built from create-only writes
// (docs/backends.md). Each event is one immutable object keyed by stream and
// zero-padded seq; the first writer of a seq wins, the loser answers
// `{conflict: head}` and the client rebases. The head is the highest
// contiguous seq: there is no head record that a stop could half-write.
//
// A store is three functions over string keys and JSON values:
//   create(key, value) -> true if created, false if the key was taken
//   get(key)           -> the value, or null
//   list(prefix, after, limit) -> [{key, value?}] of keys > after starting
//                         with prefix, sorted, at most limit; fewer than
//                         limit only when no more exist
// Errors a store throws reach the sync client: an error with a numeric
// `status` (see TransportError) is a refusal of the backend (REMOTE_ERROR,
// retried only for 5xx and 429), anything else a NETWORK error (retried).

const ZERO_HEAD = Object.freeze({ seq: 0, hash: "0".repeat(64) });
/** Digits of a seq in a key: 2^53 - 1 has 16, so lexical order is seq order. */
const SEQ_DIGITS = 16;
/** Events per pull answer, whatever the client asks (a page bounds memory). */
export const MAX_PAGE = 1000;
/** Objects read at once when a store's listing carries no values. */
const READ_CONCURRENCY = 16;

/** A refusal by the backend: the sync client reports it as REMOTE_ERROR with this status. */
export class TransportError extends Error {
  /**
   * @param {number} status HTTP status (or the nearest one: 400 for a bad request)
   * @param {string} code the backend's code, e.g. "FORBIDDEN", "NO_SUCH_BUCKET"
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.name = "TransportError";
    this.status = status;
    this.code = code;
  }
}

/** Percent-encodes every byte but [A-Za-z0-9_-], so a key segment has no "/", "." or "%" of its own. */
export function encodeKeySegment(text) {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The keys of the layout (documented in docs/backends.md). */
export const keys = {
  model: (id) => `models/${encodeKeySegment(id)}`,
  stream: (stream) => `streams/${encodeKeySegment(stream)}`,
  streamsPrefix: "streams/",
  events: (stream) => `events/${encodeKeySegment(stream)}/`,
  event: (stream, seq) => `events/${encodeKeySegment(stream)}/${String(seq).padStart(SEQ_DIGITS, "0")}`,
};

function seqOfKey(prefix, key) {
  const digits = key.slice(prefix.length);
  return digits.length === SEQ_DIGITS && /^\d+$/.test(digits) ? Number(digits) : -1;
}

function isHead(h) {
  return h !== null && typeof h === "object" && Number.isSafeInteger(h.seq) && h.seq >= 0 && typeof h.hash === "string";
}

function badRequest(message) {
  return new TransportError(400, "BAD_REQUEST", message);
}

/** Maps `items` through `f` with at most `limit` calls in flight, keeping order. */
async function mapLimited(items, limit, f) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * A sync transport (`ledger.sync({transport})`) over a create-only store.
 * @param {{name?: string, create: Function, get: Function, list: Function}} store
 * @param {{name?: string}} [options]
 */
export function createOnlyTransport(store, options = {}) {
  for (const f of ["create", "get", "list"]) {
    if (typeof store?.[f] !== "function") throw new TypeError(`store.${f} must be a function`);
  }
  const name = options.name ?? store.name ?? "create-only";
  /** Stream id -> model id, once read or written (a stream's model never changes). */
  const models = new Map();
  /** Stream id -> a head this transport wrote or read (objects are immutable, so it stays true). */
  const known = new Map();

  const readValue = async (entry) => (entry.value !== undefined ? entry.value : store.get(entry.key));

  /** The contiguous entries after `from` (a head known to exist), at most `limit`, and whether more follow. */
  async function contiguous(stream, from, limit) {
    const prefix = keys.events(stream);
    const entries = await store.list(prefix, keys.event(stream, from.seq), limit + 1);
    const run = [];
    for (const entry of entries) {
      if (seqOfKey(prefix, entry.key) !== from.seq + run.length + 1) break;
      run.push(entry);
    }
    return { entries: run.slice(0, limit), more: run.length > limit };
  }

  /** The highest contiguous seq from `from` (known to exist) on, with its hash; reads one object. */
  async function headFrom(stream, from) {
    let head = from;
    let last = null;
    for (;;) {
      const { entries, more } = await contiguous(stream, head, MAX_PAGE);
      if (entries.length > 0) {
        last = entries[entries.length - 1];
        head = { seq: head.seq + entries.length, hash: "" };
      }
      if (!more) break;
    }
    if (last !== null) {
      const event = await readValue(last);
      head = { seq: head.seq, hash: typeof event?.hash === "string" ? event.hash : "" };
    }
    known.set(stream, head);
    return head;
  }

  async function streamModel(stream) {
    if (models.has(stream)) return models.get(stream);
    const record = await store.get(keys.stream(stream));
    if (record === null || record === undefined) return null;
    if (typeof record.model !== "string") throw badRequest(`the record of stream '${stream}' has no model`);
    models.set(stream, record.model);
    return record.model;
  }

  /** Whether the object of `head.seq` holds `head.hash` (the zero head always exists). */
  async function holds(stream, head) {
    if (head.seq === 0) return head.hash === ZERO_HEAD.hash;
    const k = known.get(stream);
    if (k && k.seq === head.seq) return k.hash === head.hash;
    const event = await store.get(keys.event(stream, head.seq));
    return event?.hash === head.hash;
  }

  return {
    name,

    async getModel(id) {
      const doc = await store.get(keys.model(id));
      return doc ?? null;
    },

    async putModel(doc) {
      // Content-addressed: a taken key holds the same model (a puller checks the hash).
      await store.create(keys.model(doc.id), { id: doc.id, json: doc.json });
    },

    async streams() {
      const list = [];
      let after = keys.streamsPrefix;
      for (;;) {
        const page = await store.list(keys.streamsPrefix, after, MAX_PAGE);
        const records = await mapLimited(page, READ_CONCURRENCY, readValue);
        for (const record of records) {
          if (typeof record?.stream !== "string" || typeof record.model !== "string") continue;
          const head = await headFrom(record.stream, ZERO_HEAD);
          list.push({ id: record.stream, model: record.model, head });
        }
        if (page.length < MAX_PAGE) break;
        after = page[page.length - 1].key;
      }
      list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return { streams: list };
    },

    async pull(stream, after, limit) {
      const model = await streamModel(stream);
      if (model === null) return null;
      const size = Math.max(1, Math.min(limit, MAX_PAGE));
      const { entries, more } = await contiguous(stream, { seq: after, hash: "" }, size);
      const events = await mapLimited(entries, READ_CONCURRENCY, readValue);
      let head;
      if (events.length > 0) {
        const last = events[events.length - 1];
        head = { seq: after + events.length, hash: typeof last?.hash === "string" ? last.hash : "" };
      } else if (after === 0) {
        head = ZERO_HEAD;
      } else {
        const at = await store.get(keys.event(stream, after));
        // Nothing at `after`: the remote is behind the client (lost objects); say where it ends.
        head = typeof at?.hash === "string" ? { seq: after, hash: at.hash } : await headFrom(stream, ZERO_HEAD);
      }
      return { stream, model, head, events, more };
    },

    async push(stream, request) {
      const { model, expected, events } = request ?? {};
      if (typeof model !== "string" || !isHead(expected) || !Array.isArray(events)) {
        throw badRequest("an append needs model, expected and events");
      }
      let current = await streamModel(stream);
      if (current === null) {
        if (expected.seq !== 0) return { conflict: ZERO_HEAD };
        await store.create(keys.stream(stream), { stream, model });
        models.delete(stream);
        current = await streamModel(stream);
      }
      if (current !== model) throw badRequest(`stream '${stream}' has model ${current}, not ${model}`);
      if (!(await holds(stream, expected))) return { conflict: await headFrom(stream, ZERO_HEAD) };
      let at = { seq: expected.seq, hash: expected.hash };
      let stored = 0;
      let duplicates = 0;
      if (events.length === 0) {
        const head = await headFrom(stream, at);
        return head.seq === at.seq ? { head, stored, duplicates } : { conflict: head };
      }
      for (const event of events) {
        if (event?.seq !== at.seq + 1 || event.prev !== at.hash || typeof event.hash !== "string") {
          throw badRequest(`event seq ${event?.seq} does not follow seq ${at.seq} of the append`);
        }
        const key = keys.event(stream, event.seq);
        if (await store.create(key, event)) {
          stored++;
        } else {
          const taken = await store.get(key);
          if (taken?.hash !== event.hash) return { conflict: await headFrom(stream, at) };
          duplicates++; // a re-push of an acknowledged (or unacknowledged) event
        }
        at = { seq: event.seq, hash: event.hash };
        known.set(stream, at);
      }
      return { head: at, stored, duplicates };
    },

    /**
     * Calls `onChange(stream)` when a stream moves past the head last seen,
     * polling with backoff: every `interval` ms after a change, doubling while
     * nothing changes (and after errors) up to `maxInterval`. Returns stop().
     */
    watch(streams, onChange, { interval = 1000, maxInterval = 30000 } = {}) {
      return pollHeads(streams, onChange, interval, maxInterval, async (stream) => {
        const from = known.get(stream) ?? ZERO_HEAD;
        return (await holds(stream, from)) ? headFrom(stream, from) : headFrom(stream, ZERO_HEAD);
      });
    },
  };
}

/** Polls `headOf(stream)` for each stream with backoff; calls onChange on a moved head. */
export function pollHeads(streams, onChange, interval, maxInterval, headOf) {
  let stopped = false;
  let timer;
  let delay = interval;
  const seen = new Map();
  const round = async () => {
    let moved = false;
    try {
      for (const stream of streams) {
        const head = await headOf(stream);
        const before = seen.get(stream);
        seen.set(stream, head);
        if (before !== undefined && (before.seq !== head.seq || before.hash !== head.hash)) {
          moved = true;
          onChange(stream);
        }
      }
    } catch {
      moved = false; // offline or refused: back off like an idle round
    }
    delay = moved ? interval : Math.min(maxInterval, delay * 2);
    if (!stopped) timer = setTimeout(round, delay);
  };
  timer = setTimeout(round, 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A create-only store in memory (tests, and the host of a peer-to-peer log). */
export function memoryStore(name = "memory") {
  const map = new Map();
  const sorted = [];
  const clone = (v) => JSON.parse(JSON.stringify(v));
  const position = (key) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo; // first index with a key > `key`
  };
  return {
    name,
    map,
    async create(key, value) {
      if (map.has(key)) return false;
      map.set(key, clone(value));
      sorted.splice(position(key), 0, key);
      return true;
    },
    async get(key) {
      return map.has(key) ? clone(map.get(key)) : null;
    },
    async list(prefix, after, limit) {
      const out = [];
      for (let i = position(after); i < sorted.length && out.length < limit; i++) {
        if (!sorted[i].startsWith(prefix)) break;
        out.push({ key: sorted[i], value: clone(map.get(sorted[i])) });
      }
      return out;
    },
  };
}
