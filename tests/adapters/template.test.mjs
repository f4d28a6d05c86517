// The template of docs/backends.md ("A template to adapt"), extracted from
// the markdown and run as it is against json-server: it must stay short and
// keep working.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Ledger } from "../../js/node.js";
import { coin, counter } from "./scenarios.mjs";
import { startJsonServer } from "./servers.mjs";

const doc = readFileSync(new URL("../../docs/backends.md", import.meta.url), "utf8");
const block = /<!-- checked-by: tests\/adapters\/template\.test\.mjs -->\n```js\n([\s\S]*?)\n```/.exec(doc)?.[1];

let server;
let templateTransport;
let dir;
before(async () => {
  server = await startJsonServer();
  dir = mkdtempSync(join(tmpdir(), "petrichain-template-"));
  const file = join(dir, "template.mjs");
  writeFileSync(file, block);
  ({ templateTransport } = await import(pathToFileURL(file).href));
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("the template is under 50 lines", () => {
  assert.ok(block, "docs/backends.md has the template block");
  assert.ok(block.split("\n").length < 50, `${block.split("\n").length} lines`);
});

async function device(model, stream, create = true) {
  const ledger = await Ledger.memory();
  await ledger.putModel(model);
  if (create) await ledger.createStream(stream, model.id);
  return ledger;
}

test("the template: two offline devices converge, a double spend is a conflict", async () => {
  const url = `${server.url}/${server.collection(0)}`;
  const headers = { Authorization: `Bearer ${server.token}` };
  const t = () => templateTransport(url, headers);
  const a = await device(counter, "tally");
  const c = await device(counter, "tally", false);
  await (await a.stream("tally")).fire("add");
  await a.sync({ transport: t(), streams: ["tally"] }).now();
  await c.sync({ transport: t(), streams: ["tally"] }).now();
  await (await a.stream("tally")).fire("add");
  await (await c.stream("tally")).fire("add");
  await a.sync({ transport: t(), streams: ["tally"] }).now();
  await c.sync({ transport: t(), streams: ["tally"] }).now();
  await a.sync({ transport: t(), streams: ["tally"] }).now();
  const ea = await (await a.stream("tally")).events({ limit: 100 });
  const ec = await (await c.stream("tally")).events({ limit: 100 });
  assert.equal(ea.length, 3);
  assert.deepEqual(
    ea.map((e) => e.hash),
    ec.map((e) => e.hash),
  );

  const x = await device(coin, "wallet");
  const y = await device(coin, "wallet", false);
  await x.sync({ transport: t(), streams: ["wallet"] }).now();
  await y.sync({ transport: t(), streams: ["wallet"] }).now();
  await (await x.stream("wallet")).fire("spend");
  await (await y.stream("wallet")).fire("spend");
  await x.sync({ transport: t(), streams: ["wallet"] }).now();
  const report = await y.sync({ transport: t(), streams: ["wallet"] }).now();
  assert.equal(report.streams[0].conflicts, 1);
  assert.equal((await y.conflicts("wallet"))[0].code, "NOT_ENABLED");

  const refused = await x
    .sync({ transport: templateTransport(url, { Authorization: "Bearer stolen" }), streams: ["wallet"] })
    .now()
    .catch((e) => e);
  assert.equal(refused.code, "REMOTE_ERROR");
  assert.equal(refused.details.status, 403);
});
