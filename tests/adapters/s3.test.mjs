// The S3 adapter against moto's S3 server on loopback (it honours
// If-None-Match: * with 412, checked by the first scenario).
import { after, before } from "node:test";
import { s3Store, s3Transport, signV4 } from "../../js/node.js";
import { scenarios } from "./scenarios.mjs";
import { startMoto } from "./servers.mjs";
import { sha256Hex, uriEncode } from "../../js/adapters/sigv4.js";

let server;
let guarded;
let used = 0;
const credentials = { accessKeyId: "test", secretAccessKey: "test", region: "us-east-1" };
before(async () => {
  [server, guarded] = await Promise.all([startMoto(), startMoto({ auth: true })]);
});
after(() => Promise.all([server.stop(), guarded.stop()]));

/** A signed request as any S3 client sends it (bucket creation, tampering). */
async function s3(method, path, body = "") {
  const url = new URL(`${server.url}${path}`);
  const headers = await signV4({ method, url, headers: {}, payloadHash: await sha256Hex(body), ...credentials });
  const r = await fetch(url, { method, headers, body: body === "" ? undefined : body });
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
}

scenarios("s3 (moto)", async () => {
  const bucket = `ledger-${used++}`;
  await s3("PUT", `/${bucket}`);
  const options = { endpoint: server.url, bucket, ...credentials };
  return {
    store: s3Store(options),
    transport: (name) => s3Transport({ ...options, name }),
    // An overwrite without If-None-Match: what anyone with write access can do.
    overwrite: (key, value) => s3("PUT", `/${bucket}/${uriEncode(key, true)}`, JSON.stringify(value)),
    refusals: [
      {
        what: "404 of a missing bucket",
        status: 404,
        remoteCode: "NoSuchBucket",
        transport: s3Transport({ ...options, bucket: "no-such-bucket" }),
      },
      {
        what: "403 of unknown credentials",
        status: 403,
        remoteCode: "InvalidAccessKeyId",
        transport: s3Transport({ ...options, endpoint: guarded.url }),
      },
    ],
  };
});
