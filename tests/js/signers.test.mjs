// Who signed what, in words (www/signers.js): "you", a key's own signed name,
// or its fingerprint; never the free-text actor. Policy entries as sentences.
import { test } from "node:test";
import assert from "node:assert/strict";
import { policyFields, policySentence, roleText, signerLabels } from "../../www/signers.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);
const fingerprint = (key) => `fp:${key.slice(0, 4)}`;
const who = signerLabels({ me: A, names: { A: "nobody", [A]: "Alice", [B]: "Bob" }, fingerprint });

test("a signer is you, its signed name, or its fingerprint", () => {
  assert.deepEqual(who(A), { text: "you", title: "this device (Alice, key fp:aaaa)", kind: "you" });
  assert.equal(who(B).text, "Bob");
  assert.equal(who(B).kind, "name");
  assert.deepEqual(who(C), { text: "fp:cccc", title: `key ${C} (no signed name)`, kind: "key" });
  // A name map is data from the chain: inherited properties are not names.
  assert.equal(signerLabels({ me: A, names: {}, fingerprint })("constructor".padEnd(64, "0")).kind, "key");
});

test("roles read as words", () => {
  assert.equal(roleText("*"), "every role");
  assert.equal(roleText("$admin"), "admin");
  assert.equal(roleText("clerk"), "clerk");
});

test("policy entries read as sentences; other events and odd payloads do not", () => {
  const grant = { action: "$grant", signer: A, payload: { key: B, role: "clerk" } };
  assert.equal(policySentence(grant, policyFields(grant), who), "You granted clerk to Bob");
  const revoke = { action: "$revoke", signer: B, payload: { key: C, role: "*" } };
  assert.equal(policySentence(revoke, policyFields(revoke), who), "Bob revoked every role from fp:cccc");
  const admin = { action: "$grant", signer: C, payload: { key: A, role: "$admin" } };
  assert.equal(policySentence(admin, policyFields(admin), who), "fp:cccc granted admin to you");
  const profile = { action: "$profile", signer: B, payload: { name: "Bob" } };
  assert.equal(policySentence(profile, policyFields(profile), who), "Bob signed the name “Bob”");
  const fire = { action: "file", signer: B, payload: { key: C, role: "x" } };
  assert.equal(policyFields(fire), null);
  assert.equal(policySentence(fire, policyFields(fire), who), null);
  assert.equal(policyFields({ action: "$grant", signer: A, payload: "text" }), null);
  assert.deepEqual(policyFields({ action: "$grant", signer: A, payload: { key: 5 } }), { key: "", role: "", name: "" });
});
