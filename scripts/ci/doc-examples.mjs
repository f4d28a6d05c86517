// Every fenced code block of README.md and docs/*.md is checked, or says why not:
//
// - ts / js: type-checked with tsc (strict) against the package's types, with
//   `from "petrichain"` resolved to js/index.d.ts (which re-exports
//   pkg/petrichain.d.ts: run after the wasm build). A fragment that uses names
//   it does not define gets them from a `<!-- given: TS declarations -->`
//   comment right before the block.
// - rust: compiled and run as doctests: the markdown file must be included in
//   the crate's `#[cfg(doctest)]` module (crate/src/lib.rs); rustdoc's own
//   attributes (`rust,ignore`, `no_run`) apply there.
// - json: must parse.
// - sh: every `npm run NAME` names a script of package.json, every
//   `scripts/...` path exists, every `cargo ... -p PKG` is a workspace package
//   and every `--example` / `--bench` / `--test NAME` has its source file.
// - text, http, sql: not code to run (a line of hash input, an HTTP exchange,
//   a schema excerpt); accepted as they are.
// - any other block, or one with no language, fails unless a
//   `<!-- not-checked: REASON -->` or `<!-- checked-by: FILE -->` comment comes
//   right before it (FILE must exist and name the markdown file).
//
//   node scripts/ci/doc-examples.mjs [--out DIR] [FILE.md ...]
//
// Without files: README.md and docs/*.md. Exits non-zero on any finding.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
let out = join(root, "tests/artifacts/doc-examples");
const outAt = args.indexOf("--out");
if (outAt >= 0) {
  out = resolve(args[outAt + 1]);
  args.splice(outAt, 2);
}
const files = args.length
  ? args.map((f) => resolve(f))
  : [
      join(root, "README.md"),
      ...readdirSync(join(root, "docs"))
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => join(root, "docs", f)),
    ];

const TS = new Set(["ts", "typescript"]);
const JS = new Set(["js", "javascript", "mjs"]);
const SH = new Set(["sh", "bash", "shell", "console"]);
const PROSE = new Set(["text", "http", "sql"]);

/** The fenced blocks of a markdown text: { line, lang, flags, code, notes }. */
function blocks(text) {
  const lines = text.split("\n");
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)(`{3,}|~{3,})(.*)$/);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const words = info
      .trim()
      .split(/[\s,]+/)
      .filter(Boolean);
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j].match(/^\s*(`{3,}|~{3,})\s*$/);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    // HTML comments on the lines right before the fence (blank lines allowed).
    const notes = [];
    for (let k = i - 1; k >= 0; k--) {
      const l = lines[k].trim();
      if (l === "") continue;
      const m = l.match(/^<!--\s*([\w-]+):\s*([\s\S]*?)\s*-->$/);
      if (!m) break;
      notes.unshift({ key: m[1], value: m[2] });
    }
    found.push({
      line: i + 1,
      lang: (words[0] ?? "").toLowerCase(),
      flags: words.slice(1),
      code: body.join("\n"),
      notes,
    });
    i = j;
  }
  return found;
}

const problems = [];
const problem = (file, line, msg) => problems.push(`${relative(root, file)}:${line}: ${msg}`);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const npmBuiltins = new Set(["install", "i", "ci", "test", "start", "pack", "publish", "exec", "init"]);
const cargoPackages = new Map(); // name -> directory
for (const dir of ["crate", "server", "fuzz"]) {
  const toml = join(root, dir, "Cargo.toml");
  if (!existsSync(toml)) continue;
  const name = readFileSync(toml, "utf8").match(/^\[package\][\s\S]*?^name\s*=\s*"([^"]+)"/m);
  if (name) cargoPackages.set(name[1], dir);
}
const libRs = readFileSync(join(root, "crate/src/lib.rs"), "utf8");

function checkShell(file, b) {
  for (const raw of b.code.split("\n")) {
    const line = raw.replace(/(^|\s)#.*$/, "");
    for (const m of line.matchAll(/\bnpm\s+(?:run\s+)?([\w:-]+)/g)) {
      const name = m[1];
      if (m[0].includes(" run ") ? !pkg.scripts[name] : !npmBuiltins.has(name) && !pkg.scripts[name]) {
        problem(file, b.line, `\`${m[0]}\`: package.json has no script "${name}"`);
      }
    }
    for (const m of line.matchAll(/(?:^|[\s./])(scripts\/[\w./-]+)/g)) {
      if (!existsSync(join(root, m[1]))) problem(file, b.line, `${m[1]} does not exist`);
    }
    if (!/\bcargo\b/.test(line)) continue;
    const p = line.match(/(?:-p|--package)\s+([\w-]+)/);
    if (p && !cargoPackages.has(p[1])) problem(file, b.line, `cargo package ${p[1]} does not exist`);
    // From its directory (`cd fuzz`, or docs that say "from crate/") cargo
    // picks the package; otherwise the named one, or any.
    const dirs = p ? [cargoPackages.get(p[1])] : [...cargoPackages.values()];
    for (const m of line.matchAll(/--(example|bench|test)\s+([\w-]+)/g)) {
      const sub = { example: "examples", bench: "benches", test: "tests" }[m[1]];
      if (!dirs.some((d) => d && existsSync(join(root, d, sub, `${m[2]}.rs`)))) {
        problem(file, b.line, `--${m[1]} ${m[2]}: no ${sub}/${m[2]}.rs in ${dirs.join(" or ")}`);
      }
    }
  }
}

const tsFiles = []; // { path, file, line, header }
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const counts = {};
const count = (how) => {
  counts[how] = (counts[how] ?? 0) + 1;
};

for (const file of files) {
  const text = readFileSync(file, "utf8");
  const rel = relative(root, file);
  for (const b of blocks(text)) {
    const note = (key) => b.notes.find((n) => n.key === key)?.value;
    const skip = note("not-checked");
    if (skip !== undefined) {
      if (!skip) problem(file, b.line, "not-checked needs a reason");
      count("not checked (marked, with a reason)");
      continue;
    }
    const by = note("checked-by");
    if (by !== undefined) {
      const path = join(root, by);
      if (!existsSync(path)) problem(file, b.line, `checked-by: ${by} does not exist`);
      else if (!readFileSync(path, "utf8").includes(rel))
        problem(file, b.line, `checked-by: ${by} does not mention ${rel}`);
      count(`run by a test (${by})`);
      continue;
    }
    if (TS.has(b.lang) || JS.has(b.lang)) {
      const ext = TS.has(b.lang) ? "ts" : "js";
      const name = `${(rel.startsWith("..") ? basename(file) : rel).replace(/[/.]/g, "-")}-L${b.line}.${ext}`;
      const given = note("given") ?? "";
      const header = [`// ${rel}:${b.line}`, ...(given ? [given] : [])];
      writeFileSync(join(out, name), `${header.join("\n")}\n${b.code}\nexport {};\n`);
      tsFiles.push({ path: join(out, name), file, line: b.line, header: header.length });
      count("type-checked (tsc)");
    } else if (b.lang === "rust") {
      const included = libRs.includes(`include_str!("../../${rel}")`);
      if (!included)
        problem(file, b.line, `a rust block, but ${rel} is not included in crate/src/lib.rs's doctest module`);
      if (b.flags.includes("ignore"))
        problem(file, b.line, "rust,ignore needs a <!-- not-checked: reason --> before it");
      count("compiled and run by rustdoc (cargo test --doc)");
    } else if (b.lang === "json") {
      try {
        JSON.parse(b.code);
      } catch (e) {
        problem(file, b.line, `json does not parse: ${e.message}`);
      }
      count("json parsed");
    } else if (SH.has(b.lang)) {
      checkShell(file, b);
      count("sh: npm scripts, script paths, cargo targets checked");
    } else if (PROSE.has(b.lang)) {
      count(`${b.lang}: not code`);
    } else {
      problem(
        file,
        b.line,
        b.lang
          ? `a \`${b.lang}\` block that nothing checks: check it, or mark it <!-- not-checked: why --> / <!-- checked-by: test -->`
          : "a code block without a language: name it (```sh, ```text, ...)",
      );
    }
  }
}

if (tsFiles.length) {
  const tsconfig = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: "es2022",
      lib: ["esnext", "dom"],
      module: "es2022",
      moduleResolution: "bundler",
      allowJs: true,
      checkJs: true,
      skipLibCheck: false,
      types: [],
      paths: { petrichain: [join(root, "js/index.d.ts")] },
    },
    files: tsFiles.map((f) => f.path),
  };
  writeFileSync(join(out, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  let output = "";
  try {
    execFileSync(process.execPath, [tsc, "-p", join(out, "tsconfig.json"), "--pretty", "false"], {
      cwd: root,
      encoding: "utf8",
    });
  } catch (e) {
    output = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    if (!output.trim()) output = String(e);
  }
  // Point tsc's findings at the markdown lines they come from.
  for (const l of output.split("\n").filter(Boolean)) {
    const m = l.match(/^(.*?)\((\d+),(\d+)\): (.*)$/);
    const f = m && tsFiles.find((t) => resolve(out, m[1]) === t.path || resolve(root, m[1]) === t.path);
    if (f) {
      const mdLine = f.line + Number(m[2]) - f.header;
      if (Number(m[2]) <= f.header) problem(f.file, f.line, `in its <!-- given --> declarations: ${m[4]}`);
      else problem(f.file, mdLine, `${m[4]} (col ${m[3]}; ${basename(f.path)})`);
    } else {
      problems.push(l);
    }
  }
}

for (const [how, n] of Object.entries(counts)) console.log(`${String(n).padStart(3)}  ${how}`);
if (problems.length) {
  console.error(`\ndoc examples: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`doc examples: ${files.length} markdown files, every code block checked or marked`);
