// Which of a sync server's streams this browser follows, kept per backend
// URL in localStorage. A sync covers the local streams plus the followed
// ones (`ledger.sync({ url, follow })`), so a stream deleted here, and
// unfollowed, stays deleted: the next sync does not bring it back.

const KEY = "petrichain.follow:";
/** At most this many followed ids per backend (each one is pulled on every sync). */
export const MAX_FOLLOWED = 1000;

/** The followed stream ids of backend `url` (a new backend: none). */
export function followed(url) {
  try {
    const ids = JSON.parse(localStorage.getItem(KEY + url) ?? "[]");
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string").slice(0, MAX_FOLLOWED) : [];
  } catch {
    // A value this app did not write: start again with none.
    return [];
  }
}

/** Follows (`on`) or unfollows stream `id` of backend `url`; returns the new list. */
export function setFollowed(url, id, on) {
  const ids = followed(url).filter((x) => x !== id);
  if (on) {
    if (ids.length >= MAX_FOLLOWED)
      throw Object.assign(new Error(`at most ${MAX_FOLLOWED} followed streams`), { code: "BAD_ARGUMENT" });
    ids.push(id);
  }
  localStorage.setItem(KEY + url, JSON.stringify(ids));
  return ids;
}

const STOP_KEY = "petrichain.syncStopped:";

/** The streams of backend `url` whose syncing the app stopped (their server copy did not verify). */
export function stoppedStreams(url) {
  try {
    const ids = JSON.parse(localStorage.getItem(STOP_KEY + url) ?? "[]");
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string").slice(0, MAX_FOLLOWED) : [];
  } catch {
    return [];
  }
}

/** Stops (`on`) or resumes syncing stream `id` with backend `url`. */
export function setStopped(url, id, on) {
  const ids = stoppedStreams(url).filter((x) => x !== id);
  if (on) ids.push(id);
  localStorage.setItem(STOP_KEY + url, JSON.stringify(ids.slice(-MAX_FOLLOWED)));
}
