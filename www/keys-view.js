// The keys of a stream's keyed places: the first entries of each (a page,
// not the whole map: a keyed place may hold a great many keys) and a
// search box that looks one key up.
import { $, h, describe } from "./dom.js";

/** How many keys of each keyed place are listed. */
export const KEYS_SHOWN = 20;

/** Lists the first keys of every keyed place of `model` in `stream`. */
export async function renderKeys(stream, model) {
  const panel = $("keys-panel");
  const keyed = model?.places.filter((p) => p.keyed) ?? [];
  panel.hidden = !stream || keyed.length === 0;
  if (panel.hidden) {
    panel.replaceChildren();
    return;
  }
  const sections = await Promise.all(
    keyed.map(async (place) => {
      const page = await stream.keys(place.id, { limit: KEYS_SHOWN });
      const found = h("output", { className: "key-found", dataset: { keysFound: place.id } });
      const input = h("input", {
        type: "search",
        placeholder: "Look up a key…",
        autocomplete: "off",
        dataset: { keysSearch: place.id },
        "aria-label": `Look up a key of ${place.label || place.id}`,
      });
      const form = h(
        "form",
        { className: "key-search" },
        input,
        h("button", { type: "submit", className: "button secondary small" }, "Find"),
        found,
      );
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        try {
          const n = await stream.count(place.id, key);
          found.textContent = `${key}: ${n}`;
        } catch (err) {
          found.textContent = describe(err);
        }
      });
      return h(
        "section",
        { dataset: { keyedPlace: place.id } },
        h(
          "h4",
          {},
          `${place.label || place.id}: `,
          h("span", { dataset: { keysCount: place.id } }, `${page.count} key${page.count === 1 ? "" : "s"}`),
          `, total ${page.total}`,
        ),
        h(
          "table",
          { className: "marking" },
          h(
            "thead",
            {},
            h("tr", {}, h("th", { scope: "col" }, "Key"), h("th", { scope: "col", className: "num" }, "Tokens")),
          ),
          h(
            "tbody",
            {},
            ...page.keys.map(({ key, count }) =>
              h("tr", { dataset: { key } }, h("td", {}, key), h("td", { className: "num" }, String(count))),
            ),
          ),
        ),
        page.count > page.keys.length
          ? h("p", { className: "subtle" }, `The first ${page.keys.length} of ${page.count} keys, in key order.`)
          : null,
        form,
      );
    }),
  );
  panel.replaceChildren(h("h3", {}, "Keys"), ...sections);
}

/** Number of keys of each keyed place of `model` in `stream` (for the drawing). */
export async function keyCounts(stream, model) {
  const keyed = model?.places.filter((p) => p.keyed) ?? [];
  const counts = await Promise.all(keyed.map((p) => stream.keys(p.id, { limit: 1 }).then((page) => page.count)));
  return Object.fromEntries(keyed.map((p, i) => [p.id, counts[i]]));
}
