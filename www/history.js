// History: the net as it was after any event of the open stream (its
// marking and drawing, the event's transition highlighted), and the
// difference between two points of the stream. Markings are rebuilt from
// the stored events' deltas (verified when they were stored), O(seq).
import { $, h } from "./dom.js";

/** Events read per page while replaying. */
const PAGE = 1000;

/** The marking of `stream` (of `model`) after event `seq` (0: the initial marking), and that event. */
export async function markingAt(stream, model, seq) {
  const marking = model.initialMarking();
  let at = 0;
  let last = null;
  while (at < seq) {
    const page = await stream.events({ after: at, limit: Math.min(PAGE, seq - at) });
    if (page.length === 0) break;
    for (const e of page) {
      for (const [place, n] of e.delta) marking[place] = n;
      at = e.seq;
      last = e;
    }
  }
  return { marking, event: last };
}

/** `ws` is the workspace (ledger-view.js). */
export function createHistory(ws, { onError }) {
  const section = $("history-section");
  const seqInput = $("history-seq");
  const otherInput = $("history-other");

  async function render(seq, other) {
    const { stream, model } = ws;
    if (!stream) return;
    const head = stream.head.seq;
    // A seq past the head (typed, or the stream moved) shows the head.
    const clamp = (n) => Math.max(0, Math.min(head, Math.trunc(Number.isFinite(n) ? n : head)));
    const a = clamp(seq);
    const b = clamp(other);
    seqInput.value = String(a);
    otherInput.value = other === undefined || Number.isNaN(other) ? "" : String(b);
    const [at, then] = await Promise.all([markingAt(stream, model, a), markingAt(stream, model, b)]);
    if (ws.stream !== stream) return;
    const svg = model.renderSvg(at.marking, { highlight: at.event?.action });
    const host = $("history-net");
    host.innerHTML = svg;
    const drawing = host.querySelector("svg");
    drawing.setAttribute("aria-hidden", "true");
    drawing.removeAttribute("width");
    drawing.removeAttribute("height");
    host.setAttribute("aria-label", `The net after event ${a} of ${head}`);
    host.dataset.seq = String(a);
    const what = at.event
      ? `After event ${a}: ${at.event.action}${at.event.multiple > 1 ? ` ×${at.event.multiple}` : ""}${at.event.actor ? ` by ${at.event.actor}` : ""}, ${new Date(at.event.ts).toLocaleString()}.`
      : "Before any event: the initial marking.";
    const changed = model.places.filter((p) => (at.marking[p.id] ?? 0) !== (then.marking[p.id] ?? 0));
    const span = Math.abs(b - a);
    $("history-summary").textContent =
      a === b
        ? what
        : `${what} Compared with event ${b}: ${span} event${span === 1 ? "" : "s"} apart, ${changed.length} place${changed.length === 1 ? "" : "s"} differ.`;
    $("history-col-a").textContent = `At ${a}`;
    $("history-col-b").textContent = `At ${b}`;
    $("history-diff").tBodies[0].replaceChildren(
      ...model.places.map((p) => {
        const x = at.marking[p.id] ?? 0;
        const y = then.marking[p.id] ?? 0;
        const d = y - x;
        return h(
          "tr",
          { dataset: { place: p.id, changed: String(d !== 0) }, className: d ? "changed" : "" },
          h("td", { title: p.id }, p.label || p.id),
          h("td", { className: "num" }, String(x)),
          h("td", { className: "num" }, String(y)),
          h("td", { className: "num" }, d ? (d > 0 ? `+${d}` : String(d)) : ""),
        );
      }),
    );
  }

  async function open(seq) {
    section.hidden = false;
    await render(seq, Number.parseInt(otherInput.value, 10));
    section.focus();
  }

  $("log").addEventListener("click", (e) => {
    const b = e.target.closest("[data-history]");
    if (b) open(Number(b.dataset.history)).catch(onError);
  });
  $("history-form").addEventListener("submit", (e) => {
    e.preventDefault();
    render(Number.parseInt(seqInput.value, 10), Number.parseInt(otherInput.value, 10)).catch(onError);
  });
  $("history-close").addEventListener("click", () => {
    section.hidden = true;
  });

  return {
    /** After a switch: nothing of the old stream stays shown. */
    reset() {
      section.hidden = true;
      otherInput.value = "";
    },
  };
}
