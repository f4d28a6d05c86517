import { defineConfig } from "vite";

const repo = new URL("../..", import.meta.url).pathname;

// The peers benchmark page (bench/peers/run.mjs builds it into a temporary
// folder). It imports the wasm bindings directly ("petrichain-pkg": pkg/ of
// scripts/build-wasm.sh, or the folder PETRICHAIN_PKG names, e.g. a copy of
// an earlier build to compare with), to time the wasm's instantiation itself.
const pkg = process.env.PETRICHAIN_PKG ?? `${repo}pkg`;
// PETRICHAIN_BASE: a second build (e.g. a copy of pkg/ made before a
// change), measured as the contender "base" in the same page and rounds.
const base = process.env.PETRICHAIN_BASE;
export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  base: "./",
  resolve: {
    alias: { "petrichain-pkg": `${pkg}/petrichain.js`, "petrichain-base": `${base ?? pkg}/petrichain.js` },
  },
  server: { fs: { allow: [repo, pkg, ...(base ? [base] : [])] } },
  build: { emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 2000 },
  // PouchDB's dependencies still name Node's `global`.
  define: { global: "globalThis", __PETRICHAIN_BASE__: JSON.stringify(Boolean(base)) },
  logLevel: "warn",
});
