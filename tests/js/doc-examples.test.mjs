// The code examples of the docs: the checker that type-checks and compiles
// them (scripts/ci/doc-examples.mjs) refuses broken or unmarked blocks, and the
// portable chain verifier of docs/chain-format.md checks a real export.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ledger, Model } from "../../js/node.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const checker = join(root, "scripts/ci/doc-examples.mjs");

/** Runs the checker on one markdown text; returns { status, output }. */
function check(markdown) {
  const dir = mkdtempSync(join(tmpdir(), "petrichain-docs-"));
  try {
    const file = join(dir, "example.md");
    writeFileSync(file, markdown);
    const run = spawnSync(process.execPath, [checker, "--out", join(dir, "out"), file], { encoding: "utf8" });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fence = "```";

test("a ts block that type-checks against the package passes; one that does not fails at its line", () => {
  const good = check(
    `# ok\n\n${fence}ts\nimport { Model } from "petrichain";\nconst id: string = Model.fromJson({ places: [] }).id;\n${fence}\n`,
  );
  assert.equal(good.status, 0, good.output);
  const bad = check(`# bad\n\n${fence}ts\nimport init, { Ledger } from "petrichain";\nawait init();\n${fence}\n`);
  assert.equal(bad.status, 1, bad.output);
  assert.match(bad.output, /example\.md:5: error TS2349/);
  const wrongArg = check(`${fence}ts\nimport { Ledger } from "petrichain";\nawait Ledger.open(42);\n${fence}\n`);
  assert.equal(wrongArg.status, 1, wrongArg.output);
  assert.match(wrongArg.output, /example\.md:3: error TS2345/);
});

test("given declarations make a fragment's free names known", () => {
  const bare = `${fence}ts\nconsole.log(token.length);\n${fence}\n`;
  assert.equal(check(bare).status, 1);
  assert.equal(check(`<!-- given: declare const token: string; -->\n${bare}`).status, 0);
});

test("unmarked blocks nothing checks fail; marked ones need a reason", () => {
  const python = `${fence}python\nprint(1)\n${fence}\n`;
  const unmarked = check(python);
  assert.equal(unmarked.status, 1);
  assert.match(unmarked.output, /a `python` block that nothing checks/);
  assert.equal(check(`<!-- not-checked: a sketch -->\n${python}`).status, 0);
  assert.equal(check(`<!-- not-checked: -->\n${python}`).status, 1);
  assert.match(check(`${fence}\nsomething\n${fence}\n`).output, /without a language/);
  assert.match(check(`${fence}rust\nfn main() {}\n${fence}\n`).output, /not included in crate\/src\/lib\.rs/);
  assert.equal(check(`${fence}json\n{"a": 1,}\n${fence}\n`).status, 1);
});

test("sh blocks name npm scripts, script files and cargo targets that exist", () => {
  assert.equal(check(`${fence}sh\nnpm test\nnpm run bench\nbash scripts/ci/lint-js.sh\n${fence}\n`).status, 0);
  assert.match(check(`${fence}sh\nnpm run nope\n${fence}\n`).output, /no script "nope"/);
  assert.match(check(`${fence}sh\nbash scripts/ci/nope.sh\n${fence}\n`).output, /scripts\/ci\/nope\.sh does not exist/);
  assert.match(check(`${fence}sh\ncargo run -p petrichain --example nope\n${fence}\n`).output, /--example nope/);
  assert.equal(check(`${fence}sh\ncargo run -p petrichain-server --example load\n${fence}\n`).status, 0);
});

function portableVerifier() {
  const doc = readFileSync(join(root, "docs/chain-format.md"), "utf8");
  return doc.match(/<!-- checked-by: tests\/js\/doc-examples\.test\.mjs -->\n```js\n([\s\S]*?)```/)[1];
}

test("the portable verifier of docs/chain-format.md accepts an export and rejects tampered ones", async () => {
  const ledger = await Ledger.memory();
  const model = Model.fromJson({
    places: [{ id: "stock", initial: 3 }, { id: "sold" }],
    transitions: [{ id: "sell", roles: ["clerk"] }],
    arcs: [
      { source: "stock", target: "sell" },
      { source: "sell", target: "sold" },
    ],
  });
  await ledger.putModel(model);
  const stream = await ledger.createStream("till-1", model.id);
  await stream.fire("sell", {
    roles: ["clerk"],
    actor: "ann",
    payloadText: '{"note": "café ☕", "n": 12345678901234567890}',
  });
  await stream.fire("sell", { roles: ["clerk"], actor: "bob", multiple: 2 });
  const jsonl = await ledger.exportJsonl("till-1");
  const hashes = (await stream.events()).map((e) => `${e.seq} ${e.hash}`);

  const dir = mkdtempSync(join(tmpdir(), "petrichain-verify-"));
  try {
    const script = join(dir, "verify.mjs");
    writeFileSync(script, portableVerifier());
    const run = (name, text) => {
      writeFileSync(join(dir, name), text);
      return spawnSync(process.execPath, [script, join(dir, name)], { encoding: "utf8" });
    };
    const good = run("good.jsonl", jsonl);
    assert.equal(good.status, 0, good.stderr);
    assert.deepEqual(good.stdout.trim().split("\n"), hashes);

    const bad = run("bad.jsonl", jsonl.replace('"actor":"bob"', '"actor":"eve"'));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /hash mismatch at seq 2/);

    // Rehashed after the edit: the signature no longer fits.
    const [header, e1, e2] = jsonl
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const forged = { ...e2, actor: "eve" };
    const { createHash } = await import("node:crypto");
    const jcs = (v) =>
      Array.isArray(v)
        ? `[${v.map(jcs).join(",")}]`
        : typeof v === "object" && v !== null
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`)
              .join(",")}}`
          : JSON.stringify(v);
    const { hash: _h, sig: _s, ...fields } = forged;
    forged.hash = createHash("sha256").update(jcs(fields), "utf8").digest("hex");
    const lines = (...events) => `${[header, ...events].map((e) => JSON.stringify(e)).join("\n")}\n`;
    const unsigned = run("forged.jsonl", lines(e1, forged));
    assert.notEqual(unsigned.status, 0);
    assert.match(unsigned.stderr, /bad signature at seq 2/);

    // A lying delta (and root unchanged): the commitment gives it away.
    const lying = { ...e2, delta: [["sold", 9]] };
    const { hash: _h2, sig: _s2, ...lf } = lying;
    lying.hash = createHash("sha256").update(jcs(lf), "utf8").digest("hex");
    const lie = run("lie.jsonl", lines(e1, lying));
    assert.notEqual(lie.status, 0);
    assert.match(lie.stderr, /commitment mismatch at seq 2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the portable verifier of docs/chain-format.md accepts signature runs and refuses an unsigned tail and a broken run", async () => {
  const { createHash, generateKeyPairSync, sign } = await import("node:crypto");
  const ledger = await Ledger.memory();
  const model = Model.fromJson({
    places: [{ id: "stock", initial: 9 }, { id: "sold" }],
    transitions: [{ id: "sell" }],
    arcs: [
      { source: "stock", target: "sell" },
      { source: "sell", target: "sold" },
    ],
  });
  await ledger.putModel(model);
  const stream = await ledger.createStream("till-r", model.id);
  const fired = await stream.fireBatch([{ action: "sell" }, { action: "sell" }, { action: "sell" }]);
  assert.deepEqual(
    fired.map((e) => typeof e.sig),
    ["undefined", "undefined", "string"],
    "a batch signs its last event only",
  );
  // The export is fully signed; the runs a ledger stores are made from it
  // by dropping the first two signatures (the hashes do not cover `sig`).
  const [header, e1, e2, e3] = (await ledger.exportJsonl("till-r"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.ok(e1.sig && e2.sig && e3.sig, "an export goes out fully signed");
  const bare = ({ sig: _s, ...e }) => e;
  const dir = mkdtempSync(join(tmpdir(), "petrichain-runs-"));
  try {
    const script = join(dir, "verify.mjs");
    writeFileSync(script, portableVerifier());
    const run = (name, ...events) => {
      writeFileSync(join(dir, name), `${[header, ...events].map((e) => JSON.stringify(e)).join("\n")}\n`);
      return spawnSync(process.execPath, [script, join(dir, name)], { encoding: "utf8" });
    };
    const runOfThree = run("run.jsonl", bare(e1), bare(e2), e3);
    assert.equal(runOfThree.status, 0, runOfThree.stderr);
    assert.match(runOfThree.stdout, /^1 [0-9a-f]{64} \(signed later in its run\)$/m);
    const tail = run("tail.jsonl", e1, bare(e2));
    assert.notEqual(tail.status, 0);
    assert.match(tail.stderr, /bad signature at seq 2: unsigned tail/);
    // The ledger agrees: a run imports, an unsigned tail does not, and the
    // error says where the run starts and why.
    const lines = (...events) => `${[header, ...events].map((e) => JSON.stringify(e)).join("\n")}\n`;
    const other = await Ledger.memory();
    assert.equal((await other.importJsonl(lines(bare(e1), bare(e2), e3))).events, 3);
    await assert.rejects((await Ledger.memory()).importJsonl(lines(e1, bare(e2))), (err) => {
      assert.equal(err.code, "BAD_SIGNATURE");
      assert.equal(err.details.unsignedFrom, 2);
      assert.equal(err.details.reason, "unsigned-tail");
      return true;
    });
    // Event 3 by another key (rehashed, signed by it): it cannot close the
    // run of events 1 and 2.
    const stranger = generateKeyPairSync("ed25519");
    const signer = stranger.publicKey.export({ format: "jwk" }).x;
    const jcs = (v) =>
      Array.isArray(v)
        ? `[${v.map(jcs).join(",")}]`
        : typeof v === "object" && v !== null
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`)
              .join(",")}}`
          : JSON.stringify(v);
    const { hash: _h, sig: _s, ...fields } = { ...e3, signer: Buffer.from(signer, "base64url").toString("hex") };
    const hash = createHash("sha256").update(jcs(fields), "utf8").digest("hex");
    const sig = sign(null, Buffer.from(`petrichain:event:v2:${hash}`), stranger.privateKey).toString("hex");
    const broken = run("broken.jsonl", bare(e1), bare(e2), { ...fields, hash, sig });
    assert.notEqual(broken.status, 0);
    assert.match(broken.stderr, /bad signature at seq 1: run broken by another signer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the portable verifier of docs/chain-format.md checks grants: a role without a grant and a grant by a non-admin are refused", async () => {
  const { createHash, generateKeyPairSync, sign } = await import("node:crypto");
  const model = Model.fromJson({
    places: [{ id: "stock", initial: 5 }, { id: "sold" }],
    transitions: [{ id: "sell", roles: ["clerk"] }],
    arcs: [
      { source: "stock", target: "sell" },
      { source: "sell", target: "sold" },
    ],
  });
  const owner = await Ledger.memory();
  const clerk = await Ledger.memory();
  await owner.putModel(model);
  const till = await owner.createStream("till-2", model.id);
  await till.grant(clerk.deviceKey, "clerk");
  await till.setProfile("Owner");
  await clerk.importJsonl(await owner.exportJsonl("till-2"));
  const theirs = await clerk.stream("till-2");
  await theirs.fire("sell", { roles: ["clerk"] });
  await theirs.setProfile("Clerk");
  await owner.importJsonl(await clerk.exportJsonl("till-2"));
  await (await owner.stream("till-2")).revoke(clerk.deviceKey, "clerk");
  const jsonl = await owner.exportJsonl("till-2");
  const [header, ...events] = jsonl
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    events.map((e) => [e.action, e.signer === owner.deviceKey]),
    [
      ["$grant", true],
      ["$profile", true],
      ["sell", false],
      ["$profile", false],
      ["$revoke", true],
    ],
  );

  // A key of nobody's: it signs what it forges.
  const stranger = generateKeyPairSync("ed25519");
  const strangerKey = Buffer.from(stranger.publicKey.export({ format: "jwk" }).x, "base64url").toString("hex");
  const jcs = (v) =>
    Array.isArray(v)
      ? `[${v.map(jcs).join(",")}]`
      : typeof v === "object" && v !== null
        ? `{${Object.keys(v)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`)
            .join(",")}}`
        : JSON.stringify(v);
  const signedBy = (e) => {
    const { hash: _h, sig: _s, ...fields } = { ...e, signer: strangerKey };
    const hash = createHash("sha256").update(jcs(fields), "utf8").digest("hex");
    const sig = sign(null, Buffer.from(`petrichain:event:v2:${hash}`), stranger.privateKey).toString("hex");
    return { ...fields, hash, sig };
  };
  const lines = (...list) => `${[header, ...list].map((e) => JSON.stringify(e)).join("\n")}\n`;

  const dir = mkdtempSync(join(tmpdir(), "petrichain-grants-"));
  try {
    const script = join(dir, "verify.mjs");
    writeFileSync(script, portableVerifier());
    const run = (name, text) => {
      writeFileSync(join(dir, name), text);
      return spawnSync(process.execPath, [script, join(dir, name)], { encoding: "utf8" });
    };
    const good = run("good.jsonl", jsonl);
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.stdout.trim().split("\n").length, 5);

    // The clerk's sale, signed instead by a key never granted `clerk`.
    const sale = signedBy(events[2]);
    const noGrant = run("no-grant.jsonl", lines(events[0], events[1], sale));
    assert.notEqual(noGrant.status, 0);
    assert.match(noGrant.stderr, new RegExp(`ROLE_NOT_GRANTED at seq 3: key ${strangerKey}, role clerk`));
    // The same, through the ledger's own import: refused with the code.
    await assert.rejects(
      (await Ledger.memory()).importJsonl(lines(events[0], events[1], sale)),
      (e) => e.code === "ROLE_NOT_GRANTED" && e.details.seq === 3 && e.details.role === "clerk",
    );

    // A grant of `clerk` to itself, by a key holding no `$admin`.
    const selfGrant = signedBy({
      ...events[2],
      action: "$grant",
      roles: [],
      delta: [],
      root: events[1].root,
      payload: JSON.stringify({ key: strangerKey, role: "clerk" }),
    });
    const notAdmin = run("not-admin.jsonl", lines(events[0], events[1], selfGrant));
    assert.notEqual(notAdmin.status, 0);
    assert.match(notAdmin.stderr, new RegExp(`ROLE_NOT_GRANTED at seq 3: key ${strangerKey}, role \\$admin`));
    await assert.rejects(
      (await Ledger.memory()).importJsonl(lines(events[0], events[1], selfGrant)),
      (e) => e.code === "ROLE_NOT_GRANTED" && e.details.role === "$admin",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    owner.close();
    clerk.close();
  }
});
