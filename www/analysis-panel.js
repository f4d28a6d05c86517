// The "Analysis" panel of the open net: its invariants as sentences, the
// bound of each place, dead transitions, deadlocks with a "Replay" button
// that fires the counterexample on a new scratch stream, the export of the
// stream's markings as CSV; and the conserved-total badge next to the
// chain-verified one. The analysis runs in the page, with limits, and says
// when it stopped at one.
import { $, h, describe, download } from "./dom.js";

/** Limits for the page: keep the tab responsive on big nets. */
const LIMITS = { maxStates: 200_000, maxMillis: 1500, maxDeadlocks: 5 };

function section() {
  const box = h(
    "section",
    { className: "panel analysis", id: "analysis-section", "aria-labelledby": "analysis-h", hidden: true },
    h(
      "div",
      { className: "log-head" },
      h("h2", { id: "analysis-h" }, "Analysis"),
      h(
        "div",
        { className: "exports", role: "group", "aria-label": "Export the stream for analysis" },
        h(
          "button",
          {
            type: "button",
            className: "button secondary small",
            id: "export-states",
            title: "The marking after each event, recomputed by replaying the stream",
          },
          "States (.csv)",
        ),
        h(
          "button",
          {
            type: "button",
            className: "button secondary small",
            id: "export-counts",
            title: "How many times each transition fired",
          },
          "Firing counts (.json)",
        ),
      ),
    ),
    h("p", { className: "subtle small-print" }, "What the net guarantees, proven from the net itself."),
    h("h3", { id: "invariants-h" }, "Always true"),
    h("ul", { id: "invariants", className: "invariants", "aria-labelledby": "invariants-h" }),
    h("h3", { id: "space-h" }, "Every reachable marking"),
    h("p", { id: "space-summary", className: "note", role: "status" }),
    h(
      "table",
      { id: "bounds", className: "marking", "aria-labelledby": "space-h" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Place"),
          h("th", { scope: "col", className: "num", title: "Most tokens in any reachable marking" }, "Bound"),
          h("th", { scope: "col", className: "num", title: "The bound the invariants and capacity prove" }, "Proven"),
        ),
      ),
      h("tbody"),
    ),
    h("p", { id: "dead-transitions", className: "note" }),
    h("h3", { id: "deadlocks-h" }, "Deadlocks"),
    h("ul", { id: "deadlocks", className: "deadlocks", "aria-labelledby": "deadlocks-h" }),
  );
  $("net-section").after(box);
  const badge = h("span", {
    id: "conserved-badge",
    className: "badge good",
    role: "status",
    hidden: true,
  });
  $("verify-badge").after(badge);
  return { box, badge };
}

const count = (n, one, many = `${one}s`) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

/**
 * Wires the panel to the workspace. `onReplayed()` redraws the app after a
 * replay; `onError(err)` shows what went wrong.
 */
export function createAnalysisPanel(ws, { onReplayed, onError }) {
  const { box, badge } = section();
  const cache = new Map(); // model id -> { invariants, space } or { error }

  function analyse(model) {
    if (!cache.has(model.id)) {
      const result = {};
      try {
        result.invariants = model.invariants();
      } catch (err) {
        // e.g. TOO_LARGE: say so, and still explore.
        result.invariantsError = err;
        const none = { invariants: [], uncovered: [], excluded: [], bounds: model.places.map(() => null) };
        result.invariants = { places: { ...none, bounded: false }, transitions: none };
      }
      try {
        result.space = model.explore(LIMITS);
      } catch (err) {
        result.error = err;
      }
      cache.set(model.id, result);
    }
    return cache.get(model.id);
  }

  async function replay(sequence) {
    const { model, stream } = ws;
    if (!model || !stream) return;
    try {
      // A scratch stream of the same net, so the open one keeps its history.
      await ws.start(model, `${stream.id}-replay`);
      for (const action of sequence) await ws.stream.fire(action, { roles: ["*"], actor: "replay" });
      await onReplayed();
    } catch (err) {
      onError(err);
    }
  }

  function renderInvariants(model, inv) {
    const sentences = inv.places.invariants.map((i) =>
      h("li", { dataset: { total: String(i.total ?? "") }, title: i.formula }, i.sentence),
    );
    const notes = [];
    const { emptySiphon, neverEnabled } = inv.siphons ?? { emptySiphon: [], neverEnabled: [] };
    if (emptySiphon.length)
      notes.push(
        h(
          "li",
          { dataset: { siphon: emptySiphon.join(" ") } },
          `${emptySiphon.join(", ")} never get${emptySiphon.length === 1 ? "s" : ""} a token${
            neverEnabled.length ? `, so ${neverEnabled.join(", ")} can never fire` : ""
          }.`,
        ),
      );
    if (inv.places.excluded.length)
      notes.push(
        h("li", { className: "subtle" }, `Emptied by reset arcs, so left out: ${inv.places.excluded.join(", ")}.`),
      );
    if (inv.places.uncovered.length && inv.places.invariants.length)
      notes.push(h("li", { className: "subtle" }, `No conserved sum includes ${inv.places.uncovered.join(", ")}.`));
    $("invariants").replaceChildren(
      ...(sentences.length ? sentences : [h("li", { className: "subtle" }, "No weighted sum of tokens is conserved.")]),
      ...notes,
    );
    const totals = inv.places.invariants.filter((i) => i.weights.length > 1 && i.total !== null);
    badge.hidden = totals.length === 0;
    if (totals.length) {
      const names = (i) => i.weights.map((w) => model.places.find((p) => p.id === w.id)?.label || w.id);
      const first = totals[0];
      badge.textContent = `∑ ${names(first).join(" + ")} = ${first.total}${totals.length > 1 ? ` (+${totals.length - 1})` : ""}`;
      badge.title = `Proven from the net: ${totals.map((i) => i.sentence).join(" ")}`;
      badge.dataset.total = String(first.total);
    }
  }

  function renderSpace(model, space, inv) {
    const summary = $("space-summary");
    summary.textContent = `${space.summary[0].toUpperCase()}${space.summary.slice(1)}${
      space.coverability ? " (some places are unbounded: ω)" : ""
    }.${
      space.multiplesCovered
        ? ""
        : " Single firings only: with read, inhibitor or reset arcs, firing several at once can reach more."
    }`;
    summary.className = space.complete ? "note" : "note bad";
    summary.dataset.complete = String(space.complete);
    $("bounds").tBodies[0].replaceChildren(
      ...space.bounds.map((b, i) =>
        h(
          "tr",
          { dataset: { place: b.place } },
          h("th", { scope: "row" }, model.places[i].label || b.place),
          h("td", { className: "num" }, b.max === null ? "∞" : `${space.complete ? "" : "≥ "}${b.max}`),
          h("td", { className: "num" }, inv.places.bounds[i] === null ? "—" : String(inv.places.bounds[i])),
        ),
      ),
    );
    const dead = $("dead-transitions");
    dead.textContent = space.deadTransitions.length
      ? `${space.complete ? "Never enabled" : "Not enabled in the markings explored"}: ${space.deadTransitions.join(", ")}.`
      : space.complete
        ? "Every transition can fire in some reachable marking."
        : "";
    const items = space.deadlocks.map((d, i) =>
      h(
        "li",
        { dataset: { deadlock: String(i) } },
        h(
          "div",
          {},
          h("code", { className: "sequence" }, d.sequence.length ? d.sequence.join(" → ") : "(the initial marking)"),
          h(
            "span",
            { className: "subtle" },
            ` reaches ${
              Object.entries(d.marking)
                .filter(([, n]) => n > 0)
                .map(([p, n]) => `${p}: ${n}`)
                .join(", ") || "the empty marking"
            }, where nothing can fire.`,
          ),
        ),
        h(
          "button",
          {
            type: "button",
            className: "button secondary small replay",
            title: "Fire this sequence on a new scratch stream of the net",
            onclick: () => replay(d.sequence),
          },
          "Replay",
        ),
      ),
    );
    const more = space.deadlockCount - space.deadlocks.length;
    if (more > 0) items.push(h("li", { className: "subtle" }, `… and ${count(more, "more deadlock")}.`));
    $("deadlocks").replaceChildren(
      ...(items.length
        ? items
        : [
            h(
              "li",
              { className: "subtle" },
              space.complete ? "None: in every reachable marking something can fire." : "None found so far.",
            ),
          ]),
    );
  }

  $("export-states").addEventListener("click", async () => {
    const { model, stream } = ws;
    if (!model || !stream) return;
    try {
      download(`${stream.id}-states.csv`, model.eventsCsv(await stream.events()), "text/csv");
    } catch (err) {
      onError(err);
    }
  });

  $("export-counts").addEventListener("click", async () => {
    const { model, stream } = ws;
    if (!model || !stream) return;
    try {
      const counts = model.firingCounts(await stream.events());
      download(`${stream.id}-firing-counts.json`, `${JSON.stringify(counts, null, 2)}\n`, "application/json");
    } catch (err) {
      onError(err);
    }
  });

  return {
    /** Shows the analysis of `model` (computed once per net). */
    show(model) {
      box.hidden = !model;
      if (!model) {
        badge.hidden = true;
        return;
      }
      const result = analyse(model);
      if (result.error) {
        badge.hidden = true;
        $("invariants").replaceChildren(h("li", { className: "error" }, describe(result.error)));
        $("space-summary").textContent = "";
        return;
      }
      renderInvariants(model, result.invariants);
      if (result.invariantsError)
        $("invariants").replaceChildren(h("li", { className: "error" }, describe(result.invariantsError)));
      renderSpace(model, result.space, result.invariants);
      box.dataset.model = model.id;
    },
  };
}
