// The create-only recipe over the in-memory store, and over the peer-to-peer
// framing (peerStore -> servePeerStore) on a MessageChannel standing in for
// the data channel; the SigV4 signer against AWS's worked example.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  createOnlyTransport,
  keys,
  memoryStore,
  peerStore,
  servePeerStore,
  signV4,
  TransportError,
} from "../../js/node.js";
import { scenarios } from "./scenarios.mjs";

function refusingStore(status, code) {
  const refuse = async () => {
    throw new TransportError(status, code, `refused ${status}`);
  };
  return { create: refuse, get: refuse, list: refuse };
}

scenarios("memory", async () => {
  const store = memoryStore();
  return {
    store,
    transport: (name) => createOnlyTransport(store, { name }),
    overwrite: async (key, value) => store.map.set(key, value),
    refusals: [
      {
        what: "403",
        status: 403,
        remoteCode: "FORBIDDEN",
        transport: createOnlyTransport(refusingStore(403, "FORBIDDEN")),
      },
      {
        what: "404",
        status: 404,
        remoteCode: "NoSuchBucket",
        transport: createOnlyTransport(refusingStore(404, "NoSuchBucket")),
      },
    ],
  };
});

// Open ports keep the process alive: closed when the file's tests are done.
const ports = [];
after(() => {
  for (const port of ports) port.close();
});

/** Two ends of a MessageChannel shaped like data channels. */
function channelPair() {
  const { port1, port2 } = new MessageChannel();
  const end = (port) => {
    port.start();
    ports.push(port);
    return {
      readyState: "open",
      send: (data) => port.postMessage(data),
      addEventListener: (type, f) => (type === "message" ? port.addEventListener("message", f) : undefined),
    };
  };
  return [end(port1), end(port2)];
}

scenarios("peer framing", async () => {
  const host = memoryStore();
  const [guest, hosted] = channelPair();
  servePeerStore(hosted, host);
  const store = peerStore(guest);
  return {
    store,
    transport: (name) => createOnlyTransport(store, { name }),
    overwrite: async (key, value) => host.map.set(key, value),
    refusals: [
      (() => {
        const [g, h] = channelPair();
        servePeerStore(h, refusingStore(403, "FORBIDDEN"));
        return {
          what: "403 from the host",
          status: 403,
          remoteCode: "FORBIDDEN",
          transport: createOnlyTransport(peerStore(g)),
        };
      })(),
    ],
  };
});

test("peer framing: answers larger than one frame arrive whole", async () => {
  const host = memoryStore();
  const [guest, hosted] = channelPair();
  servePeerStore(hosted, host);
  const store = peerStore(guest);
  const big = { text: "x".repeat(250000) };
  assert.equal(await store.create("k/1", big), true);
  assert.deepEqual(await store.get("k/1"), big);
  for (let i = 2; i <= 1500; i++) await host.create(`k/${String(i).padStart(5, "0")}`, { i });
  assert.equal((await store.list("k/", "k/", 1400)).length, 1400, "more than the host's page, asked again");
});

test("keys: zero-padded seqs sort as numbers; stream ids cannot escape their segment", () => {
  assert.equal(keys.event("a/b", 7), "events/a%2Fb/0000000000000007");
  assert.ok(keys.event("s", 9) < keys.event("s", 10));
  assert.equal(keys.stream(".."), "streams/%2E%2E");
  assert.equal(keys.stream("caf\u00e9"), "streams/caf%C3%A9");
});

test("push refuses an append whose events do not follow its expected head", async () => {
  const t = createOnlyTransport(memoryStore());
  const zero = { seq: 0, hash: "0".repeat(64) };
  const e = { seq: 2, prev: zero.hash, hash: "1".repeat(64) };
  await assert.rejects(t.push("s", { model: "m", expected: zero, events: [e] }), (err) => err.status === 400);
  await assert.rejects(t.push("s", { model: "m" }), (err) => err.status === 400);
  assert.deepEqual(await t.push("s", { model: "m", expected: { seq: 3, hash: "2".repeat(64) }, events: [] }), {
    conflict: zero,
  });
});

test("SigV4: the signature of AWS's GET Object example", async () => {
  const headers = await signV4({
    method: "GET",
    url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
    headers: { Range: "bytes=0-9" },
    payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    region: "us-east-1",
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    date: new Date("2013-05-24T00:00:00Z"),
  });
  assert.equal(
    headers.Authorization,
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  );
});
