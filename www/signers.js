// Who signed what, in words: a key is shown as "you" (this device), as the
// display name its own signed `$profile` entry gave it (verified: only that
// key can sign it), or as its fingerprint. The free-text `actor` of an event
// is never used here: anyone can type any actor. Policy entries (`$grant`,
// `$revoke`, `$profile`) read as sentences. No DOM: tests/js runs it.

/** The actions of the chain's policy entries. */
export const POLICY_ACTIONS = new Set(["$grant", "$revoke", "$profile"]);

/**
 * `who(key)` for the names of a stream's policy: `{ text, title, kind }`,
 * `kind` one of "you", "name" (a verified profile name), "key" (the
 * fingerprint). `fingerprint(key)` is the engine's.
 */
export function signerLabels({ me, names = {}, fingerprint }) {
  return (key) => {
    const fp = fingerprint(key);
    const name = Object.hasOwn(names, key) ? names[key] : "";
    if (key === me) return { text: "you", title: `this device (${name ? `${name}, ` : ""}key ${fp})`, kind: "you" };
    if (name) return { text: name, title: `${name}: the name key ${fp} signed for itself`, kind: "name" };
    return { text: fp, title: `key ${key} (no signed name)`, kind: "key" };
  };
}

/** Role as people read it: `*` is "every role", `$admin` "admin". */
export function roleText(role) {
  if (role === "*") return "every role";
  if (role === "$admin") return "admin";
  return role;
}

/**
 * `{ key, role, name }` of a policy entry, read from its payload, or null
 * for an ordinary event or a payload of another shape.
 */
export function policyFields(event) {
  if (!POLICY_ACTIONS.has(event.action)) return null;
  const p = event.payload;
  if (typeof p !== "object" || p === null) return null;
  const text = (v) => (typeof v === "string" ? v : "");
  return { key: text(p.key), role: text(p.role), name: text(p.name) };
}

/**
 * The sentence a policy entry reads as ("Alice granted clerk to Bob"), or
 * null for an ordinary event. `fields` are the entry's own `{ key, role,
 * name }` (see `policyFields`); `who` is from `signerLabels`.
 */
export function policySentence(event, fields, who) {
  if (!POLICY_ACTIONS.has(event.action) || !fields) return null;
  // "you" opens a sentence as "You"; a name or a fingerprint stays as it is.
  const by = who(event.signer);
  const signer = by.kind === "you" ? "You" : by.text;
  if (event.action === "$profile") return `${signer} signed the name “${fields.name}”`;
  const target = fields.key === event.signer ? "themselves" : who(fields.key).text;
  if (event.action === "$grant") return `${signer} granted ${roleText(fields.role)} to ${target}`;
  return `${signer} revoked ${roleText(fields.role)} from ${target}`;
}
