// Opening an invite link (`#invite=...`, made in Members on the owner's
// device): after the user agrees, the app syncs with the server the link
// names, follows the stream (follows.js, through the sync panel), pulls it,
// opens it and says which roles this device holds there. The link grants
// nothing itself (the grant is a signed entry of the stream's chain, which
// the pull brings); it could name any server, so nothing happens before the
// user confirms.
import { fingerprint } from "petrichain";
import { $, h, describe } from "./dom.js";
import { ask } from "./dialog.js";
import { readInvite } from "./join-codes.js";
import { accessOf } from "./identity.js";
import { roleText } from "./signers.js";

/** `ws`: the workspace; `sync`: the sync panel (`url`, `setUrl`, `follow`, `handle`). */
export function createInvites(ws, { sync, onError }) {
  const me = ws.ledger.deviceKey;
  const box = $("invite-box");
  let joined = null; // the stream an invite brought here, while its box says what this device holds there

  const show = (kind, ...nodes) => {
    joined = null;
    box.hidden = nodes.length === 0;
    box.className = `alert ${kind}`;
    box.dataset.state = kind;
    box.replaceChildren(...nodes);
  };
  const clearFragment = () => history.replaceState(null, "", location.pathname + location.search);

  async function join(invite) {
    const serverChanges = sync.url() !== invite.server;
    const body = [
      `Follow the stream ${invite.stream} on ${invite.server} and pull it into this browser.`,
      serverChanges
        ? `This browser then syncs with ${invite.server} instead of ${sync.url() || "no server"}: your streams are pushed there too.`
        : "This browser already syncs with that server.",
    ];
    if (invite.for !== me)
      body.push(
        `This invite was made for another device (key ${fingerprint(invite.for)}), not this one (${fingerprint(me)}): the roles it names are not yours. Show the owner your join code instead.`,
      );
    const { choice } = await ask({
      title: `Join ${invite.stream}?`,
      body,
      actions: [{ value: "join", label: "Join" }],
    });
    clearFragment();
    if (choice !== "join") {
      show("warn"); // nothing to say
      return;
    }
    show("warn", h("p", { role: "status" }, `Joining ${invite.stream} on ${invite.server}…`));
    if (serverChanges) sync.setUrl(invite.server);
    await sync.follow(invite.stream, true);
    const here = (await ws.ledger.streams()).some((s) => s.id === invite.stream);
    if (!here) {
      const failure = sync.handle()?.lastReport?.errors.find((e) => e.stream === invite.stream)?.error;
      show(
        "bad",
        h("h3", {}, `${invite.stream} was not brought here`),
        h(
          "p",
          {},
          !failure || failure.code === "UNKNOWN_STREAM"
            ? `The server has no stream ${invite.stream} yet: ask its owner to sync it, then sync here (it stays followed).`
            : `The sync said ${failure.code}${failure.message ? `: ${failure.message}` : ""}.`,
        ),
      );
      return;
    }
    await ws.open(invite.stream);
    const policy = await ws.stream.policy();
    const notes = [];
    if (ws.stream.modelId !== invite.model)
      notes.push(
        h(
          "p",
          { className: "small-print" },
          `This stream runs another net (model ${ws.stream.modelId.slice(0, 12)}…) than the invite says (${invite.model.slice(0, 12)}…).`,
        ),
      );
    show("good", h("p", { role: "status", id: "invite-result" }), ...notes);
    joined = invite.stream;
    update(ws.stream, policy);
  }

  /** Keeps the result of a join true to the stream's policy (a grant may arrive or be revoked later). */
  function update(stream, policy) {
    if (!joined) return;
    if (stream?.id !== joined || !policy) {
      show("good"); // another stream opened: the result box goes
      return;
    }
    const { roles } = accessOf(policy, me);
    const result = $("invite-result");
    result.dataset.roles = roles.join(",");
    result.textContent = roles.length
      ? `You hold ${roles.map(roleText).join(", ")} on ${joined}.`
      : `You hold no role on ${joined}: the grant has not reached the server yet, or was revoked. Sync again later, or ask its owner.`;
    box.className = `alert ${roles.length ? "good" : "warn"}`;
    box.dataset.state = roles.length ? "good" : "warn";
  }

  /** Reads an invite in the URL's fragment, if any, and offers to join it. */
  async function check() {
    let invite;
    try {
      invite = readInvite(location.hash);
    } catch (err) {
      clearFragment();
      show("bad", h("h3", {}, "This invite link cannot be read"), h("p", {}, describe(err)));
      return;
    }
    if (!invite) return;
    try {
      await join(invite);
    } catch (err) {
      show("bad", h("h3", {}, `Joining ${invite.stream} failed`), h("p", {}, describe(err)));
      onError(err);
    }
  }

  // A link opened in a tab where the app already runs changes only the fragment.
  addEventListener("hashchange", () => check());
  return {
    check,
    /** After each redraw of the open stream, with its policy. */
    update,
  };
}
