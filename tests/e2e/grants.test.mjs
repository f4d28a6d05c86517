// Issue 13 through the real reference server, with authentication on: two
// browser contexts (each its own IndexedDB ledger and device key) sync
// through petrichain-server on loopback. The owner grants `clerk` to the
// second device, which sells and syncs; the owner revokes and syncs; the
// second device, offline meanwhile, sells again, then syncs: its event is a
// conflict with reason ROLE_REVOKED (who revoked, at which seq), in the
// chain on neither side, still listed as a conflict.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifacts, launchBrowser, serverBinary, watchErrors } from "./helpers.mjs";

const repo = new URL("../../", import.meta.url).pathname;
let browser;
let server;
let url;
let site;
let data;
const log = [];

before(async () => {
  const binary = serverBinary();
  // The page, js/ and pkg/ as the server's static files: one origin.
  site = mkdtempSync(join(tmpdir(), "petrichain-grants-site-"));
  cpSync(join(repo, "tests/e2e/grants.html"), join(site, "index.html"));
  cpSync(join(repo, "js"), join(site, "js"), { recursive: true });
  cpSync(join(repo, "pkg"), join(site, "pkg"), { recursive: true });
  data = mkdtempSync(join(tmpdir(), "petrichain-grants-data-"));
  server = spawn(
    binary,
    ["--addr", "127.0.0.1:0", "--db", join(data, "db.sqlite"), "--static", site, "--require-auth"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  server.stderr.on("data", (chunk) => log.push(String(chunk)));
  url = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).once("line", (line) => {
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      m ? resolve(`${m[1]}/`) : reject(new Error(`unexpected first line: ${line}`));
    });
    server.once("exit", (code) => reject(new Error(`server exited (${code}): ${log.join("")}`)));
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
  for (const d of [site, data]) if (d) rmSync(d, { recursive: true, force: true });
});

const SHOP = {
  places: [{ id: "stock", initial: 5 }, { id: "sold" }],
  transitions: [{ id: "sell", roles: ["clerk"] }],
  arcs: [
    { source: "stock", target: "sell" },
    { source: "sell", target: "sold" },
  ],
};

/** A device: its own context (own IndexedDB), its ledger open as `window.ledger`. */
async function device(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  // A pull of a stream the server does not have yet answers 404 (the
  // protocol's "no such stream"), and Chromium asks for /favicon.ico: it
  // logs both as failed loads. Those are expected; any other is not.
  const failed = [];
  page.on("console", (m) => m.text().includes("status of 404") && failed.push(new URL(m.location().url).pathname));
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  const key = await page.evaluate(async (name) => {
    const { Ledger } = window.petrichain;
    window.ledger = await Ledger.open(name);
    const base = new URL(".", location.href).href;
    window.syncNow = async (streams) => {
      const handle = window.ledger.sync({
        url: base,
        getAuth: () => window.ledger.authenticate(base),
        ...(streams ? { streams } : { follow: ["till"] }),
      });
      const report = await handle.now();
      return report.streams.map((s) => ({
        stream: s.stream,
        pulled: s.pulled,
        pushed: s.pushed,
        conflicts: s.conflicts,
      }));
    };
    document.getElementById("who").textContent = name;
    return window.ledger.deviceKey;
  }, name);
  return {
    context,
    page,
    key,
    get errors() {
      const other = failed.filter((p) => p !== "/v2/streams/till/events" && p !== "/favicon.ico");
      assert.deepEqual(other, [], "unexpected failed loads");
      return errors.filter((e) => !e.includes("status of 404"));
    },
  };
}

const chainOf = (page) =>
  page.evaluate(async () =>
    (await (await window.ledger.stream("till")).events({ limit: 100 })).map((e) => ({
      seq: e.seq,
      action: e.action,
      signer: e.signer,
      nonce: e.nonce,
    })),
  );

test("a grant travels to a second browser; after an upstream revocation its offline event is a ROLE_REVOKED conflict", async () => {
  const owner = await device("owner");
  const clerk = await device("clerk");

  // The owner creates the stream, names itself and grants `clerk`.
  await owner.page.evaluate(
    async ({ net, clerkKey }) => {
      const { Model } = window.petrichain;
      const model = Model.fromJson(net);
      await window.ledger.putModel(model);
      const till = await window.ledger.createStream("till", model.id);
      await till.setProfile("Owner");
      await till.grant(clerkKey, "clerk");
      await window.syncNow(["till"]);
    },
    { net: SHOP, clerkKey: clerk.key },
  );

  // The clerk (never signed, granted) follows the stream, sells, syncs.
  const pulled = await clerk.page.evaluate(() => window.syncNow());
  assert.equal(pulled[0].pulled, 2, JSON.stringify(pulled));
  const sold = await clerk.page.evaluate(async () => {
    const till = await window.ledger.stream("till");
    const policy = await till.policy();
    const e = await till.fire("sell", { roles: ["clerk"] });
    await window.syncNow(["till"]);
    return { policy, signer: e.signer };
  });
  assert.equal(sold.signer, clerk.key);
  assert.deepEqual(
    sold.policy.members.map((m) => [m.key, m.roles, m.admin]),
    [
      [owner.key, ["*"], true],
      [clerk.key, ["clerk"], false],
    ],
  );

  // The owner pulls the sale, revokes, syncs.
  const revokedAt = await owner.page.evaluate(async (clerkKey) => {
    await window.syncNow(["till"]);
    const till = await window.ledger.stream("till");
    const e = await till.revoke(clerkKey, "clerk");
    await window.syncNow(["till"]);
    return e.seq;
  }, clerk.key);
  assert.equal(revokedAt, 4);

  // The clerk, offline meanwhile, still holds its grant locally and sells.
  const offline = await clerk.page.evaluate(async () => {
    const till = await window.ledger.stream("till");
    return (await till.fire("sell", { roles: ["clerk"] })).nonce;
  });
  const report = await clerk.page.evaluate(() => window.syncNow(["till"]));
  assert.deepEqual(report, [{ stream: "till", pulled: 1, pushed: 0, conflicts: 1 }]);
  const conflicts = await clerk.page.evaluate(async () => window.ledger.conflicts("till"));
  assert.equal(conflicts.length, 1);
  assert.equal(conflicts[0].code, "ROLE_REVOKED");
  assert.equal(conflicts[0].event.nonce, offline);
  assert.equal(conflicts[0].reason.role, "clerk");
  assert.equal(conflicts[0].reason.key, clerk.key);
  assert.equal(conflicts[0].reason.by, owner.key);
  assert.equal(conflicts[0].reason.at, revokedAt);

  // On neither side in the chain; both chains equal the server's.
  const [mine, theirs] = [await chainOf(clerk.page), await chainOf(owner.page)];
  assert.deepEqual(mine, theirs);
  assert.deepEqual(
    mine.map((e) => e.action),
    ["$profile", "$grant", "sell", "$revoke"],
  );
  assert.ok(mine.every((e) => e.nonce !== offline));
  const served = await owner.page.evaluate(async () => {
    const { token } = await window.ledger.authenticate(new URL(".", location.href).href);
    const r = await fetch("v2/streams/till/events", { headers: { Authorization: `Bearer ${token}` } });
    return (await r.json()).events.map((e) => e.action);
  });
  assert.deepEqual(served, ["$profile", "$grant", "sell", "$revoke"]);

  // The pages show who signed each event and the conflict explained.
  for (const [d, name] of [
    [owner, "grants-owner"],
    [clerk, "grants-clerk"],
  ]) {
    await d.page.evaluate(() => window.show(window.ledger, "till"));
    await d.page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
  }
  const shown = await clerk.page.textContent("#conflicts");
  assert.match(shown, /sell refused: ROLE_REVOKED \(role clerk revoked by Owner at seq 4\)/);
  assert.match(await clerk.page.textContent("#events"), /#3 sell clerk signed by [0-9a-f]{4}-/);
  assert.deepEqual(owner.errors, []);
  assert.deepEqual(clerk.errors, []);
  await owner.context.close();
  await clerk.context.close();
});
