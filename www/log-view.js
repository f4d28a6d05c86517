// The stream's event log as a table (newest first), and the verification
// badge fed by ledger.verify (replays the stream, recomputes every hash).
import { $, h, short, describe } from "./dom.js";

const SHOWN = 200;

function time(ts) {
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/**
 * Fills the log table with the last events of `stream`. `who(key)` names a
 * signer (`{ text, title, kind }`, www/signers.js: "you", its signed name or
 * its fingerprint); `sentence(event)` reads a policy entry as words, or null.
 */
export async function renderLog(stream, who, sentence = () => null) {
  const head = stream.head.seq;
  const events = await stream.events({ after: Math.max(0, head - SHOWN) });
  const rows = events.reverse().map((e) =>
    h(
      "tr",
      { dataset: { seq: String(e.seq) } },
      h(
        "td",
        { className: "num" },
        h(
          "button",
          {
            type: "button",
            className: "seq-link",
            dataset: { history: String(e.seq) },
            "aria-label": `Show the net after event ${e.seq}`,
          },
          String(e.seq),
        ),
      ),
      h(
        "td",
        {},
        h("code", {}, e.action),
        e.multiple > 1 ? h("span", { className: "times" }, ` ×${e.multiple}`) : null,
        policyText(e, sentence),
      ),
      // The free-text actor: a note, not an identity (the signer is).
      h(
        "td",
        {
          className: "subtle",
          title: `unverified note${e.roles.length ? `; roles claimed: ${e.roles.join(", ")}` : ""}`,
        },
        e.actor || "—",
      ),
      h("td", { title: new Date(e.ts).toISOString() }, time(e.ts)),
      h("td", { title: e.hash }, h("code", { className: "hash" }, short(e.hash))),
      h("td", { title: e.prev }, h("code", { className: "hash subtle" }, short(e.prev))),
      signedBy(who(e.signer), e.signer),
    ),
  );
  $("log").tBodies[0].replaceChildren(
    ...(rows.length
      ? rows
      : [h("tr", { className: "none" }, h("td", { colSpan: 7 }, "No events yet: fire a transition."))]),
  );
  $("log-summary").textContent =
    head === 0
      ? ""
      : head > SHOWN
        ? `${head} events; the last ${SHOWN} shown, newest first.`
        : `${head} event${head > 1 ? "s" : ""}, newest first.`;
}

function policyText(event, sentence) {
  const text = sentence(event);
  return text ? h("span", { className: "policy-sentence" }, ` ${text}`) : null;
}

function signedBy(label, key) {
  return h(
    "td",
    { title: `signed by ${key}: ${label.title}`, dataset: { signer: key, signerKind: label.kind } },
    label.kind === "key" ? h("code", { className: "hash" }, label.text) : label.text,
  );
}

/** Sets the badge from a verification of one stream; returns whether it passed. */
export async function verifyInto(ledger, streamId) {
  const badge = $("verify-badge");
  badge.className = "badge neutral";
  badge.textContent = "Verifying…";
  try {
    const [result] = await ledger.verify(streamId);
    badge.className = "badge good";
    badge.dataset.state = "verified";
    badge.textContent = `✓ Chain verified · ${result.events} event${result.events === 1 ? "" : "s"}`;
    badge.title = `Every event of '${streamId}' replayed through the net, every hash and marking root recomputed, every signature checked; head ${result.head}`;
    return true;
  } catch (err) {
    badge.className = "badge bad";
    badge.dataset.state = "broken";
    const seq = err?.details?.seq;
    badge.textContent = `✗ Chain broken${seq ? ` at seq ${seq}` : ""} (${err?.code ?? "ERROR"})`;
    badge.title = describe(err);
    return false;
  }
}
