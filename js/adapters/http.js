// The fetch calls every HTTP adapter makes: an answer's status and JSON body,
// with a bound on the time and on what an error body may hold.
import { TransportError } from "./create-only.js";

/** Milliseconds a request may take before it counts as a network failure. */
export const REQUEST_TIMEOUT_MS = 30000;

/**
 * Sends one request; resolves with `{status, body, text}` (`body` parsed JSON,
 * or undefined). A fetch that fails or times out throws as it did (a network
 * error for the sync client).
 */
export async function send(fetchFn, method, url, { headers = {}, body, timeout = REQUEST_TIMEOUT_MS } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(timeout) };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (!Object.keys(init.headers).some((h) => h.toLowerCase() === "content-type")) {
      init.headers["Content-Type"] = "application/json";
    }
  }
  const response = await fetchFn(url, init);
  const text = await response.text();
  let parsed;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, text, headers: response.headers };
}

/** The refusal an error answer stands for (REMOTE_ERROR for the sync client). */
export function refusal(what, answer, code) {
  const remote = code ?? (typeof answer.body?.error === "string" ? answer.body.error : `HTTP_${answer.status}`);
  return new TransportError(answer.status, remote, `${what}: ${answer.status} ${answer.text.slice(0, 200)}`);
}

/** Resolves `fetch` at call time (tests and apps may swap it), or the one given. */
export function fetchOf(options) {
  if (options.fetch !== undefined) return options.fetch;
  return (...args) => globalThis.fetch(...args);
}
