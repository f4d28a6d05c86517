// The stream's event log as a table (newest first), and the verification
// badge fed by ledger.verify (replays the stream, recomputes every hash).
import { $, h, short, describe } from "./dom.js";

const SHOWN = 200;

function time(ts) {
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

/** Shows the device key's fingerprint (the first 16 hex digits). */
export function showDevice(ledger) {
  const key = $("device-key");
  key.textContent = short(ledger.deviceKey, 16);
  key.title = `Ed25519 public key of this browser's ledger: ${ledger.deviceKey} (its private half cannot leave the browser)`;
}

/** Fills the log table with the last events of `stream`; `deviceKey` marks this device's events. */
export async function renderLog(stream, deviceKey) {
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
      ),
      h(
        "td",
        { title: e.roles.length ? `roles: ${e.roles.join(", ")}` : "no roles" },
        e.actor || h("span", { className: "subtle" }, "—"),
      ),
      h("td", { title: new Date(e.ts).toISOString() }, time(e.ts)),
      h("td", { title: e.hash }, h("code", { className: "hash" }, short(e.hash))),
      h("td", { title: e.prev }, h("code", { className: "hash subtle" }, short(e.prev))),
      h(
        "td",
        { title: `signed by ${e.signer}`, dataset: { signer: e.signer } },
        h("code", { className: "hash" }, short(e.signer)),
        e.signer === deviceKey ? h("span", { className: "subtle" }, " (this device)") : null,
      ),
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
