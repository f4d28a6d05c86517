// What devices hand each other to join a stream, as plain text: nothing in
// it is secret (a public key, a display name, where a stream lives and the
// roles granted), and nothing in it grants anything by itself: the grants
// are signed entries of the stream's chain.
// - A join code: the joining device's key and display name, which it shows
//   (or copies) for the owner to paste in Members.
// - An invite link: the app's URL with a fragment naming the server, the
//   stream, its model and the roles granted, for the joining device to open.
// Both are base64url JSON, read back defensively: size-capped, every field
// checked, and a clear `INVALID_INPUT` error for anything else. This module
// has no DOM and no engine: tests/js/join-codes.test.mjs runs it in node.

/** Longest join code accepted, in characters (a key and a 64-character name fit with room). */
export const MAX_JOIN_CODE = 1024;
/** Longest invite fragment accepted, in characters (stream and model ids are at most 1 KiB). */
export const MAX_INVITE = 8192;
/** Most roles an invite names. */
export const MAX_INVITE_ROLES = 64;
/** Longest stream id or role, in UTF-8 bytes (the core's MAX_ID_BYTES). */
export const MAX_ID_BYTES = 1024;
/** A display name is 1 to 64 characters (Unicode scalar values), as the core's `$profile` entry. */
export const MAX_NAME_CHARS = 64;

/** The fragment key of an invite link: `#invite=<base64url JSON>`. */
const FRAGMENT = "invite=";
const KEY_RE = /^[0-9a-f]{64}$/;

const invalid = (message) => Object.assign(new Error(message), { code: "INVALID_INPUT" });
const bytes = (s) => new TextEncoder().encode(s).length;

/** base64url (no padding) of the UTF-8 bytes of `text`. */
export function toBase64Url(text) {
  let binary = "";
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text whose UTF-8 bytes `code` encodes in base64url; throws `INVALID_INPUT`. */
export function fromBase64Url(code) {
  if (!/^[A-Za-z0-9_-]*$/.test(code) || code.length % 4 === 1) throw invalid("not base64url text");
  const b64 = code
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(code.length / 4) * 4, "=");
  let binary;
  try {
    binary = atob(b64);
  } catch {
    throw invalid("not base64url text");
  }
  const raw = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw invalid("not UTF-8 text");
  }
}

/**
 * The display name `name` made canonical (trimmed), or an `INVALID_INPUT`
 * error saying why it is refused: empty, longer than 64 characters, or
 * holding control characters.
 */
export function checkDisplayName(name) {
  if (typeof name !== "string") throw invalid("a display name is text");
  const trimmed = name.trim();
  const chars = [...trimmed].length;
  if (chars === 0) throw invalid("a display name cannot be empty");
  if (chars > MAX_NAME_CHARS)
    throw invalid(`a display name is at most ${MAX_NAME_CHARS} characters (this one has ${chars})`);
  if (/\p{Cc}/u.test(trimmed)) throw invalid("a display name cannot hold control characters");
  return trimmed;
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`not ${what}: its text is not JSON`);
  }
}

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** The join code of a device with public key `key` (64 hex digits) and display name `name` ("" for none). */
export function encodeJoinCode(key, name = "") {
  if (!KEY_RE.test(key)) throw invalid("a device key is 64 lowercase hex digits");
  const body = { v: 1, key };
  if (name) body.name = checkDisplayName(name);
  return toBase64Url(JSON.stringify(body));
}

/**
 * `{ key, name }` from a pasted join code (whitespace around and inside is
 * ignored: codes get wrapped); `name` is "" when the device set none.
 * Throws `INVALID_INPUT` saying what is wrong.
 */
export function decodeJoinCode(code) {
  if (typeof code !== "string") throw invalid("a join code is text");
  const compact = code.replace(/\s+/g, "");
  if (!compact) throw invalid("paste the join code the other device shows");
  if (compact.length > MAX_JOIN_CODE) throw invalid(`a join code is at most ${MAX_JOIN_CODE} characters`);
  const body = parseJson(fromBase64Url(compact), "a join code");
  if (!isObject(body) || body.v !== 1) throw invalid("not a join code of this app (version 1)");
  if (typeof body.key !== "string" || !KEY_RE.test(body.key)) throw invalid("the join code's key is not 64 hex digits");
  const name = body.name === undefined ? "" : checkDisplayName(body.name);
  return { key: body.key, name };
}

function checkId(value, what) {
  if (typeof value !== "string" || value.length === 0) throw invalid(`the invite's ${what} is missing`);
  if (bytes(value) > MAX_ID_BYTES) throw invalid(`the invite's ${what} is longer than ${MAX_ID_BYTES} bytes`);
  return value;
}

function checkServer(value) {
  if (typeof value !== "string") throw invalid("the invite names no server");
  let url;
  try {
    url = new URL(value);
  } catch {
    throw invalid("the invite's server is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("the invite's server is not an http(s) URL");
  if (url.username || url.password) throw invalid("the invite's server URL carries credentials");
  return url.href;
}

/**
 * The invite as plain data, checked: `{ server, stream, model, roles, for }`
 * (`for` is the key of the device it was made for). Throws `INVALID_INPUT`.
 */
export function checkInvite(invite) {
  if (!isObject(invite)) throw invalid("not an invite");
  const server = checkServer(invite.server);
  const stream = checkId(invite.stream, "stream id");
  const model = invite.model;
  if (typeof model !== "string" || !KEY_RE.test(model)) throw invalid("the invite's model id is not 64 hex digits");
  if (!Array.isArray(invite.roles) || invite.roles.length === 0) throw invalid("the invite names no role");
  if (invite.roles.length > MAX_INVITE_ROLES) throw invalid(`an invite names at most ${MAX_INVITE_ROLES} roles`);
  const roles = invite.roles.map((r) => checkId(r, "role"));
  const forKey = invite.for;
  if (typeof forKey !== "string" || !KEY_RE.test(forKey)) throw invalid("the invite's device key is not 64 hex digits");
  return { server, stream, model, roles: [...new Set(roles)], for: forKey };
}

/** The invite link: `appUrl` (the app's address) with `#invite=<base64url JSON>`. */
export function inviteLink(appUrl, invite) {
  const checked = checkInvite(invite);
  const url = new URL(appUrl);
  url.hash = FRAGMENT + toBase64Url(JSON.stringify({ v: 1, ...checked }));
  return url.href;
}

/**
 * The invite a URL fragment (`location.hash`) carries, checked; `null` when
 * the fragment is not an invite at all. Throws `INVALID_INPUT` for an
 * invite that cannot be read.
 */
export function readInvite(hash) {
  const fragment = String(hash ?? "").replace(/^#/, "");
  if (!fragment.startsWith(FRAGMENT)) return null;
  const code = fragment.slice(FRAGMENT.length);
  if (code.length > MAX_INVITE) throw invalid(`an invite is at most ${MAX_INVITE} characters`);
  const body = parseJson(fromBase64Url(code), "an invite");
  if (!isObject(body) || body.v !== 1) throw invalid("not an invite of this app (version 1)");
  return checkInvite(body);
}
