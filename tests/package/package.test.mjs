// Packs the npm package, installs the tarball into a fresh project in a
// temporary folder, and uses it as a user would: from Node, and from a page
// built with Vite and opened in headless Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build, preview } from "vite";
import { launchBrowser, watchErrors } from "../e2e/helpers.mjs";

const repo = new URL("../../", import.meta.url).pathname;
let project;
let tarball;

/** Every file the package ships, and nothing else. */
const shipped = [
  "CHANGELOG.md",
  "LICENSE",
  "LICENSE-APACHE",
  "LICENSE-MIT",
  "README.md",
  "js/adapters/couchdb.js",
  "js/adapters/create-only.js",
  "js/adapters/http.js",
  "js/adapters/index.d.ts",
  "js/adapters/index.js",
  "js/adapters/live.js",
  "js/adapters/rest.js",
  "js/adapters/s3.js",
  "js/adapters/sigv4.js",
  "js/adapters/webrtc.js",
  "js/browser.js",
  "js/core/browser.js",
  "js/core/index.d.ts",
  "js/core/node.js",
  "js/dispose.d.ts",
  "js/index.d.ts",
  "js/node.js",
  "package.json",
  "pkg/core/petrichain.d.ts",
  "pkg/core/petrichain.js",
  "pkg/core/petrichain_bg.wasm",
  "pkg/core/petrichain_bg.wasm.d.ts",
  ...readdirSync(join(repo, "pkg/core/snippets"), { recursive: true })
    .filter((f) => f.endsWith(".js"))
    .map((f) => `pkg/core/snippets/${f}`),
  "pkg/petrichain.d.ts",
  "pkg/petrichain.js",
  "pkg/petrichain_bg.wasm",
  "pkg/petrichain_bg.wasm.d.ts",
  // wasm-bindgen's copies of the bindings' own JS (web/src/hot.js).
  ...readdirSync(join(repo, "pkg/snippets"), { recursive: true })
    .filter((f) => f.endsWith(".js"))
    .map((f) => `pkg/snippets/${f}`),
].sort();

before(() => {
  project = mkdtempSync(join(tmpdir(), "petrichain-pack-"));
  // The wasm build already ran (scripts/ci/wasm-build.sh); skip prepack's rebuild.
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", project], {
    cwd: repo,
    encoding: "utf8",
  });
  const [info] = JSON.parse(out);
  tarball = join(project, info.filename);
  const files = info.files.map((f) => f.path).sort();
  assert.deepEqual(files, shipped);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "fresh-app", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball], { cwd: project });
});

after(() => rmSync(project, { recursive: true, force: true }));

test("the tarball is small and ships the optimised wasm", () => {
  const wasm = readFileSync(join(project, "node_modules/petrichain/pkg/petrichain_bg.wasm"));
  assert.ok(wasm.length > 10_000, "a real wasm module");
  assert.deepEqual([...wasm.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], "wasm magic");
  assert.ok(
    readdirSync(join(project, "node_modules/petrichain")).every(
      (f) => !["crate", "www", "target", "node_modules"].includes(f),
    ),
  );
});

test("works from Node with a bare import: a PNML net, an in-memory ledger, verify", () => {
  const pnml = new URL("../fixtures/pipe-inhibitorArc.xml", import.meta.url).pathname;
  writeFileSync(
    join(project, "use.mjs"),
    `
    import { readFileSync } from "node:fs";
    import { Model, Ledger } from "petrichain";
    const model = Model.import(readFileSync(${JSON.stringify(pnml)}, "utf8"));
    const ledger = await Ledger.memory();
    await ledger.putModel(model);
    const stream = await ledger.createStream("s", model.id);
    const enabled = stream.enabled(["*"]);
    const event = await stream.fire(enabled[0], { roles: ["*"], actor: "node" });
    let code = null;
    try { await stream.fire("no-such-transition"); } catch (e) { code = (e instanceof Error) && e.code; }
    const verified = await ledger.verify("s");
    const signed = event.signer === ledger.deviceKey && /^[0-9a-f]{128}$/.test(event.sig);
    console.log(JSON.stringify({ id: model.id, places: model.places.length, seq: event.seq, code, verified, signed }));
  `,
  );
  const out = JSON.parse(execFileSync("node", ["use.mjs"], { cwd: project, encoding: "utf8" }));
  assert.match(out.id, /^[0-9a-f]{64}$/);
  assert.ok(out.places > 0);
  assert.equal(out.seq, 1);
  assert.equal(out.signed, true, "signed by the ledger's WebCrypto key in Node");
  assert.equal(out.code, "UNKNOWN_TRANSITION");
  assert.equal(out.verified.length, 1);
  assert.equal(out.verified[0].events, 1);
});

test("petrichain/core from Node: the store without formats, rendering or analysis, in a smaller wasm", () => {
  writeFileSync(
    join(project, "core.mjs"),
    `
    import { Model, Ledger } from "petrichain/core";
    const model = Model.fromJson({ places: [{ id: "a", initial: 2 }], transitions: [{ id: "t" }], arcs: [{ source: "a", target: "t" }] });
    const ledger = await Ledger.memory();
    const stream = await ledger.createStream("s", await ledger.putModel(model));
    const events = await stream.fireBatch([{ action: "t" }, { action: "t" }]);
    let code = null;
    try { await stream.fire("t"); } catch (e) { code = e.code; }
    const verified = await ledger.verify("s");
    console.log(JSON.stringify({ seq: events.at(-1).seq, code, verified: verified[0].events,
      lean: [typeof Model.import, typeof Model.fromPnml, typeof model.renderSvg, typeof model.invariants, typeof model.toPnml] }));
  `,
  );
  const out = JSON.parse(execFileSync("node", ["core.mjs"], { cwd: project, encoding: "utf8" }));
  assert.equal(out.seq, 2);
  assert.equal(out.code, "NOT_ENABLED");
  assert.equal(out.verified, 2);
  assert.deepEqual(out.lean, ["undefined", "undefined", "undefined", "undefined", "undefined"]);
  const size = (f) => readFileSync(join(project, "node_modules/petrichain", f)).length;
  assert.ok(size("pkg/core/petrichain_bg.wasm") < size("pkg/petrichain_bg.wasm"), "the core wasm is the smaller one");
});

test("works in a page built with Vite, in Chromium", async () => {
  writeFileSync(
    join(project, "index.html"),
    `<!doctype html><html><head><link rel="icon" href="data:,"></head>
    <body><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>`,
  );
  writeFileSync(
    join(project, "main.js"),
    `
    import { Model, Ledger } from "petrichain";
    const model = Model.fromJson({ places: [{ id: "a", initial: 1 }], transitions: [{ id: "t" }], arcs: [{ source: "a", target: "t" }] });
    const m = model.fire(model.initialMarking(), "t");
    // An IndexedDB ledger: append, close, reopen, verify.
    let ledger = await Ledger.open("pack-test");
    await ledger.putModel(model);
    const stream = await ledger.createStream("s", model.id);
    const event = await stream.fire("t");
    ledger.close();
    ledger = await Ledger.open("pack-test");
    const verified = await ledger.verify("s");
    document.getElementById("out").textContent = JSON.stringify({ id: model.id, m, seq: event.seq, verified });
  `,
  );
  await build({ root: project, logLevel: "warn", build: { target: "es2022", outDir: "dist" } });
  const server = await preview({
    root: project,
    logLevel: "warn",
    build: { outDir: "dist" },
    preview: { host: "127.0.0.1", port: 0 },
  });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`http://127.0.0.1:${server.httpServer.address().port}/`);
    await page.waitForFunction(() => document.getElementById("out").textContent.length > 0);
    const out = JSON.parse(await page.textContent("#out"));
    assert.match(out.id, /^[0-9a-f]{64}$/);
    assert.deepEqual(out.m, { a: 0 });
    assert.equal(out.seq, 1);
    assert.equal(out.verified[0].events, 1, "the event survived closing and reopening IndexedDB");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});

test("npm publish --dry-run would publish exactly the shipped files, without warnings about package.json", () => {
  // --ignore-scripts: the wasm build already ran (prepack would rebuild it).
  const run = spawnSync("npm", ["publish", "--dry-run", "--ignore-scripts", "--json"], { cwd: repo, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const info = JSON.parse(run.stdout).petrichain ?? JSON.parse(run.stdout);
  assert.equal(info.name, "petrichain");
  assert.equal(info.version, JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version);
  assert.deepEqual(info.files.map((f) => f.path).sort(), shipped);
  // npm rewrites what it finds wrong in package.json ("auto-corrected"), or
  // says what is missing; only the dry run's own notices may remain.
  const warnings = run.stderr.split("\n").filter((l) => /warn/i.test(l) && !/requires you to be logged in/.test(l));
  assert.deepEqual(warnings, []);
  const changelog = readFileSync(join(repo, "CHANGELOG.md"), "utf8");
  assert.match(changelog, /^## \[Unreleased\]/m, "the changelog has a section for what is not released yet");
  assert.match(
    changelog,
    new RegExp(`^## \\[${info.version.replace(/\./g, "\\.")}\\]`, "m"),
    "and one for this version",
  );
});

test("the README example compiles under tsc --strict against the installed package", () => {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const code = readme.match(/## Install and use[\s\S]*?```ts\n([\s\S]*?)```/)[1];
  writeFileSync(join(project, "example.ts"), code);
  const tsc = join(repo, "node_modules/typescript/bin/tsc");
  // A project as `tsc --init` makes it, lib checks on; once on an older lib
  // (no esnext Symbol.dispose) and once on the newest.
  for (const lib of [
    ["es2022", "dom"],
    ["esnext", "dom"],
  ]) {
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "es2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        lib,
        types: [],
        skipLibCheck: false,
      },
      files: ["example.ts"],
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify(config));
    const run = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], {
      cwd: project,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, `lib ${lib.join(",")}: ${run.stdout}${run.stderr}`);
  }
});
