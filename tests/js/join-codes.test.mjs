// The join codes and invite links devices hand each other (www/join-codes.js):
// they round trip, and anything else pasted or opened is refused with a
// reason (INVALID_INPUT), never half-read.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MAX_JOIN_CODE,
  MAX_INVITE,
  checkDisplayName,
  decodeJoinCode,
  encodeJoinCode,
  fromBase64Url,
  inviteLink,
  readInvite,
  toBase64Url,
} from "../../www/join-codes.js";

const KEY = "ab".repeat(32);
const MODEL = "cd".repeat(32);
const invite = { server: "http://127.0.0.1:8787/", stream: "desk-1a2b", model: MODEL, roles: ["clerk"], for: KEY };

const refused = (f, pattern) =>
  assert.throws(f, (err) => {
    assert.equal(err.code, "INVALID_INPUT");
    assert.match(err.message, pattern);
    return true;
  });

test("base64url round trips any text, without padding or + and /", () => {
  for (const text of ["", "a", "ab", "abc", '{"name":"Zoë ✓ 🦀"}', "\u0000\uffff"]) {
    const code = toBase64Url(text);
    assert.match(code, /^[A-Za-z0-9_-]*$/);
    assert.equal(fromBase64Url(code), text);
  }
  refused(() => fromBase64Url("ab+c"), /base64url/);
  refused(() => fromBase64Url("abcde"), /base64url/);
  refused(() => fromBase64Url("_w"), /UTF-8/); // the single byte 0xff
});

test("display names are trimmed and 1 to 64 characters without control characters", () => {
  assert.equal(checkDisplayName("  Alice "), "Alice");
  assert.equal(checkDisplayName("🦀".repeat(64)), "🦀".repeat(64), "64 characters, 256 bytes: accepted");
  refused(() => checkDisplayName("   "), /empty/);
  refused(() => checkDisplayName("a".repeat(65)), /at most 64 characters \(this one has 65\)/);
  refused(() => checkDisplayName("Al\u0007ice"), /control/);
  refused(() => checkDisplayName(7), /text/);
});

test("a join code carries a key and a name, and reads back whitespace and all", () => {
  const code = encodeJoinCode(KEY, "Bob");
  assert.deepEqual(decodeJoinCode(code), { key: KEY, name: "Bob" });
  const wrapped = `  ${code.slice(0, 20)}\n${code.slice(20)}  `;
  assert.deepEqual(decodeJoinCode(wrapped), { key: KEY, name: "Bob" });
  assert.deepEqual(decodeJoinCode(encodeJoinCode(KEY)), { key: KEY, name: "" });
  refused(() => encodeJoinCode("xyz"), /64 lowercase hex/);
});

test("a pasted text that is not a join code says why", () => {
  refused(() => decodeJoinCode(""), /paste/);
  refused(() => decodeJoinCode("not a code!"), /base64url/);
  refused(() => decodeJoinCode(toBase64Url("hello")), /not JSON/);
  refused(() => decodeJoinCode(toBase64Url('{"v":2,"key":"x"}')), /version 1/);
  refused(() => decodeJoinCode(toBase64Url(JSON.stringify({ v: 1, key: KEY.toUpperCase() }))), /64 hex/);
  refused(() => decodeJoinCode(toBase64Url(JSON.stringify({ v: 1, key: KEY, name: "" }))), /empty/);
  refused(() => decodeJoinCode("A".repeat(MAX_JOIN_CODE + 1)), /at most 1024/);
});

test("an invite link round trips through its fragment", () => {
  const link = inviteLink("http://127.0.0.1:8787/index.html?x=1#old", invite);
  const url = new URL(link);
  assert.equal(url.origin + url.pathname + url.search, "http://127.0.0.1:8787/index.html?x=1");
  assert.match(url.hash, /^#invite=[A-Za-z0-9_-]+$/);
  assert.deepEqual(readInvite(url.hash), invite);
  assert.equal(readInvite("#something-else"), null, "another fragment is not an invite");
  assert.equal(readInvite(""), null);
  const twice = inviteLink("http://h/", { ...invite, roles: ["clerk", "clerk", "$admin"] });
  assert.deepEqual(readInvite(new URL(twice).hash).roles, ["clerk", "$admin"]);
});

test("an invite that cannot be read is refused, field by field", () => {
  const frag = (body) => `#invite=${toBase64Url(JSON.stringify({ v: 1, ...invite, ...body }))}`;
  refused(() => readInvite(frag({ server: "javascript:alert(1)" })), /http\(s\)/);
  refused(() => readInvite(frag({ server: "not a url" })), /not a URL/);
  refused(() => readInvite(frag({ server: "https://u:p@host/" })), /credentials/);
  refused(() => readInvite(frag({ stream: "" })), /stream id is missing/);
  refused(() => readInvite(frag({ stream: "s".repeat(1025) })), /longer than 1024 bytes/);
  refused(() => readInvite(frag({ model: "abc" })), /model id/);
  refused(() => readInvite(frag({ roles: [] })), /no role/);
  refused(() => readInvite(frag({ roles: Array.from({ length: 65 }, (_, i) => `r${i}`) })), /at most 64 roles/);
  refused(() => readInvite(frag({ roles: [5] })), /role is missing/);
  refused(() => readInvite(frag({ for: "me" })), /device key/);
  refused(() => readInvite(`#invite=${toBase64Url("[1]")}`), /version 1/);
  refused(() => readInvite(`#invite=${"A".repeat(MAX_INVITE + 1)}`), /at most 8192/);
});
