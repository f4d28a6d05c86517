// The keys of a stream's keyed places: for each, its entries view
// (keyed-entries.js: number of keys and total, the top entries by count, a
// search by key prefix), never the whole map: a keyed place may hold a
// great many keys.
import { $, h } from "./dom.js";
import { renderEntries } from "./keyed-entries.js";

/** Shows the entries of every keyed place of `model` in `stream`. */
export async function renderKeys(stream, model) {
  const panel = $("keys-panel");
  const keyed = model?.places.filter((p) => p.keyed) ?? [];
  panel.hidden = !stream || keyed.length === 0;
  if (panel.hidden) {
    panel.replaceChildren();
    return;
  }
  const sections = await Promise.all(keyed.map((place) => renderEntries(stream, place)));
  panel.replaceChildren(h("h3", {}, "Keys"), ...sections);
}

/** Number of keys of each keyed place of `model` in `stream` (for the drawing). */
export async function keyCounts(stream, model) {
  const keyed = model?.places.filter((p) => p.keyed) ?? [];
  const counts = await Promise.all(keyed.map((p) => stream.keys(p.id, { limit: 1 }).then((page) => page.count)));
  return Object.fromEntries(keyed.map((p, i) => [p.id, counts[i]]));
}
