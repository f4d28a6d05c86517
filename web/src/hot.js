// The IndexedDB hot paths that run better in JS than through per-event
// wasm <-> JS crossings (web/src/hot.rs binds them; the reasons and
// measurements are in BENCHMARKS.md, "Issue 20"). Plain IndexedDB on the
// layout of web/src/indexeddb.rs; no other state.

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * A second connection to the ledger's database (already created and
 * upgraded by rexie's). When a newer schema is opened elsewhere, it closes
 * and calls `onVersionChange` (which closes the main connection, whose
 * events rexie does not expose), so that the upgrade is not blocked.
 */
export function openRaw(name, onVersionChange) {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => {
      const db = r.result;
      db.onversionchange = () => {
        db.close();
        onVersionChange();
      };
      resolve(db);
    };
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error("the database is blocked by an upgrade"));
  });
}

/**
 * Most events in one record (docs/storage.md, "Why blocks"). Chromium keeps
 * a value over 64 KB outside its database, as a blob, and a getAll of such
 * records was 3-10x faster than of records under 64 KB (bench/layouts
 * `--page load`, BENCHMARKS.md "Issue 20: loads, larger blocks"): a batch's events go in
 * records of up to 256 (about 225 KB for 880-byte lines). Earlier releases
 * wrote blocks of up to 64 events under 60,000 characters; every reader
 * takes a block of any size.
 */
export const BLOCK_EVENTS = 256;
/** A record takes no more line once its text is this long (a block of large payloads stays about this size). */
export const BLOCK_CHARS = 262_144;

/**
 * The IndexedDB records of consecutive events of `stream` from seq
 * `first`: `lines` their JSON lines joined by "\n" (a JSON text never holds
 * a raw newline), `hashes` their hashes (64 hex digits each) end to end.
 * One record per block of at most BLOCK_EVENTS events and (past its first
 * line) BLOCK_CHARS characters: `{stream, seq, hash, json}` with `seq` the
 * first event's, `hash` the block's hashes end to end and `json` its lines
 * joined by "\n"; one event alone is the record of earlier releases.
 */
export function eventRecords(stream, first, hashes, lines) {
  const split = lines.split("\n");
  const out = [];
  let start = 0;
  while (start < split.length) {
    let end = start + 1;
    let chars = split[start].length;
    while (end < split.length && end - start < BLOCK_EVENTS && chars + 1 + split[end].length <= BLOCK_CHARS) {
      chars += 1 + split[end].length;
      end++;
    }
    out.push({
      stream,
      seq: first + start,
      hash: hashes.slice(start * 64, end * 64),
      json: end === start + 1 ? split[start] : split.slice(start, end).join("\n"),
    });
    start = end;
  }
  return out;
}

/**
 * The events of the records of `eventRecords` (just stored) as the API
 * gives them: the lines parsed once, as one JSON text, then each payload
 * turned into its value. Throws `{corrupt, message}` if one is not JSON
 * (never for lines this module built from the ledger's own events).
 */
export function eventsFromRecords(records) {
  const lines = new Array(records.length);
  for (let i = 0; i < records.length; i++) lines[i] = records[i].json;
  let events;
  try {
    events = JSON.parse(`[${lines.join(",").replaceAll("\n", ",")}]`);
    for (const e of events) e.payload = JSON.parse(e.payload);
  } catch (err) {
    throw { corrupt: "the batch just stored", message: String(err) };
  }
  return events;
}

/**
 * A head record of the `streams` store (web/src/indexeddb.rs): the marking
 * as JSON text `state`, or, when it is kept in chunks, its length `places`;
 * `policy` (JSON text) only when known.
 */
export function headRecord(id, model, seq, hash, state, places, policy) {
  const head = { id, model, seq, hash };
  if (state !== undefined) head.state = state;
  else head.places = places;
  if (policy !== undefined) head.policy = policy;
  return head;
}

/** The fields of a head record that say which head it is, all compared. */
const HEAD_FIELDS = ["id", "model", "seq", "hash", "state", "places", "policy"];

/**
 * The start of a `commitOnHead` of stream `id`, made before the append is
 * chained and signed: a readwrite transaction over `streams` and `events`
 * (and `meta` with `meta`) that asks for the stored head, so that the
 * browser takes its locks and reads while the main thread works. A
 * transaction stays active until the task that made it ends (promise
 * reactions included); `commitOnHead` writes on it if it still is, else on
 * a new one (and sets `used` to 1 when it wrote on it, to -1 when it
 * would have but the transaction was no longer active). Left unused (the
 * append was refused), it ends having only read. Undefined if the
 * connection is closed.
 */
export function beginOnHead(db, id, meta) {
  try {
    const tx = db.transaction(meta ? ["streams", "events", "meta"] : ["streams", "events"], "readwrite");
    return { id, tx, read: tx.objectStore("streams").get(id) };
  } catch {
    return undefined;
  }
}

/**
 * A commit in ONE round trip, for a head this connection wrote or read
 * last (`expected`, a head record as web/src/indexeddb.rs stores it): in one
 * readwrite transaction over `streams`, `events` (and `meta` when there are
 * chunks to write: a smaller scope is a cheaper transaction), it asks for
 * the stored head and, without waiting for the answer, adds `records`
 * (built on `expected`), puts `head` and the marking chunks `chunks`. The
 * transaction is `begun` (of `beginOnHead`) when that is of this stream,
 * still active and of the scope needed. The requests run in order, so the
 * answer is the head before these writes:
 * if it is not exactly `expected`, or (when a record holds a block) some
 * record is stored past it, the transaction is aborted (nothing written)
 * and the promise resolves to false, so the caller commits the
 * slow way (read, then plan, then write); else it commits and resolves to
 * the events of `records` as the API gives them (`eventsFromRecords`,
 * parsed while the browser writes, when the main thread would only wait;
 * discarded if the commit fails), or to true if they cannot be parsed
 * (then the caller encodes them itself). Rejects with `{name, message}` if
 * the transaction fails otherwise (a record that exists, the quota),
 * nothing written either way. The browser serialises readwrite
 * transactions on these stores across connections and tabs, so a head
 * cannot change between the read and the writes: no fork.
 */
export function commitOnHead(db, expected, records, head, chunks, begun) {
  return new Promise((resolve, reject) => {
    const fits = begun?.id === expected.id && (chunks.length === 0 || begun.tx.objectStoreNames.contains("meta"));
    let tx = fits ? begun.tx : undefined;
    let read = fits ? begun.read : undefined;
    let past;
    try {
      if (tx) {
        past = writeOnHead(tx, expected, records, head, chunks);
        begun.used = 1;
      }
    } catch {
      // No longer active (its task ended): nothing was written on it. Any
      // other throw comes after some writes: aborted, so none is kept.
      abortQuietly(tx);
      tx = undefined;
      begun.used = -1;
    }
    if (!tx) {
      try {
        tx = db.transaction(chunks.length > 0 ? ["streams", "events", "meta"] : ["streams", "events"], "readwrite");
      } catch {
        // This connection was closed (an upgrade elsewhere): the slow way reports.
        resolve(false);
        return;
      }
      read = tx.objectStore("streams").get(expected.id);
      try {
        past = writeOnHead(tx, expected, records, head, chunks);
      } catch (e) {
        // A record IndexedDB refuses at once (never one this module built):
        // nothing of the writes before it is kept.
        abortQuietly(tx);
        reject({ name: e?.name ?? "Error", message: e?.message ?? String(e) });
        return;
      }
    }
    let parsed = true;
    try {
      parsed = eventsFromRecords(records);
    } catch {
      // Never for lines built from the ledger's own events: the caller encodes them.
    }
    let same = false;
    // The requests answer in order: the head, then the count if asked.
    (past ?? read).onsuccess = () => {
      const stored = read.result;
      same = stored !== undefined && HEAD_FIELDS.every((k) => stored[k] === expected[k]) && (past?.result ?? 0) === 0;
      if (!same) tx.abort();
      else if (typeof tx.commit === "function") tx.commit();
    };
    tx.oncomplete = () => resolve(parsed);
    tx.onabort = () => {
      if (!same) resolve(false);
      else {
        const e = tx.error;
        reject({ name: e?.name ?? "AbortError", message: e?.message ?? "the browser aborted the transaction" });
      }
    };
    // A failed request aborts the transaction (onabort says why): not an
    // uncaught error of the page.
    tx.onerror = (event) => event.stopPropagation();
  });
}

/**
 * The writes of `commitOnHead` on `tx`, after its read of the head; returns
 * the count of records past `expected` when a record holds a block.
 * Throws at its first request (nothing written) if `tx` is no longer
 * active; a later throw (a record IndexedDB refuses) leaves `tx` to abort.
 */
function writeOnHead(tx, expected, records, head, chunks) {
  const events = tx.objectStore("events");
  // Nothing may be stored where a block would cover it. A record of one
  // event covers only its own key, which `add` checks: the count (0.1 ms
  // of a single append, BENCHMARKS.md) is needed only for blocks.
  const past = records.some((r) => r.hash.length > 64)
    ? events.count(IDBKeyRange.bound([expected.id, expected.seq], [expected.id, Number.MAX_SAFE_INTEGER], true))
    : undefined;
  for (let i = 0; i < records.length; i++) events.add(records[i]);
  tx.objectStore("streams").put(head);
  if (chunks.length > 0) {
    const meta = tx.objectStore("meta");
    for (let i = 0; i < chunks.length; i++) meta.put(chunks[i]);
  }
  return past;
}

/** Aborts `tx` unless it has finished (then there is nothing to undo). */
function abortQuietly(tx) {
  try {
    tx.abort();
  } catch {
    // Finished: committed with nothing of these writes, or aborted.
  }
}

/** Closes a connection of openRaw. */
export function closeRaw(db) {
  db.close();
}

/**
 * Events of `stream` with seq > `after`, at most `limit` (0: all), as the
 * API gives them, in ONE readonly transaction over `streams` and `events`:
 * each stored line is parsed once, here, and its payload turned into its
 * value (kept as its exact text with `text`). Checked: the stream exists,
 * the records do not overlap (a gap is for `verify()` to report),
 * each line is JSON whose stream, seq and hash agree with the record's key
 * and hashes, and its payload is JSON; the rest of a record's shape is only
 * checked by `ledger.verify()` (which reads through the core). Rejects with
 * `{unknown: true}`, `{corrupt: key, message}`, or the request's error.
 */
export async function loadEvents(db, stream, after, limit, text) {
  const tx = db.transaction(["streams", "events"], "readonly");
  const head = request(tx.objectStore("streams").get(stream));
  const events = tx.objectStore("events");
  // The record holding event after + 1 may start before it.
  let from = after + 1;
  if (after > 0) {
    const holder = IDBKeyRange.bound([stream, 0], [stream, after + 1]);
    const key = await request(events.openKeyCursor(holder, "prev"));
    if (key) from = key.key[1];
  }
  // Without a limit, one getAll. With one, pages of records doubling from
  // 2, never more records than events still wanted (a record holds one
  // event or a whole block: `limit` records could be far more than asked).
  let page = limit ? Math.min(2, limit + (from <= after ? 1 : 0)) : undefined;
  let range = IDBKeyRange.bound([stream, from], [stream, Number.MAX_SAFE_INTEGER]);
  const out = [];
  let next = from;
  let checked = false;
  for (;;) {
    const rows = await request(events.getAll(range, page));
    if (!checked) {
      if ((await head) === undefined) throw { unknown: true };
      checked = true;
    }
    for (const row of rows) {
      next = rowEvents(row, stream, next, after, text, out);
      if (limit && out.length >= limit) {
        out.length = limit;
        return out;
      }
    }
    if (!limit || rows.length < page) return out;
    range = IDBKeyRange.bound([stream, rows[rows.length - 1].seq], [stream, Number.MAX_SAFE_INTEGER], true);
    page = Math.max(1, Math.min(page * 2, limit - out.length));
  }
}

/**
 * Pushes to `out` the events of stored record `row` with seq > `after`
 * (checked as `loadEvents` says; `next`: the least seq it may start at);
 * returns the seq after its last event.
 */
function rowEvents(row, stream, next, after, text, out) {
  const where = `[${stream}, ${row.seq}]`;
  const n = typeof row.hash === "string" && row.hash.length % 64 === 0 ? row.hash.length / 64 : 0;
  if (row.seq < next || n === 0 || typeof row.json !== "string") {
    throw { corrupt: where, message: "the record starts inside the one before, or has no hashes or lines" };
  }
  // The block's lines parsed in one call (a JSON text holds no raw newline).
  let events;
  try {
    events = JSON.parse(`[${n === 1 ? row.json : row.json.replaceAll("\n", ",")}]`);
  } catch (err) {
    throw { corrupt: where, message: String(err) };
  }
  if (events.length !== n) throw { corrupt: where, message: "its hashes do not fit its lines" };
  for (let i = 0; i < n; i++) {
    const seq = row.seq + i;
    if (seq <= after) continue;
    const e = events[i];
    if (
      e === null ||
      typeof e !== "object" ||
      e.stream !== stream ||
      e.seq !== seq ||
      e.hash !== row.hash.slice(i * 64, i * 64 + 64)
    ) {
      throw { corrupt: where, message: "the record's key or hash disagrees with its event" };
    }
    if (typeof e.payload !== "string") throw { corrupt: where, message: "payload is not JSON text" };
    if (!text) {
      try {
        e.payload = JSON.parse(e.payload);
      } catch (err) {
        throw { corrupt: where, message: String(err) };
      }
    }
    out.push(e);
  }
  return row.seq + n;
}
