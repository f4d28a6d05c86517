// This device's identity: its key (fingerprint; the full key on demand, to
// copy), its display name, and its join code. The name is kept in
// localStorage and published as a signed `$profile` entry
// (`stream.setProfile(name)`) on the streams this device owns or holds a
// role on, so other devices show it as verified: only this key can sign it.
// Also: what this device may do on the open stream ("you hold clerk on
// desk"), and the explanation of a refusal for lack of a grant.
import { fingerprint } from "petrichain";
import { $, h, describe } from "./dom.js";
import { checkDisplayName, encodeJoinCode } from "./join-codes.js";
import { roleText, signerLabels } from "./signers.js";

const NAME_KEY = "petrichain.displayName";

/** The display name saved on this device ("" for none). */
export function savedName() {
  try {
    return checkDisplayName(localStorage.getItem(NAME_KEY) ?? "");
  } catch {
    return ""; // none set, or a value this app did not write
  }
}

/** The roles a member of a policy holds, `$admin` included (the policy gives it as `admin`). */
export const heldRoles = (m) => [...new Set([...m.roles, ...(m.admin ? ["$admin"] : [])])];

/** What this device's key may do by `policy`: `{ owner, roles, admin }`. */
export function accessOf(policy, me) {
  const owner = policy.owner === me;
  const member = policy.members.find((m) => m.key === me);
  return { owner, roles: owner ? ["*"] : member ? heldRoles(member) : [], admin: owner || Boolean(member?.admin) };
}

/**
 * `ws`: the workspace; `onPublished()` redraws after the name was signed on
 * streams. Returns `refresh(stream)` (reads the open stream's policy:
 * `{ policy, who }` for the other views), `publishOn(stream)` (publishes
 * the saved name there if due; true if it appended), `who`, `policy`,
 * `explain(err)` (a ROLE_NOT_GRANTED or ROLE_REVOKED refusal in words, or
 * null) and `explainConflict(conflict)` (a ROLE_REVOKED conflict in words).
 */
export function createIdentity(ws, { onError, onPublished = async () => {} }) {
  const me = ws.ledger.deviceKey;
  const myPrint = fingerprint(me);
  let current = { id: null, policy: null, who: signerLabels({ me, fingerprint }) };
  const failed = new Set(); // `${stream}\n${name}\n${seq}`: a publication that failed, not retried at that head

  $("device-fingerprint").textContent = myPrint;
  $("device-fingerprint").title = `fingerprint of this device's Ed25519 public key ${me}`;
  $("device-key-full").textContent = me;
  $("device-key").textContent = myPrint;
  $("device-key").title =
    `Ed25519 public key of this browser's ledger: ${me} (its private half cannot leave the browser)`;
  const nameInput = $("display-name");
  const status = $("name-status");

  function showName() {
    const name = savedName();
    $("device-name").textContent = name || "not set";
    $("device-name").classList.toggle("subtle", !name);
    if (document.activeElement !== nameInput) nameInput.value = name;
    $("join-code").value = encodeJoinCode(me, name);
  }
  showName();
  // A name saved in another tab of this app.
  addEventListener("storage", (e) => e.key === NAME_KEY && showName());

  const copy = async (text, done) => {
    try {
      await navigator.clipboard.writeText(text);
      done.textContent = "Copied.";
    } catch (err) {
      done.textContent = `Could not copy (${describe(err)}): select the text and copy it.`;
    }
  };
  $("copy-key").addEventListener("click", () => copy(me, $("key-copy-status")));
  $("copy-join-code").addEventListener("click", () => copy($("join-code").value, $("join-copy-status")));

  /** Whether this device signs on `policy`'s stream: its owner (or nobody yet: it will be), or a member. */
  const writesOn = (policy) =>
    policy.owner === null ||
    policy.owner === undefined ||
    policy.owner === me ||
    policy.members.some((m) => m.key === me);

  /** Publishes the saved name on `stream` if this device writes there and it is not its signed name yet. */
  async function publishOn(stream) {
    const name = savedName();
    if (!name || !stream) return false;
    const policy = await stream.policy();
    if (!writesOn(policy) || policy.names?.[me] === name) return false;
    const attempt = `${stream.id}\n${name}\n${stream.head.seq}`;
    if (failed.has(attempt)) return false;
    try {
      await stream.setProfile(name);
      return true;
    } catch (err) {
      failed.add(attempt);
      throw err;
    }
  }

  /**
   * Publishes the saved name on every stream of this ledger where it is
   * due, one after another; a stream that refuses does not stop the others.
   * Returns `{ n, failures }` (how many signed it; `[streamId, error]`).
   */
  async function publishEverywhere() {
    let n = 0;
    const failures = [];
    for (const info of await ws.ledger.streams()) {
      const open = ws.stream?.id === info.id;
      try {
        const stream = open ? ws.stream : await ws.ledger.stream(info.id);
        try {
          if (await publishOn(stream)) n++;
        } finally {
          if (!open) stream.free();
        }
      } catch (err) {
        failures.push([info.id, err]);
      }
    }
    return { n, failures };
  }

  $("name-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    let name;
    try {
      name = checkDisplayName(nameInput.value);
    } catch (err) {
      status.textContent = describe(err);
      status.className = "note bad";
      nameInput.setAttribute("aria-invalid", "true");
      return;
    }
    nameInput.removeAttribute("aria-invalid");
    localStorage.setItem(NAME_KEY, name);
    showName();
    status.className = "note";
    status.textContent = `Saved. Publishing “${name}” on your streams…`;
    try {
      const { n, failures } = await publishEverywhere();
      status.textContent = n
        ? `Saved, and signed on ${n} stream${n === 1 ? "" : "s"}: it reaches other devices with the next sync.`
        : "Saved. It is signed on each stream you own or hold a role on as you use it.";
      if (failures.length) {
        const [id, err] = failures[0];
        status.textContent += ` Not signed on ${failures.length} stream${failures.length === 1 ? "" : "s"} (${id}: ${describe(err)}).`;
        status.className = "note bad";
      }
      if (n) await onPublished();
    } catch (err) {
      status.textContent = `Saved here, but not published: ${describe(err)}`;
      status.className = "note bad";
      onError(err);
    }
  });

  /** `key` opening a sentence: "You", its signed name or its fingerprint. */
  const subject = (key) => {
    if (typeof key !== "string") return "The owner or an admin";
    const label = current.who(key);
    return label.kind === "you" ? "You" : label.text;
  };

  /** What this device holds on the open stream, under its title. */
  function showAccess(stream, policy) {
    const note = $("access-note");
    if (!stream || !policy) {
      note.textContent = "";
      return;
    }
    const { owner, roles } = accessOf(policy, me);
    note.dataset.roles = roles.join(",");
    if (policy.owner === null || policy.owner === undefined)
      note.textContent = "A new stream: its first event makes this device its owner.";
    else if (owner) note.textContent = `You own ${stream.id}: you hold every role.`;
    else if (roles.length)
      note.textContent = `You hold ${roles.map(roleText).join(", ")} on ${stream.id}, granted by its owner ${current.who(policy.owner).text}.`;
    else
      note.textContent = `You hold no role on ${stream.id}: its owner ${current.who(policy.owner).text} can grant you one from your join code.`;
  }

  return {
    /** Reads the policy of `stream` (the open one) for the views; `{ policy, who }`. */
    async refresh(stream) {
      const policy = stream ? await stream.policy() : null;
      current = { id: stream?.id ?? null, policy, who: signerLabels({ me, names: policy?.names ?? {}, fingerprint }) };
      showAccess(stream, policy);
      return current;
    },
    publishOn,
    /** `who(key)` with the names of the policy last read. */
    who: (key) => current.who(key),
    /** The policy last read (of the open stream), or null. */
    policy: () => current.policy,
    /** Redraws the name and the join code (after a change in another view). */
    showName,
    /**
     * Words on a conflict a rebase recorded because a role was revoked
     * upstream (ROLE_REVOKED): who revoked which role at which seq; null for
     * any other conflict.
     */
    explainConflict(c) {
      if (c.code !== "ROLE_REVOKED") return null;
      const d = c.reason ?? {};
      const by = subject(d.by);
      const whom = d.key === me ? "you" : typeof d.key === "string" ? current.who(d.key).text : "this device";
      return [
        `${by} revoked ${roleText(String(d.role ?? "?"))} from ${whom}`,
        Number.isInteger(d.at) ? ` at seq ${d.at}` : "",
        Number.isInteger(d.seq) ? `, before this event (seq ${d.seq})` : "",
        ". It was fired offline and is kept here, not in the chain: discard it, copy it, or ask for the role again.",
      ];
    },
    /**
     * Nodes explaining a refusal for lack of a grant (ROLE_NOT_GRANTED: which
     * role, whom to ask, the join code at hand) or for a revoked one
     * (ROLE_REVOKED: who, at which seq); null for any other error.
     */
    explain(err) {
      const d = { ...err, ...err?.details };
      if (err?.code === "ROLE_REVOKED") {
        return [
          h("code", {}, "ROLE_REVOKED"),
          `: ${subject(d.by)} revoked your role ${roleText(String(d.role ?? "?"))}`,
          Number.isInteger(d.at) ? ` at seq ${d.at}` : "",
          ". Ask the stream's owner to grant it again.",
        ];
      }
      if (err?.code !== "ROLE_NOT_GRANTED") return null;
      const owner = current.policy?.owner;
      const mine = current.policy ? accessOf(current.policy, me).roles : [];
      const button = h("button", { type: "button", className: "button secondary small" }, "Show my join code");
      button.addEventListener("click", () => {
        const code = $("join-code");
        code.scrollIntoView({ block: "center" });
        code.focus();
        code.select();
      });
      return [
        h("code", {}, "ROLE_NOT_GRANTED"),
        `: this device does not hold the role ${d.role === "*" ? "* (every role)" : roleText(String(d.role ?? "?"))}`,
        Number.isInteger(d.seq) ? ` (checked at seq ${d.seq})` : "",
        ". ",
        owner
          ? `Ask the stream's owner, ${current.who(owner).text}, to grant it to you`
          : "Ask the stream's owner to grant it to you",
        ": give them your join code. ",
        // Claiming every role needs a grant of `*`; the roles held here are enough for their transitions.
        d.role === "*" && mine.length
          ? `You hold ${mine.map(roleText).join(", ")} here: choose ${mine.length === 1 ? "it" : "one"} under “Acting as role”. `
          : "",
        button,
      ];
    },
  };
}
