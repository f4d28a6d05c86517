// The sync server's streams (GET /v2/streams, docs/sync-protocol.md), read
// page by page, for the sync panel's "follow" list.

/** Pages read at most (the reference server gives up to 1000 streams a page). */
const MAX_PAGES = 5;
/** Streams listed at most: a server with more shows the first ones, and says so. */
export const MAX_LISTED = 2000;

/**
 * The streams of backend `url` as `{ streams: [{id, model, seq}], more }`;
 * `more` is true when the listing was cut at `MAX_LISTED` / `MAX_PAGES`.
 * Rejects with an Error carrying `code` ("NETWORK", "REMOTE_ERROR",
 * "BAD_RESPONSE") when the server cannot be read.
 */
export async function listRemoteStreams(url) {
  const streams = [];
  let after = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const at = new URL("v2/streams", url);
    if (after !== null) at.searchParams.set("after", after);
    let res;
    try {
      res = await fetch(at, { credentials: "same-origin" });
    } catch (err) {
      throw Object.assign(new Error(`the server cannot be reached: ${err.message}`), { code: "NETWORK" });
    }
    if (!res.ok) throw Object.assign(new Error(`the server answered ${res.status}`), { code: "REMOTE_ERROR" });
    let body;
    try {
      body = await res.json();
    } catch {
      throw Object.assign(new Error("the server's stream list is not JSON"), { code: "BAD_RESPONSE" });
    }
    if (!body || !Array.isArray(body.streams))
      throw Object.assign(new Error("the server's stream list has no streams"), { code: "BAD_RESPONSE" });
    for (const s of body.streams) {
      if (typeof s?.id !== "string") continue;
      streams.push({ id: s.id, model: String(s.model ?? ""), seq: Number(s.head?.seq) || 0 });
      if (streams.length >= MAX_LISTED) return { streams, more: true };
    }
    if (typeof body.next !== "string") return { streams, more: false };
    after = body.next;
  }
  return { streams, more: true };
}
