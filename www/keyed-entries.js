// The entries of one keyed place (issue 14): its number of keys and total,
// the top entries by count, and a search by key prefix, a page at a time.
// It reads only what it shows: `stream.top` (the highest counts, from the
// store's index of key records by count) and `stream.keys({prefix, after,
// limit})` (one key range), never the whole map, so it stays quick however
// many keys the place holds.
import { h, describe } from "./dom.js";

/** How many entries the top list shows. */
export const TOP_SHOWN = 20;
/** Search results per page. */
export const SEARCH_PAGE = 20;

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A table of `{key, count}` rows; `ranked` adds a rank column. */
function entriesTable(caption, entries, { ranked, dataset }) {
  const head = [
    ranked ? h("th", { scope: "col", className: "num" }, "#") : null,
    h("th", { scope: "col" }, "Key"),
    h("th", { scope: "col", className: "num" }, "Tokens"),
  ];
  const body = h("tbody", {}, ...entries.map((e, i) => entryRow(e, ranked ? i + 1 : null)));
  return h(
    "table",
    { className: "marking keyed-entries-table", dataset },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...head)),
    body,
  );
}

function entryRow({ key, count }, rank) {
  return h(
    "tr",
    { dataset: { key } },
    rank === null ? null : h("td", { className: "num" }, String(rank)),
    h("td", { className: "key" }, key),
    h("td", { className: "num" }, String(count)),
  );
}

/**
 * The entries view of keyed place `place` (a model place with `keyed`) in
 * `stream`: a section with the number of keys and the total, the top
 * `TOP_SHOWN` entries by count (ties in key order), and a search box that
 * lists the keys starting with what is typed, `SEARCH_PAGE` at a time.
 */
export async function renderEntries(stream, place) {
  const id = place.id;
  const name = place.label || id;
  const top = await stream.top(id, { limit: TOP_SHOWN });
  const titleId = `keyed-${id}-title`;

  const input = h("input", {
    type: "search",
    placeholder: "Key starts with…",
    autocomplete: "off",
    dataset: { keysSearch: id },
    "aria-label": `Search the keys of ${name} by prefix`,
  });
  const status = h("output", { className: "key-found", dataset: { keysFound: id }, "aria-live": "polite" });
  const results = h("div", { className: "key-results", dataset: { keysResults: id } });
  const more = h("button", { type: "button", className: "button secondary small", hidden: true }, "More");
  more.dataset.keysMore = id;
  let search = null; // { prefix, after, shown, tbody }

  /** Shows the next page of keys starting with `search.prefix`. */
  async function next() {
    const { prefix, after } = search;
    // One more than shown: whether there is another page, in the same read.
    const page = await stream.keys(id, { prefix, after, limit: SEARCH_PAGE + 1 });
    const shown = page.keys.slice(0, SEARCH_PAGE);
    if (!search.tbody) {
      const table = entriesTable(`Keys starting with “${prefix}”`, shown, {
        ranked: false,
        dataset: { keysMatches: id },
      });
      search.tbody = table.tBodies[0];
      results.replaceChildren(shown.length ? table : "");
    } else {
      search.tbody.append(...shown.map((e) => entryRow(e, null)));
    }
    search.shown += shown.length;
    search.after = shown.at(-1)?.key ?? after;
    const hasMore = page.keys.length > SEARCH_PAGE;
    more.hidden = !hasMore;
    const exact = shown.find((e) => e.key === prefix);
    status.textContent =
      search.shown === 0
        ? `No key starts with “${prefix}”.`
        : `${exact ? `${exact.key}: ${exact.count} · ` : ""}${hasMore ? "the first " : ""}${plural(search.shown, "key")} starting with “${prefix}”`;
  }

  const form = h(
    "form",
    { className: "key-search", role: "search", "aria-label": `Search ${name}` },
    input,
    h("button", { type: "submit", className: "button secondary small" }, "Search"),
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const prefix = input.value.trim();
    if (!prefix) {
      search = null;
      status.textContent = "";
      results.replaceChildren();
      more.hidden = true;
      return;
    }
    search = { prefix, after: undefined, shown: 0, tbody: null };
    try {
      await next();
    } catch (err) {
      status.textContent = describe(err);
    }
  });
  more.addEventListener("click", async () => {
    if (!search) return;
    try {
      await next();
    } catch (err) {
      status.textContent = describe(err);
    }
  });

  return h(
    "section",
    { className: "keyed-entries", dataset: { keyedPlace: id }, "aria-labelledby": titleId },
    h(
      "h4",
      { id: titleId },
      `${name}: `,
      h("span", { dataset: { keysCount: id } }, plural(top.count, "key")),
      ", total ",
      h("span", { dataset: { keysTotal: id } }, String(top.total)),
    ),
    top.keys.length
      ? entriesTable(
          top.count > top.keys.length
            ? `The ${top.keys.length} highest of ${plural(top.count, "key")} (ties in key order)`
            : "By count, highest first (ties in key order)",
          top.keys,
          { ranked: true, dataset: { keysTop: id } },
        )
      : h("p", { className: "subtle" }, "No key holds tokens yet."),
    form,
    results,
    more,
  );
}
