// Benchmark of the sync adapters (npm run bench -- adapters): 10,000 signed
// events (BENCH_EVENTS to change) pushed from a memory ledger and pulled
// (fetched, verified, replayed and stored) into a fresh memory ledger, through
// each adapter against its local server on loopback, beside the reference
// server (release build, SQLite in a temporary folder) in the same run.
// Prints one line per figure: BENCH <backend> <push|pull> <ms> <events/s>.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  couchTransport,
  createOnlyTransport,
  Ledger,
  memoryStore,
  Model,
  restTransport,
  s3Transport,
  signV4,
} from "../js/node.js";
import { sha256Hex } from "../js/adapters/sigv4.js";
import { startJsonServer, startMoto, startPouchServer } from "../tests/adapters/servers.mjs";

const N = Number(process.env.BENCH_EVENTS ?? 10000);
const repo = new URL("../", import.meta.url).pathname;
const model = Model.fromJson({
  places: [{ id: "count" }],
  transitions: [{ id: "add" }],
  arcs: [{ source: "add", target: "count" }],
});

async function source() {
  const ledger = await Ledger.memory();
  await ledger.putModel(model);
  const stream = await ledger.createStream("bench", model.id);
  for (let i = 0; i < N; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({
      action: "add",
      actor: "bench",
      payload: { i: i + j, note: "a small JSON payload" },
    }));
    await stream.fireBatch(batch);
  }
  return ledger;
}

async function referenceServer() {
  const binary = join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "release", "petrichain-server");
  const data = mkdtempSync(join(tmpdir(), "petrichain-bench-"));
  const child = spawn(binary, ["--addr", "127.0.0.1:0", "--db", join(data, "db.sqlite")], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const url = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      m ? resolve(m[1]) : reject(new Error(line));
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

async function measure(label, what, options, from) {
  const start = performance.now();
  const report = await from.sync({ ...options, streams: ["bench"] }).now();
  const ms = performance.now() - start;
  const moved = what === "push" ? report.streams[0].pushed : report.streams[0].pulled;
  if (moved !== N) throw new Error(`${label} ${what}: moved ${moved} events, not ${N}`);
  console.log(`BENCH ${label} ${what} ${ms.toFixed(0)} ms ${Math.round((N / ms) * 1000)} events/s`);
}

async function pullInto(label, options) {
  const to = await Ledger.memory();
  await to.putModel(model);
  await measure(label, "pull", options, to);
  await to.verify("bench"); // throws if the stored chain does not verify
  const head = (await to.stream("bench")).head;
  if (head.seq !== N) throw new Error(`${label}: the pulled stream ends at seq ${head.seq}`);
}

const appendStart = performance.now();
const ledger = await source();
const appendMs = performance.now() - appendStart;
console.log(
  `BENCH memory-ledger fireBatch-1000 ${appendMs.toFixed(0)} ms ${Math.round((N / appendMs) * 1000)} events/s`,
);
console.log(`# ${N} events of a 1-place net with a small JSON payload each, memory ledgers, Node ${process.version}`);

const reference = await referenceServer();
try {
  await measure("reference-server", "push", { url: reference.url, pushBatch: 500 }, ledger);
  await pullInto("reference-server", { url: reference.url, pageSize: 1000 });
} finally {
  await reference.stop();
}

const memory = memoryStore();
await measure("memory-store", "push", { transport: createOnlyTransport(memory, { name: "m" }) }, ledger);
await pullInto("memory-store", { transport: createOnlyTransport(memory, { name: "m" }) });

const json = await startJsonServer();
try {
  const url = `${json.url}/${json.collection(0)}`;
  const headers = { Authorization: `Bearer ${json.token}` };
  await measure("json-server", "push", { transport: restTransport({ url, headers, name: "rest" }) }, ledger);
  await pullInto("json-server", { transport: restTransport({ url, headers, name: "rest" }) });
} finally {
  await json.stop();
}

const pouch = await startPouchServer();
try {
  const url = `${pouch.url}/bench`;
  await fetch(url, { method: "PUT" });
  await measure("pouchdb-server", "push", { transport: couchTransport({ url, name: "couch" }) }, ledger);
  await pullInto("pouchdb-server", { transport: couchTransport({ url, name: "couch" }) });
} finally {
  await pouch.stop();
}

const moto = await startMoto();
try {
  const credentials = { accessKeyId: "bench", secretAccessKey: "bench", region: "us-east-1" };
  const bucketUrl = new URL(`${moto.url}/bench`);
  const signed = await signV4({
    method: "PUT",
    url: bucketUrl,
    headers: {},
    payloadHash: await sha256Hex(""),
    ...credentials,
  });
  await fetch(bucketUrl, { method: "PUT", headers: signed });
  const options = { endpoint: moto.url, bucket: "bench", ...credentials };
  await measure("moto-s3", "push", { transport: s3Transport({ ...options, name: "s3" }) }, ledger);
  await pullInto("moto-s3", { transport: s3Transport({ ...options, name: "s3" }) });
} finally {
  await moto.stop();
}
