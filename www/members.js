// Members of the open stream, from its policy (the signed grants and
// revocations in its chain): the owner, each member with its roles and
// verified name, and the revocations. On a stream this device owns or
// holds `$admin` on: grant a role to the key of a pasted join code, revoke
// one, and hand out an invite link for the other device to open.
import { fingerprint } from "petrichain";
import { $, h, describe } from "./dom.js";
import { decodeJoinCode, inviteLink } from "./join-codes.js";
import { roleText } from "./signers.js";
import { accessOf, heldRoles as held } from "./identity.js";

/** Members and revocations listed at most (a policy may hold many). */
export const MEMBERS_SHOWN = 200;

/** The roles a grant offers for `model`: its transitions' roles, then every role (`*`) and admin. */
export function grantableRoles(model) {
  const roles = new Set();
  for (const t of model?.transitions ?? []) for (const r of t.roles ?? []) roles.add(r);
  return [...[...roles].sort(), "*", "$admin"];
}

/**
 * `ws`: the workspace; `identity`: identity.js (names, policy); `sync`: the
 * sync panel (`url()`, `now()`); `onChanged()` redraws the stream after a
 * grant or revocation.
 */
export function createMembers(ws, { identity, sync, onChanged }) {
  const me = ws.ledger.deviceKey;
  const section = $("members-section");
  const form = $("grant-form");
  const code = $("grant-code");
  const whoOut = $("grant-who");
  const role = $("grant-role");
  const status = $("members-status");
  let pasted = null; // { key, name } of the join code in the field, or null

  const say = (text, bad = false) => {
    status.textContent = text;
    status.className = `note${bad ? " bad" : ""}`;
  };

  function readCode() {
    pasted = null;
    whoOut.textContent = "";
    code.removeAttribute("aria-invalid");
    if (!code.value.trim()) return;
    try {
      pasted = decodeJoinCode(code.value);
      // The name in a join code is what the other device typed: its signed
      // `$profile` is what the log shows once it syncs.
      whoOut.textContent =
        pasted.key === me
          ? "This is your own join code."
          : `Key ${fingerprint(pasted.key)}${pasted.name ? `, calling itself “${pasted.name}”` : ""}`;
      whoOut.dataset.key = pasted.key;
    } catch (err) {
      code.setAttribute("aria-invalid", "true");
      whoOut.textContent = describe(err);
    }
  }
  code.addEventListener("input", readCode);

  /** The invite link for `key` on the open stream, naming the roles it holds there now. */
  function showInvite(key, name) {
    const policy = identity.policy();
    const member = policy?.members.find((m) => m.key === key);
    const box = $("invite-out");
    const server = sync.url();
    const roles = member ? held(member) : [];
    if (!roles.length || !server) {
      box.hidden = true;
      if (!server) say("Set the sync backend (Sync panel) to make an invite link: it names the server.", true);
      return;
    }
    $("invite-link").value = inviteLink(location.href, {
      server,
      stream: ws.stream.id,
      model: ws.stream.modelId,
      roles,
      for: key,
    });
    $("invite-for").textContent = name || identity.who(key).text;
    box.hidden = false;
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    readCode();
    if (!pasted) {
      say(code.value.trim() ? whoOut.textContent : "Paste the join code the other device shows.", true);
      code.focus();
      return;
    }
    const target = pasted;
    const stream = ws.stream;
    try {
      await stream.grant(target.key, role.value);
      say(`Granted ${roleText(role.value)} to ${target.name || identity.who(target.key).text}. Syncing…`);
      await onChanged();
      showInvite(target.key, target.name);
      await sync.now();
      say(
        `Granted ${roleText(role.value)} to ${target.name || identity.who(target.key).text}; give them the invite link.`,
      );
    } catch (err) {
      say(describe(err), true);
    }
  });

  section.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-revoke]");
    if (!button) return;
    const { revoke: key, role: r } = button.dataset;
    try {
      await ws.stream.revoke(key, r);
      say(`Revoked ${roleText(r)} from ${identity.who(key).text}. Syncing…`);
      $("invite-out").hidden = true;
      await onChanged();
      await sync.now();
      say(`Revoked ${roleText(r)} from ${identity.who(key).text}.`);
    } catch (err) {
      say(describe(err), true);
    }
  });

  $("copy-invite").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("invite-link").value);
      say("Invite link copied.");
    } catch (err) {
      say(`Could not copy (${describe(err)}): select the link and copy it.`, true);
    }
  });

  // "you" opening a sentence is "You"; a name or a fingerprint stays as it is.
  const opener = (label) => (label.kind === "you" ? "You" : label.text);

  const keyCell = (key) => {
    const who = identity.who(key);
    return h(
      "td",
      { title: who.title, dataset: { key } },
      who.kind === "key" ? h("code", {}, who.text) : who.text,
      who.kind === "name" ? h("span", { className: "subtle" }, ` · ${fingerprint(key)}`) : null,
    );
  };

  /** Redraws the panel from the policy identity.js last read for the open stream. */
  function show() {
    const policy = identity.policy();
    const stream = ws.stream;
    section.hidden = !stream || !policy;
    if (section.hidden) return;
    const { admin } = accessOf(policy, me);
    const fresh = policy.owner === null || policy.owner === undefined;
    form.hidden = !(admin || fresh);
    const roles = grantableRoles(ws.model);
    if ([...role.options].map((o) => o.value).join("\n") !== roles.join("\n"))
      role.replaceChildren(
        ...roles.map((r) =>
          h(
            "option",
            { value: r },
            r === "*" ? "* (every role)" : r === "$admin" ? "$admin (may grant and revoke)" : r,
          ),
        ),
      );
    $("members-owner").replaceChildren(
      fresh
        ? h("span", { className: "subtle" }, "none yet (the signer of the first event)")
        : identity.who(policy.owner).text,
    );
    // `members` lists the owner first (every role, not revocable): it has its own line above.
    const others = policy.members.filter((m) => m.key !== policy.owner);
    const members = others.slice(0, MEMBERS_SHOWN);
    $("members").tBodies[0].replaceChildren(
      ...(members.length
        ? members.map((m) =>
            h(
              "tr",
              { dataset: { member: m.key } },
              keyCell(m.key),
              h(
                "td",
                {},
                ...held(m).map((r) =>
                  h(
                    "span",
                    { className: "member-role" },
                    roleText(r),
                    admin
                      ? h(
                          "button",
                          {
                            type: "button",
                            className: "button secondary small danger",
                            dataset: { revoke: m.key, role: r },
                            "aria-label": `Revoke ${roleText(r)} from ${identity.who(m.key).text}`,
                          },
                          "Revoke",
                        )
                      : null,
                  ),
                ),
              ),
            ),
          )
        : [h("tr", { className: "none" }, h("td", { colSpan: 2 }, "No one else holds a role."))]),
    );
    const revoked = policy.revoked.slice(-MEMBERS_SHOWN).reverse();
    $("revocations").replaceChildren(
      ...revoked.map((r) =>
        h(
          "li",
          { dataset: { revokedKey: r.key, role: r.role } },
          `${opener(identity.who(r.by))} revoked ${roleText(r.role)} from ${identity.who(r.key).text} at seq ${r.seq}`,
        ),
      ),
    );
    $("revocations-h").hidden = revoked.length === 0;
    $("members-more").textContent =
      others.length > MEMBERS_SHOWN || policy.revoked.length > MEMBERS_SHOWN
        ? `The first ${MEMBERS_SHOWN} members and the last ${MEMBERS_SHOWN} revocations are listed.`
        : "";
  }

  return {
    show,
    /** Forgets what was typed for the previous stream. */
    reset() {
      code.value = "";
      readCode();
      $("invite-out").hidden = true;
      say("");
    },
  };
}
