// Small DOM helpers shared by the views.

/** The element with this id (throws if the page lacks it: a bug, not a user error). */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el;
}

/** Creates an element: `h("td", { className: "num" }, "3")`. Children may be strings or nodes. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && !key.includes("-")) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** First `n` hex digits of a hash, for tables; the full hash goes in a title. */
export const short = (hash, n = 10) => (hash ? hash.slice(0, n) : "");

/** Offers `text` as a file download named `name`. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A file-name-safe slug: "Order workflow" -> "order-workflow". */
export function slug(text, fallback = "net") {
  const s = String(text)
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return s || fallback;
}

/** "CODE: message" for a PetrichainError, the message alone for anything else. */
export function describe(err) {
  if (err && typeof err === "object" && "code" in err) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
