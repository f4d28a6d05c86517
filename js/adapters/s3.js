// A create-only store over S3-compatible object storage: one object per key
// (JSON), created with `PUT` and `If-None-Match: *` (412 when taken), listed
// with ListObjectsV2 and `start-after`. Requests are path-style
// (`{endpoint}/{bucket}/{key}`) and signed with AWS Signature V4.
//
// The store must honour conditional creates: AWS S3 (since 2024), MinIO,
// Cloudflare R2, ... A store that ignores `If-None-Match` would let two
// writers overwrite one seq; check yours (docs/backends.md says how).
import { createOnlyTransport, TransportError } from "./create-only.js";
import { fetchOf, send } from "./http.js";
import { sha256Hex, signV4, uriEncode } from "./sigv4.js";

/** Keys per ListObjectsV2 answer (S3's own maximum). */
const LIST_PAGE = 1000;

function xmlText(xml, tag) {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? unescapeXml(m[1]) : undefined;
}

function unescapeXml(s) {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, "&");
}

/**
 * @param {{endpoint: string, bucket: string, region?: string, accessKeyId: string,
 *   secretAccessKey: string, sessionToken?: string, prefix?: string,
 *   headers?: Record<string,string>, fetch?: typeof fetch, name?: string}} options
 *   `prefix` is put before every key (several ledgers in one bucket).
 */
export function s3Store(options) {
  for (const f of ["endpoint", "bucket", "accessKeyId", "secretAccessKey"]) {
    if (typeof options?.[f] !== "string") throw new TypeError(`s3Store needs {${f}}`);
  }
  const base = `${options.endpoint.replace(/\/+$/, "")}/${uriEncode(options.bucket)}`;
  const region = options.region ?? "us-east-1";
  const root = options.prefix ?? "";
  const fetchFn = fetchOf(options);

  async function request(method, path, query, { body, headers = {} } = {}) {
    const qs = Object.entries(query)
      .map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`)
      .join("&");
    const url = new URL(`${base}${path}${qs ? `?${qs}` : ""}`);
    const payload = body === undefined ? "" : JSON.stringify(body);
    const signed = await signV4({
      method,
      url,
      headers: {
        ...(options.headers ?? {}),
        ...headers,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      payloadHash: await sha256Hex(payload),
      region,
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      sessionToken: options.sessionToken,
    });
    return send(fetchFn, method, url.href, { headers: signed, body: body === undefined ? undefined : payload });
  }

  const refused = (what, answer) => {
    const code = xmlText(answer.text, "Code") ?? `HTTP_${answer.status}`;
    return new TransportError(
      answer.status,
      code,
      `${what}: ${answer.status} ${code} ${xmlText(answer.text, "Message") ?? ""}`,
    );
  };
  const objectPath = (key) => `/${uriEncode(root + key, true)}`;

  return {
    name: options.name ?? `${base}/${root}`,
    async create(key, value) {
      const answer = await request("PUT", objectPath(key), {}, { body: value, headers: { "if-none-match": "*" } });
      if (answer.status === 200) return true;
      // 412: taken. 409: a concurrent conditional write of the key is in flight; it wins or fails, read it back.
      if (answer.status === 412 || answer.status === 409) return false;
      throw refused(`PUT ${key}`, answer);
    },
    async get(key) {
      const answer = await request("GET", objectPath(key), {});
      if (answer.status === 404 && xmlText(answer.text, "Code") !== "NoSuchBucket") return null;
      if (answer.status !== 200) throw refused(`GET ${key}`, answer);
      if (answer.body === undefined) return answer.text; // not JSON: the sync client refuses its shape
      return answer.body;
    },
    async list(prefix, after, limit) {
      const out = [];
      let token;
      while (out.length < limit) {
        const query = {
          "list-type": "2",
          "max-keys": String(Math.min(LIST_PAGE, limit - out.length)),
          prefix: root + prefix,
        };
        if (token) query["continuation-token"] = token;
        else query["start-after"] = root + after;
        const answer = await request("GET", "", query);
        if (answer.status !== 200) throw refused("ListObjectsV2", answer);
        for (const m of answer.text.matchAll(/<Key>([^<]*)<\/Key>/g))
          out.push({ key: unescapeXml(m[1]).slice(root.length) });
        token = xmlText(answer.text, "NextContinuationToken");
        if (xmlText(answer.text, "IsTruncated") !== "true" || !token) break;
      }
      return out.slice(0, limit);
    },
  };
}

/** `ledger.sync({transport: s3Transport({...})})`; `transport.watch` polls with backoff. */
export function s3Transport(options) {
  return createOnlyTransport(s3Store(options), { name: options.name });
}
