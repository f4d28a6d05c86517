// AWS Signature Version 4 for S3 requests, on WebCrypto (crypto.subtle: in
// every browser and in Node 20+), so the package needs no AWS SDK. Tested
// against the worked example of AWS's documentation (tests/js/adapters-s3.test.mjs).

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of a string or bytes, as hex. */
export async function sha256Hex(data) {
  return hex(await crypto.subtle.digest("SHA-256", typeof data === "string" ? encoder.encode(data) : data));
}

async function hmac(key, text) {
  const k = await crypto.subtle.importKey(
    "raw",
    typeof key === "string" ? encoder.encode(key) : key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return crypto.subtle.sign("HMAC", k, encoder.encode(text));
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ (and "/" when `path`). */
export function uriEncode(text, path = false) {
  let out = "";
  for (const byte of encoder.encode(text)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (path && c === "/")) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Signs a request; returns the headers to send (the given ones plus
 * x-amz-date, x-amz-content-sha256, Authorization and, with a session token,
 * x-amz-security-token).
 * @param {{method: string, url: URL, headers: Record<string,string>, payloadHash: string,
 *   region: string, service?: string, accessKeyId: string, secretAccessKey: string,
 *   sessionToken?: string, date?: Date}} r  `url.pathname` must be encoded already (uriEncode(key, true))
 */
export async function signV4(r) {
  const service = r.service ?? "s3";
  const amzDate = (r.date ?? new Date())
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const headers = { ...r.headers, "x-amz-date": amzDate, "x-amz-content-sha256": r.payloadHash };
  if (r.sessionToken) headers["x-amz-security-token"] = r.sessionToken;
  const signed = { host: r.url.host };
  for (const [name, value] of Object.entries(headers))
    signed[name.toLowerCase()] = String(value).trim().replace(/\s+/g, " ");
  const names = Object.keys(signed).sort();
  const query = [...r.url.searchParams]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [
    r.method,
    r.url.pathname,
    query,
    names.map((n) => `${n}:${signed[n]}\n`).join(""),
    names.join(";"),
    r.payloadHash,
  ].join("\n");
  const scope = `${day}/${r.region}/${service}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${await sha256Hex(canonical)}`;
  let key = await hmac(`AWS4${r.secretAccessKey}`, day);
  key = await hmac(key, r.region);
  key = await hmac(key, service);
  key = await hmac(key, "aws4_request");
  const signature = hex(await hmac(key, toSign));
  headers.Authorization = `AWS4-HMAC-SHA256 Credential=${r.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return headers;
}
