// What each part of the wasm costs: the code section's function bodies
// grouped by the module their (outer) function belongs to, from the name
// section, with each group's bytes gzipped on its own (so the gzipped
// figures do not add up exactly to the file's). Needs a wasm that still has
// its name section: the one wasm-bindgen makes before wasm-opt, e.g.
//
//   . scripts/wasm-env.sh
//   wasm-bindgen --target web --out-dir /tmp/named --out-name petrichain \
//     "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/petrichain_web.wasm"
//   node scripts/wasm-sizes.mjs /tmp/named/petrichain_bg.wasm [top]
//   node scripts/wasm-sizes.mjs /tmp/named/petrichain_bg.wasm --match REGEX
//
// With --match, one row: the functions whose name matches REGEX (e.g. a
// module path), their bytes and those bytes gzipped together.
//
// Inlined code counts for the function it was inlined into.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const bytes = readFileSync(process.argv[2]);
const match = process.argv[3] === "--match" ? new RegExp(process.argv[4]) : null;
const top = match ? 0 : Number(process.argv[3] ?? 30);

function leb(at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}

let at = 8;
let imports = 0;
const bodies = [];
const names = new Map();
while (at < bytes.length) {
  const id = bytes[at++];
  let size;
  [size, at] = leb(at);
  const end = at + size;
  if (id === 2) {
    // Imports: only functions take indices before the module's own.
    let [n, i] = leb(at);
    for (; n > 0; n--) {
      for (let s = 0; s < 2; s++) {
        const [len, j] = leb(i);
        i = j + len;
      }
      const kind = bytes[i++];
      if (kind === 0) {
        [, i] = leb(i);
        imports++;
      } else if (kind === 1) {
        i++;
        let flags;
        [flags, i] = leb(i);
        [, i] = leb(i);
        if (flags & 1) [, i] = leb(i);
      } else if (kind === 2) {
        let flags;
        [flags, i] = leb(i);
        [, i] = leb(i);
        if (flags & 1) [, i] = leb(i);
      } else if (kind === 3) {
        i += 2;
      } else {
        i++;
        [, i] = leb(i);
      }
    }
  } else if (id === 10) {
    let [n, i] = leb(at);
    for (; n > 0; n--) {
      const [len, j] = leb(i);
      bodies.push(bytes.subarray(j, j + len));
      i = j + len;
    }
  } else if (id === 0) {
    const [len, j] = leb(at);
    if (bytes.subarray(j, j + len).toString() === "name") {
      let i = j + len;
      while (i < end) {
        const sub = bytes[i++];
        let subSize;
        [subSize, i] = leb(i);
        const subEnd = i + subSize;
        if (sub === 1) {
          let [n, k] = leb(i);
          for (; n > 0; n--) {
            let idx;
            let l;
            [idx, k] = leb(k);
            [l, k] = leb(k);
            names.set(idx, bytes.subarray(k, k + l).toString());
            k += l;
          }
        }
        i = subEnd;
      }
    }
  }
  at = end;
}
if (names.size === 0) throw new Error("no name section: use the wasm from before wasm-opt (see the header)");

const groups = new Map();
for (const [k, body] of bodies.entries()) {
  const name = names.get(imports + k) ?? "?";
  if (match) {
    if (!match.test(name)) continue;
    const g = groups.get(match.source) ?? [];
    g.push(body);
    groups.set(match.source, g);
    continue;
  }
  const ours = /(petrichain(?:_web)?)\[[0-9a-f]+\]::(\w+)/.exec(name);
  const crate = /^[<&\s]*(?:mut |dyn )?([A-Za-z_]\w*)/.exec(name);
  const key = ours ? `${ours[1]}::${ours[2]}` : (crate?.[1] ?? "?");
  const g = groups.get(key) ?? [];
  g.push(body);
  groups.set(key, g);
}
const rows = [...groups].map(([key, list]) => {
  const all = Buffer.concat(list);
  return [key, all.length, gzipSync(all, { level: 9 }).length];
});
rows.sort((a, b) => b[1] - a[1]);
const total = bodies.reduce((n, b) => n + b.length, 0);
console.log(`code section: ${total} bytes in ${bodies.length} functions`);
console.log("| part | bytes | gzipped alone |\n|---|---:|---:|");
for (const [key, raw, gz] of match ? rows : rows.slice(0, top)) console.log(`| ${key} | ${raw} | ${gz} |`);
