// A create-only store over a plain REST collection, json-server style: one
// JSON resource per key, `{id, prefix, value}`.
//   create: POST {url} with {id, prefix, value}; 201 created, 409/412 taken;
//           any other refusal is read back (json-server answers a taken id
//           with 500): the key exists -> taken, else the refusal stands
//   get:    GET {url}/{id}, 404 -> absent
//   list:   GET {url}?prefix=..&id_gte=..&_sort=id&_limit=.. (override with `query`)
import { createOnlyTransport } from "./create-only.js";
import { fetchOf, refusal, send } from "./http.js";

/**
 * @param {{url: string, headers?: Record<string,string>, fetch?: typeof fetch, name?: string,
 *   query?: (prefix: string, after: string, limit: number) => string}} options
 */
export function restStore(options) {
  if (typeof options?.url !== "string") throw new TypeError("restStore needs {url} of a collection");
  const url = options.url.replace(/\/+$/, "");
  const headers = options.headers ?? {};
  const fetchFn = fetchOf(options);
  const query =
    options.query ??
    ((prefix, after, limit) =>
      `prefix=${encodeURIComponent(prefix)}&id_gte=${encodeURIComponent(after)}&_sort=id&_limit=${limit}`);
  const item = (key) => `${url}/${encodeURIComponent(key)}`;

  async function get(key) {
    const answer = await send(fetchFn, "GET", item(key), { headers });
    if (answer.status === 404) return null;
    if (answer.status !== 200 || answer.body === null || typeof answer.body !== "object") {
      throw refusal(`GET ${key}`, answer);
    }
    return answer.body.value ?? null;
  }

  return {
    name: options.name ?? url,
    get,
    async create(key, value) {
      const prefix = key.slice(0, key.lastIndexOf("/") + 1);
      const answer = await send(fetchFn, "POST", url, { headers, body: { id: key, prefix, value } });
      if (answer.status === 201 || answer.status === 200) return true;
      if (answer.status === 409 || answer.status === 412) return false;
      if (answer.status === 401 || answer.status === 403) throw refusal(`POST ${key}`, answer);
      if ((await get(key)) !== null) return false;
      throw refusal(`POST ${key}`, answer);
    },
    async list(prefix, after, limit) {
      // id_gte includes `after` itself: ask one more and drop it.
      const answer = await send(fetchFn, "GET", `${url}?${query(prefix, after, limit + 1)}`, { headers });
      if (answer.status !== 200 || !Array.isArray(answer.body)) throw refusal(`GET ${url} (list)`, answer);
      return answer.body
        .filter((o) => typeof o?.id === "string" && o.id > after && o.id.startsWith(prefix))
        .slice(0, limit)
        .map((o) => ({ key: o.id, value: o.value ?? null }));
    },
  };
}

/** `ledger.sync({transport: restTransport({url})})`: the create-only recipe over a REST collection. */
export function restTransport(options) {
  return createOnlyTransport(restStore(options), { name: options.name });
}
