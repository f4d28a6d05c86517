// The README's usage example, run as written against the package's Node entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";

test("the README example runs and prints what its comments say", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const code = readme.match(/## Install and use[\s\S]*?```ts\n([\s\S]*?)```/)[1];
  const entry = new URL("../../js/node.js", import.meta.url).href;
  const dir = mkdtempSync(join(tmpdir(), "petrichain-readme-"));
  try {
    const file = join(dir, "example.mjs");
    const local = code.replace('from "petrichain"', `from ${JSON.stringify(entry)}`);
    writeFileSync(file, `${local}\nconsole.log(svg.slice(0, 4));\n`);
    const lines = execFileSync("node", [file], { encoding: "utf8" }).trim().split("\n");
    assert.match(lines[0], /^1 0{64} [0-9a-f]{64}$/);
    assert.equal(lines[1], "true");
    assert.equal(lines[2], "true NOT_ENABLED");
    assert.match(lines[3], /stock: 1/);
    assert.equal(lines.at(-1), "<svg");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
